"""``grants.system`` in roles.yaml: compiled onto the Role, checked (E314), mapped to FAB permissions."""

from __future__ import annotations

from pathlib import Path

from generator import load
from generator.builders.permissions import (ACCESS_MATRIX_VIEW, AUDIT_LOG_VIEW, desired_permissions,
                                            role_permissions)
from generator.explain import explain_role, role_matrix

from .casefiles import MINIMAL, apply_edits

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, system: str) -> Path:
    import shutil

    cfg = tmp_path / "config"
    shutil.copytree(MINIMAL, cfg)
    apply_edits(f"=== roles.yaml\n---\n      reveal: [party.*, mediator.*]\n  station_head:\n+++\n"
                f"      reveal: [party.*, mediator.*]\n      system: {system}\n  station_head:\n", cfg)
    return cfg


def test_system_grants_compile_and_map_to_the_audit_and_matrix_views(tmp_path: Path) -> None:
    result = load(str(_config(tmp_path, "[audit_log, access_matrix]")))
    assert result.ok, [e.render() for e in result.errors]
    spec = result.spec
    assert spec.roles["jm_office"].system == ("audit_log", "access_matrix")
    assert spec.roles["station_head"].system == ()
    perms = role_permissions(spec, "jm_office")
    assert {("can_read", AUDIT_LOG_VIEW), ("menu_access", AUDIT_LOG_VIEW),
            ("can_read", ACCESS_MATRIX_VIEW), ("menu_access", ACCESS_MATRIX_VIEW)} <= perms
    other = role_permissions(spec, "station_head")
    assert not {p for p in other if p[1] in (AUDIT_LOG_VIEW, ACCESS_MATRIX_VIEW)}


def test_only_audit_log_grants_only_the_log(tmp_path: Path) -> None:
    spec = load(str(_config(tmp_path, "[audit_log]"))).spec
    perms = role_permissions(spec, "jm_office")
    assert ("can_read", AUDIT_LOG_VIEW) in perms and ("can_read", ACCESS_MATRIX_VIEW) not in perms


def test_unknown_system_grant_is_e314(tmp_path: Path) -> None:
    result = load(str(_config(tmp_path, "[audit_logs]")))
    assert not result.ok
    codes = [e.code for e in result.errors]
    assert codes == ["E314"], [e.render() for e in result.errors]
    # The allowed values are listed, but no close name is proposed: a grant is never guessed (issue #14).
    assert "audit_log" in result.errors[0].hint() and "是不是" not in result.errors[0].hint()


def test_shipped_roles_grant_the_log_to_office_and_auditor_only() -> None:
    spec = load(str(ROOT / "config")).spec
    holders = sorted(r for r, perms in desired_permissions(spec).items() if ("can_read", AUDIT_LOG_VIEW) in perms)
    assert holders == ["auditor", "jm_office"]
    matrix = sorted(r for r, perms in desired_permissions(spec).items()
                    if ("can_read", ACCESS_MATRIX_VIEW) in perms)
    assert matrix == ["auditor", "jm_office"]


def test_role_matrix_is_what_explain_prints() -> None:
    spec = load(str(ROOT / "config")).spec
    role = spec.roles["auditor"]
    m = role_matrix(spec, role)
    assert m["scope"] == "all" and m["system"] == ["audit_log", "access_matrix"]
    assert all(acts == ("read",) for _n, _l, acts in m["entities"])
    assert "系统功能：audit_log（审计日志）, access_matrix（权限矩阵）" in explain_role(spec, role)
