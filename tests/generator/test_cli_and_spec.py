"""The CLI contract (exit codes, JSON shape, explain) and the typed spec it produces."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from generator import load
from generator.__main__ import main
from generator.schemas import FILES, schema_for

from .casefiles import CASES, MINIMAL, build_case

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(list(args) + (["--no-db"] if args and args[0] == "check" else []))
    return code, buf.getvalue()


def test_clean_config_exits_zero_with_summary() -> None:
    code, out = cli("check", str(MINIMAL))
    assert code == 0 and out.strip().splitlines()[-1].startswith("配置检查通过")


def test_json_output_shape(tmp_path: Path) -> None:
    cfg = build_case(CASES / "multi_file_semantic", tmp_path)
    code, out = cli("check", str(cfg), "--format", "json", "--lang", "en")
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False and len(doc["files"]) == 5
    assert {tuple(sorted(e)) for e in doc["errors"]} == {
        ("code", "col", "file", "hint", "line", "message", "path", "severity")}
    assert [e["code"] for e in doc["errors"]] == ["E308", "E307", "E303", "E302"]
    assert doc["errors"][0]["file"].endswith("checklists.yaml") and "did you mean" in doc["errors"][0]["hint"]


def test_warnings_alone_exit_zero(tmp_path: Path) -> None:
    cfg = build_case(CASES / "W408_role_lacks_grant", tmp_path)
    assert cli("check", str(cfg))[0] == 0


def test_module_entry_point_runs_as_a_process() -> None:
    proc = subprocess.run([sys.executable, "-m", "generator", "check", str(MINIMAL), "--lang", "en", "--no-db"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "config check passed" in proc.stdout and proc.stderr == ""


def test_explain_role_and_workflow() -> None:
    code, out = cli("explain", str(MINIMAL), "--role", "station_head")
    assert code == 0 and "数据范围：station" in out and "case_flow.close" in out
    assert "case_flow.fail" not in out  # granted but not listed on the transition: not runnable
    code, out = cli("explain", str(MINIMAL), "--workflow", "case_flow", "--lang", "en")
    assert code == 0 and "stateDiagram-v2" in out and "mediating --> agreed: Sign agreement" in out
    assert cli("explain", str(MINIMAL), "--role", "nobody")[0] == 1


def test_schema_command_writes_valid_schemas(tmp_path: Path) -> None:
    code, _ = cli("schema", "--out", str(tmp_path))
    assert code == 0
    for kind in FILES:
        assert json.loads((tmp_path / f"{kind}.schema.json").read_text("utf-8")) == schema_for(kind)


def test_committed_schema_files_are_current() -> None:
    for kind in FILES:
        committed = json.loads((ROOT / "generator" / "schemas" / f"{kind}.schema.json").read_text("utf-8"))
        assert committed == schema_for(kind), f"run: python -m generator schema ({kind} is stale)"


def _walk(schema: object, path: str = ""):  # type: ignore[no-untyped-def]
    if isinstance(schema, dict):
        if schema.get("type") == "object" and "properties" in schema:
            yield path, schema
        for k, v in schema.items():
            yield from _walk(v, f"{path}/{k}")
    elif isinstance(schema, list):
        for i, v in enumerate(schema):
            yield from _walk(v, f"{path}/{i}")


@pytest.mark.parametrize("kind", list(FILES))
def test_every_object_is_closed_and_every_property_described(kind: str) -> None:
    for path, obj in _walk(schema_for(kind)):
        assert obj.get("additionalProperties") is False, path
        for name, prop in obj["properties"].items():
            assert any("\u4e00" <= ch <= "\u9fff" for ch in prop.get("description", "")), f"{path}/{name}"


def test_spec_is_frozen_and_located() -> None:
    spec = load(str(MINIMAL)).spec
    assert spec is not None
    case = spec.entities["dispute_case"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.label = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        case.fields["x"] = None  # type: ignore[index]
    assert case.src.file.endswith("entities.yaml") and case.src.line > 1
    f = case.fields["assigned_mediator"]
    assert (f.type, f.ref) == ("ref", "mediator")
    assert spec.workflows["case_flow"].transitions["sign_agreement"].sources == ("mediating",)
    assert spec.roles["mediator"].may_run("case_flow", "fail")
    assert spec.org_tree.level_of("township_centre") == "township"
    assert spec.checklists["five_essentials"].items["seal"].sub_items["s1"].gate is True
    assert [r.values["unit_code"] for r in spec.reference] == ["hrss", "union"]


def test_config_files_point_editors_at_the_schemas() -> None:
    for kind in FILES:
        first = (ROOT / "config" / f"{kind}.yaml").read_text("utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema=../generator/schemas/{kind}.schema.json"
        assert (ROOT / "config" / first.split("=", 1)[1]).resolve().exists()
