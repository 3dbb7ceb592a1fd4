"""Reference data, demo data and demo accounts, as pure functions over a SQLAlchemy ``Session``.

    load_reference(session, spec, models)      config/reference.yaml → upsert by the first unique field
    load_demo(session, spec, models, seed=…)   a whole 演示 county network: orgs, rosters, employers, cases
    demo_accounts(spec, orgs)                  the planned logins (username, role, org)
    create_accounts(sm, session, accounts, password, user_org_model)

Nothing here imports Flask or commits: the functions add and flush, the caller
commits (``flask --app app setup`` does).  Everything is deterministic: one
``random.Random(seed)``, a fixed "today" (:data:`BASE_DATE`), no ``date.today()``,
so two fresh databases get identical rows and a screenshot or a test can name a
case number.

Every demo organisation carries ``（演示）`` in its name and ``YX-DEMO`` in its
code; employers and case summaries are marked the same way; registry numbers
use the 9xxxxx range and roster numbers the 9xxx range; ID card numbers, credit
codes and phone numbers are generated (valid check characters, no real
person).  Township names are real 阳新县 towns, but their division codes
(4202221xx) are illustrative, not checked against the official code list.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections import Counter
from dataclasses import dataclass, field as dc_field
from decimal import Decimal
from typing import Any, Iterable, Mapping, Optional, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, scoped_session

from generator import names
from generator.spec import AppSpec, Entity, Field
from generator.validation import id_card_check_char, uscc_check_char

__all__ = [
    "DEMO_MARKER_ORG_CODE", "DEMO_CODE_PREFIX", "DEMO_TAG", "BASE_DATE", "DemoOrg", "DemoSummary",
    "DemoAccount", "DEMO_ENTITIES", "load_reference", "load_demo", "demo_org_plan", "demo_accounts", "create_accounts",
    "id_card_check_char", "make_id_number", "uscc_check_char", "make_uscc", "key_field",
]

from app.demo.markers import BASE_DATE, DEMO_CODE_PREFIX, DEMO_MARKER_ORG_CODE, DEMO_TAG, demo_today  # noqa: E402,F401
BASE_DT = dt.datetime.combine(BASE_DATE, dt.time(17, 30))
COUNTY_DIVISION = "420222"              # 阳新县
DEMO_EMAIL_DOMAIN = "demo.jiefen.example.com"
PLACEHOLDER_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
                   b"endobj 3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

# Entities load_demo writes (counted in DemoSummary).
DEMO_ENTITIES = ("org", "mediator", "mediator_appointment", "arbitrator", "employer", "dispute_case", "party",
                 "claim_item", "case_transfer", "mediation_session", "mediation_agreement")


# =============================================================================================== check digits
# The check characters come from generator.validation, the one implementation the forms use too.


def make_id_number(rng: random.Random, birth: dt.date, male: bool, area: str = COUNTY_DIVISION) -> str:
    """An 18-character 居民身份证号码 with a correct check character (17th digit odd = male)."""
    seq = f"{rng.randint(0, 99):02d}{rng.choice('13579' if male else '02468')}"
    body = f"{area}{birth:%Y%m%d}{seq}"
    return body + id_card_check_char(body)


_ORGCODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _orgcode_check_char(first8: str) -> str:
    """GB 11714 组织机构代码 check character (digits only here)."""
    code = 11 - sum(int(c) * w for c, w in zip(first8, _ORGCODE_WEIGHTS)) % 11
    return {10: "X", 11: "0"}.get(code, str(code))


def make_uscc(rng: random.Random, kind: str = "91", area: str = COUNTY_DIVISION) -> str:
    """A 统一社会信用代码: ``91`` company / ``92`` individual business, division, org code, check."""
    body8 = f"{rng.randint(0, 99_999_999):08d}"
    first17 = f"{kind}{area}{body8}{_orgcode_check_char(body8)}"
    return first17 + uscc_check_char(first17)


def _mobile(rng: random.Random) -> str:
    return f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"


def _landline(rng: random.Random) -> str:
    return f"0714-7{rng.randint(100_000, 999_999)}"


# =============================================================================================== spec helpers


def key_field(ent: Entity) -> Field:
    """The entity's natural key: its first ``unique: true`` field."""
    for f in ent.fields.values():
        if f.unique:
            return f
    raise ValueError(f"entity '{ent.name}' has no unique field to use as its key")


