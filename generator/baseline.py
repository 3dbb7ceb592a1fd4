"""What is already in use: the checklist versions stored in the database, or a previous config.

``check`` compares the YAML with it, so a checklist whose items or rules changed while its
``version`` stayed is an error *before* anything starts (E330), at the ``version`` line, with the
number to write.  The baseline is, in order:

* ``--against DIR``: another config directory (e.g. the version in Git, or a fixture);
* ``--db URL`` / ``--db auto``: the ``jf_checklist_version`` rows of that database (``auto``:
  ``DATABASE_URL``, else this config's default SQLite file when it exists, see
  :func:`default_database_url`).

A checklist's *shape* is the JSON ``app/checklists/definitions.py`` stores for each version;
:func:`checklist_shape` builds the same JSON from the spec, and :func:`structure_hash` is the
one digest both sides use (the app's ``Definition.structure_hash`` calls it).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from .errors import ConfigError, error
from .source import dotted
from .spec import AppSpec, Checklist, Label

ROOT = Path(__file__).resolve().parents[1]
VERSION_TABLE = "jf_checklist_version"


# ------------------------------------------------------------------ where the database is

def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` → SQLAlchemy's psycopg 3 URL; anything else unchanged."""
    url = url.strip()
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def default_sqlite_path(config_dir: Optional[str] = None) -> Path:
    """``var/jiefen.db`` for the shipped ``config/``; ``var/<directory name>.db`` for any other
    config directory (``CONFIG_DIR=examples/<county>`` → ``var/<county>.db``), so two counties on one
    checkout never share a database by accident."""
    if not config_dir or Path(config_dir).resolve() == (ROOT / "config").resolve():
        return ROOT / "var" / "jiefen.db"
    return ROOT / "var" / f"{Path(config_dir).resolve().name}.db"


def default_database_url(config_dir: Optional[str] = None) -> str:
    """``DATABASE_URL`` when set, else the config directory's own SQLite file (an absolute path)."""
    url = normalise_url(os.environ.get("DATABASE_URL", ""))
    return url or f"sqlite:///{default_sqlite_path(config_dir)}"


def resolve_db(option: Optional[str], config_dir: str) -> Optional[str]:
    """The database ``--db`` names: a URL, ``auto`` (only one that exists), or None (``--no-db``)."""
    if not option or option == "none":
        return None
    if option != "auto":
        return normalise_url(option)
    url = default_database_url(config_dir)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return None
    return url


# ------------------------------------------------------------------ a checklist's shape

def _lab(x: Optional[Label]) -> Optional[dict[str, str]]:
    return {"zh": x.zh, "en": x.en} if x else None


def checklist_shape(cl: Checklist) -> dict[str, Any]:
    """The JSON the app stores for a checklist version (``Definition.from_spec(cl).as_json()``)."""
    items = sorted(cl.items.values(), key=lambda x: (x.order, list(cl.items).index(x.name)))
    return {
        "name": cl.name, "version": cl.version, "label": _lab(cl.label), "applies_to": list(cl.applies_to),
        "validity_months": cl.validity_months, "reinspect_months": cl.reinspect_months,
        "rectification_days": cl.rectification_days, "due_soon_days": cl.due_soon_days,
        "rating": [[r.result, r.when] for r in cl.rating],
        "items": [{"name": i.name, "label": _lab(i.label), "order": i.order, "sub_items": [
            {"name": s.name, "label": _lab(s.label), "requirement": _lab(s.requirement), "gate": s.gate,
             "applies_to": list(s.applies_to), "evidence": [
                 {"kind": e.kind, "label": _lab(e.label), "min_count": e.min_count, "threshold": e.threshold,
                  "unit": _lab(e.unit), "compare": e.compare, "within_months": e.within_months}
                 for e in s.evidence]} for s in i.sub_items.values()]} for i in items],
    }


def structure_of(shape: Mapping[str, Any]) -> dict[str, Any]:
    """The shape without its wording (labels, requirements, units): what rates an inspection."""
    d = json.loads(json.dumps(shape))
    d.pop("label", None)
    for i in d["items"]:
        i.pop("label", None)
        for s in i["sub_items"]:
            s.pop("label", None)
            s.pop("requirement", None)
            for e in s["evidence"]:
                e.pop("label", None)
                e.pop("unit", None)
    return d


