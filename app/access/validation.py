"""Spec field checks as WTForms validators and marshmallow validators.

Both adapters call :func:`generator.validation.field_problems`, the single
source of the rules and their messages; nothing here words a message.  The
language is looked up when a value is checked (``flask_babel.get_locale()``),
not when the form class is built, so one form class serves zh and en users;
outside a request, or when no Babel is set up, messages are in Chinese.

Typical use in a view::

    validators_columns = {f.name: wtforms_validators(f, enums=spec.enums) for f in entity.fields.values()}
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional

from generator.validation import field_problems, is_empty, message

__all__ = ["current_lang", "SpecRequired", "SpecOptional", "SpecValidator",
           "wtforms_validators", "marshmallow_validator"]


def current_lang() -> str:
    """"en" when the current request's locale is English, else "zh" (also outside a request)."""
    try:
        from flask_babel import get_locale

        locale = get_locale()
    except Exception:  # no app/request context, Babel not initialised, ...
        return "zh"
    return "en" if locale is not None and getattr(locale, "language", None) == "en" else "zh"


def _blank_input(field: Any) -> bool:
    raw = getattr(field, "raw_data", None)
    return not raw or (isinstance(raw[0], str) and not raw[0].strip())


def _unconverted(field: Any) -> bool:
    """Text was typed but the field could not turn it into a value (e.g. "abc" in an integer field)."""
    return field.data is None and not _blank_input(field) and bool(getattr(field, "process_errors", None))


class _LangMixin:
    lang: Optional[str]

    def _lang(self) -> str:
        return self.lang or current_lang()


class SpecRequired(_LangMixin):
    """Like ``DataRequired``, but only None/blank is missing: ``0`` and ``False`` are answers.

    Stops the chain on a missing value with the localized "required" message,
    dropping earlier processing errors.  Sets the ``required`` flag.
    """

    def __init__(self, lang: Optional[str] = None) -> None:
        self.lang = lang
        self.field_flags = {"required": True}

    def __call__(self, form: Any, field: Any) -> None:
        from wtforms.validators import StopValidation

        if _unconverted(field):
            return  # SpecValidator reports the conversion problem
        if is_empty(field.data):
            field.errors[:] = []
            raise StopValidation(message("required", self._lang()))


class SpecOptional(_LangMixin):
    """Like WTForms ``Optional``: blank input passes and ends the chain (earlier errors dropped)."""

    def __init__(self, lang: Optional[str] = None) -> None:
        self.lang = lang
        self.field_flags = {"optional": True}

    def __call__(self, form: Any, field: Any) -> None:
        from wtforms.validators import StopValidation

        if _blank_input(field) and is_empty(field.data):
            field.errors[:] = []
            raise StopValidation()


class SpecValidator(_LangMixin):
    """Every rule of a spec ``Field``; each problem becomes one error on the form field."""

    def __init__(self, spec_field: Any, lang: Optional[str] = None,
                 enums: Optional[Mapping[str, Any]] = None) -> None:
        self.spec_field = spec_field
        self.lang = lang
        self.enums = enums
        self.field_flags: dict[str, Any] = {}

    def __call__(self, form: Any, field: Any) -> None:
        from wtforms.validators import StopValidation, ValidationError

        lang = self._lang()
        if _unconverted(field):
            if self.spec_field.type in ("integer", "decimal"):
                # Replace WTForms' English "Not a valid integer value." with ours.
                field.errors[:] = []
                raise StopValidation(message("not_integer" if self.spec_field.type == "integer"
                                             else "not_number", lang))
            raise StopValidation()  # keep the field's own processing error
        problems = field_problems(self.spec_field, field.data, lang, self.enums)
        if problems:
            field.errors.extend(problems[:-1])
            raise ValidationError(problems[-1])


def wtforms_validators(spec_field: Any, lang: Optional[str] = None,
                       enums: Optional[Mapping[str, Any]] = None) -> list:
    """WTForms validators for a spec ``Field``: ``[SpecRequired|SpecOptional, SpecValidator]``.

    ``lang`` fixes the language (tests); by default it follows the request.
    ``enums`` (``spec.enums``) also checks enum keys.
    """
    first = SpecRequired(lang) if spec_field.required else SpecOptional(lang)
    return [first, SpecValidator(spec_field, lang, enums)]


def marshmallow_validator(spec_field: Any, lang: Optional[str] = None,
                          enums: Optional[Mapping[str, Any]] = None) -> Callable[[Any], None]:
    """A marshmallow validator for a spec ``Field``: raises ``marshmallow.ValidationError``
    with the list of messages.  (Marshmallow does not run validators on None when
    ``allow_none`` is set; missing keys are the schema field's ``required=``.)"""

    def validate(value: Any) -> None:
        from marshmallow import ValidationError

        problems = field_problems(spec_field, value, lang or current_lang(), enums)
        if problems:
            raise ValidationError(problems if len(problems) > 1 else problems[0])

    validate.__name__ = f"validate_{spec_field.name}"
    validate.__qualname__ = validate.__name__
    return validate
