"""The typed spec: frozen dataclasses, the only input builders accept.

Every node remembers where it was declared (``src``: the line of its key) and
its path inside its file, so anything built from it can point back to the
YAML (``Generated from config/entities.yaml:41``).  Collections are tuples or
read-only mappings; nothing downstream can mutate the spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field as _field
from types import MappingProxyType
from typing import Any, Mapping, Optional

from .source import Path, Source, SourceMap


def frozen_map(d: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class Label:
    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Node:
    src: Source
    path: Path


# ------------------------------------------------------------------ entities


# Files (``type: file``): what an upload may be and how much of it, when a field does not say.
FILE_KINDS = ("pdf", "image")
DEFAULT_FILE_MB = 10
DEFAULT_FILES_PER_RECORD = 30
DEFAULT_TOTAL_MB_PER_RECORD = 100
DEFAULT_FILES_PER_REQUEST = 30


@dataclass(frozen=True)
class Field(Node):
    name: str
    label: Label
    type: str
    required: bool = False
    unique: bool = False
    index: bool = False
    max_length: Optional[int] = None
    min_length: Optional[int] = None
    min: Optional[float] = None
    max: Optional[float] = None
    pattern: Optional[str] = None
    format: Optional[str] = None
    enum: Optional[str] = None
    ref: Optional[str] = None
    on_delete: Optional[str] = None
    pii: Optional[str] = None
    default: Any = None
    help: Optional[Label] = None
    readonly: bool = False
    writers: Optional[tuple[str, ...]] = None  # roles that may set it by a plain edit; () = a process only
    process: Optional[str] = None              # the workflow or checklist that sets it
    accept: tuple[str, ...] = ()          # file: kinds allowed (empty: every kind)
    max_size_mb: Optional[int] = None     # file: per-file cap
    max_files: Optional[int] = None       # file: how many files the field keeps (1: a new one replaces it)
    renamed_from: Optional[str] = None    # the field's name before a rename (its column is renamed)

    @property
    def file_kinds(self) -> tuple[str, ...]:
        return self.accept or FILE_KINDS

    @property
    def file_max_mb(self) -> int:
        return self.max_size_mb or DEFAULT_FILE_MB

    @property
    def file_max_count(self) -> int:
        return self.max_files or 1


@dataclass(frozen=True)
class Scope(Node):
    org: Optional[str] = None
    parent: Optional[str] = None
    owner: Optional[str] = None
    tree: bool = False
    public: bool = False

    @property
    def is_set(self) -> bool:
        return bool(self.org or self.parent or self.tree or self.public)


@dataclass(frozen=True)
class Entity(Node):
    name: str
    label: Label
    menu: str
    fields: Mapping[str, Field]
    scope: Optional[Scope] = None
    description: Optional[Label] = None
    order: int = 0
    display: Optional[str] = None
    reference: bool = False
    list: tuple[str, ...] = ()
    api_list: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    order_by: Optional[str] = None
    unique_together: tuple[tuple[str, ...], ...] = ()
    renamed_from: Optional[str] = None  # the entity's name before a rename (its table is renamed)

    @property
    def pii_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields.values() if f.pii)


@dataclass(frozen=True)
class Enum(Node):
    name: str
    label: Label
    values: Mapping[str, Label]
    renamed: Mapping[str, str] = _field(default_factory=lambda: frozen_map({}))  # value -> its old key


@dataclass(frozen=True)
class Menu(Node):
    name: str
    label: Label
    order: int = 0
    icon: Optional[str] = None


@dataclass(frozen=True)
class OrgTree(Node):
    entity: str
    parent_field: str
    type_field: str
    levels: Mapping[str, tuple[str, ...]]
    allowed_parents: Mapping[str, tuple[str, ...]]

    def level_of(self, org_type: str) -> Optional[str]:
        for level, types in self.levels.items():
            if org_type in types:
                return level
        return None


# ------------------------------------------------------------------ roles

# ``grants.system`` values: what each opens is mapped in generator/builders/permissions.py.
SYSTEM_GRANTS = ("audit_log", "access_matrix", "config_history")


@dataclass(frozen=True)
class Role(Node):
    name: str
    label: Label
    scope: str
    entity_grants: Mapping[str, tuple[str, ...]]
    transitions: tuple[str, ...] = ()
    checklists: tuple[str, ...] = ()
    reveal: tuple[str, ...] = ()
    description: Optional[Label] = None
    admin: bool = False
    org_types: tuple[str, ...] = ()
    can_assign: tuple[str, ...] = ()
    system: tuple[str, ...] = ()
    renamed_from: Optional[str] = None

    def actions_on(self, entity: str) -> tuple[str, ...]:
        own = self.entity_grants.get(entity, ())
        every = self.entity_grants.get("*", ())
        return tuple(a for a in ("read", "create", "update", "delete", "export") if a in own or a in every)

    def may_run(self, workflow: str, transition: str) -> bool:
        return f"{workflow}.{transition}" in self.transitions or f"{workflow}.*" in self.transitions


# ------------------------------------------------------------------ workflows


@dataclass(frozen=True)
class State(Node):
    name: str
    label: Label
    kind: str
    level: Optional[str] = None
    owners: tuple[str, ...] = ()
    editable: tuple[str, ...] = ()
    final: bool = False
    renamed_from: Optional[str] = None


@dataclass(frozen=True)
class Extension(Node):
    roles: tuple[str, ...]
    max_days: int
    reason_required: bool = True


@dataclass(frozen=True)
class Deadline(Node):
    name: str
    label: Label
    days: int
    day_type: str
    start: tuple[str, ...]
    stop: tuple[str, ...] = ()
    pause_in: tuple[str, ...] = ()
    due_soon_days: int = 3
    basis: Optional[Label] = None
    extension: Optional[Extension] = None


@dataclass(frozen=True)
class Condition(Node):
    label: Label
    checklist: Optional[str] = None
    item: Optional[str] = None
    org_field: Optional[str] = None
    related: Optional[str] = None
    via: Optional[str] = None


@dataclass(frozen=True)
class Effect(Node):
    create: Optional[str] = None
    link: Optional[str] = None
    values: Mapping[str, Any] = _field(default_factory=lambda: frozen_map({}))
    set: Mapping[str, Any] = _field(default_factory=lambda: frozen_map({}))
    start_deadline: Optional[str] = None
    stop_deadline: Optional[str] = None


@dataclass(frozen=True)
class Assign(Node):
    role: str
    org: str


@dataclass(frozen=True)
class Transition(Node):
    name: str
    label: Label
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    comment_required: bool = False
    required_fields: tuple[str, ...] = ()
    required_attachments: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()
    effects: tuple[Effect, ...] = ()
    assign: Optional[Assign] = None


@dataclass(frozen=True)
class Attachments(Node):
    entity: str
    parent_field: str
    type_field: str


@dataclass(frozen=True)
class Workflow(Node):
    name: str
    label: Label
    entity: str
    initial: str
    states: Mapping[str, State]
    transitions: Mapping[str, Transition]
    deadlines: Mapping[str, Deadline]
    attachments: Optional[Attachments] = None
    moved_to: Mapping[str, str] = _field(default_factory=lambda: frozen_map({}))  # removed state -> state


@dataclass(frozen=True)
class CalendarYear(Node):
    year: int
    holidays: tuple[str, ...]
    workdays: tuple[str, ...] = ()


# ------------------------------------------------------------------ checklists


@dataclass(frozen=True)
class Evidence(Node):
    kind: str
    label: Label
    min_count: int = 1
    threshold: Optional[float] = None
    unit: Optional[Label] = None
    compare: str = "at_least"          # number: observed >= threshold (at_least) or <= (at_most)
    within_months: Optional[int] = None  # validity: the date lies at most this long before the visit


@dataclass(frozen=True)
class SubItem(Node):
    name: str
    label: Label
    gate: bool = False
    requirement: Optional[Label] = None
    evidence: tuple[Evidence, ...] = ()
    applies_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckItem(Node):
    name: str
    label: Label
    sub_items: Mapping[str, SubItem]
    order: int = 0


@dataclass(frozen=True)
class RatingRule(Node):
    result: str
    when: str


@dataclass(frozen=True)
class Uploads(Node):
    """Upload limits of a checklist's evidence; a record is one sub-item of one inspection."""
    accept: tuple[str, ...] = FILE_KINDS
    max_size_mb: int = DEFAULT_FILE_MB
    max_files: int = DEFAULT_FILES_PER_RECORD
    max_total_mb: int = DEFAULT_TOTAL_MB_PER_RECORD
    max_files_per_request: int = DEFAULT_FILES_PER_REQUEST


