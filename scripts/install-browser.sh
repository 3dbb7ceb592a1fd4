#!/usr/bin/env bash
# Make sure Debian's chromium (driven by Playwright via executable_path) and
# CJK fonts (so Chinese text renders in screenshots) are installed.
# Never fails the build: when apt is unavailable it prints a warning and
# exits 0; the browser tests then skip or fail on their own.
set -uo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
PKGS=(chromium fonts-noto-cjk)

have_fonts() { dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q 'install ok installed'; }

if [ -x "$CHROMIUM" ] && have_fonts; then
    exit 0
fi

warn() { echo "WARNING: browser-deps: $*; browser tests may be skipped or fail" >&2; exit 0; }

command -v apt-get >/dev/null 2>&1 || warn "apt-get not found, cannot install ${PKGS[*]}"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        warn "not root and no passwordless sudo, cannot install ${PKGS[*]}"
    fi
fi

echo "browser-deps: installing ${PKGS[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)
"${SUDO[@]}" apt-get "${APT_OPTS[@]}" -qq update \
    || warn "apt-get update failed"
"${SUDO[@]}" apt-get "${APT_OPTS[@]}" -qq -y install --no-install-recommends "${PKGS[@]}" >/dev/null \
    || warn "apt-get install ${PKGS[*]} failed"

[ -x "$CHROMIUM" ] || warn "$CHROMIUM still missing after install"
echo "browser-deps: $("$CHROMIUM" --version 2>/dev/null || echo chromium) ready"
