"""Our gettext catalogue (app/translations) against Flask-AppBuilder's.

FAB 5.3.0's ``zh`` catalogue misses ~25 msgids that its own python and
templates use ("Add", "Edit", "Delete", "Groups", "In"...), and "OK"/"Cancel"
are hard-coded in two templates.  Our catalogue is merged over FAB's at run
time, so together they must translate everything.  ``scripts/i18n.sh``
regenerates the catalogue; these tests fail when it was not run.
"""

from __future__ import annotations

import io
import os
import re
from functools import lru_cache
from pathlib import Path

import flask_appbuilder
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
OURS = ROOT / "app" / "translations"
FAB = Path(flask_appbuilder.__file__).parent
FAB_ZH_MO = FAB / "translations" / "zh" / "LC_MESSAGES" / "messages.mo"
LOCALES = ("zh", "en")

# Same keywords and method map as scripts/i18n.sh (FAB's `fab babel-extract` uses _, __, gettext, lazy_gettext).
KEYWORDS = {"_": None, "__": None, "gettext": None, "lazy_gettext": None, "_l": None,
            "ngettext": (1, 2), "lazy_ngettext": (1, 2)}
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**.py", "python")]

# zh msgstr may equal the English msgid only for these, each with its reason.
SAME_IN_ZH = {
    "ID": "identifier abbreviation used as is in Chinese UIs",
    "API": "acronym",
    "JSON": "format name",
    "LDAP": "protocol name",
    "OAuth": "protocol name",
    "OpenID": "product name (FAB's own zh catalogue keeps it)",
    "English": "language switcher shows each language in its own name (endonym)",
}


def _singular(msgid: object) -> str:
    return msgid[0] if isinstance(msgid, tuple) else msgid  # type: ignore[return-value]


@lru_cache(maxsize=None)
def extracted(root: str) -> frozenset[str]:
    """msgids that `pybabel extract` finds under ``root`` (python + jinja2 templates)."""
    return frozenset(_singular(m[2]) for m in extract_from_dir(root, METHOD_MAP, keywords=KEYWORDS) if m[2])


def read_mo_strings(path: str) -> dict[str, str]:
    """{msgid: msgstr} of a compiled catalogue (header left out), {} if absent."""
    if not os.path.exists(path):
        return {}
    with open(path, "rb") as fh:
        return {_singular(m.id): (m.string[0] if isinstance(m.string, tuple) else m.string)
                for m in read_mo(fh) if m.id}


mo = lru_cache(maxsize=None)(read_mo_strings)


def read_ours_po(locale: str) -> Catalog:
    with ours(locale, "po").open("rb") as fh:
        return read_po(fh, locale=locale)


def ours(locale: str, ext: str) -> Path:
    return OURS / locale / "LC_MESSAGES" / f"messages.{ext}"


def effective_zh() -> dict[str, str]:
    """What Flask-Babel uses: FAB's compiled zh catalogue, updated with ours."""
    merged = dict(mo(str(FAB_ZH_MO)))
    merged.update({k: v for k, v in mo(str(ours("zh", "mo"))).items() if v})
    return merged


def test_fab_extraction_finds_its_strings() -> None:
    # Guard against an extractor that silently finds nothing (e.g. jinja2 extractor missing).
    ids = extracted(str(FAB))
    assert len(ids) > 100
    assert {"Add", "Edit", "Delete", "Are you sure you want to delete this item?", "Sign In"} <= ids


def test_every_fab_msgid_has_a_zh_translation() -> None:  # (a)
    zh = effective_zh()
    missing = sorted(i for i in extracted(str(FAB)) if not zh.get(i))
    assert not missing, f"{len(missing)} FAB msgids without zh (add them to app/ui/i18n_msgids.py, " \
                        f"run scripts/i18n.sh, translate): {missing}"