def _cast(f: Field, value: Any) -> Any:
    if value is None:
        return None
    t = f.type
    if t == "integer":
        return int(value)
    if t == "decimal":
        return Decimal(str(value))
    if t == "boolean":
        return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "yes", "1", "on")
    if t == "date":
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        return dt.date.fromisoformat(str(value))
    if t == "datetime":
        return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return str(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        try:
            return a is not None and b is not None and Decimal(str(a)) == Decimal(str(b))
        except Exception:  # noqa: BLE001
            return False
    return a == b  # type: ignore[no-any-return]


def _lookup_id(session: Session, spec: AppSpec, models: Mapping[str, type], entity: str, key: Any) -> Optional[int]:
    ent = spec.entities[entity]
    kf = key_field(ent)
    model = models[entity]
    col = getattr(model, names.column_name(kf.name, kf.type))
    return session.scalar(select(model.id).where(col == _cast(kf, key)))  # type: ignore[attr-defined]


# =============================================================================================== reference data


def load_reference(session: Session, spec: AppSpec, models: Mapping[str, type]) -> dict[str, int]:
    """Upsert the records of config/reference.yaml, keyed by each entity's first unique field.

    New keys are inserted; existing rows get their changed values updated (fields a
    record does not mention are left alone); identical rows are not touched, so a
    second run changes nothing (and bumps no ``version``).  A ref value names the
    target by its key (``member_unit: MU-RSJ``).  Flushes; the caller commits.

    Returns:
        ``{"inserted": n, "updated": n, "unchanged": n}`` over all records.
    """
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    for rec in spec.reference:
        ent = spec.entities[rec.entity]
        model = models[rec.entity]
        kf = key_field(ent)
        where = f"{rec.src.file}:{rec.src.line}"
        values: dict[str, Any] = {}
        for name, raw in rec.values.items():
            f = ent.fields[name]
            if f.type == "ref":
                target = None if raw is None else _lookup_id(session, spec, models, f.ref, raw)  # type: ignore[arg-type]
                if raw is not None and target is None:
                    raise LookupError(f"{where}: {rec.entity}.{name}: no {f.ref} with key '{raw}'")
                values[names.fk_column(name)] = target
            elif f.type == "user":
                raise ValueError(f"{where}: {rec.entity}.{name}: login accounts cannot be reference data")
            else:
                values[name] = _cast(f, raw)
        key_col = names.column_name(kf.name, kf.type)
        if values.get(key_col) is None:
            raise ValueError(f"{where}: {rec.entity} record has no '{kf.name}' (its key)")
        obj = session.scalars(select(model).where(getattr(model, key_col) == values[key_col])).one_or_none()
        if obj is None:
            session.add(model(**values))
            session.flush()  # later records may refer to this one
            counts["inserted"] += 1
            continue
        changed = {c: v for c, v in values.items() if not _same(getattr(obj, c), v)}
        for c, v in changed.items():
            setattr(obj, c, v)
        counts["updated" if changed else "unchanged"] += 1
    session.flush()
    return counts


# =============================================================================================== the demo org tree

# (name, division code suffix): six real 阳新县 towns; the codes are illustrative.
TOWNSHIPS = (("兴国镇", "100"), ("富池镇", "101"), ("白沙镇", "106"), ("浮屠镇", "107"), ("枫林镇", "113"),
             ("陶港镇", "105"))
STATIONS_PER_TOWNSHIP = 5
BRANDS = ("兴达", "富华", "鑫源", "恒力", "华美", "博宇", "瑞丰", "宏达", "金鹏", "天成", "永盛", "佳和", "锦程", "昌隆",
          "泰和", "鸿运", "福瑞", "嘉信", "盛源", "润丰", "诚信", "新力", "康盛", "安泰", "广源", "明辉", "志远", "凯达",
          "顺达", "东晟")
# (industry word, GB/T 4754 code, summary word, typical posts)
INDUSTRIES = (
    ("鞋业", "C195", "鞋业公司", ("针车工", "成型工", "裁断工", "质检员")),
    ("纺织", "C17", "纺织公司", ("挡车工", "络筒工", "机修工")),
    ("服装", "C18", "服装公司", ("缝纫工", "整烫工", "裁剪工")),
    ("机械制造", "C34", "机械公司", ("车工", "焊工", "装配工")),
    ("建材", "C30", "建材公司", ("窑炉工", "叉车司机", "包装工")),
    ("食品", "C14", "食品公司", ("包装工", "操作工", "仓管员")),
    ("电子科技", "C39", "电子公司", ("贴片工", "测试员", "操作工")),
    ("医药", "C27", "医药公司", ("操作工", "化验员", "仓管员")),
    ("新材料", "C26", "新材料公司", ("操作工", "巡检员", "电工")),
    ("物流", "G59", "物流公司", ("搬运工", "分拣员", "货车司机")),
)
# Industry of each of the 30 enterprise stations (index into INDUSTRIES): the shoe cluster dominates.
STATION_INDUSTRY = (0, 1, 0, 3, 5, 0, 2, 4, 0, 6, 0, 7, 8, 0, 9, 1, 0, 2, 3, 0, 5, 4, 0, 6, 8, 0, 7, 9, 2, 0)
MEMBER_UNIT_ORGS = (("RSJ", "阳新县人力资源和社会保障局", "MU-RSJ"), ("ZGH", "阳新县总工会", "MU-ZGH"),
                    ("ZFW", "中共阳新县委政法委员会", "MU-ZFW"), ("JCY", "阳新县人民检察院", "MU-JCY"),
                    ("CZJ", "阳新县财政局", "MU-CZJ"), ("SFJ", "阳新县司法局", "MU-SFJ"),
                    ("XFJ", "阳新县信访局", "MU-XFJ"))
DOORSTEP_TOWNSHIPS = (0, 1, 3)          # 兴国镇、富池镇、浮屠镇
LEGAL_NATURE = {"joint_meeting": "coordination_body", "county_centre": "joint_room",
                "arb_committee": "arbitration_body", "arb_institute": "arbitration_body", "court": "judicial_body",
                "member_unit": "government_unit", "township_centre": "township_mediation_org",
                "park_room": "township_mediation_org", "enterprise_station": "enterprise_committee",
                "industry_room": "industry_mediation_org", "doorstep_room": "service_point",
                "peoples_mediation": "peoples_mediation_committee"}


@dataclass(frozen=True)
class DemoOrg:
    """One planned demo organisation (static part; load_demo adds the rest)."""
    code: str
    name: str
    org_type: str
    parent_code: Optional[str]
    township: Optional[int] = None      # index into TOWNSHIPS
    station: Optional[int] = None       # index of an enterprise station (0..29)
    extra: Mapping[str, Any] = dc_field(default_factory=dict)


def _tag(name: str) -> str:
    return name + DEMO_TAG


def demo_org_plan() -> list[DemoOrg]:
    """The demo org tree, root first, parents before children (codes and names only, no randomness)."""
    p = DEMO_CODE_PREFIX
    out = [
        DemoOrg(DEMO_MARKER_ORG_CODE, _tag("阳新县“人社+工会+法院+N”劳动争议化解联席会议"), "joint_meeting", None,
                extra={"host_unit": "阳新县人力资源和社会保障局", "short_name": "联席会议（演示）"}),
        DemoOrg(f"{p}-CC", _tag("阳新县“人社+工会+法院+N”劳动争议裁调审对接工作室"), "county_centre",
                DEMO_MARKER_ORG_CODE, extra={"host_unit": "阳新县人力资源和社会保障局", "short_name": "裁调审工作室（演示）"}),
        DemoOrg(f"{p}-AC", _tag("阳新县劳动人事争议仲裁委员会"), "arb_committee", DEMO_MARKER_ORG_CODE,
                extra={"host_unit": "阳新县人力资源和社会保障局"}),
        DemoOrg(f"{p}-AI", _tag("阳新县劳动人事争议仲裁院"), "arb_institute", f"{p}-AC",
                extra={"host_unit": "阳新县人力资源和社会保障局"}),
        DemoOrg(f"{p}-CT", _tag("阳新县人民法院"), "court", DEMO_MARKER_ORG_CODE, extra={"host_unit": "阳新县人民法院"}),
    ]
    for suffix, name, _mu in MEMBER_UNIT_ORGS:
        out.append(DemoOrg(f"{p}-MU-{suffix}", _tag(name), "member_unit", DEMO_MARKER_ORG_CODE,
                           extra={"host_unit": name}))
    for t, (town, _code) in enumerate(TOWNSHIPS):
        out.append(DemoOrg(f"{p}-T{t + 1:02d}", _tag(f"阳新县{town}劳动争议调解分中心"), "township_centre", f"{p}-CC",
                           township=t, extra={"host_unit": f"阳新县{town}人民政府", "short_name": f"{town}分中心（演示）"}))
    out.append(DemoOrg(f"{p}-P01", _tag("阳新经济开发区劳动人事争议调解委员会"), "park_room", f"{p}-CC",
                       extra={"host_unit": "阳新经济开发区管理委员会", "short_name": "经开区调委会（演示）",
                              "gold_level": "province", "gold_title_year": 2025}))
    for s in range(len(TOWNSHIPS) * STATIONS_PER_TOWNSHIP):
        t = s // STATIONS_PER_TOWNSHIP
        industry = INDUSTRIES[STATION_INDUSTRY[s]][0]
        out.append(DemoOrg(f"{p}-E{s + 1:03d}", _tag(f"阳新{BRANDS[s]}{industry}有限公司企业调解工作站"),
                           "enterprise_station", f"{p}-T{t + 1:02d}", township=t, station=s,
                           extra={"host_unit": _tag(f"阳新{BRANDS[s]}{industry}有限公司")}))
    out.append(DemoOrg(f"{p}-I01", _tag("“阳新鞋匠”行业劳动争议调解工作室"), "industry_room", f"{p}-P01",
                       extra={"host_unit": "阳新县鞋业协会（演示）", "industry_code": "C195",
                              "association_name": "阳新县鞋业协会（演示）", "short_name": "阳新鞋匠调解室（演示）"}))
    for d, t in enumerate(DOORSTEP_TOWNSHIPS):
        town = TOWNSHIPS[t][0]
        station = f"{town}{('城区', '港区', '集镇')[d]}零工驿站"
        out.append(DemoOrg(f"{p}-D{d + 1:02d}", _tag(f"{station}家门口的调解室"), "doorstep_room",
                           f"{p}-T{t + 1:02d}", township=t,
                           extra={"host_unit": _tag(station), "gig_station_name": _tag(station),
                                  "team_composition": "驿站工作人员1名、社区调解委员会人员1名、镇人社中心工作人员1名（演示）"}))
    return out


# =============================================================================================== people

SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗柯石费明曹程汪余邓"
GIVEN = "建国军华明伟芳丽强磊洋勇艳杰娟涛超秀英霞平刚桂兰文辉鹏红波静志兵春梅晓东海燕玉林"


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.8 else "")
    return rng.choice(SURNAMES) + given


def _birth(rng: random.Random, youngest: int = 20, oldest: int = 60) -> dt.date:
    age_days = rng.randint(youngest * 365 + 10, oldest * 365)
    return BASE_DATE - dt.timedelta(days=age_days)


def _money(x: float) -> Decimal:
    return Decimal(f"{x:.2f}")


# =============================================================================================== loader


@dataclass(frozen=True)
class DemoSummary:
    """What load_demo found or made: ``loaded`` is False when the demo was already there."""
    loaded: bool
    counts: Mapping[str, int]           # demo rows per entity after the call (same numbers on every run)
    marker: str = DEMO_MARKER_ORG_CODE

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __str__(self) -> str:
        head = "已加载 / loaded" if self.loaded else "已存在，跳过 / already present, skipped"
        return f"{head}: " + ", ".join(f"{k} {v}" for k, v in self.counts.items())


