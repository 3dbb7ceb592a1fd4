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
"""

from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

from flask_appbuilder.models.sqla import filters as fab
from flask_appbuilder.models.sqla.filters import get_field_setup_query
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import lazyload, selectinload


class FilterStartsWithLike(fab.FilterStartsWith):
    def apply(self, query: Any, value: Any) -> Any:
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field.startswith(value, autoescape=True))


class FilterNotStartsWithLike(fab.FilterNotStartsWith):
    def apply(self, query: Any, value: Any) -> Any:
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(~field.startswith(value, autoescape=True))


class FilterEndsWithLike(fab.FilterEndsWith):
    def apply(self, query: Any, value: Any) -> Any:
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field.endswith(value, autoescape=True))


class FilterNotEndsWithLike(fab.FilterNotEndsWith):
    def apply(self, query: Any, value: Any) -> Any:
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(~field.endswith(value, autoescape=True))


class FilterContainsLike(fab.FilterContains):
    def apply(self, query: Any, value: Any) -> Any:
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field.contains(value, autoescape=True))


class FilterNotContainsLike(fab.FilterNotContains):
    def apply(self, query: Any, value: Any) -> Any:
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(~field.contains(value, autoescape=True))


_LIKE = {fab.FilterStartsWith: FilterStartsWithLike, fab.FilterNotStartsWith: FilterNotStartsWithLike,
         fab.FilterEndsWith: FilterEndsWithLike, fab.FilterNotEndsWith: FilterNotEndsWithLike,
         fab.FilterContains: FilterContainsLike, fab.FilterNotContains: FilterNotContainsLike}


class LikeFilterConverter(fab.SQLAFilterConverter):
    conversion_table = tuple((kind, [_LIKE.get(f, f) for f in flts])
                             for kind, flts in fab.SQLAFilterConverter.conversion_table)


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
    def edit(self, item: Any, commit: bool = True) -> None:
        try:
            self.session.merge(item)
            if commit:
                self.session.commit()
        except SQLAlchemyError:
            self.session.rollback()
            raise

    def delete(self, item: Any, commit: bool = True) -> None:
        try:
            self._delete_files(item)
            self.session.delete(item)
            if commit:
                self.session.commit()
        except SQLAlchemyError:
            self.session.rollback()
            raise

    def apply_all(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        query = super().apply_all(query, *args, **kwargs)
        if self._load_options is not None:
            query = query.options(*self._load_options)
        return query


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
