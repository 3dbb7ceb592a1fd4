"""The FAB data interface of every generated screen and API (``SQLAInterface`` plus two changes).

1. **List queries load what the list shows, once per relation.**  The models load every
   many-to-one with ``SELECT … IN`` (``lazy="selectin"``), which avoids N+1 but cascades:
   a case list would also load registering/sealing/arbitration/court orgs, employer,
   arbitrator, created_by/changed_by, and each org's parent chain one level per statement.
   The count then depends on the data (tree depth, which optional refs happen to be
   filled on the page).  Here a list query eagerly loads only the list's refs (one
   ``SELECT … IN`` each, plus the ref's display relation if its display is itself a ref)
   and leaves every other relation lazy, so a page costs ``count + page + one per listed
   ref`` whatever its size.  Anything else touched later still loads correctly (lazily).
   Interfaces FAB derives for related models (form dropdowns, filter choices) keep the
   model defaults.  FAB's ``get`` (show/edit/REST item) goes through the same ``apply_all``:
   for one row, each other relation it touches is a single lazy load (fewer statements than
   the cascade it replaces).

2. **Text filters use ``LIKE`` instead of ``ILIKE``** (fab-permission-cost.md §5).  FAB
   compiles "contains"/"starts with"/"ends with" to ``ILIKE`` on PostgreSQL (2.6–5× slower
   than ``LIKE`` over 100k rows; search page 2.85× Django → 0.87×) and to
   ``lower(x) LIKE lower(y)`` on SQLite (2.7× slower than ``LIKE``, same rows: SQLite's
   ``lower`` and ``LIKE`` both fold ASCII only).  Chinese has no case.  Differences:
   on PostgreSQL, Latin letters now match case-sensitively (``yx`` no longer finds ``YX-…``;
   SQLite's ``LIKE`` still folds ASCII), and ``%``/``_`` typed by the user match literally
   (``autoescape``) instead of acting as wildcards.  Filter argument names (``ct``, ``sw``…)
   are unchanged, so ``_flt_<i>_<col>`` URLs and REST ``opr`` values keep working.

3. **Every query and write is scoped** by the app's access module (``app/access/rules.py``), which
   the interface asks through a hook (``set_access_hook``) so the generator stays free of
   Flask: ``_apply_inner_all`` (list, count, get, pickers, exports, REST) adds the row clause
   for "read"; ``add``/``edit``/``delete`` flush, let the hook check the written row, and
   only then commit, so a refused write leaves nothing behind.

4. **Per-request Python work FAB repeats is done once** (profiled on the 100k-case list page:
   about 45 % of its Python calls): filter conversion per (interface, column)
   (``LikeFilterConverter.convert``), one related interface per relation
   (``get_related_interface``, which FAB's select fields call once per choice), and no
   ``count(*)`` before an unfiltered, unpaginated choices query (``query``).
"""

from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

from flask_appbuilder.models.sqla import filters as fab
from flask_appbuilder.models.sqla.filters import get_field_setup_query
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import lazyload, selectinload


def _like_filter(base: type, operator: str, negate: bool) -> type:
    """FAB's text filter ``base`` compiled to plain ``LIKE … ESCAPE`` (see point 2 above)."""
    def apply(self: Any, query: Any, value: Any) -> Any:
        query, field = get_field_setup_query(query, self.model, self.column_name)
        condition = getattr(field, operator)(value, autoescape=True)
        return query.filter(~condition if negate else condition)

    return type(base.__name__ + "Like", (base,), {"apply": apply, "__module__": __name__})


_LIKE = {base: _like_filter(base, operator, negate) for base, operator, negate in (
    (fab.FilterStartsWith, "startswith", False), (fab.FilterNotStartsWith, "startswith", True),
    (fab.FilterEndsWith, "endswith", False), (fab.FilterNotEndsWith, "endswith", True),
    (fab.FilterContains, "contains", False), (fab.FilterNotContains, "contains", True))}


