"""The whole compiler: a config directory → (AppSpec or None, all errors sorted).

load → schema → compile → checks.  Load and schema errors from every file come
out together; semantic checks run once every file has the right shape (they
reason across files, and a half-shaped file would only produce echoes of the
first error).
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from typing import Any, Optional

from .checks import run_checks
from .compile import compile_spec
from .errors import ConfigError, error
from .loader import load_text
from .source import Source, SourceMap
from .spec import AppSpec
from .validate import validate

REQUIRED = ("entities", "roles", "workflows", "checklists")
OPTIONAL = ("reference",)
KINDS = REQUIRED + OPTIONAL


@dataclass(frozen=True)
class Result:
    spec: Optional[AppSpec]
    errors: tuple[ConfigError, ...]
    files: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.spec is not None and not any(not e.is_warning for e in self.errors)


def display_path(config_dir: str, name: str) -> str:
    """How a file is named in messages: relative to the working directory when inside it."""
    path = os.path.join(config_dir, name)
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def load(config_dir: str) -> Result:
    """Compile ``config_dir``. Never raises for bad input; every problem is an error value."""
    # Building the node tree allocates many small objects that all stay alive until the end;
    # the cyclic collector would rescan them again and again (super-linear), so pause it.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load(config_dir)
    finally:
        if enabled:
            gc.enable()


def _load(config_dir: str) -> Result:
    errors: list[ConfigError] = []
    data: dict[str, Any] = {}
    sources: dict[str, SourceMap] = {}
    files: list[str] = []
    shaped = True
    for kind in KINDS:
        fname = f"{kind}.yaml"
        shown = display_path(config_dir, fname)
        path = os.path.join(config_dir, fname)
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            if kind in REQUIRED:
                errors.append(error("E100", Source(shown, 1, 1), "", name=fname))
                shaped = False
            continue
        files.append(shown)
        doc, smap, load_errors = load_text(raw, shown)
        sources[shown] = smap
        errors += load_errors
        if any(not e.is_warning for e in load_errors):
            shaped = False
            continue
        schema_errors = validate(kind, {} if doc is None else doc, smap)
        errors += schema_errors
        if any(not e.is_warning for e in schema_errors):
            shaped = False
        data[kind] = doc
    spec = None
    if shaped:
        spec = compile_spec(config_dir, data, sources)
        errors += run_checks(spec)
    errors.sort(key=ConfigError.sort_key)
    has_errors = any(not e.is_warning for e in errors)
    return Result(None if has_errors else spec, tuple(errors), tuple(files))


def with_baseline(result: Result, baseline: Any) -> Result:
    """``result`` plus the errors of comparing its spec with what is already in use (E330)."""
    if result.spec is None or baseline is None:
        return result
    from .baseline import checklist_versions

    extra = checklist_versions(result.spec, baseline)
    if not extra:
        return result
    errors = sorted(result.errors + tuple(extra), key=ConfigError.sort_key)
    has_errors = any(not e.is_warning for e in errors)
    return Result(None if has_errors else result.spec, tuple(errors), result.files)
