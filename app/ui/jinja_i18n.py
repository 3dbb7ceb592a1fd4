"""Jinja's ``_()``/``gettext`` with the request's translations looked up once, not per call.

Flask-Babel installs ``gettext=lambda s: get_translations().ugettext(s)``: every ``_()`` in a
template walks ``g`` → babel context → domain → locale → translations cache (about ten calls),
and a list page calls it ~240 times (list buttons per row, search form, navbar).  Here the
translations object is kept on Flask-Babel's own per-``g`` context next to the locale and domain
it was chosen for, and reused while both are the same objects; ``flask_babel.refresh()`` (which
drops the context's locale/domain) or a different domain makes the next call look it up again.
The answers are Flask-Babel's: the same ``Translations`` object, the same ``ugettext``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_babel import get_translations

_MEMO = "jf_translations"


def _translations() -> Any:
    ctx = g.get("_flask_babel") if g else None
    if ctx is None:
        return get_translations()
    memo = ctx.__dict__.get(_MEMO)
    if memo is not None and memo[0] is ctx.__dict__.get("babel_locale") \
            and memo[1] is ctx.__dict__.get("babel_domain"):
        return memo[2]
    translations = get_translations()  # sets the context's locale (and maybe domain) first
    setattr(ctx, _MEMO, (ctx.__dict__.get("babel_locale"), ctx.__dict__.get("babel_domain"), translations))
    return translations


def install(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