def localizer(spec: AppSpec) -> Any:
    """Demo text in another county's words: ``site.county`` for 阳新, ``site.townships`` for its towns.

    The demo county is written for 阳新县; a config of another county (examples/) names itself in
    entities.yaml (``site``), and every text the demo writes follows it.  Codes stay as they are."""
    site = spec.site
    pairs: list[tuple[str, str]] = []
    if site is not None and site.county is not None and site.county.zh != "阳新县":
        county = site.county.zh
        short = county[:-1] if county.endswith(("县", "市", "区")) and len(county) > 2 else county
        towns = [t.zh for t in site.townships]
        pairs += [(old, towns[i % len(towns)]) for i, (old, _c) in enumerate(TOWNSHIPS)] if towns else []
        pairs += [("阳新县", county), ("阳新", short)]
    if not pairs:
        return lambda text: text

    def local(text: str) -> str:
        for old, new in pairs:
            text = text.replace(old, new)
        return text

    return local


class _Maker:
    """Adds rows with spec-aware care: unknown fields dropped, bad enum keys replaced, required fields filled."""

    def __init__(self, session: Session, spec: AppSpec, models: Mapping[str, type]) -> None:
        self.session, self.spec, self.models = session, spec, models
        self.made: Counter[str] = Counter()
        self.local = localizer(spec)

    def has(self, entity: str, field: str) -> bool:
        return entity in self.spec.entities and field in self.spec.entities[entity].fields

    def enum_ok(self, enum: str, value: str) -> bool:
        e = self.spec.enums.get(enum)
        return e is not None and value in e.values

    def new(self, entity: str, state: Optional[str] = None, **values: Any) -> Any:
        ent = self.spec.entities[entity]
        kw: dict[str, Any] = {}
        for name, value in values.items():
            f = ent.fields.get(name)
            if f is None or f.type == "user":
                continue
            if f.type == "enum" and value is not None and not self.enum_ok(f.enum or "", value):
                value = None if not f.required else next(iter(self.spec.enums[f.enum].values))  # type: ignore[index]
            if f.type in ("string", "text") and isinstance(value, str):
                value = self.local(value)
            if f.type == "string" and isinstance(value, str):
                value = value[: f.max_length or 255]
            kw[name] = value
        for f in ent.fields.values():
            if f.required and kw.get(f.name) is None:
                kw[f.name] = self._fallback(ent, f)
        wf = next((w for w in self.spec.workflows.values() if w.entity == entity), None)
        if wf is not None and state is not None:
            kw["state"] = state if state in wf.states else wf.initial
        obj = self.models[entity](**kw)
        self.session.add(obj)
        self.made[entity] += 1
        return obj

    def _fallback(self, ent: Entity, f: Field) -> Any:
        if f.default is not None:
            return _cast(f, f.default)
        if f.type == "enum":
            return next(iter(self.spec.enums[f.enum].values))  # type: ignore[index]
        if f.type in ("string", "text"):
            if f.pattern:
                raise ValueError(f"demo: no value for required field {ent.name}.{f.name} (pattern {f.pattern})")
            return (f.label.zh + DEMO_TAG)[: f.max_length or 255]
        if f.type == "integer":
            return int(f.min) if f.min is not None else 1
        if f.type == "decimal":
            return Decimal(str(f.min or 0))
        if f.type == "boolean":
            return False
        if f.type == "date":
            return BASE_DATE
        if f.type == "datetime":
            return BASE_DT
        if f.type == "file":  # a one-page PDF, stored through the file service (app/files)
            from app.files import service as files

            return files.stage_bytes(self.session, ent.name, f.name, f"{f.label.zh}（演示）.pdf", PLACEHOLDER_PDF)
        raise ValueError(f"demo: no value for required field {ent.name}.{f.name} ({f.type})")


CASE_STATES = (("registered", 26), ("triage", 22), ("med_enterprise", 22), ("med_doorstep", 6),
               ("med_industry", 6), ("med_park", 6), ("med_township", 12), ("med_joint", 6),
               ("med_arb_prefiling", 3), ("med_court_delegated", 3), ("agreed", 5), ("med_failed", 3))
# Which org type handles a mediation level (levels are the mediation_level keys used in workflows.yaml).
LEVEL_ORG_TYPE = {"enterprise": "enterprise_station", "doorstep": "doorstep_room", "industry": "industry_room",
                  "park": "park_room", "township": "township_centre", "county_joint": "county_centre",
                  "court_prefiling": "county_centre", "arb_prefiling": "arb_institute"}
CATEGORY_WEIGHTS = (("remuneration", 40), ("economic_compensation", 10), ("work_injury", 10),
                    ("contract_rescission", 8), ("social_insurance", 8), ("labour_relation", 6),
                    ("dismissal_resignation", 6), ("contract_conclusion", 4), ("working_time", 4),
                    ("contract_termination", 2), ("damages", 1), ("other", 1))
CHANNEL_WEIGHTS = (("walk_in", 30), ("phone", 8), ("hotline_12333", 10), ("online", 6), ("mobile_12333", 6),
                   ("union_referral", 6), ("petition_referral", 4), ("inspection_referral", 5),
                   ("grid_screening", 6), ("active_screening", 6), ("enterprise_report", 6), ("mobile_tribunal", 2),
                   ("superior_assigned", 2))
CLAIMS = {"remuneration": ("unpaid_wages", "overtime_pay"), "work_injury": ("injury_medical", "injury_benefit"),
          "economic_compensation": ("economic_compensation",), "contract_rescission": ("damages", "unpaid_wages"),
          "contract_termination": ("economic_compensation",),
          "dismissal_resignation": ("economic_compensation", "separation_certificate"),
          "social_insurance": ("social_insurance",), "labour_relation": ("labour_relation", "unpaid_wages"),
          "contract_conclusion": ("double_wage",), "working_time": ("overtime_pay", "annual_leave"),
          "damages": ("damages",), "other": ("other",)}
SUMMARIES = {
    "remuneration": "{E}拖欠{N}{m}个月工资",
    "economic_compensation": "{E}与{N}因解除劳动合同经济补偿数额发生争议",
    "contract_rescission": "{E}单方解除劳动合同，{N}主张违法解除",
    "work_injury": "{W}在{E}工作期间受伤，就工伤待遇发生争议",
    "social_insurance": "{E}未为{N}足额缴纳社会保险",
    "labour_relation": "{N}请求确认与{E}存在劳动关系",
    "dismissal_resignation": "{W}离职后{E}未出具离职证明并拒付经济补偿",
    "contract_conclusion": "{E}未与{N}签订书面劳动合同",
    "working_time": "{E}安排{N}长期加班未支付加班费",
    "contract_termination": "劳动合同到期终止后{E}未支付{N}经济补偿",
    "damages": "{W}主张{E}违法解除劳动合同应支付赔偿金",
    "other": "{W}与{E}因其他劳动权益发生争议",
}
INDIVIDUAL_CATEGORIES = ("work_injury", "dismissal_resignation", "damages")  # one worker per case
SEPARATION = {"contract_rescission": "dismissal", "economic_compensation": "mutual", "contract_termination": "expiry",
              "dismissal_resignation": "resignation", "damages": "dismissal"}


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]], allowed: Iterable[str]) -> str:
    ok = set(allowed)
    items = [(k, w) for k, w in pairs if k in ok] or [(next(iter(ok)), 1)]
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def load_demo(session: Session, spec: AppSpec, models: Mapping[str, type], *, seed: int = 2026) -> DemoSummary:
    """Load the demo county network once; later calls find the marker org and change nothing.

    Makes the org tree of :func:`demo_org_plan` (joint meeting, county studio, arbitration
    committee and institute, court, 7 member units, 6 township centres, the 经开区 committee,
    30 enterprise stations, the 阳新鞋匠 room, 3 doorstep rooms), mediators on all three rosters,
    part-time mediators' 聘书, arbitrators, employers, ~120 cases with parties, claim items,
    transfers, sessions and agreements, mostly in early workflow states, at least one in every
    state, each with its history (app/demo/cases.py).  Flushes; the caller commits.
    """
    org_ent = spec.entities[spec.org_tree.entity]
    org_model = models[org_ent.name]
    okey = key_field(org_ent).name
    if session.scalar(select(org_model.id).where(getattr(org_model, okey) == DEMO_MARKER_ORG_CODE)) is None:  # type: ignore[attr-defined]
        _Demo(session, spec, models, random.Random(seed)).run()
        session.flush()
        from app.demo import inspections as checklist_demo

        checklist_demo.load(session, spec, models)  # 五有 inspections and rectifications (issue #6)
        loaded = True
    else:
        loaded = False
    return DemoSummary(loaded, _demo_counts(session, spec, models))


