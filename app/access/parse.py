"""The inbound parser: every filter, sort, page and payload that enters the app is read here.

FAB reads list arguments leniently: an unknown column or operator is skipped, ``page=abc`` is a
500, a huge page number overflows the database driver, a list where a value belongs is a
TypeError, and it filters or sorts on any searchable column, masked personal data included (so a
masked name could be recovered one ``starts with`` at a time).  Here, from the spec:

* a filter names a searchable column and one of that column's operators, with a plain value;
* filtering or sorting on personal data is refused unless the viewer may read that field in clear
  (roles.yaml ``reveal``): the answer would disclose what the mask hides;
* an enum filter takes the option's key or its label in either language (``运行中`` = ``operating``);
* pages and page sizes are whole numbers within bounds;
* a JSON payload is an object; its text is NFC-normalised and trimmed (control characters are
  refused by the field rules, generator/validation.py).

A refusal is a :class:`BadQuery`: 400 on the API, a 400 page with the message on HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional

from generator.spec import AppSpec, Entity
from generator.validation import normalise_text

from app.access.present import Viewer

MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 100
_SCALARS = (str, int, float, bool, type(None))
_FLT = re.compile(r"^_flt_(\d+)_(.+)$")


class BadQuery(Exception):
    """A request argument the app will not act on; ``str()`` is the bilingual message."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass
class ListQuery:
    filters: list[tuple[Any, Any]] = field(default_factory=list)  # (filter instance, value)
    order_column: str = ""
    order_direction: str = ""
    page: Optional[int] = None
    page_size: Optional[int] = None
    columns: tuple[str, ...] = ()


class ListParser:
    """Reads the list arguments of one generated screen or API (its entity, filters, sort columns)."""

    def __init__(self, spec: AppSpec, ent: Entity, search_filters: Mapping[str, list[Any]],
                 order_columns: Iterable[str], max_page_size: int = MAX_PAGE_SIZE) -> None:
        self.spec = spec
        self.ent = ent
        self.search_filters = search_filters
        self.order_columns = tuple(order_columns)
        self.max_page_size = max_page_size
        self._choices: dict[str, dict[str, str]] = {}
        for f in ent.fields.values():
            if f.type == "enum" and f.enum in spec.enums:
                values = spec.enums[f.enum].values
                choice = {k: k for k in values}
                for k, lab in values.items():
                    choice.setdefault(lab.zh, k)
                    choice.setdefault(lab.en, k)
                self._choices[f.name] = choice

    # ------------------------------------------------------------------ single arguments
    def _readable(self, column: str, viewer: Viewer, what: tuple[str, str]) -> None:
        f = self.ent.fields.get(column)
        if f is not None and f.pii and not viewer.sees(self.ent.name, column):
            label = f.label
            raise BadQuery(f"不能按个人信息“{label.zh}”{what[0]}：您看到的是脱敏数据",
                           f"cannot {what[1]} by personal data '{label.en}': you see it masked")

    def filter(self, column: str, operator: Any, value: Any, viewer: Viewer) -> tuple[Any, Any]:
        """One filter: ``operator`` is the REST ``opr`` name or the HTML filter index."""
        filters = self.search_filters.get(column)
        if not filters:
            raise BadQuery(f"不能按“{column}”筛选", f"cannot filter by '{column}'")
        self._readable(column, viewer, ("筛选", "filter"))
        if isinstance(operator, int):
            if not 0 <= operator < len(filters):
                raise BadQuery(f"“{column}”没有第 {operator} 种筛选方式", f"no filter #{operator} on '{column}'")
            chosen = filters[operator]
        else:
            chosen = next((flt for flt in filters if flt.arg_name == operator), None)
            if chosen is None:
                raise BadQuery(f"“{column}”不支持筛选方式“{operator}”",
                               f"filter operation '{operator}' is not allowed on '{column}'")
        if not isinstance(value, _SCALARS):
            raise BadQuery(f"“{column}”的筛选值必须是单个值", f"the filter value of '{column}' must be a single value")
        value = normalise_text(value)
        choices = self._choices.get(column)
        if choices is not None and value not in (None, ""):
            key = choices.get(str(value))
            if key is None:
                raise BadQuery(f"“{value}”不是“{column}”的有效选项", f"'{value}' is not an option of '{column}'")
            value = key
        return chosen, value

    def order(self, column: Any, direction: Any, viewer: Viewer) -> tuple[str, str]:
        if column in (None, ""):
            return "", ""
        if not isinstance(column, str) or column not in self.order_columns:
            raise BadQuery(f"不能按“{column}”排序", f"cannot sort by '{column}'")
        self._readable(column, viewer, ("排序", "sort"))
        direction = direction or "asc"
        if direction not in ("asc", "desc"):
            raise BadQuery("排序方向只能是 asc 或 desc", "the sort direction must be asc or desc")
        return column, direction

    def page(self, raw: Any, default: Optional[int] = 0) -> Optional[int]:
        if raw in (None, ""):
            return default
        number = _whole(raw)
        if number is None or not 0 <= number <= MAX_PAGE:
            raise BadQuery(f"页码必须是 0 到 {MAX_PAGE} 之间的整数", f"the page must be a whole number from 0 to {MAX_PAGE}")
        return number

    def page_size(self, raw: Any, default: Optional[int]) -> Optional[int]:
        if raw in (None, ""):
            return default
        number = _whole(raw)
        if number is None or not 1 <= number <= self.max_page_size:
            raise BadQuery(f"每页条数必须是 1 到 {self.max_page_size} 之间的整数",
                           f"the page size must be a whole number from 1 to {self.max_page_size}")
        return number

    # ------------------------------------------------------------------ whole requests
    def rest(self, args: Mapping[str, Any], viewer: Viewer, columns: Iterable[str],
             default_order: tuple[str, str], default_page_size: int) -> ListQuery:
        """The rison arguments of ``GET /api/v1/<entity>/`` (decoded by ``app.ui.model_api.rison_args``)."""
        q = ListQuery()
        raw_filters = args.get("filters") or []
        if not isinstance(raw_filters, list):
            raise BadQuery("filters 必须是列表", "filters must be a list")
        for flt in raw_filters:
            if not isinstance(flt, dict) or not {"col", "opr"} <= set(flt):
                raise BadQuery("每个筛选条件须有 col、opr 和 value", "each filter needs col, opr and value")
            q.filters.append(self.filter(flt["col"], flt["opr"], flt.get("value"), viewer))
        if args.get("order_column"):
            q.order_column, q.order_direction = self.order(args.get("order_column"), args.get("order_direction"),
                                                           viewer)
        else:
            q.order_column, q.order_direction = default_order
        q.page = self.page(args.get("page"), 0)
        q.page_size = self.page_size(args.get("page_size"), default_page_size)
        wanted = args.get("columns") or args.get("select_columns")
        allowed = tuple(columns)
        if wanted:
            unknown = [c for c in wanted if c not in allowed]
            if unknown:
                raise BadQuery("没有这些列：" + "、".join(map(str, unknown)),
                               "no such columns: " + ", ".join(map(str, unknown)))
            q.columns = tuple(c for c in allowed if c in wanted)
        else:
            q.columns = allowed
        return q

    def html(self, args: Any, view_name: str, viewer: Viewer, default_page_size: int) -> ListQuery:
        """``_flt_<i>_<col>``, ``_oc_<View>``/``_od_<View>``, ``page_<View>``, ``psize_<View>``."""
        q = ListQuery()
        for key in args:
            m = _FLT.match(key)
            if m is None:
                continue
            column = m.group(2)
            for value in args.getlist(key):
                q.filters.append(self.filter(column, int(m.group(1)), value, viewer))
        if args.get(f"_oc_{view_name}"):
            q.order_column, q.order_direction = self.order(args.get(f"_oc_{view_name}"),
                                                           args.get(f"_od_{view_name}"), viewer)
        q.page = self.page(args.get(f"page_{view_name}"), None)
        q.page_size = self.page_size(args.get(f"psize_{view_name}"), None)
        return q


