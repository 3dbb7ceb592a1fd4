"""Stage 3: schema-valid data → AppSpec.  Construction only, no validation.

The schema has already guaranteed every shape used here, so this module only
copies values into frozen dataclasses and attaches their source positions.
"""

from __future__ import annotations

from typing import Any, Mapping

from . import spec as s
from .source import Path, SourceMap


class _Ctx:
    def __init__(self, smap: SourceMap) -> None:
        self.smap = smap

    def at(self, path: Path) -> dict[str, Any]:
        return {"src": self.smap.key(path), "path": path}


def _label(d: Mapping[str, str] | None) -> s.Label | None:
    return s.Label(d["zh"], d["en"]) if d else None  # type: ignore[index]


def _tuple(v: Any) -> tuple[Any, ...]:
    if v is None:
        return ()
    return tuple(v) if isinstance(v, list) else (v,)


def compile_spec(config_dir: str, data: Mapping[str, Any], sources: Mapping[str, SourceMap]) -> s.AppSpec:
    """Build the typed spec from per-kind data (``data["entities"]`` …)."""
    ent = data["entities"]
    ec = _Ctx(sources[_file(sources, "entities")])
    menus = {n: s.Menu(**ec.at(("menus", n)), name=n, label=_label(m["label"]), order=m.get("order", 0),
                       icon=m.get("icon")) for n, m in ent["menus"].items()}
    enums = {n: s.Enum(**ec.at(("enums", n)), name=n, label=_label(e["label"]),
                       values=s.frozen_map({k: _label(v) for k, v in e["values"].items()}),
                       renamed=s.frozen_map({k: v["renamed_from"] for k, v in e["values"].items()
                                             if v.get("renamed_from")}))
             for n, e in (ent.get("enums") or {}).items()}
    entities = {n: _entity(ec, n, e) for n, e in ent["entities"].items()}
    t = ent["org_tree"]
    org_tree = s.OrgTree(**ec.at(("org_tree",)), entity=t["entity"], parent_field=t["parent_field"],
                         type_field=t["type_field"],
                         levels=s.frozen_map({k: tuple(v) for k, v in t["levels"].items()}),
                         allowed_parents=s.frozen_map({k: tuple(v) for k, v in
                                                       (t.get("allowed_parents") or {}).items()}))

    rc = _Ctx(sources[_file(sources, "roles")])
    roles = {n: _role(rc, n, r) for n, r in data["roles"]["roles"].items()}

    wf_data = data["workflows"]
    wc = _Ctx(sources[_file(sources, "workflows")])
    workflows = {n: _workflow(wc, n, w) for n, w in wf_data["workflows"].items()}
    calendar = tuple(
        s.CalendarYear(**wc.at(("calendar", "overrides", y)), year=int(y), holidays=tuple(v["holidays"]),
                       workdays=tuple(v.get("workdays", ())))
        for y, v in sorted(((wf_data.get("calendar") or {}).get("overrides") or {}).items()))

    checklists: dict[str, s.Checklist] = {}
    targets: dict[str, s.Target] = {}
    if "checklists" in data:
        cc = _Ctx(sources[_file(sources, "checklists")])
        checklists = {n: _checklist(cc, n, c) for n, c in data["checklists"]["checklists"].items()}
        targets = {n: s.Target(**cc.at(("targets", n)), name=n, label=_label(t["label"]),
                               org_types=tuple(t["org_types"]), count=t["count"])
                   for n, t in (data["checklists"].get("targets") or {}).items()}
    reference: list[s.ReferenceRecord] = []
    if "reference" in data:
        fc = _Ctx(sources[_file(sources, "reference")])
        for en, rows in (data["reference"].get("records") or {}).items():
            for i, row in enumerate(rows):
                reference.append(s.ReferenceRecord(**fc.at(("records", en, i)), entity=en, index=i,
                                                   values=s.frozen_map(row)))
    site = None
    if ent.get("site"):
        st = ent["site"]
        site = s.Site(title=_label(st["title"]), county=_label(st.get("county")),  # type: ignore[arg-type]
                      office=_label(st.get("office")),
                      townships=tuple(_label(t) for t in st.get("townships") or ()))  # type: ignore[misc]
    return s.AppSpec(config_dir=config_dir, site=site, menus=s.frozen_map(menus), enums=s.frozen_map(enums),
                     entities=s.frozen_map(entities), org_tree=org_tree, roles=s.frozen_map(roles),
                     workflows=s.frozen_map(workflows), calendar=calendar,
                     checklists=s.frozen_map(checklists), targets=s.frozen_map(targets),
                     reference=tuple(reference), sources=s.frozen_map(dict(sources)))