def _demo_counts(session: Session, spec: AppSpec, models: Mapping[str, type]) -> dict[str, int]:
    """Demo rows per entity: demo orgs by code, then rows whose required refs reach demo rows."""
    org_ent = spec.entities[spec.org_tree.entity]
    org_model = models[org_ent.name]
    okey = getattr(org_model, key_field(org_ent).name)
    ids: dict[str, set[int]] = {org_ent.name: set(session.scalars(
        select(org_model.id).where(okey.like(DEMO_CODE_PREFIX + "%"))))}  # type: ignore[attr-defined]
    pending = [e for e in DEMO_ENTITIES if e in models and e in spec.entities and e != org_ent.name]
    for _ in range(len(pending) + 1):
        progressed = False
        for name in list(pending):
            refs = [f for f in spec.entities[name].fields.values()
                    if f.type == "ref" and f.required and f.ref != name and (f.ref in pending or f.ref in ids)]
            if any(f.ref in pending for f in refs):
                continue  # wait until the entities it hangs on are counted
            model = models[name]
            found: set[int] = set()
            for f in refs:
                col = getattr(model, names.fk_column(f.name))
                found |= set(session.scalars(select(model.id).where(col.in_(ids[f.ref]))))  # type: ignore[attr-defined]
            ids[name] = found
            pending.remove(name)
            progressed = True
        if not progressed:
            break
    return {e: len(ids[e]) for e in DEMO_ENTITIES if e in ids}


