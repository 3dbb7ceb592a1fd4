"""The navbar's menu, rendered once per (menu, locale, URL root, menu permissions) per process.

FAB's ``appbuilder/navbar_menu.html`` asks ``is_menu_visible`` (→ ``sm.has_access("menu_access",
name)``) for every category and entry and renders each through a macro, ``url_for`` and
``gettext``: on a 40-entity config that is a sixth of a list page's time, and the output is the
same for every request of the same user, language and permissions.

The cache key holds everything the template's output depends on:

* the menu itself (its item names and child counts, so a view added at runtime is seen);
* the request's locale (labels, FAB's ``_()``) and ``request.script_root`` (``url_for`` paths);
* the user's EXACT menu permissions as loaded for THIS request by ``JiefenSecurityManager``
  (``menu_cache_key``): the builtin (``FAB_ROLES``) role names the user holds and the set of
  ``menu_access`` view names granted by the user's DB roles.  ``is_menu_visible`` is a function
  of exactly these, so two requests with the same key render the same HTML.  Never the user id:
  a grant or revoke changes the next request's key.

Whenever the manager cannot produce such a key (anonymous/public pages, API-key users, inactive
users, another security manager) the template is rendered as FAB renders it, uncached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flask_appbuilder
from flask import current_app, request
from flask_babel import get_locale
from markupsafe import Markup

_FAB_TEMPLATE = Path(flask_appbuilder.__file__).parent / "templates" / "appbuilder" / "navbar_menu.html"
_MAX_ENTRIES = 256


def _template(env: Any) -> Any:
    tpl = getattr(env, "_jf_navbar_menu_template", None)
    if tpl is None:  # FAB's own template, unchanged; ours (same name) only calls this function
        tpl = env.from_string(_FAB_TEMPLATE.read_text(encoding="utf-8"))
        env._jf_navbar_menu_template = tpl
    return tpl


def _menu_fingerprint(menu: Any) -> tuple:
    return tuple((item.name, len(item.childs or ())) for item in menu.get_list())


def navbar_menu(menu: Any) -> Markup:
    app = current_app._get_current_object()
    env = app.jinja_env
    sm = app.appbuilder.sm
    keyer = getattr(sm, "menu_cache_key", None)
    perms = keyer() if keyer is not None else None
    if perms is None:
        return Markup(_template(env).render(menu=menu))
    key = (id(menu), _menu_fingerprint(menu), str(get_locale()), request.script_root, perms)
    cache = app.extensions.setdefault("jiefen_navbar_menu", {})
    html = cache.get(key)
    if html is None:
        html = Markup(_template(env).render(menu=menu))
        if len(cache) >= _MAX_ENTRIES:
            cache.clear()
        cache[key] = html
    return html
