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

from flask import flash, request
from flask_appbuilder import ModelView
from flask_appbuilder.urltools import get_filter_args
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from generator.builders.models import EnumValueError

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

    def process_form(self, form: Any, is_created: bool) -> None:
        blank_to_none(form)
        super().process_form(form, is_created)

    def _save_failed(self, exc: Exception) -> None:
        self.datamodel.session.rollback()
        if isinstance(exc, EnumValueError):
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
            from flask import abort

            abort(404)
        pk = self.datamodel.get_pk_value(item)
        form = self.edit_form.refresh(request.form)
        self._fill_form_exclude_cols(exclude_cols, form)
        form._id = pk
        if not form.validate():
            return super()._edit(pk)
        self.process_form(form, False)
        try:
            form.populate_obj(item)
            self.pre_update(item)
            self.datamodel.edit(item)
        except Exception as exc:  # noqa: BLE001 - shown, never raised
            self._save_failed(exc)
            widgets = self._get_edit_widget(form=form, exclude_cols=exclude_cols)
            return widgets
        self.post_update(item)
        flash(str(self.edit_row_message), "success")
        return None

    def _delete(self, pk: Any) -> None:
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            from flask import abort

            abort(404)
        try:
            self.pre_delete(item)
            self.datamodel.delete(item)
        except Exception as exc:  # noqa: BLE001 - shown, never raised
            self.datamodel.session.rollback()
            cause = getattr(exc, "__cause__", None)
            flash(str(DELETE_CONFLICT if isinstance(exc, IntegrityError) or isinstance(cause, IntegrityError)
                      else SAVE_FAILED), "danger")
            return
        self.post_delete(item)
        flash(str(self.delete_row_message), "success")
        self.update_redirect()