class _Demo:
    def __init__(self, session: Session, spec: AppSpec, models: Mapping[str, type], rng: random.Random) -> None:
        self.s, self.spec, self.models, self.rng = session, spec, models, rng
        self.m = _Maker(session, spec, models)
        self.orgs: dict[str, Any] = {}          # code -> ORM org
        self.plan: dict[str, DemoOrg] = {}
        self.mediators: dict[str, list[Any]] = {}  # org code -> mediators
        self.employers_at: dict[str, list[Any]] = {}  # org code -> employers under it
        self.hosts: dict[int, Any] = {}         # station index -> host employer
        self.employer_info: dict[int, tuple[str, str, tuple[str, ...], str]] = {}  # id(obj) -> (word, industry, posts, town)
        self.used_ids: set[str] = set()
        self.mediator_no = 9000
        wf = next((w for w in spec.workflows.values() if w.entity == "dispute_case"), None)
        self.wf = wf

    # ------------------------------------------------------------------ orgs
    def run(self) -> None:
        self.make_orgs()
        self.make_mediators()
        self.make_arbitrators()
        self.make_employers()
        self.make_cases()
        self.make_histories()

    def make_histories(self) -> None:
        """Cases in every workflow state, each with its history (app/demo/cases.py)."""
        from app.demo import cases as workflow_demo

        workflow_demo.load(self.s, self.spec, self.models, self.orgs, BASE_DT)

    def make_orgs(self) -> None:
        rng = self.rng
        tree = self.spec.org_tree
        org_ent = self.spec.entities[tree.entity]
        known = self.spec.enums.get(org_ent.fields[tree.type_field].enum or "")
        for plan in demo_org_plan():
            if known is not None and plan.org_type not in known.values:
                continue  # a kind of organisation this county does not have (e.g. no industry room)
            self.plan[plan.code] = plan
            town = TOWNSHIPS[plan.township][0] if plan.township is not None else None
            division = (COUNTY_DIVISION + TOWNSHIPS[plan.township][1]) if plan.township is not None else COUNTY_DIVISION
            values: dict[str, Any] = {
                key_field(self.spec.entities[tree.entity]).name: plan.code,
                "official_name": plan.name,
                tree.type_field: plan.org_type,
                "legal_nature": LEGAL_NATURE.get(plan.org_type),
                tree.parent_field: self.orgs.get(plan.parent_code) if plan.parent_code else None,
                "township_code": division,
                "address": f"阳新县{town or '兴国镇'}演示路{rng.randint(1, 199)}号（演示地址）",
                "phone": _landline(rng),
                "opening_hours": "工作日 8:30-12:00，14:30-17:30",
                "head_name": _name(rng),
                "established_date": dt.date(2025, 11, 1) + dt.timedelta(days=rng.randint(0, 300)),
                "status": "operating",
            }
            if plan.org_type in ("enterprise_station", "doorstep_room", "industry_room", "peoples_mediation"):
                values["filing_body"] = "阳新县劳动人事争议仲裁院（演示）"
                values["filing_date"] = values["established_date"] + dt.timedelta(days=rng.randint(5, 30))
            if plan.org_type == "township_centre":
                values["covered_area"] = f"{town}所辖各村（社区）及工业集中区（演示）"
                values["service_scope"] = "辖区中小微企业劳动争议的预防、排查和调解；复杂案件上报县级工作室（演示）"
            if plan.org_type == "doorstep_room":
                values["service_scope"] = "劳动报酬、工伤认定等常见争议：政策咨询、即时调解、引导仲裁申请（演示）"
            if plan.org_type == "enterprise_station":
                staff = rng.choice((80, 120, 180, 260, 350, 480, 650, 900, 1300))
                reps = rng.choice((2, 3))
                values.update({
                    "enterprise_uscc": make_uscc(rng), "employee_count": staff,
                    "enterprise_size": "large" if staff >= 1000 else "medium" if staff >= 300 else "small",
                    "has_trade_union": True, "committee_worker_reps": reps, "committee_employer_reps": reps,
                    "industry_code": INDUSTRIES[STATION_INDUSTRY[plan.station or 0]][1],
                })
            values.update(plan.extra)
            if "gold_level" in values and not (self.m.has("org", "gold_level")
                                                and self.m.enum_ok(self.spec.entities["org"].fields["gold_level"].enum or "",
                                                                   values["gold_level"])):
                values.pop("gold_level")
            self.orgs[plan.code] = self.m.new(tree.entity, **values)

    def of_type(self, org_type: str) -> list[str]:
        return [c for c, p in self.plan.items() if p.org_type == org_type]

    # ------------------------------------------------------------------ rosters
    def person(self, youngest: int = 28, oldest: int = 62) -> dict[str, Any]:
        rng = self.rng
        male = rng.random() < 0.6
        birth = _birth(rng, youngest, oldest)
        while True:
            idno = make_id_number(rng, birth, male)
            if idno not in self.used_ids:
                self.used_ids.add(idno)
                break
        return {"name": _name(rng), "gender": "male" if male else "female", "id_no": idno, "mobile": _mobile(rng)}

    def mediator(self, org_code: str, mtype: str, source: str, **extra: Any) -> Any:
        rng = self.rng
        self.mediator_no += 1
        joined = dt.date(2025, 11, 1) + dt.timedelta(days=rng.randint(0, 330))
        specialties = rng.choice(("欠薪、工伤", "解除劳动合同、经济补偿", "社会保险、工伤", "集体争议、欠薪",
                                  "制鞋行业用工", "零工、灵活就业", "确认劳动关系"))
        obj = self.m.new("mediator", mediator_code=f"YX-M-2026-{self.mediator_no}", mediator_type=mtype,
                         source_category=source, org=self.orgs[org_code], specialties=specialties,
                         mediator_card_no=f"YX-DEMO-TJY-{self.mediator_no}", roster_status="active",
                         public_listing=mtype == "invited", joined_on=joined, **self.person(), **extra)
        self.mediators.setdefault(org_code, []).append(obj)
        if mtype == "part_time":
            issue = joined + dt.timedelta(days=rng.randint(0, 20))
            self.m.new("mediator_appointment", mediator=obj, certificate_no=f"YX-DEMO-PS-2026-{self.mediator_no}",
                       issuing_body="阳新县人力资源和社会保障局", issue_date=issue, term_start=issue,
                       term_end=issue.replace(year=issue.year + 3) - dt.timedelta(days=1),
                       confidentiality_signed=True)
        return obj

    def make_mediators(self) -> None:
        p = DEMO_CODE_PREFIX
        cc = f"{p}-CC"
        self.mediator(cc, "full_time", "arb_institute", job_title="专职调解员", employer_unit="阳新县劳动人事争议仲裁院（演示）")
        self.mediator(cc, "full_time", "union", job_title="专职调解员", employer_unit="阳新县总工会（演示）")
        for source, unit, title in (("lawyer", "湖北演示律师事务所", "执业律师"), ("retiree", "退休（原县人社局）", "退休干部"),
                                    ("scholar", "湖北演示学院法学院", "副教授"), ("enterprise_hr", "阳新经济开发区企业（演示）", "人力资源经理"),
                                    ("commerce_federation", "阳新县工商联（演示）", "法律顾问")):
            self.mediator(cc, "invited", source, job_title=title, employer_unit=unit)
        self.mediator(f"{p}-AI", "full_time", "arb_institute", job_title="立案前调解员",
                      employer_unit="阳新县劳动人事争议仲裁院（演示）")
        for code in self.of_type("township_centre"):
            town = TOWNSHIPS[self.plan[code].township or 0][0]
            self.mediator(code, "full_time", "township", job_title="镇人社中心调解员", employer_unit=f"{town}人民政府（演示）")
            self.mediator(code, "part_time", "township", job_title="司法所干部", employer_unit=f"{town}司法所（演示）")
            self.mediator(code, "part_time", "union", job_title="镇工会干部", employer_unit=f"{town}总工会（演示）")
        for code in self.of_type("park_room"):
            self.mediator(code, "full_time", "member_unit", job_title="园区调委会专职调解员")
            self.mediator(code, "part_time", "enterprise", job_title="企业工会主席")
            self.mediator(code, "invited", "lawyer", job_title="执业律师", employer_unit="湖北演示律师事务所")
        for code in self.of_type("industry_room"):
            self.mediator(code, "part_time", "industry_assoc", job_title="鞋业协会秘书长")
            self.mediator(code, "invited", "enterprise_hr", job_title="鞋企人力资源总监")
        for code in self.of_type("doorstep_room"):
            self.mediator(code, "part_time", "township", job_title="零工驿站工作人员")
        for code in self.of_type("enterprise_station"):
            host = self.plan[code].extra.get("host_unit")
            self.mediator(code, "part_time", "enterprise", job_title="企业工会主席", employer_unit=host)
            if (self.plan[code].station or 0) % 3 == 0:
                self.mediator(code, "part_time", "enterprise_hr", job_title="人力资源主管", employer_unit=host)

    def make_arbitrators(self) -> None:
        rng = self.rng
        ai = self.orgs[f"{DEMO_CODE_PREFIX}-AI"]
        first_town = self.of_type("township_centre")[0]
        plan = (("full_time", "hr_union_5y"), ("full_time", "former_judge"), ("full_time", "hr_union_5y"),
                ("part_time", "lawyer_3y"), ("part_time", "legal_academic"), ("part_time", "hr_union_5y"))
        for n, (atype, basis) in enumerate(plan, start=1):
            start = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 200))
            extra: dict[str, Any] = {}
            if n == len(plan):  # 兼职调解员纳入兼职仲裁员队伍: link the roster entry
                extra["also_mediator"] = self.mediators[first_town][1]
            person = self.person(30, 60)
            if "also_mediator" in extra:
                m = extra["also_mediator"]
                person = {"name": m.name, "gender": m.gender, "id_no": None, "mobile": m.mobile}
            self.m.new("arbitrator", arbitrator_code=f"YX-A-2026-{900 + n}", arbitrator_type=atype,
                       qualification_basis=basis, org=ai, appointed_by="阳新县劳动人事争议仲裁委员会",
                       appointment_doc_no=f"阳劳人仲聘〔2025〕{n}号（演示）", term_start=start,
                       term_end=start.replace(year=start.year + 5) - dt.timedelta(days=1), roster_status="active",
                       **person, **extra)

    # ------------------------------------------------------------------ employers
    def employer(self, org_code: str, name: str, word: str, industry: str, posts: tuple[str, ...], town: str,
                 staff: int, uscc: Optional[str] = None, committee: Any = None, kind: str = "91",
                 ownership: str = "有限责任公司") -> Any:
        rng = self.rng
        division = COUNTY_DIVISION + next(c for t, c in TOWNSHIPS if t == town)
        obj = self.m.new("employer", employer_name=name, uscc=uscc or make_uscc(rng, kind), org=self.orgs[org_code],
                         registered_address=f"阳新县{town}演示大道{rng.randint(1, 300)}号（演示地址）",
                         business_address=f"阳新县{town}演示大道{rng.randint(1, 300)}号（演示地址）",
                         legal_rep_name=_name(rng), legal_rep_title=rng.choice(("执行董事", "总经理", "董事长")),
                         contact_name=_name(rng), contact_phone=_mobile(rng), industry_code=industry,
                         enterprise_size="large" if staff >= 1000 else "medium" if staff >= 300
                         else "small" if staff >= 20 else "micro",
                         ownership_type=ownership, employee_count=staff, township_code=division,
                         has_trade_union=staff >= 50, mediation_committee=committee,
                         is_key_enterprise=staff >= 300)
        self.employers_at.setdefault(org_code, []).append(obj)
        self.employer_info[id(obj)] = (word, industry, posts, town)
        return obj

    def make_employers(self) -> None:
        rng = self.rng
        for code in self.of_type("enterprise_station"):
            plan = self.plan[code]
            s = plan.station or 0
            word, icode, summary_word, posts = (INDUSTRIES[STATION_INDUSTRY[s]][0], INDUSTRIES[STATION_INDUSTRY[s]][1],
                                                INDUSTRIES[STATION_INDUSTRY[s]][2], INDUSTRIES[STATION_INDUSTRY[s]][3])
            station = self.orgs[code]
            self.hosts[s] = self.employer(code, _tag(f"阳新{BRANDS[s]}{word}有限公司"), summary_word, icode, posts,
                                          TOWNSHIPS[plan.township or 0][0], station.employee_count or 200,
                                          uscc=station.enterprise_uscc, committee=station)
        smalls = (("餐饮店", "H62", ("厨师", "服务员")), ("建筑劳务有限公司", "E47", ("钢筋工", "木工", "泥瓦工")),
                  ("物业服务有限公司", "K70", ("保洁员", "保安员")), ("家政服务部", "O80", ("家政员",)),
                  ("汽车维修厂", "O81", ("修理工", "学徒")), ("超市", "F52", ("收银员", "理货员")))
        shop_names = ("顺心", "乐家", "惠民", "好运", "福星", "旺达", "如意", "吉祥", "春晖", "万家", "同心", "百顺")
        n = 0
        for code in self.of_type("township_centre"):
            town = TOWNSHIPS[self.plan[code].township or 0][0]
            for _ in range(2):
                kind_word, icode, posts = smalls[n % len(smalls)]
                individual = kind_word in ("餐饮店", "家政服务部", "汽车维修厂", "超市")
                self.employer(code, _tag(f"阳新县{town}{shop_names[n % len(shop_names)]}{kind_word}"), kind_word,
                              icode, posts, town, rng.randint(6, 60), kind="92" if individual else "91",
                              ownership="个体工商户" if individual else "有限责任公司")
                n += 1
        for code in self.of_type("park_room"):
            for brand, word, icode, posts in (("光谷", "新材料科技有限公司", "C26", ("操作工", "巡检员")),
                                              ("楚天", "鞋材有限公司", "C195", ("针车工", "成型工")),
                                              ("鄂东", "智能装备有限公司", "C34", ("装配工", "焊工"))):
                self.employer(code, _tag(f"阳新{brand}{word}"), word, icode, posts, "兴国镇", rng.randint(150, 900))

    def employer_for(self, org_code: str) -> Any:
        rng = self.rng
        plan = self.plan[org_code]
        if plan.org_type == "enterprise_station":
            return self.hosts[plan.station or 0]
        if plan.org_type == "township_centre":
            stations = [self.hosts[self.plan[c].station or 0] for c in self.of_type("enterprise_station")
                        if self.plan[c].parent_code == org_code]
            return rng.choice(self.employers_at.get(org_code, []) + stations)
        if plan.org_type == "doorstep_room" and plan.parent_code:
            return rng.choice(self.employers_at[plan.parent_code])
        if plan.org_type == "industry_room":
            shoes = [e for e in self.hosts.values() if self.employer_info[id(e)][1] == "C195"]
            return rng.choice(shoes)
        if plan.org_type == "park_room":
            return rng.choice(self.employers_at[org_code])
        every = [e for group in self.employers_at.values() for e in group]
        return rng.choice(every)

    # ------------------------------------------------------------------ cases
    def state_level(self, state: str) -> Optional[str]:
        st = self.wf.states.get(state) if self.wf else None
        return st.level if st is not None else None

    def make_cases(self) -> None:
        if self.wf is None or "dispute_case" not in self.models:
            return
        rng = self.rng
        states = [s for s, n in CASE_STATES for _ in range(n)]
        rng.shuffle(states)
        intake_pool = (("enterprise_station", 50), ("township_centre", 25), ("doorstep_room", 8),
                       ("county_centre", 8), ("park_room", 5), ("industry_room", 4))
        cases: list[dict[str, Any]] = []
        for state in states:
            origin = state
            if state in ("agreed", "med_failed"):
                origin = rng.choice(("med_enterprise", "med_enterprise", "med_township", "med_doorstep",
                                     "med_industry", "med_park"))
            level = self.state_level(origin)
            c: dict[str, Any] = {"state": state if (self.wf and state in self.wf.states) else self.wf.initial,
                                 "level": level, "transfer": None}
            if level is None:
                otype = _weighted(rng, intake_pool, [t for t, _ in intake_pool if self.of_type(t)])
                org = rng.choice(self.of_type(otype))
                c["current"] = c["registering"] = org
                days = rng.randint(1, 7) if state == "registered" else rng.randint(1, 10)
            else:
                org = rng.choice(self.of_type(LEVEL_ORG_TYPE.get(level, "county_centre")))
                c["current"] = c["registering"] = org
                days = rng.randint(3, 40) if state == origin else rng.randint(15, 60)
                if level == "enterprise" and rng.random() < 0.3:
                    c["registering"] = self.plan[org].parent_code
                    c["transfer"] = "delegate"
                elif level == "industry" and rng.random() < 0.5:
                    c["registering"] = rng.choice(self.of_type("township_centre"))
                    c["transfer"] = "delegate"
                elif level == "township" and rng.random() < 0.4:
                    kids = [k for k in self.of_type("enterprise_station") if self.plan[k].parent_code == org]
                    c["registering"] = rng.choice(kids)
                    c["transfer"] = "escalate"
                elif level == "county_joint" and rng.random() < 0.5:
                    c["registering"] = rng.choice(self.of_type("township_centre"))
                    c["transfer"] = "escalate"
                elif level == "court_prefiling":
                    c["registering"] = org
                    c["transfer"] = "pre_filing_delegation"
            c["registered_at"] = (dt.datetime.combine(BASE_DATE - dt.timedelta(days=days), dt.time(8, 30))
                                  + dt.timedelta(minutes=rng.randint(0, 8 * 60)))
            c["employer"] = self.employer_for(c["registering"] if c["transfer"] == "escalate" and level == "township"
                                              else c["current"])
            cases.append(c)
        cases.sort(key=lambda c: c["registered_at"])
        agreements = 0
        for i, c in enumerate(cases, start=1):
            self.make_case(i, c)
            if c["state"] == "agreed":
                agreements += 1
                self.make_agreement(agreements, c)

    def make_case(self, i: int, c: dict[str, Any]) -> None:
        rng = self.rng
        p = DEMO_CODE_PREFIX
        enum_values = self.spec.enums["dispute_category"].values if "dispute_category" in self.spec.enums else {}
        category = _weighted(rng, CATEGORY_WEIGHTS, enum_values)
        level, state = c["level"], c["state"]
        emp = c["employer"]
        word, icode, posts, town = self.employer_info[id(emp)]
        plan_cur = self.plan[c["current"]]
        doorstep = plan_cur.org_type == "doorstep_room"
        r = rng.random()
        workers = 1 if r < 0.68 else rng.randint(2, 6) if r < 0.9 else rng.randint(10, 45)
        if level == "county_joint" and rng.random() < 0.6:
            workers = rng.randint(12, 60)
        if category in INDIVIDUAL_CATEGORIES:
            workers = 1
        collective = workers >= 10
        channel = ("gig_station" if doorstep else "court_delegated" if level == "court_prefiling"
                   else _weighted(rng, CHANNEL_WEIGHTS, self.spec.enums["source_channel"].values))
        who = "零工人员" if doorstep else "农民工" if rng.random() < 0.4 else "职工"
        arose = c["registered_at"].date() - dt.timedelta(days=rng.randint(5, 150))
        wage = rng.randint(28, 75) * 100
        months = rng.randint(1, 4)
        summary = SUMMARIES.get(category, SUMMARIES["other"]).format(
            E=f"某{word}", N=f"{workers}名{who}" if workers > 1 else who, W=who, m=months)
        mediators = self.mediators.get(c["current"], [])
        in_mediation = level is not None
        mediator = mediators[(i * 7) % len(mediators)] if in_mediation and mediators else None
        values: dict[str, Any] = {
            "registry_no": f"YX-DJ-2026-{900000 + i:06d}",
            "registering_org": self.orgs[c["registering"]], "current_org": self.orgs[c["current"]],
            "source_channel": channel, "registered_at": c["registered_at"], "application_form":
                "oral" if rng.random() < 0.3 else "written", "consent_obtained": state != "registered" or rng.random() < 0.6,
            "dispute_category": category, "summary": summary + DEMO_TAG,
            "facts": f"{summary}。申请人请求依法处理。（演示数据，非真实案件）",
            "date_dispute_arose": arose, "date_knew": arose,
            "employment_ended_on": arose if category in SEPARATION else None,
            "workers_count": workers, "is_collective": collective, "is_group_risk": workers >= 30,
            "priority": "urgent" if workers >= 30 else "priority" if collective else "normal",
            "wage_arrears": category == "remuneration", "work_injury": category == "work_injury",
            "migrant_worker": who == "农民工", "gig_worker": doorstep,
            "petition_related": channel == "petition_referral", "media_attention": workers >= 40,
            "employer": emp, "industry_code": icode,
            "township_code": COUNTY_DIVISION + next(code for t, code in TOWNSHIPS if t == town),
        }
        if in_mediation:
            values.update({
                "mediation_level": level, "assigned_mediator": mediator,
                "triage_result": "court_delegation" if level == "court_prefiling" else "mediate",
                "triaged_at": c["registered_at"] + dt.timedelta(hours=rng.randint(2, 30)),
                "triage_reason": "事实清楚、双方同意调解（演示）",
                "mediation_no": f"{p}-TJ-2026-{i:04d}",
            })
            if level == "court_prefiling":
                values["court_org"] = self.orgs[f"{p}-CT"]
            if level == "arb_prefiling":
                values["arb_org"] = self.orgs[f"{p}-AI"]
            if c["transfer"] == "escalate":
                values["escalation_reason"] = "企业调解未果，争议金额较大，需上级组织调解（演示）"
        if state == "agreed":
            values.update({"sealing_org": self.orgs[c["current"]], "closure_mode": "mediation_agreement",
                           "performance_status": "not_due"})
        if state == "med_failed":
            values["failure_reason"] = rng.choice(("双方对补偿金额分歧较大（演示）", "用人单位拒绝到场调解（演示）",
                                                   "劳动者要求直接申请仲裁（演示）"))
        case = self.m.new("dispute_case", state=c["state"], **values)
        c["obj"], c["mediator"], c["category"] = case, mediator, category

        # parties: named workers (representatives of a collective dispute) and the employer
        named = 1 if workers == 1 else 2 if collective else min(workers, 3)
        applicants = []
        for k in range(named):
            person = self.person(18 if not doorstep else 22, 64)
            birth = dt.date(int(person["id_no"][6:10]), int(person["id_no"][10:12]), int(person["id_no"][12:14]))
            hired = arose - dt.timedelta(days=rng.randint(120, 3000))
            form = "gig" if doorstep else rng.choices(
                ("full_time", "dispatched", "part_time", "platform", "over_age", "intern"),
                weights=(80, 5, 5, 3, 4, 3))[0]
            applicants.append(self.m.new(
                "party", dispute_case=case, party_role="applicant", party_kind="worker", name=person["name"],
                gender=person["gender"], birth_date=birth, id_type="resident_id", id_no=person["id_no"],
                mobile=person["mobile"], residence_address=f"阳新县{town}演示村{rng.randint(1, 12)}组（演示地址）",
                service_address=f"阳新县{town}演示村{rng.randint(1, 12)}组（演示地址）",
                service_address_confirmed=state != "registered", occupation=rng.choice(posts),
                employment_form=form, hire_date=hired,
                separation_date=arose if category in SEPARATION else None,
                separation_type=SEPARATION.get(category), monthly_wage=_money(wage),
                contract_signed=category != "contract_conclusion" and rng.random() < 0.8,
                social_insurance_paid=category != "social_insurance" and rng.random() < 0.6,
                is_migrant_worker=who == "农民工", is_representative=collective))
        self.m.new("party", dispute_case=case, party_role="respondent", party_kind="employer",
                   name=emp.employer_name, employer=emp, id_type="other", other_id_no=emp.uscc,
                   mobile=None, service_address=emp.business_address)

        # claim items
        claimed = Decimal("0")
        agreed = Decimal("0")
        types = CLAIMS.get(category, ("other",))
        chosen = [types[0]] + ([types[1]] if len(types) > 1 and rng.random() < 0.5 else [])
        for item in chosen:
            amount = self.claim_amount(item, wage, months)
            if amount is not None:
                amount = _money(float(amount) * workers)
            values = {"dispute_case": case, "claimant": applicants[0], "item_type": item, "amount_claimed": amount,
                      "calc_basis": (f"共{workers}人，按月工资{wage}元计算（演示）" if amount is not None
                                     else "非金钱请求（演示）")}
            if item == "unpaid_wages":
                values["period_from"] = arose - dt.timedelta(days=30 * months)
                values["period_to"] = arose
            if amount is not None:
                claimed += amount
                if state == "agreed":
                    share = _money(float(amount) * rng.choice((0.7, 0.8, 0.9, 1.0)))
                    values["amount_agreed"] = share
                    agreed += share
            self.m.new("claim_item", **values)
        case.amount_claimed_total = claimed if claimed else None
        if state == "agreed":
            case.amount_agreed_total = agreed

        # transfer that brought the case to its current org
        if c["transfer"]:
            sent = c["registered_at"] + dt.timedelta(hours=rng.randint(3, 48))
            from_org = self.orgs[f"{p}-CT"] if c["transfer"] == "pre_filing_delegation" else self.orgs[c["registering"]]
            self.m.new("case_transfer", dispute_case=case, transfer_type=c["transfer"], from_org=from_org,
                       to_org=self.orgs[c["current"]], reason=_transfer_reason(c["transfer"]),
                       materials="调解申请书、登记表、证据清单（演示）", sent_at=sent,
                       received_at=sent + dt.timedelta(hours=rng.randint(1, 20)))

        # a first session for most cases under mediation
        if in_mediation and (state in ("agreed", "med_failed") or rng.random() < 0.6):
            held = c["registered_at"] + dt.timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 5))
            held = min(held, BASE_DT - dt.timedelta(hours=2))
            result = {"agreed": "agreed", "med_failed": "terminated"}.get(state, "continue")
            self.m.new("mediation_session", dispute_case=case, org=self.orgs[c["current"]], session_no=1,
                       scheduled_at=held, held_at=held, duration_min=rng.choice((30, 45, 60, 90, 120)),
                       session_mode=rng.choice(("face_to_face", "separate", "phone", "joint", "on_site")),
                       location=f"{self.plan[c['current']].name.replace(DEMO_TAG, '')}调解室", mediator=mediator,
                       rights_notified=True, recording_consent=rng.random() < 0.5, session_result=result,
                       next_session_at=(held + dt.timedelta(days=7)) if result == "continue" else None)

    def claim_amount(self, item: str, wage: int, months: int) -> Optional[float]:
        rng = self.rng
        if item in ("labour_relation", "separation_certificate"):
            return None
        return {
            "unpaid_wages": wage * months,
            "overtime_pay": wage * rng.uniform(0.3, 1.5),
            "double_wage": wage * rng.randint(3, 11),
            "economic_compensation": wage * rng.randint(1, 8),
            "damages": wage * rng.randint(1, 8) * 2,
            "injury_medical": rng.randint(50, 600) * 100,
            "injury_benefit": rng.randint(200, 1500) * 100,
            "social_insurance": rng.randint(30, 300) * 100,
            "annual_leave": wage / 21.75 * rng.randint(5, 15) * 2,
        }.get(item, rng.randint(10, 80) * 100)

    def make_agreement(self, n: int, c: dict[str, Any]) -> None:
        rng = self.rng
        case = c["obj"]
        signed = min(c["registered_at"] + dt.timedelta(days=rng.randint(2, 10)), BASE_DT - dt.timedelta(hours=3))
        self.m.new("mediation_agreement", dispute_case=case, agreement_no=f"{DEMO_CODE_PREFIX}-XY-2026-{n:03d}",
                   sealing_org=self.orgs[c["current"]], mediator=c["mediator"], signed_at=signed,
                   mediator_signed=True, seal_affixed=True, effective_at=signed,
                   terms="用人单位于履行期限内一次性支付协议款项，双方劳动争议就此了结。（演示）",
                   amount_total=case.amount_agreed_total, performance_deadline=signed.date() + dt.timedelta(days=15),
                   performance_method="银行转账", copies=3, confirmation_route="none")


