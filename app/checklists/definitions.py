"""Checklist versions: the definition each inspection was made under, kept in the database.

``checklists.yaml`` holds the *current* definition of each checklist.  The first time a version
is used it is stored in ``jf_checklist_version`` as JSON (items, sub-items, gates, evidence,
rating rules, periods, labels), so an inspection made under version 1 is still shown and rated
under version 1 after the YAML moves to version 2 (the "五有 → 六有" change).  If the structure of a
stored version differs from the YAML while the version number stayed the same, the app refuses
to start (``VersionConflict``): history would otherwise be reinterpreted silently.  Label and
requirement wording may change without a new version (the stored labels are refreshed).

:class:`Definition` is the read-only shape both the current and the stored versions take; the
rating rules (:mod:`app.checklists.rules`) work on it, never on the YAML spec directly.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

from sqlalchemy import Column, DateTime, Integer, String, Text, UniqueConstraint, select

from generator.spec import Checklist, Label

TABLE = "jf_checklist_version"


from app.lifecycle.codes import Refused  # noqa: E402


class VersionConflict(Refused):
    """The YAML changed a checklist's structure but kept its version number (E330, one coded line each;
    ``python -m generator check`` reports the same at the ``version`` line before anything starts)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("E330", problems[0], "", tuple(problems[1:]))


def build_version_table(base: type) -> type:
    from generator import names

    return type("ChecklistVersion", (base,), {
        "__tablename__": TABLE,
        "__module__": names.MODELS_MODULE,
        "__qualname__": "ChecklistVersion",
        "__doc__": "One stored definition per checklist version (app/checklists/definitions.py).",
        "__table_args__": (UniqueConstraint("checklist", "version", name="uq_jf_checklist_version"),),
        "id": Column(Integer, primary_key=True),
        "checklist": Column(String(64), nullable=False),
        "version": Column(Integer, nullable=False),
        "structure_hash": Column(String(64), nullable=False),
        "definition": Column(Text, nullable=False),
        "stored_on": Column(DateTime, nullable=False, default=_dt.datetime.now),
    })


# ------------------------------------------------------------------ the shape


def _lab(d: Optional[Mapping[str, str]]) -> Optional[Label]:
    return Label(d["zh"], d["en"]) if d else None


@dataclass(frozen=True)
class EvidenceDef:
    kind: str
    label: Label
    min_count: int = 1
    threshold: Optional[float] = None
    unit: Optional[Label] = None
    compare: str = "at_least"
    within_months: Optional[int] = None


@dataclass(frozen=True)
class SubDef:
    name: str
    item: str
    label: Label
    requirement: Optional[Label]
    gate: bool
    applies_to: tuple[str, ...]
    evidence: tuple[EvidenceDef, ...]

    def applies(self, org_type: Optional[str]) -> bool:
        return org_type is None or not self.applies_to or org_type in self.applies_to

    @property
    def number(self) -> Optional[EvidenceDef]:
        return next((e for e in self.evidence if e.kind == "number"), None)

    @property
    def validity(self) -> Optional[EvidenceDef]:
        return next((e for e in self.evidence if e.kind == "validity"), None)

    @property
    def files_needed(self) -> int:
        return sum(e.min_count for e in self.evidence if e.kind in ("photo", "document"))


@dataclass(frozen=True)
class ItemDef:
    name: str
    label: Label
    order: int
    subs: tuple[SubDef, ...]


