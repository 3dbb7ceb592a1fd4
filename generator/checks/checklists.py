"""Checklists are rateable: evidence options fit their kind (E315), the rating rules give every
inspection a result (E409), and every item has something to inspect at each org type (W410).
Their upload limits agree with each other and with the evidence they must hold (E316, E317).

Name references (entity, org types) are checked in ``references.py``.
"""

from __future__ import annotations

from ..errors import ConfigError, error
from ..source import dotted
from ..spec import AppSpec
from . import check

# option -> (kinds it belongs to, zh, en)
_OPTIONS = {
    "threshold": (("number",), "设置阈值 threshold", "take a threshold"),
    "unit": (("number",), "设置单位 unit", "take a unit"),
    "compare": (("number",), "设置比较方式 compare", "take compare"),
    "min_count": (("photo", "document"), "设置上传份数 min_count", "take min_count"),
    "within_months": (("validity",), "设置 within_months", "take within_months"),
}


@check
def checklist_evidence(spec: AppSpec) -> list[ConfigError]:
    out: list[ConfigError] = []
    for cl in spec.checklists.values():
        for item in cl.items.values():
            for sub in item.sub_items.values():
                for ev in sub.evidence:
                    for opt in _present(spec, ev):
                        kinds, zh, en = _OPTIONS[opt]
                        if ev.kind not in kinds:
                            out.append(error("E315", spec.key_at(ev, opt), dotted(ev.path + (opt,)), kind=ev.kind,
                                             reason=zh, reason_en=en,
                                             fix=f"删除 {opt}，或把 kind 改为 {' / '.join(kinds)}",
                                             fix_en=f"remove {opt}, or make the kind {' / '.join(kinds)}"))
                    if ev.kind == "number" and ev.threshold is None:
                        out.append(error("E315", ev.src, dotted(ev.path), kind=ev.kind, reason="没有阈值 threshold",
                                         reason_en="go without a threshold",
                                         fix="添加 threshold: 数值（观测值与之比较得出达标与否）",
                                         fix_en="add threshold: <number> (the observed value is compared with it)"))
    return out


def _present(spec: AppSpec, ev) -> list[str]:  # type: ignore[no-untyped-def]
    """Options written in the YAML for this evidence entry (defaults do not count)."""
    keys = spec.sources[ev.src.file].keys
    return [opt for opt in _OPTIONS if tuple(ev.path) + (opt,) in keys]


@check
def checklist_rating(spec: AppSpec) -> list[ConfigError]:
    out: list[ConfigError] = []
    for cl in spec.checklists.values():
        seen: dict[str, int] = {}
        for i, rule in enumerate(cl.rating):
            if rule.when in seen:
                out.append(error("E409", spec.value_at(rule, "when"), dotted(rule.path + ("when",)), checklist=cl.name,
                                 reason=f"第 {i + 1} 条的条件 {rule.when} 与第 {seen[rule.when] + 1} 条重复，永远不会生效",
                                 reason_en=f"repeat condition {rule.when} (rule {i + 1} = rule {seen[rule.when] + 1}): "
                                           "it never applies",
                                 fix="删除重复的一条", fix_en="delete the repeated rule"))
            elif "always" in seen:
                out.append(error("E409", rule.src, dotted(rule.path), checklist=cl.name,
                                 reason=f"第 {i + 1} 条排在 always 之后，永远不会生效",
                                 reason_en=f"have rule {i + 1} after 'always': it never applies",
                                 fix="把 when: always 的规则放到最后", fix_en="put the when: always rule last"))
            seen.setdefault(rule.when, i)
        if "always" not in seen:
            out.append(error("E409", spec.key_at(cl, "rating"), dotted(cl.path + ("rating",)), checklist=cl.name,
                             reason="没有以 when: always 结尾，有的检查会得不到结论",
                             reason_en="do not end with when: always: some inspections would get no result",
                             fix="在最后加一条 - {result: pass, when: always}",
                             fix_en="end with - {result: pass, when: always}"))
    return out


@check
def checklist_coverage(spec: AppSpec) -> list[ConfigError]:
    out: list[ConfigError] = []
    for cl in spec.checklists.values():
        for item in cl.items.values():
            for t in cl.applies_to:
                if not any(not s.applies_to or t in s.applies_to for s in item.sub_items.values()):
                    out.append(error("W410", item.src, dotted(item.path), item=item.name, org_type=t))
    return out


# evidence kind -> the upload kind it needs
_UPLOAD_KIND = {"photo": ("image", "照片", "photo"), "document": ("pdf", "PDF 文件", "PDF")}


@check
def checklist_uploads(spec: AppSpec) -> list[ConfigError]:
    out: list[ConfigError] = []
    for cl in spec.checklists.values():
        up = cl.upload_limits
        where = f"检查清单 '{cl.name}' 的上传限制"
        where_en = f"the upload limits of checklist '{cl.name}'"
        if cl.uploads is not None and up.max_total_mb < up.max_size_mb:
            out.append(error("E316", spec.key_at(up, "max_total_mb"), dotted(up.path + ("max_total_mb",)),
                             where=where, where_en=where_en,
                             reason=f"每条记录总大小上限 max_total_mb（{up.max_total_mb} MB）小于单个文件上限 "
                                    f"max_size_mb（{up.max_size_mb} MB），一个最大的文件也放不下",
                             reason_en=f"max_total_mb ({up.max_total_mb} MB) is below max_size_mb "
                                       f"({up.max_size_mb} MB): one file of the allowed size would not fit",
                             fix="把 max_total_mb 调到不小于 max_size_mb，或调小 max_size_mb",
                             fix_en="raise max_total_mb to at least max_size_mb, or lower max_size_mb"))
        for item in cl.items.values():
            for sub in item.sub_items.values():
                for ev in sub.evidence:
                    if ev.kind not in _UPLOAD_KIND:
                        continue
                    needed, what, what_en = _UPLOAD_KIND[ev.kind]
                    if needed not in up.accept:
                        out.append(error("E317", spec.value_at(ev, "kind"), dotted(ev.path + ("kind",)),
                                         kind=ev.kind, what=what, what_en=what_en, checklist=cl.name, needed=needed))
                    elif ev.min_count > up.max_files:
                        out.append(error("E316", spec.key_at(ev, "min_count"), dotted(ev.path + ("min_count",)),
                                         where=where, where_en=where_en,
                                         reason=f"证据要求至少 {ev.min_count} 份，但每条记录最多只能上传 "
                                                f"{up.max_files} 个文件（uploads.max_files），永远无法达标",
                                         reason_en=f"the evidence needs at least {ev.min_count} files but a record "
                                                   f"holds at most {up.max_files} (uploads.max_files): it can never "
                                                   "be met",
                                         fix="调小 min_count，或调大 uploads.max_files",
                                         fix_en="lower min_count, or raise uploads.max_files"))
    return out