def _transfer_reason(transfer: str) -> str:
    return {"escalate": "基层调解未果，依程序上报（演示）", "delegate": "属企业内部争议，下派企业调解（演示）",
            "pre_filing_delegation": "县人民法院诉前委派调解（演示）"}.get(transfer, "（演示）")


# =============================================================================================== accounts


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    org_code: str
    org_name: str
    first_name: str = ""
    last_name: str = "演示"
    email: str = ""
    roster: Optional[str] = None        # "mediator" / "arbitrator": link a roster record at the org to this login


# Preferred home of the one-per-role account, when that org exists and the role may sit there.
ROLE_HOME = {"jm_office": DEMO_MARKER_ORG_CODE, "jm_lead": DEMO_MARKER_ORG_CODE, "registrar": "YX-DEMO-CC",
             "station_head": "YX-DEMO-I01", "township_head": "YX-DEMO-P01", "union_liaison": "YX-DEMO-MU-ZGH",
             "oversight": "YX-DEMO-MU-ZFW", "finance": "YX-DEMO-MU-CZJ", "justice": "YX-DEMO-MU-SFJ",
             "petition": "YX-DEMO-MU-XFJ", "auditor": "YX-DEMO-MU-RSJ", "inspector": "YX-DEMO-MU-RSJ",
             "analyst": "YX-DEMO-MU-RSJ", "editor": "YX-DEMO-CC"}
