"""One small bad config per error code, with the exact expected output stored beside it.

Each case is the minimal valid config plus a few edits (``edits.txt``); the
whole output of ``python -m generator check config`` is compared with
``expected.txt``.  Set ``UPDATE_SNAPSHOTS=1`` to rewrite the expected files
after an intended wording change, then review the diff.
"""

from __future__ import annotations

import io
import os
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from generator.__main__ import main
from generator.errors import CODES

from .casefiles import CASES, build_case

CASE_DIRS = sorted(p for p in CASES.iterdir() if p.is_dir())


def run_check(cwd: Path, *args: str) -> tuple[int, str]:
    old = os.getcwd()
    buf = io.StringIO()
    try:
        os.chdir(cwd)
        # Never a database here (DATABASE_URL may name the PostgreSQL of the test run); a case that
        # needs a version in use snapshots it (``=== snapshot applied``, see casefiles.py).
        against = ["--against", "applied"] if (cwd / "applied").is_dir() else []
        with redirect_stdout(buf):
            code = main(["check", "config", "--no-db", *against, *args])
    finally:
        os.chdir(old)
    return code, buf.getvalue()


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_error_case_output(case: Path, tmp_path: Path) -> None:
    build_case(case, tmp_path)
    code, out = run_check(tmp_path)
    expected_file = case / "expected.txt"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        expected_file.write_text(out, encoding="utf-8")
    assert out == expected_file.read_text(encoding="utf-8")
    only_warnings = all(c.startswith("W") for c in re.findall(r": ([EW]\d{3}) ", out))
    assert code == (0 if only_warnings else 1)


def test_every_code_has_a_case() -> None:
    seen: set[str] = set()
    for case in CASE_DIRS:
        seen |= set(re.findall(r"^\S+:\d+:\d+: ([EW]\d{3}) ", (case / "expected.txt").read_text("utf-8"), re.M))
    assert sorted(set(CODES) - seen) == []


def test_case_named_after_its_code_reports_it() -> None:
    for case in CASE_DIRS:
        code = case.name.split("_")[0]
        if code in CODES:
            assert f": {code} " in (case / "expected.txt").read_text("utf-8"), case.name


def test_english_output_has_the_same_places(tmp_path: Path) -> None:
    build_case(CASES / "multi_file_all_at_once", tmp_path)
    zh_code, zh = run_check(tmp_path)
    en_code, en = run_check(tmp_path, "--lang", "en")
    place = re.compile(r"^(\S+:\d+:\d+: [EW]\d{3})", re.M)
    assert place.findall(zh) == place.findall(en) and zh_code == en_code == 1
    assert "hint:" in en and "提示" not in en