def apply(filters: Any, query: ListQuery) -> Any:
    """Put the parsed filters on a view's FAB ``Filters`` (cleared first) and return it."""
    filters.clear_filters()
    for flt, value in query.filters:
        filters._add_filter(flt, value)
    return filters


def check_paging_args(args: Mapping[str, Any]) -> None:
    """Every ``page_*``/``psize_*``/``_od_*`` argument of an HTML request (a show page lists several
    related views, each with its own) is well formed before FAB reads it with ``int()``."""
    for key, value in args.items():
        if key.startswith("page_"):
            number = _whole(value)
            if number is None or not 0 <= number <= MAX_PAGE:
                raise BadQuery(f"页码必须是 0 到 {MAX_PAGE} 之间的整数",
                               f"the page must be a whole number from 0 to {MAX_PAGE}")
        elif key.startswith("psize_"):
            number = _whole(value)
            if number is None or not 1 <= number <= MAX_PAGE_SIZE:
                raise BadQuery(f"每页条数必须是 1 到 {MAX_PAGE_SIZE} 之间的整数",
                               f"the page size must be a whole number from 1 to {MAX_PAGE_SIZE}")
        elif key.startswith("_od_") and value not in ("asc", "desc"):
            raise BadQuery("排序方向只能是 asc 或 desc", "the sort direction must be asc or desc")


def record_id(raw: Any) -> Optional[int]:
    """A primary key from a URL: a positive whole number a database column can hold, else None
    (answered like a missing record)."""
    number = _whole(raw)
    return number if number is not None and 0 < number < 2 ** 63 else None


def payload(body: Any) -> dict[str, Any]:
    """A JSON body for POST/PUT: an object, its text NFC-normalised and trimmed."""
    if not isinstance(body, dict):
        raise BadQuery("请求内容必须是 JSON 对象", "the request body must be a JSON object")
    return {k: normalise_text(v) for k, v in body.items()}


def _whole(raw: Any) -> Optional[int]:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"[0-9]{1,19}", raw.strip()):
        return int(raw.strip())
    return None