ROSTER_OF_ROLE = {"mediator": "mediator", "arbitrator": "arbitrator"}


@dataclass(frozen=True)
class _Row:
    code: str
    name: str
    org_type: str
    parent: Optional[str]


def _rows(spec: AppSpec, orgs: Any, models: Optional[Mapping[str, type]]) -> list[_Row]:
    tree = spec.org_tree
    ent = spec.entities[tree.entity]
    kf = key_field(ent).name
    disp = ent.display or kf
    if orgs is None:
        return [_Row(o.code, o.name, o.org_type, o.parent_code) for o in demo_org_plan()]
    if isinstance(orgs, (Session, scoped_session)):
        if models is None:
            raise TypeError("demo_accounts(spec, session, models): the models are needed to read the orgs")
        model = models[tree.entity]
        orgs = list(orgs.scalars(select(model).where(getattr(model, kf).like(DEMO_CODE_PREFIX + "%"))))
    out = []
    for o in orgs:
        if isinstance(o, DemoOrg):
            out.append(_Row(o.code, o.name, o.org_type, o.parent_code))
        else:
            parent = getattr(o, tree.parent_field, None)
            out.append(_Row(getattr(o, kf), getattr(o, disp), getattr(o, tree.type_field),
                            getattr(parent, kf) if parent is not None else None))
    return sorted(out, key=lambda r: r.code)