def test_every_app_msgid_is_in_our_catalogue_and_translated() -> None:
    catalogue = read_ours_po("zh")
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    in_po = {m.id for m in catalogue if m.id}
    app_ids = extracted(str(ROOT / "app"))
    assert not sorted(app_ids - in_po), "run scripts/i18n.sh: msgids missing from app/translations/zh"
    assert not sorted(app_ids - translated), "untranslated or fuzzy zh entries in app/translations/zh"


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_mo_matches_po(locale: str, tmp_path: Path) -> None:  # (b)
    catalogue = read_ours_po(locale)
    buf = io.BytesIO()
    write_mo(buf, catalogue, use_fuzzy=False)  # what `pybabel compile` (without -f) writes
    fresh = tmp_path / "messages.mo"
    fresh.write_bytes(buf.getvalue())
    assert read_mo_strings(str(fresh)) == read_mo_strings(str(ours(locale, "mo"))), \
        f"app/translations/{locale}/LC_MESSAGES/messages.mo is stale: run scripts/i18n.sh compile"


def test_no_zh_string_left_in_english() -> None:  # (c)
    zh = effective_zh()
    used = extracted(str(FAB)) | set(mo(str(ours("zh", "mo"))))
    same = sorted(i for i in used
                  if re.search(r"[A-Za-z]", i) and zh.get(i, "").strip() == i.strip() and i not in SAME_IN_ZH)
    assert not same, f"zh msgstr identical to the English msgid: {same}"
    # Stronger: a zh string for an English msgid has Chinese in it.
    no_cjk = sorted(i for i in used if re.search(r"[A-Za-z]", i) and i not in SAME_IN_ZH
                    and zh.get(i) and not re.search(r"[\u3400-\u9fff]", zh[i]))
    assert not no_cjk, f"zh msgstr without Chinese characters: {no_cjk}"


def test_zh_po_has_no_fuzzy_or_obsolete_surprises() -> None:
    catalogue = read_ours_po("zh")
    assert not [m.id for m in catalogue if m.id and m.fuzzy], "fuzzy entries are not compiled"
    # Placeholders survive translation.
    for m in catalogue:
        if m.id and m.string:
            assert re.findall(r"%\(\w+\)s|\{\w*\}", m.id) == re.findall(r"%\(\w+\)s|\{\w*\}", m.string), m.id


def test_runtime_merge_over_fab(tmp_path: Path) -> None:
    """Flask-Babel with FAB's directory first and ours second: ours fills gaps and wins."""
    from flask import Flask
    from flask_babel import Babel, force_locale, gettext

    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = f"{FAB / 'translations'};{OURS}"
    app.config["BABEL_DEFAULT_LOCALE"] = "zh"
    Babel(app)
    with app.test_request_context():
        assert gettext("Add") == "新增"  # FAB gap
        assert gettext("Are you sure you want to delete this item?") == "确定要删除这条记录吗？"
        assert gettext("OK") == "确定" and gettext("Cancel") == "取消"
        assert gettext("Logout") == "退出登录"  # ours over FAB's 注销
        assert gettext("Search") == "搜索"  # FAB's, untouched
        assert gettext("No data") == "暂无数据"  # ours
        with force_locale("en"):
            assert gettext("Add") == "Add"
            assert gettext("Simplified Chinese") == "简体中文"
            assert gettext("No data") == "No data"


FAB_TPL = FAB / "templates" / "appbuilder"
APP_TPL = ROOT / "app" / "templates" / "appbuilder"


@pytest.mark.parametrize("name", ["general/confirm.html", "general/alert.html"])
def test_modal_overrides_translate_ok_cancel(name: str) -> None:
    from jinja2 import Environment

    ours_src = (APP_TPL / name).read_text(encoding="utf-8")
    assert not re.search(r">\s*(OK|Cancel)\s*<", ours_src), "hard-coded English button left"
    assert '{{_("OK")}}' in ours_src
    # Apart from the comment and the translated buttons, the copy matches FAB's template.
    stripped = re.sub(r"\{#.*?#\}\n", "", ours_src, flags=re.S)
    stripped = stripped.replace('{{_("OK")}}', "OK").replace('{{_("Cancel")}}', "Cancel")
    assert stripped == (FAB_TPL / name).read_text(encoding="utf-8"), "FAB changed the template: re-copy it"
    env = Environment(extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(lambda s: {"OK": "确定", "Cancel": "取消"}.get(s, s),
                                  lambda s, p, n: s, newstyle=True)
    env.globals["_"] = env.globals["gettext"]
    html = env.from_string(ours_src).render()
    assert "确定" in html and ("取消" in html or name.endswith("alert.html"))
