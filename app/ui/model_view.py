"""The base class of every generated screen.

Two things FAB gets wrong for our users:

* **Blank means empty.**  An input left blank posts ``''``; stored as is, two blank optional
  unique fields (an ID number, say) collide.  Every blank value becomes NULL before saving.
* **A database error is not the user's lost work.**  FAB flashes ``str(exception)`` (SQL and all)
  and redirects, so everything typed is gone.  Here the transaction is rolled back, the user sees
  a plain message in their language, and the form comes back with what they typed.
"""

from __future__ import annotations

from typing import Any, Optional

from flask import abort, flash, redirect, request
from flask_appbuilder import ModelView, expose
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.urltools import get_filter_args
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from generator.builders.models import EnumValueError
from generator.validation import normalise_text

from app.access import masking, parse
from app.access import present as present_mod
from app.access import rules as access_mod

SAVE_CONFLICT = _l("Not saved: a unique value is already in use, or a referenced record does not exist. "
                   "Please correct it and try again.")
SAVE_FAILED = _l("Not saved: the database could not be written. Please try again later.")
DELETE_CONFLICT = _l("Cannot delete: other records still refer to this record.")


def blank_to_none(form: Any) -> None:
    for field in form:
        if isinstance(field.data, str) and field.data.strip() == "":
            field.data = None