def demo_accounts(spec: AppSpec, orgs: Any = None, models: Optional[Mapping[str, type]] = None) -> list[DemoAccount]:
    """The planned demo logins, deterministic for a given config and org list.

    ``orgs`` is an iterable of org rows (ORM objects or :class:`DemoOrg`), or a ``Session``
    (then ``models`` is needed and the demo orgs are read from the database), or None (the
    static :func:`demo_org_plan`).  Plans ``admin`` (jm_office at the joint meeting), one account
    per role (username = role name) in an org of a type the role allows (the county centre when the
    role lists none), and for ``station``/``own`` scope roles ``<role>_t1s1``, ``<role>_t1s2``
    (two sibling enterprise stations of one township) and ``<role>_t2s1`` (a station of a second
    township); for ``township`` scope roles ``<role>_t1`` and ``<role>_t2``.
    """
    rows = _rows(spec, orgs, models)
    if not rows:
        return []
    by_code = {r.code: r for r in rows}
    by_type: dict[str, list[_Row]] = {}
    for r in rows:
        by_type.setdefault(r.org_type, []).append(r)
    tree = spec.org_tree
    county_centre = (by_type.get("county_centre") or by_type.get("joint_meeting") or rows)[0]
    out: list[DemoAccount] = []

    def add(username: str, role: str, org: _Row) -> None:
        label = spec.roles[role].label.zh if role in spec.roles else role
        out.append(DemoAccount(username=username, role=role, org_code=org.code, org_name=org.name,
                               first_name=label, last_name="演示", email=f"{username}@{DEMO_EMAIL_DOMAIN}",
                               roster=ROSTER_OF_ROLE.get(role)))

    def home(role_name: str) -> _Row:
        role = spec.roles[role_name]
        allowed = role.org_types
        pref = by_code.get(ROLE_HOME.get(role_name, ""))
        if pref is not None and (not allowed or pref.org_type in allowed):
            return pref
        for t in allowed:
            if by_type.get(t):
                return by_type[t][0]
        return county_centre

    admin_role = "jm_office" if "jm_office" in spec.roles else next(
        (n for n, r in spec.roles.items() if r.admin), next(iter(spec.roles)))
    admin_home = (by_type.get("joint_meeting") or [county_centre])[0]
    add("admin", admin_role, admin_home)
    for name, role in spec.roles.items():
        add(name, name, home(name))
        allowed = set(role.org_types) or set(by_type)
        if role.scope in ("station", "own"):
            station_types = [t for t in ("enterprise_station",) + tuple(by_type)
                             if t in allowed and tree.level_of(t) == "station"]
            if not station_types:
                continue
            kind = station_types[0]
            under: dict[str, list[_Row]] = {}
            for r in by_type.get(kind, []):
                if r.parent:
                    under.setdefault(r.parent, []).append(r)
            parents = sorted(under)
            t1 = next((t for t in parents if len(under[t]) >= 2), None)
            t2 = next((t for t in parents if t != t1 and under[t]), None)
            if t1 is not None:
                add(f"{name}_t1s1", name, under[t1][0])
                add(f"{name}_t1s2", name, under[t1][1])
            if t2 is not None:
                add(f"{name}_t2s1", name, under[t2][0])
        elif role.scope == "township":
            towns = [r for t in ("township_centre",) + tuple(by_type) if t in allowed
                     and tree.level_of(t) == "township" for r in by_type.get(t, [])]
            seen: list[_Row] = []
            for r in towns:
                if r not in seen:
                    seen.append(r)
            for k, r in enumerate(seen[:2], start=1):
                add(f"{name}_t{k}", name, r)
    return out


def create_accounts(security_manager: Any, session: Session, accounts: Sequence[DemoAccount], password: str,
                    user_org_model: type, *, models: Optional[Mapping[str, type]] = None,
                    org_key: str = "org_code") -> dict[str, int]:
    """Create the FAB users of ``accounts`` and place each in its org, idempotently.

    A missing role is created empty (``sm.add_role``; granting permissions is the role sync's
    job).  An existing user is left as it is (password, roles), but gets its ``jf_user_org`` row
    if it has none.  Accounts of the ``mediator``/``arbitrator`` roles are linked to the first
    unlinked roster record of their org (``user`` field), so the ``own`` scope has cases to show.
    ``models`` (entity -> class) is optional: the roster classes are otherwise found on the
    declarative base of ``user_org_model``.  Flushes; the caller commits.

    Returns:
        ``{"users_created", "users_existing", "links_created", "roster_linked"}`` counts.
    """
    sm = security_manager
    org_model = user_org_model.org.property.mapper.class_  # type: ignore[attr-defined]
    counts = {"users_created": 0, "users_existing": 0, "links_created": 0, "roster_linked": 0}
    for acc in accounts:
        user = sm.find_user(username=acc.username)
        if user is None:
            role = sm.find_role(acc.role) or sm.add_role(acc.role)
            user = sm.add_user(acc.username, acc.first_name or acc.username, acc.last_name or "演示",
                               acc.email or f"{acc.username}@{DEMO_EMAIL_DOMAIN}", role, password=password)
            if not user:
                raise RuntimeError(f"could not create the demo user '{acc.username}' (see the FAB log)")
            counts["users_created"] += 1
        else:
            counts["users_existing"] += 1
        org = session.scalars(select(org_model).where(getattr(org_model, org_key) == acc.org_code)).one_or_none()
        if org is None:
            raise LookupError(f"demo account '{acc.username}': no org with code '{acc.org_code}' (load the demo first)")
        if session.get(user_org_model, user.id) is None:
            session.add(user_org_model(user_id=user.id, org_id=org.id))
            counts["links_created"] += 1
        if acc.roster:
            model = (models or {}).get(acc.roster) or _mapped_class(user_org_model, names.table_name(acc.roster))
            if model is not None and hasattr(model, "user_id") and hasattr(model, "org_id"):
                linked = session.scalar(select(func.count()).select_from(model).where(model.user_id == user.id))
                if not linked:
                    code_col = next((c for c in model.__table__.c if c.unique), model.__table__.c.id)
                    rec = session.scalars(select(model).where(model.org_id == org.id, model.user_id.is_(None))
                                          .order_by(code_col)).first()
                    if rec is not None:
                        rec.user_id = user.id
                        counts["roster_linked"] += 1
        session.flush()
    return counts


def _mapped_class(sibling: type, table: str) -> Optional[type]:
    for mapper in sibling.registry.mappers:  # type: ignore[attr-defined]
        if getattr(mapper, "local_table", None) is not None and mapper.local_table.name == table:
            return mapper.class_  # type: ignore[no-any-return]
    return None
