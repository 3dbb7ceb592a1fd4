#!/usr/bin/env bash
# Re-extract, update and compile Jiefen's gettext catalogues (app/translations/{zh,en}).
#
#   scripts/i18n.sh            extract app/ -> update zh, en -> compile all .mo
#   scripts/i18n.sh compile    compile only (after editing a .po by hand)
#   scripts/i18n.sh check      list FAB msgids with no zh translation in FAB's .mo nor ours
#
# Our catalogue is merged OVER Flask-AppBuilder's at run time
# (BABEL_TRANSLATION_DIRECTORIES = <fab>/translations;app/translations), so it
# only needs FAB's gaps (kept alive by app/i18n_msgids.py) plus our own strings.
# Untranslated entries are not compiled and fall back to FAB's / the msgid.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
PYBABEL="$BIN/pybabel"
DIR=app/translations
LOCALES=(zh en)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

compile() {
    "$PYBABEL" compile --statistics -d "$DIR"
}

check() {
    "$BIN/python" - "$DIR" <<'PY'
import os, sys
import flask_appbuilder
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo

fab = os.path.dirname(flask_appbuilder.__file__)
ours_dir = sys.argv[1]
keywords = {"_": None, "__": None, "gettext": None, "lazy_gettext": None, "_l": None}
method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
ids = {m[2] for m in extract_from_dir(fab, method_map, keywords=keywords) if isinstance(m[2], str)}
def load(p):
    return read_mo(open(p, "rb")) if os.path.exists(p) else []
cats = [load(os.path.join(fab, "translations/zh/LC_MESSAGES/messages.mo")),
        load(os.path.join(ours_dir, "zh/LC_MESSAGES/messages.mo"))]
missing = sorted(i for i in ids if not any(c.get(i) is not None and c.get(i).string for c in cats))
print(f"{len(ids)} FAB msgids, {len(missing)} without a zh translation")
for i in missing:
    print("  ", repr(i))
sys.exit(1 if missing else 0)
PY
}

case "${1:-all}" in
    compile) compile; exit ;;
    check) check; exit ;;
    all) ;;
    *) echo "usage: $0 [all|compile|check]" >&2; exit 2 ;;
esac

cat > "$tmp/babel.cfg" <<'CFG'
[python: **.py]
[jinja2: **/templates/**.html]
encoding = utf-8
CFG

quiet() {  # pybabel logs every file it touches; show the log only on failure
    "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; return 1; }
}

quiet "$PYBABEL" extract -F "$tmp/babel.cfg" \
    -k _ -k __ -k gettext -k lazy_gettext -k _l \
    -k ngettext:1,2 -k lazy_ngettext:1,2 \
    --sort-by-file --project=Jiefen --copyright-holder=Jiefen \
    -o "$tmp/messages.pot" app

for loc in "${LOCALES[@]}"; do
    # -N: no fuzzy matching (fuzzy entries are not compiled and would hide gaps)
    quiet "$PYBABEL" update -N --init-missing --ignore-pot-creation-date \
        -i "$tmp/messages.pot" -d "$DIR" -l "$loc"
done

# Report zh entries that still need a translator (en falls back to the msgid).
"$BIN/python" - "$DIR/zh/LC_MESSAGES/messages.po" <<'PY'
import sys
from babel.messages.pofile import read_po
cat = read_po(open(sys.argv[1], "rb"))
todo = [m.id for m in cat if m.id and (not m.string or m.fuzzy)]
if todo:
    print(f"warning: {len(todo)} zh entries untranslated or fuzzy:", file=sys.stderr)
    for i in todo:
        print("   ", repr(i), file=sys.stderr)
PY

compile