class JiefenModelView(ModelView):
    # FAB's /download/<filename> serves any file in UPLOAD_FOLDER by name, outside every row check.
    # Files get their own scoped download route (issue #6); this one is not registered at all.
    download = None
    show_template = "jiefen/show.html"
    jf_entity: Any = None  # the spec entity, set by the generator

    # ------------------------------------------------------------------ show, reveal, export
    def _show_page(self, pk: Any, reveal_fields: tuple = ()) -> Any:
        widgets = self._show(pk)
        access = access_mod.current()
        p = access.principal() if access else None
        can_reveal = bool(p and masking.revealable(p.roles, self.jf_entity)) and bool(self.jf_entity.pii_fields)
        return self.render_template(self.show_template, pk=pk, title=self.show_title, widgets=widgets,
                                    related_views=self._related_views, jf_can_reveal=can_reveal,
                                    jf_revealed=reveal_fields, jf_entity=self.jf_entity,
                                    jf_workflow=self._has_workflow())

    def _has_workflow(self) -> bool:
        """Is this entity a workflow's case (its detail page shows the case panel)?"""
        from flask import current_app

        reg = current_app.extensions.get("jiefen")
        return bool(reg is not None and reg.workflow is not None and self.jf_entity is not None
                    and any(w.entity == self.jf_entity.name for w in reg.spec.workflows.values()))

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk: Any) -> Any:
        return self._show_page(self._deserialize_pk_if_composite(pk))

    @expose("/reveal/<pk>", methods=["POST"])
    @has_access
    def reveal(self, pk: Any) -> Any:
        """显示个人信息明文：一次明确的操作，记入审计日志。"""
        from app.access.reveal import reveal_record

        item = self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters)
        if item is None:
            abort(404)
        fields = reveal_record(self.jf_entity, item)
        if not fields:
            abort(403)
        present_mod.current().start_reveal(self.jf_entity.name)
        return self._show_page(self.datamodel.get_pk_value(item), tuple(f.name for f in fields))

    @expose("/export", methods=["GET"])
    @has_access
    def export(self) -> Any:
        """导出当前筛选结果为 Excel（按数据范围过滤，个人信息脱敏，记入审计日志）。"""
        from app.ui.exporting import export_view

        return export_view(self)

    @action("muldelete", _l("Delete"), _l("Delete all Really?"), "fa-trash", single=False)
    def muldelete(self, items: Any) -> Any:
        """Delete the selected rows; each goes through the scoped delete (out of scope: skipped)."""
        done = 0
        for item in items if isinstance(items, list) else [items]:
            if item is None:  # a missing id or a row out of scope: the same to the user, audited
                from app.audit.denials import note

                note("action on a row out of scope or missing", self.jf_entity.name if self.jf_entity else None)
                continue
            try:
                self.datamodel.delete(item)
                done += 1
            except access_mod.AccessRefused:
                continue
            except Exception:  # noqa: BLE001 - one refused row must not hide the others
                self.datamodel.session.rollback()
                flash(str(DELETE_CONFLICT), "danger")
        if done:
            flash(str(self.delete_row_message), "success")
        self.update_redirect()
        return redirect(self.get_redirect())

    def _parser(self) -> parse.ListParser:
        found = self.__dict__.get("_jf_parser")
        if found is None:
            from flask import current_app

            found = parse.ListParser(current_app.extensions["jiefen"].spec, self.jf_entity,
                                     self._filters.get_search_filters(), self.order_columns or ())
            self.__dict__["_jf_parser"] = found
        return found

    def list_query(self) -> parse.ListQuery:
        """This request's filters, sort and page, read by the boundary's parser (BadQuery → 400)."""
        viewer = present_mod.current().viewer()
        q = self._parser().html(request.args, self.__class__.__name__, viewer, self.page_size)
        parse.apply(self._filters, q)
        return q

    def _get_related_views_widgets(self, item: Any, orders: Any = None, pages: Any = None, page_sizes: Any = None,
                                   widgets: Any = None, **args: Any) -> Any:
        """The related lists of a record page sort only as their own list pages may (a sort on a
        masked name would tell the names' order)."""
        viewer = present_mod.current().viewer()
        for view in self._related_views:
            order = (orders or {}).get(view.__class__.__name__)
            if order and isinstance(view, JiefenModelView):
                view._parser().order(order[0], order[1], viewer)
        return super()._get_related_views_widgets(item, orders=orders, pages=pages, page_sizes=page_sizes,
                                                  widgets=widgets, **args)

    def _list(self, **kwargs: Any) -> Any:
        q = self.list_query()
        widgets = self._get_list_widget(filters=self._filters, order_column=q.order_column,
                                        order_direction=q.order_direction, page=q.page, page_size=q.page_size,
                                        **kwargs)
        form = self.search_form.refresh()
        self.update_redirect()
        return self._get_search_widget(form=form, widgets=widgets)

    def _get_search_widget(self, form: Any = None, exclude_cols: Any = None, widgets: Any = None) -> Any:
        """The search box offers no personal-data column this viewer sees masked (a filter on it
        would be refused: the answer would disclose what the mask hides)."""
        viewer = present_mod.current().viewer()
        ent = self.jf_entity
        offered = [c for c in self.search_columns
                   if not (c in ent.fields and ent.fields[c].pii and not viewer.sees(ent.name, c))]
        widgets = widgets or {}
        widgets["search"] = self.search_widget(route_base=self.route_base, form=form, include_cols=offered,
                                               exclude_cols=exclude_cols or [], filters=self._filters)
        return widgets

    @expose("/action_post", methods=["POST"])
    @has_access
    def action_post(self) -> Any:
        """FAB's list actions; an unknown action name is a bad request (FAB raised AttributeError)."""
        if request.form.get("action") not in self.actions:
            raise parse.BadQuery("没有这个批量操作", "no such list action")
        return super().action_post()

    def prefill_form(self, form: Any, pk: Any) -> None:
        """An edit form shows personal data masked, like every other surface."""
        for f in self.jf_entity.pii_fields if self.jf_entity else ():
            if f.name in form and form[f.name].data is not None:
                form[f.name].data = masking.masked(f, form[f.name].data)

    def _keep_masked_unchanged(self, form: Any, item: Any) -> None:
        for f in self.jf_entity.pii_fields if self.jf_entity else ():
            if f.name in form:
                stored = getattr(item, f.name, None)
                if stored is not None and form[f.name].data == masking.masked(f, stored):
                    form[f.name].data = stored

    def _guarded_for_viewer(self) -> list[Any]:
        """Fields with declared ``writers`` this user is not among (shown on the record page only)."""
        from app.access.writes import guarded_fields

        access = access_mod.current()
        p = access.principal() if access else None
        mine = {r.name for r in p.roles} if p else set()
        return [f for f in guarded_fields(self.jf_entity) if not mine & set(f.writers or ())]

    def _keep_guarded(self, form: Any, item: Any) -> None:
        """A field this user may not write keeps its stored value (a new record: its default),
        whatever the request carried: the form does not offer it."""
        for f in self._guarded_for_viewer():
            if f.name in form:
                form[f.name].data = getattr(item, f.name, None) if item is not None else f.default

    def _get_add_widget(self, form: Any, exclude_cols: Any = None, widgets: Any = None) -> Any:
        hidden = [f.name for f in self._guarded_for_viewer()]
        return super()._get_add_widget(form=form, exclude_cols=list(exclude_cols or []) + hidden, widgets=widgets)

    def _get_edit_widget(self, form: Any, exclude_cols: Any = None, widgets: Any = None) -> Any:
        hidden = [f.name for f in self._guarded_for_viewer()]
        return super()._get_edit_widget(form=form, exclude_cols=list(exclude_cols or []) + hidden, widgets=widgets)

    @staticmethod
    def _normalise(form: Any) -> None:
        """Typed text as stored: NFC, trimmed (control characters are refused by the field rules)."""
        for field in form:
            if isinstance(field.data, str):
                field.data = normalise_text(field.data)

    def process_form(self, form: Any, is_created: bool) -> None:
        blank_to_none(form)
        super().process_form(form, is_created)

    def _save_failed(self, exc: Exception) -> None:
        self.datamodel.session.rollback()
        if isinstance(exc, access_mod.AccessRefused):
            if exc.status == 404:
                abort(404)
            flash(str(exc), "danger")
        elif isinstance(exc, EnumValueError):
            flash(str(exc), "danger")
        elif isinstance(exc, IntegrityError) or isinstance(getattr(exc, "__cause__", None), IntegrityError):
            flash(str(SAVE_CONFLICT), "danger")
        else:
            flash(str(SAVE_FAILED), "danger")

    def _add(self) -> Optional[Any]:
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.add_form.refresh()
        if request.method != "POST":
            self.update_redirect()
            return self._get_add_widget(form=form, exclude_cols=exclude_cols)
        self._fill_form_exclude_cols(exclude_cols, form)
        self._keep_guarded(form, None)
        self._normalise(form)
        if not form.validate():
            return self._get_add_widget(form=form, exclude_cols=exclude_cols)
        self.process_form(form, True)
        item = self.datamodel.obj()
        try:
            form.populate_obj(item)
            self.pre_add(item)
            self.datamodel.add(item)
        except Exception as exc:  # noqa: BLE001 - shown to the user, never raised
            self._save_failed(exc)
            return self._get_add_widget(form=form, exclude_cols=exclude_cols)
        self.post_add(item)
        flash(str(self.add_row_message), "success")
        return None

    def _edit(self, pk: Any) -> Optional[Any]:
        if request.method != "POST":
            return super()._edit(pk)
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        pk = self.datamodel.get_pk_value(item)
        form = self.edit_form.refresh(request.form)
        self._fill_form_exclude_cols(exclude_cols, form)
        form._id = pk
        self._keep_masked_unchanged(form, item)
        self._keep_guarded(form, item)
        self._normalise(form)
        if not form.validate():
            return super()._edit(pk)
        self.process_form(form, False)
        try:
            form.populate_obj(item)
            self.pre_update(item)
            self.datamodel.edit(item)
        except Exception as exc:  # noqa: BLE001 - shown, never raised
            self._save_failed(exc)
            item = self.datamodel.get(pk, self._base_filters)
            if item is None:
                abort(404)
            widgets = self._get_edit_widget(form=form, exclude_cols=exclude_cols)
            return self._get_related_views_widgets(item, orders={}, pages={}, page_sizes={}, widgets=widgets)
        self.post_update(item)
        flash(str(self.edit_row_message), "success")
        return None

    def _delete(self, pk: Any) -> None:
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        try:
            self.pre_delete(item)
            self.datamodel.delete(item)
        except access_mod.AccessRefused:
            abort(404)
        except Exception as exc:  # noqa: BLE001 - shown, never raised
            self.datamodel.session.rollback()
            cause = getattr(exc, "__cause__", None)
            flash(str(DELETE_CONFLICT if isinstance(exc, IntegrityError) or isinstance(cause, IntegrityError)
                      else SAVE_FAILED), "danger")
            return
        self.post_delete(item)
        flash(str(self.delete_row_message), "success")
        self.update_redirect()