def structure_hash(shape: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(structure_of(shape), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def describe_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, str]:
    """What changed between two shapes, in a few words (zh, en)."""
    zh: list[str] = []
    en: list[str] = []
    o, n = structure_of(old), structure_of(new)
    oi = {i["name"]: i for i in o["items"]}
    ni = {i["name"]: i for i in n["items"]}
    for name in ni.keys() - oi.keys():
        zh.append(f"新增检查项 {name}")
        en.append(f"item {name} added")
    for name in oi.keys() - ni.keys():
        zh.append(f"删除检查项 {name}")
        en.append(f"item {name} removed")
    for name in sorted(oi.keys() & ni.keys()):
        os_ = {s["name"]: s for s in oi[name]["sub_items"]}
        ns = {s["name"]: s for s in ni[name]["sub_items"]}
        for s in sorted(ns.keys() - os_.keys()):
            zh.append(f"新增细项 {name}.{s}")
            en.append(f"sub-item {name}.{s} added")
        for s in sorted(os_.keys() - ns.keys()):
            zh.append(f"删除细项 {name}.{s}")
            en.append(f"sub-item {name}.{s} removed")
        for s in sorted(os_.keys() & ns.keys()):
            if os_[s] != ns[s]:
                zh.append(f"细项 {name}.{s} 的要求改变")
                en.append(f"sub-item {name}.{s} changed")
        if oi[name].get("order") != ni[name].get("order"):
            zh.append(f"检查项 {name} 顺序改变")
            en.append(f"order of item {name} changed")
    if o["rating"] != n["rating"]:
        zh.append("评级规则改变")
        en.append("rating rules changed")
    for key, zh_name in (("applies_to", "适用组织类型"), ("validity_months", "有效期"),
                         ("reinspect_months", "复查间隔"), ("rectification_days", "整改期限"),
                         ("due_soon_days", "到期提醒天数")):
        if o.get(key) != n.get(key):
            zh.append(f"{zh_name}改变")
            en.append(f"{key} changed")
    return ("；".join(zh) or "结构改变"), ("; ".join(en) or "structure changed")


# ------------------------------------------------------------------ the baseline

@dataclass
class Baseline:
    """Checklist versions already in use: (checklist, version) → stored shape."""

    source: str
    checklists: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    hashes: dict[tuple[str, int], str] = field(default_factory=dict)  # as stored (else computed)

    def hash_of(self, key: tuple[str, int]) -> str:
        return self.hashes.get(key) or structure_hash(self.checklists[key])

    def latest(self, name: str) -> int:
        return max((v for (n, v) in self.checklists if n == name), default=0)


def from_spec(spec: AppSpec, source: str) -> Baseline:
    return Baseline(source, {(c.name, c.version): checklist_shape(c) for c in spec.checklists.values()})


def from_dir(config_dir: str) -> Optional[Baseline]:
    """The checklists of another config directory (None when it does not compile)."""
    from .pipeline import load

    result = load(config_dir)
    return from_spec(result.spec, config_dir) if result.spec is not None else None


def from_database(url: str) -> Optional[Baseline]:
    """The stored checklist versions (None when the table is not there yet). Raises on no connection."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, connect_args={"connect_timeout": 3} if url.startswith("postgresql") else {})
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(VERSION_TABLE):
                return None
            rows = conn.execute(sa.text(f"SELECT checklist, version, definition, structure_hash "
                                        f"FROM {VERSION_TABLE}")).all()
    finally:
        engine.dispose()
    return Baseline(_hide_password(url), {(r[0], int(r[1])): json.loads(r[2]) for r in rows},
                    {(r[0], int(r[1])): r[3] for r in rows})


def _hide_password(url: str) -> str:
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "database"


def checklist_versions(spec: AppSpec, baseline: Baseline) -> list[ConfigError]:
    """E330 for every checklist whose rated structure changed under a version number in use."""
    out: list[ConfigError] = []
    for cl in spec.checklists.values():
        stored = baseline.checklists.get((cl.name, cl.version))
        if stored is None:
            continue
        shape = checklist_shape(cl)
        if baseline.hash_of((cl.name, cl.version)) == structure_hash(shape):
            continue
        zh, en = describe_changes(stored, shape)
        nxt = max(baseline.latest(cl.name), cl.version) + 1
        out.append(error("E330", spec.value_at(cl, "version"), dotted(cl.path + ("version",)), checklist=cl.name,
                         version=cl.version, next=nxt, changes=zh, changes_en=en))
    return out