def _file(sources: Mapping[str, SourceMap], kind: str) -> str:
    for name in sources:
        if name.endswith(f"{kind}.yaml"):
            return name
    raise KeyError(kind)


def _entity(c: _Ctx, name: str, e: Mapping[str, Any]) -> s.Entity:
    base: Path = ("entities", name)
    fields = {}
    for fname, f in e["fields"].items():
        fields[fname] = s.Field(
            **c.at(base + ("fields", fname)), name=fname, label=_label(f["label"]), type=f["type"],
            required=f.get("required", False), unique=f.get("unique", False), index=f.get("index", False),
            max_length=f.get("max_length"), min_length=f.get("min_length"), min=f.get("min"), max=f.get("max"),
            pattern=f.get("pattern"), format=f.get("format"), enum=f.get("enum"), ref=f.get("ref"),
            on_delete=f.get("on_delete"), pii=f.get("pii"), default=f.get("default"),
            help=_label(f.get("help")), readonly=f.get("readonly", False),
            writers=tuple(f["writers"]) if "writers" in f else None, process=f.get("process"),
            accept=_tuple(f.get("accept")), max_size_mb=f.get("max_size_mb"), max_files=f.get("max_files"),
            renamed_from=f.get("renamed_from"))
    scope = None
    if "scope" in e:
        sc = e["scope"]
        scope = s.Scope(**c.at(base + ("scope",)), org=sc.get("org"), parent=sc.get("parent"),
                        owner=sc.get("owner"), tree=sc.get("tree", False), public=sc.get("public", False))
    return s.Entity(
        **c.at(base), name=name, label=_label(e["label"]), menu=e["menu"], fields=s.frozen_map(fields),
        scope=scope, description=_label(e.get("description")), order=e.get("order", 0),
        display=e.get("display"), reference=e.get("reference", False), list=_tuple(e.get("list")),
        api_list=_tuple(e.get("api_list")),
        search=_tuple(e.get("search")), filters=_tuple(e.get("filters")), order_by=e.get("order_by"),
        unique_together=tuple(tuple(u) for u in e.get("unique_together", ())),
        renamed_from=e.get("renamed_from"))


def _role(c: _Ctx, name: str, r: Mapping[str, Any]) -> s.Role:
    g = r["grants"]
    return s.Role(**c.at(("roles", name)), name=name, label=_label(r["label"]), scope=r["scope"],
                  entity_grants=s.frozen_map({k: tuple(v) for k, v in (g.get("entities") or {}).items()}),
                  transitions=_tuple(g.get("transitions")), checklists=_tuple(g.get("checklists")),
                  reveal=_tuple(g.get("reveal")), description=_label(r.get("description")),
                  admin=r.get("admin", False), org_types=_tuple(r.get("org_types")),
                  can_assign=_tuple(r.get("can_assign")), system=_tuple(g.get("system")),
                  renamed_from=r.get("renamed_from"))


