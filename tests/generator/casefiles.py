"""Build a config for one error case: the minimal valid config plus the case's edits.

A case directory holds ``edits.txt`` and ``expected.txt`` (plus, for byte-level
cases, whole replacement files).  ``edits.txt`` is a list of blocks::

    === entities.yaml          # file the following edits apply to
    ---                        # the exact old text (must occur once) …
      type: string
    +++                        # … and its replacement
      type: strin
    === delete checklists.yaml
    === pad entities.yaml 600000
    === snapshot applied       # copy the config as edited so far to ``dest/applied``: the version
                               # already in use, which ``check --against applied`` compares with

The expected output is the complete text ``python -m generator check config``
prints for it, run from the directory holding ``config/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"
MINIMAL = FIXTURES / "minimal"
CASES = FIXTURES / "config_errors"
SPECIAL = {"edits.txt", "expected.txt", "expected.en.txt", "README"}


def build_case(case: Path, dest: Path) -> Path:
    """Write the case's config into ``dest/config`` and return that directory."""
    cfg = dest / "config"
    shutil.copytree(MINIMAL, cfg)
    for extra in case.iterdir():
        if extra.name not in SPECIAL:
            shutil.copyfile(extra, cfg / extra.name)
    edits = case / "edits.txt"
    if edits.exists():
        apply_edits(edits.read_text(encoding="utf-8"), cfg)
    return cfg


def apply_edits(text: str, cfg: Path) -> None:
    target: Path | None = None
    mode, old, new = None, [], []  # type: ignore[var-annotated]

    def flush() -> None:
        nonlocal old, new
        if target is not None and mode == "+++":
            body = target.read_text(encoding="utf-8")
            # The newline closing each block belongs to the block syntax, so edits may cover part of a line.
            before, after = "".join(old)[:-1], "".join(new)[:-1]
            count = body.count(before)
            if count != 1:
                raise AssertionError(f"edit for {target.name} matches {count} times:\n{before}")
            target.write_text(body.replace(before, after), encoding="utf-8")
        old, new = [], []

    for line in text.splitlines(keepends=True):
        if line.startswith("=== "):
            flush()
            words = line[4:].split()
            mode = None
            if words[0] == "delete":
                (cfg / words[1]).unlink()
                target = None
            elif words[0] == "snapshot":
                shutil.copytree(cfg, cfg.parent / words[1])
                target = None
            elif words[0] == "pad":
                path = cfg / words[1]
                with path.open("a", encoding="utf-8") as fh:
                    fh.write(("# " + "填充" * 38 + "\n") * (int(words[2]) // 80 + 1))
                target = None
            else:
                target = cfg / words[0]
        elif line.rstrip("\n") == "---":
            flush()
            mode = "---"
        elif line.rstrip("\n") == "+++":
            mode = "+++"
        elif mode == "---":
            old.append(line)
        elif mode == "+++":
            new.append(line)
    flush()
