#!/usr/bin/env bash
# Install what Sesizari needs, idempotently: OS packages (PostgreSQL + PostGIS;
# with --test Chromium for the browser tests and Dovecot for the mailbox tests;
# with --bench GDAL's ogr2ogr, the loader the ETL benchmark compares with) and
# the Python virtualenv.
# A second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
want_bench=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --bench) want_bench=1 ;;
    *) echo "usage: scripts/setup.sh [--test] [--bench]" >&2; exit 2 ;;
  esac
done

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  if [ -z "${DATABASE_URL:-}" ]; then
    have_pkg postgresql || need+=(postgresql)
    if ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
      need+=(postgis-for-server)
    fi
  fi
  if [ "$want_test" = 1 ]; then
    have_pkg chromium || need+=(chromium)
    have_pkg fonts-dejavu-core || need+=(fonts-dejavu-core)
    # The IMAP server the mailbox tests read from (started by the tests themselves).
    have_pkg dovecot-imapd || need+=(dovecot-imapd)
  fi
  if [ "$want_bench" = 1 ]; then
    have_pkg gdal-bin || need+=(gdal-bin)
  fi
  python3 -c "import ensurepip, venv" 2>/dev/null || need+=(python3-venv)
  command -v git >/dev/null 2>&1 || need+=(git)
  if [ "${#need[@]}" -gt 0 ]; then
    echo "Installing OS packages: ${need[*]}"
    $SUDO apt-get update -qq
    pkgs=()
    for p in "${need[@]}"; do
      if [ "$p" = postgis-for-server ]; then
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
        pkgs+=("postgresql-${ver}-postgis-3")
      else
        pkgs+=("$p")
      fi
    done
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
    # Installing Dovecot may start it as a system service: the tests run their own.
    if [[ " ${need[*]} " == *" dovecot-imapd "* ]] && command -v systemctl >/dev/null 2>&1 \
        && systemctl is-active --quiet dovecot 2>/dev/null; then
      $SUDO systemctl disable --now dovecot >/dev/null 2>&1 || true
    fi
  fi
elif [ -z "${DATABASE_URL:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "This is not a Debian/Ubuntu machine: install PostgreSQL (>= 14) with PostGIS 3 and" >&2
  echo "Chromium and Dovecot (tests) yourself, or set DATABASE_URL to an existing PostGIS database." >&2
  exit 1
fi

# Python virtualenv, reinstalled only when a requirements file changed.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.requirements.sha256
sum=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  echo "Installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements-dev.txt
  echo "$sum" > "$stamp"
fi