class LikeFilterConverter(fab.SQLAFilterConverter):
    conversion_table = tuple((kind, [_LIKE.get(f, f) for f in flts])
                             for kind, flts in fab.SQLAFilterConverter.conversion_table)
    # An enum column (its Column carries ``info["jf_enum"]``) is matched by option, not by text:
    # "starts with" on a hidden code means nothing to a user.
    enum_filters = [fab.FilterEqual, fab.FilterNotEqual]

    def convert(self, col_name: str) -> Any:
        """FAB's answer, computed once per (interface, column).

        FAB builds a ``Filters`` (which converts EVERY column of the model) for each query it
        runs (``get_inner_filters``) and each related select: 5 per list page, about a quarter
        of a list request's Python time.  The answer depends only on the column's type, so
        it is kept on the interface; callers get a fresh list (``Filters`` extends the lists
        of ``search_filters`` in place) holding the same filter instances, which FAB already
        shares across requests in every view's ``_filters``.
        """
        cache = self.datamodel.__dict__.setdefault("_jf_converted_filters", {})
        if col_name not in cache:
            column = self.datamodel.list_columns.get(col_name)
            if column is not None and getattr(column, "info", {}).get("jf_enum"):
                cache[col_name] = [flt(col_name, self.datamodel) for flt in self.enum_filters]
            else:
                cache[col_name] = super().convert(col_name)
        found = cache[col_name]
        return list(found) if found is not None else None


# The app's access module plugs in here (app/access/rules.py); None = no row rules (tests of the
# builder alone, scripts).  Signature: hook(event, interface, query_or_item, **kw).
_ACCESS_HOOK: Optional[Any] = None


def set_access_hook(hook: Optional[Any]) -> None:
    global _ACCESS_HOOK
    _ACCESS_HOOK = hook