def _workflow(c: _Ctx, name: str, w: Mapping[str, Any]) -> s.Workflow:
    base: Path = ("workflows", name)
    states = {n: s.State(**c.at(base + ("states", n)), name=n, label=_label(st["label"]), kind=st["kind"],
                         level=st.get("level"), owners=_tuple(st.get("owners")),
                         editable=_tuple(st.get("editable")), final=st.get("final", False),
                         renamed_from=st.get("renamed_from"))
              for n, st in w["states"].items()}
    deadlines = {}
    for n, d in (w.get("deadlines") or {}).items():
        dp = base + ("deadlines", n)
        ext = d.get("extension")
        deadlines[n] = s.Deadline(
            **c.at(dp), name=n, label=_label(d["label"]), days=d["days"], day_type=d["day_type"],
            start=tuple(d["start"]["enter"]), stop=tuple((d.get("stop") or {}).get("enter", ())),
            pause_in=_tuple(d.get("pause_in")), due_soon_days=d.get("due_soon_days", 3),
            basis=_label(d.get("basis")),
            extension=s.Extension(**c.at(dp + ("extension",)), roles=tuple(ext["roles"]), max_days=ext["max_days"],
                                  reason_required=ext.get("reason_required", True)) if ext else None)
    transitions = {}
    for n, t in w["transitions"].items():
        tp = base + ("transitions", n)
        req = t.get("requires") or {}
        conds = tuple(s.Condition(**c.at(tp + ("requires", "conditions", i)), label=_label(cd["label"]),
                                  checklist=cd.get("checklist"), item=cd.get("item"), org_field=cd.get("org_field"),
                                  related=cd.get("related"), via=cd.get("via"))
                      for i, cd in enumerate(req.get("conditions") or ()))
        effects = tuple(s.Effect(**c.at(tp + ("effects", i)), create=ef.get("create"), link=ef.get("link"),
                                 values=s.frozen_map(ef.get("values") or {}), set=s.frozen_map(ef.get("set") or {}),
                                 start_deadline=ef.get("start_deadline"), stop_deadline=ef.get("stop_deadline"))
                        for i, ef in enumerate(t.get("effects") or ()))
        a = t.get("assign")
        transitions[n] = s.Transition(
            **c.at(tp), name=n, label=_label(t["label"]), sources=_tuple(t["from"]), target=t["to"],
            roles=tuple(t["roles"]), comment_required=t.get("comment_required", False),
            required_fields=_tuple(req.get("fields")), required_attachments=_tuple(req.get("attachments")),
            conditions=conds, effects=effects,
            assign=s.Assign(**c.at(tp + ("assign",)), role=a["role"], org=a["org"]) if a else None)
    att = w.get("attachments")
    return s.Workflow(**c.at(base), name=name, label=_label(w["label"]), entity=w["entity"], initial=w["initial"],
                      states=s.frozen_map(states), transitions=s.frozen_map(transitions),
                      deadlines=s.frozen_map(deadlines),
                      attachments=s.Attachments(**c.at(base + ("attachments",)), entity=att["entity"],
                                                parent_field=att["parent_field"], type_field=att["type_field"])
                      if att else None, moved_to=s.frozen_map(dict(w.get("moved_to") or {})))


def _checklist(c: _Ctx, name: str, cl: Mapping[str, Any]) -> s.Checklist:
    base: Path = ("checklists", name)
    items = {}
    for iname, it in cl["items"].items():
        ip = base + ("items", iname)
        subs = {}
        for sname, sub in it["sub_items"].items():
            sp = ip + ("sub_items", sname)
            ev = tuple(s.Evidence(**c.at(sp + ("evidence", i)), kind=e["kind"], label=_label(e["label"]),
                                  min_count=e.get("min_count", 1), threshold=e.get("threshold"),
                                  unit=_label(e.get("unit")), compare=e.get("compare", "at_least"),
                                  within_months=e.get("within_months"))
                       for i, e in enumerate(sub.get("evidence") or ()))
            subs[sname] = s.SubItem(**c.at(sp), name=sname, label=_label(sub["label"]), gate=sub.get("gate", False),
                                    requirement=_label(sub.get("requirement")), evidence=ev,
                                    applies_to=_tuple(sub.get("applies_to")))
        items[iname] = s.CheckItem(**c.at(ip), name=iname, label=_label(it["label"]),
                                   sub_items=s.frozen_map(subs), order=it.get("order", 0))
    rating = tuple(s.RatingRule(**c.at(base + ("rating", i)), result=r["result"], when=r["when"])
                   for i, r in enumerate(cl["rating"]))
    up = cl.get("uploads")
    uploads = None
    if up is not None:
        uploads = s.Uploads(**c.at(base + ("uploads",)), accept=_tuple(up.get("accept")) or s.FILE_KINDS,
                            max_size_mb=up.get("max_size_mb", s.DEFAULT_FILE_MB),
                            max_files=up.get("max_files", s.DEFAULT_FILES_PER_RECORD),
                            max_total_mb=up.get("max_total_mb", s.DEFAULT_TOTAL_MB_PER_RECORD),
                            max_files_per_request=up.get("max_files_per_request", s.DEFAULT_FILES_PER_REQUEST))
    return s.Checklist(**c.at(base), name=name, label=_label(cl["label"]), version=cl["version"],
                       entity=cl["entity"], applies_to=tuple(cl["applies_to"]), actions=tuple(cl["actions"]),
                       items=s.frozen_map(items), rating=rating, validity_months=cl.get("validity_months", 12),
                       reinspect_months=cl.get("reinspect_months", 12),
                       rectification_days=cl.get("rectification_days", 30),
                       due_soon_days=cl.get("due_soon_days", 30), uploads=uploads,
                       pages=s.frozen_map({k: _label(v) for k, v in (cl.get("pages") or {}).items()}))