@dataclass(frozen=True)
class Definition:
    name: str
    version: int
    label: Label
    applies_to: tuple[str, ...]
    items: tuple[ItemDef, ...]
    rating: tuple[tuple[str, str], ...]  # (result, when)
    validity_months: int
    reinspect_months: int
    rectification_days: int
    due_soon_days: int

    @property
    def subs(self) -> dict[str, SubDef]:
        return {s.name: s for it in self.items for s in it.subs}

    def item(self, name: str) -> Optional[ItemDef]:
        return next((i for i in self.items if i.name == name), None)

    def applicable(self, org_type: Optional[str]) -> list[SubDef]:
        return [s for it in self.items for s in it.subs if s.applies(org_type)]

    # -------------------------------------------------------------- (de)serialising
    def as_json(self) -> dict[str, Any]:
        def lab(x: Optional[Label]) -> Optional[dict[str, str]]:
            return {"zh": x.zh, "en": x.en} if x else None

        return {
            "name": self.name, "version": self.version, "label": lab(self.label),
            "applies_to": list(self.applies_to), "validity_months": self.validity_months,
            "reinspect_months": self.reinspect_months, "rectification_days": self.rectification_days,
            "due_soon_days": self.due_soon_days, "rating": [list(r) for r in self.rating],
            "items": [{"name": i.name, "label": lab(i.label), "order": i.order, "sub_items": [
                {"name": s.name, "label": lab(s.label), "requirement": lab(s.requirement), "gate": s.gate,
                 "applies_to": list(s.applies_to), "evidence": [
                     {"kind": e.kind, "label": lab(e.label), "min_count": e.min_count, "threshold": e.threshold,
                      "unit": lab(e.unit), "compare": e.compare, "within_months": e.within_months}
                     for e in s.evidence]} for s in i.subs]} for i in self.items],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Definition":
        items = []
        for i in d["items"]:
            subs = tuple(SubDef(
                name=s["name"], item=i["name"], label=_lab(s["label"]), requirement=_lab(s.get("requirement")),  # type: ignore[arg-type]
                gate=bool(s["gate"]), applies_to=tuple(s["applies_to"]),
                evidence=tuple(EvidenceDef(kind=e["kind"], label=_lab(e["label"]), min_count=e["min_count"],  # type: ignore[arg-type]
                                           threshold=e["threshold"], unit=_lab(e.get("unit")),
                                           compare=e.get("compare", "at_least"), within_months=e.get("within_months"))
                               for e in s["evidence"]))
                for s in i["sub_items"])
            items.append(ItemDef(i["name"], _lab(i["label"]), i["order"], subs))  # type: ignore[arg-type]
        return cls(name=d["name"], version=d["version"], label=_lab(d["label"]), applies_to=tuple(d["applies_to"]),  # type: ignore[arg-type]
                   items=tuple(items), rating=tuple((r[0], r[1]) for r in d["rating"]),
                   validity_months=d["validity_months"], reinspect_months=d["reinspect_months"],
                   rectification_days=d["rectification_days"], due_soon_days=d.get("due_soon_days", 30))

    @classmethod
    def from_spec(cls, cl: Checklist) -> "Definition":
        items = []
        for it in sorted(cl.items.values(), key=lambda x: (x.order, list(cl.items).index(x.name))):
            subs = tuple(SubDef(name=s.name, item=it.name, label=s.label, requirement=s.requirement, gate=s.gate,
                                applies_to=s.applies_to,
                                evidence=tuple(EvidenceDef(e.kind, e.label, e.min_count, e.threshold, e.unit,
                                                           e.compare, e.within_months) for e in s.evidence))
                         for s in it.sub_items.values())
            items.append(ItemDef(it.name, it.label, it.order, subs))
        return cls(name=cl.name, version=cl.version, label=cl.label, applies_to=cl.applies_to, items=tuple(items),
                   rating=tuple((r.result, r.when) for r in cl.rating), validity_months=cl.validity_months,
                   reinspect_months=cl.reinspect_months, rectification_days=cl.rectification_days,
                   due_soon_days=cl.due_soon_days)

    def structure_hash(self) -> str:
        """A digest of what rates an inspection (labels and wording excluded); ``generator check``
        computes the same one from the YAML (generator/baseline.py) to refuse a forgotten version."""
        from generator.baseline import structure_hash

        return structure_hash(self.as_json())


# ------------------------------------------------------------------ the store


class Versions:
    """Current definitions (from the spec) plus every stored version, cached per process."""

    def __init__(self, checklists: Mapping[str, Checklist], table: type) -> None:
        self.current = {n: Definition.from_spec(c) for n, c in checklists.items()}
        self.table = table
        self._cache: dict[tuple[str, int], Definition] = {
            (d.name, d.version): d for d in self.current.values()}

    def ensure(self, session: Any) -> list[str]:
        """Store each current version the first time; refuse a changed structure under an old number."""
        problems = []
        t = self.table
        for d in self.current.values():
            row = session.execute(select(t).where(t.checklist == d.name, t.version == d.version)).scalar_one_or_none()
            digest = d.structure_hash()
            body = json.dumps(d.as_json(), ensure_ascii=False, sort_keys=True)
            if row is None:
                session.add(t(checklist=d.name, version=d.version, structure_hash=digest, definition=body))
            elif row.structure_hash != digest:
                problems.append(
                    f"检查清单 '{d.name}' 的检查项或评级规则已修改，但 version 仍为 {d.version}；"
                    f"请把 checklists.yaml 中的 version 改为 {self.latest_stored(session, d.name) + 1}，"
                    f"历史检查才能保留原标准（python -m generator check 会指出所在行）/ "
                    f"checklist '{d.name}' changed its items or rules but kept version {d.version}: "
                    f"raise the version so past inspections keep theirs")
            elif row.definition != body:
                row.definition = body  # wording only
        if problems:
            session.rollback()
            raise VersionConflict([(("E330 " if i else "") + p) for i, p in enumerate(problems)])
        session.commit()
        return problems

    def latest_stored(self, session: Any, name: str) -> int:
        t = self.table
        return int(session.execute(select(t.version).where(t.checklist == name).order_by(t.version.desc())
                                   ).scalars().first() or 0)

    def get(self, session: Any, name: str, version: Optional[int]) -> Definition:
        """The definition an inspection used (the current one when the version is unknown)."""
        if version is None:
            return self.current[name]
        key = (name, int(version))
        d = self._cache.get(key)
        if d is None:
            t = self.table
            body = session.execute(select(t.definition).where(t.checklist == name, t.version == int(version))
                                   ).scalar_one_or_none()
            d = Definition.from_json(json.loads(body)) if body else self.current[name]
            self._cache[key] = d
        return d

    def all_items(self, session: Any, name: str) -> Iterable[ItemDef]:
        return self.current[name].items