class JiefenInterface(SQLAInterface):
    """``SQLAInterface`` with LIKE filters and list queries that load only the listed refs.

    ``eager``: relation paths to load with each list page, e.g. ``[("current_org",),
    ("employer", "org")]`` (a path goes through refs used for display).  ``None`` keeps the
    model's loading (what FAB's derived related interfaces get).
    """

    filter_converter_class = LikeFilterConverter

    def __init__(self, obj: type, session: Any = None,
                 eager: Optional[Iterable[Sequence[str]]] = None) -> None:
        super().__init__(obj, session)
        self._load_options: Optional[tuple[Any, ...]] = None
        if eager is not None:
            self._load_options = tuple(_path_option(obj, path) for path in eager) + (lazyload("*"),)

    # FAB wraps edit/delete failures in DatabaseException and its REST API answers
    # "Database exception occurred: <the SQL error>", which shows SQL to the client.  The
    # original error propagates instead; the app's API base turns integrity errors into a
    # plain 422 and anything else into FAB's generic error, never the SQL.
    def add(self, item: Any, commit: bool = True) -> None:
        hook = _ACCESS_HOOK
        try:
            if hook is not None:
                hook("before_create", self, item)
            self.session.add(item)
            if hook is not None:
                self.session.flush()
                hook("after_create", self, item)
            if commit:
                self.session.commit()
        except Exception:
            self.session.rollback()
            raise

    def edit(self, item: Any, commit: bool = True) -> None:
        hook = _ACCESS_HOOK
        try:
            if hook is not None:
                with self.session.no_autoflush:
                    before = hook("before_update", self, item)
            item = self.session.merge(item)
            if hook is not None:
                self.session.flush()
                hook("after_update", self, item, before=before)
            if commit:
                self.session.commit()
        except Exception:
            self.session.rollback()
            raise

    def delete(self, item: Any, commit: bool = True) -> None:
        hook = _ACCESS_HOOK
        try:
            if hook is not None:
                hook("before_delete", self, item)
            self._delete_files(item)
            self.session.delete(item)
            if commit:
                self.session.commit()
        except Exception:
            self.session.rollback()
            raise

    def _apply_inner_all(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        """Every query FAB builds (list, count, get, pickers, REST) passes here: scope it."""
        hook = _ACCESS_HOOK
        if hook is not None:
            query = hook("query", self, query)
        return super()._apply_inner_all(query, *args, **kwargs)

    def get(self, id: Any, filters: Any = None, select_columns: Optional[list] = None,
            outer_default_load: bool = False) -> Any:
        """FAB's ``get``; an id that is not a whole number a database column can hold is simply not
        found (``/show/abc`` was a PostgreSQL DataError, a 30-digit id an OverflowError: both 500s)."""
        pk = record_pk(id)
        if pk is None:
            return None
        return super().get(pk, filters, select_columns, outer_default_load)

    def get_related_interface(self, col_name: str) -> Any:
        """FAB builds a new interface per call; its select fields call this once per CHOICE
        (``get_pk_func``), i.e. 200 interfaces for a 200-org search dropdown.  An interface
        holds only the model's mapping (the session is looked up per use), so one per relation
        is kept."""
        cache = self.__dict__.setdefault("_jf_related", {})
        found = cache.get(col_name)
        if found is None:
            found = cache[col_name] = super().get_related_interface(col_name)
        return found

    def query(self, filters: Any = None, order_column: str = "", order_direction: str = "",
              page: Optional[int] = None, page_size: Optional[int] = None,
              select_columns: Optional[list] = None, outer_default_load: bool = False) -> Any:
        """FAB's ``query``; an unfiltered, unpaginated one (a form's or search form's select
        choices) counts the rows it loaded instead of sending ``count(*)`` first: the same
        number (no filter, no join, no limit), one statement less, and never a count that
        disagrees with the rows shown."""
        if page is None and page_size is None and not select_columns and (
                filters is None or not filters.filters):
            rows = self.apply_all(self.session.query(self.obj), filters, order_column, order_direction,
                                  outer_default_load=outer_default_load).all()
            name = self.obj.__name__  # FAB's unwrapping of row results, as in ``SQLAInterface.query``
            if rows and all(hasattr(item, name) for item in rows):
                rows = [getattr(item, name) for item in rows]
            return len(rows), rows
        return super().query(filters, order_column, order_direction, page, page_size,
                             select_columns, outer_default_load)

    def apply_all(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        query = super().apply_all(query, *args, **kwargs)
        if self._load_options is not None:
            query = query.options(*self._load_options)
        return query


def record_pk(value: Any) -> Optional[int]:
    """``value`` as a primary key (1 … 2**63-1), else None; ``"12"`` and ``12`` both give 12."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii() or not text.isdigit() or len(text) > 19:
            return None
        value = int(text)
    if isinstance(value, int) and 0 < value < 2 ** 63:
        return value
    return None


def _path_option(model: type, path: Sequence[str]) -> Any:
    """``selectinload(a).selectinload(b)…lazyload('*')``: the path eagerly, nothing beyond it."""
    option = None
    current = model
    for name in path:
        attr = getattr(current, name)
        option = selectinload(attr) if option is None else option.selectinload(attr)
        current = inspect(current).relationships[name].mapper.class_
    assert option is not None, "empty relation path"
    return option.lazyload("*")


def relation_paths(model: type, columns: Iterable[str],
                   display_of: Any = lambda _model: None) -> list[tuple[str, ...]]:
    """The relations among ``columns``, each extended by its target's display relation(s).

    ``display_of(model)`` names the attribute ``str(obj)`` shows; when that attribute is a
    relation it is loaded too (so a list cell never loads per row).
    """
    out = []
    rels = inspect(model).relationships
    for col in columns:
        if col not in rels:
            continue
        path = (col,)
        target = rels[col].mapper.class_
        seen = {target}
        while True:
            shown = display_of(target)
            trels = inspect(target).relationships
            if not shown or shown not in trels:
                break
            path += (shown,)
            target = trels[shown].mapper.class_
            if target in seen:  # a display cycle (e.g. an org shown by its parent): stop
                break
            seen.add(target)
        out.append(path)
    return out