# Pages of a checklist (app/checklists) and their default names, from the checklist's own label:
# a county calling it 六有 gets 六有达标看板 without a word of code (checklists.yaml ``pages`` overrides).
CHECKLIST_PAGES = {
    "board": ("{zh}达标看板", "{en} board"),
    "coverage": ("{zh}建设进度", "{en} coverage"),
    "due": ("复查到期提醒", "Re-inspections due"),
    "rectifications": ("待办整改", "Open rectifications"),
    "new": ("发起{zh}检查", "New {en} inspection"),
    "accredited": ("{zh}达标", "Accredited"),
}


@dataclass(frozen=True)
class Site:
    title: Label
    county: Optional[Label] = None
    office: Optional[Label] = None
    townships: tuple[Label, ...] = ()


@dataclass(frozen=True)
class Checklist(Node):
    name: str
    label: Label
    version: int
    entity: str
    applies_to: tuple[str, ...]
    actions: tuple[str, ...]
    items: Mapping[str, CheckItem]
    rating: tuple[RatingRule, ...]
    validity_months: int = 12
    reinspect_months: int = 12
    rectification_days: int = 30
    due_soon_days: int = 30
    uploads: Optional[Uploads] = None  # None: the defaults of ``Uploads``
    pages: Mapping[str, Label] = _field(default_factory=lambda: frozen_map({}))

    def page_label(self, page: str) -> Label:
        """The name of one of the checklist's pages: ``pages`` in checklists.yaml, else from its label."""
        if page in self.pages:
            return self.pages[page]
        zh, en = CHECKLIST_PAGES[page]
        return Label(zh.format(zh=self.label.zh), en.format(en=self.label.en))

    @property
    def upload_limits(self) -> Uploads:
        return self.uploads or Uploads(src=self.src, path=self.path + ("uploads",))

    def applicable(self, org_type: Optional[str]) -> dict[str, tuple[SubItem, ...]]:
        """Item name -> the sub-items that apply to ``org_type`` (all of them for ``None``)."""
        return {name: tuple(s for s in item.sub_items.values()
                            if org_type is None or not s.applies_to or org_type in s.applies_to)
                for name, item in sorted(self.items.items(), key=lambda kv: kv[1].order)}


