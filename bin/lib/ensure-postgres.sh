# Sourced by bin/test and bin/pgwarden: makes sure PostgreSQL's server programs are installed and, when
# running as root, that the non-root user PostgreSQL will run as exists.
pgw_ensure_postgres() {
  local have=""
  if [ -n "${PGWARDEN_PG_BIN:-}" ] && [ -x "${PGWARDEN_PG_BIN}/pg_ctl" ]; then have=1; fi
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && have=1; done
  if [ -z "$have" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "PostgreSQL server programs are missing: run 'sudo apt-get install -y postgresql' (Debian) and retry" >&2
      return 1
    fi
    echo "pgwarden: installing PostgreSQL server programs (Debian package 'postgresql')..." >&2
    # pgwarden initdb's its own clusters: keep Debian from creating and starting a 'main' cluster.
    mkdir -p /etc/postgresql-common
    if [ ! -f /etc/postgresql-common/createcluster.conf ]; then
      echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq postgresql >/dev/null || {
      echo "apt-get install postgresql failed: install it by hand and retry" >&2; return 1; }
  fi
  if [ "$(id -u)" -eq 0 ]; then
    local u="${PGWARDEN_PG_USER:-postgres}"
    if ! id "$u" >/dev/null 2>&1; then
      echo "pgwarden: creating system user '$u' to run PostgreSQL (it refuses to run as root)" >&2
      useradd --system --create-home --shell /bin/bash "$u"
    fi
  fi
}

# The timeline page's browser test runs Debian's headless Chromium.
pgw_ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then return 0; fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "Chromium is missing: the browser test will be skipped (install Debian's 'chromium' package)" >&2
    return 0
  fi
  echo "pgwarden: installing Chromium for the browser test (Debian package 'chromium')..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; } || {
    echo "apt-get install chromium failed" >&2; return 1; }
}