@dataclass(frozen=True)
class Target(Node):
    name: str
    label: Label
    org_types: tuple[str, ...]
    count: int


@dataclass(frozen=True)
class ReferenceRecord(Node):
    entity: str
    index: int
    values: Mapping[str, Any]


# ------------------------------------------------------------------ the whole


@dataclass(frozen=True)
class AppSpec:
    """Everything the config says, typed and located; the input of every builder."""

    config_dir: str
    menus: Mapping[str, Menu]
    enums: Mapping[str, Enum]
    entities: Mapping[str, Entity]
    org_tree: OrgTree
    roles: Mapping[str, Role]
    workflows: Mapping[str, Workflow]
    calendar: tuple[CalendarYear, ...]
    checklists: Mapping[str, Checklist]
    targets: Mapping[str, Target]
    reference: tuple[ReferenceRecord, ...]
    sources: Mapping[str, SourceMap]
    site: Optional[Site] = None

    @property
    def title(self) -> Label:
        return self.site.title if self.site else Label("解纷", "Jiefen")

    def tracked_checklist(self) -> Optional[Checklist]:
        """The checklist the tracker pages (app/checklists) follow: the first one over the org tree."""
        return next((c for c in self.checklists.values() if c.entity == self.org_tree.entity), None)

    def key_at(self, node: Node, *sub: Any) -> Source:
        """Where the key ``node.path + sub`` sits in ``node``'s file."""
        return self.sources[node.src.file].key(node.path + tuple(sub))

    def value_at(self, node: Node, *sub: Any) -> Source:
        """Where the value at ``node.path + sub`` starts in ``node``'s file."""
        return self.sources[node.src.file].value(node.path + tuple(sub))
