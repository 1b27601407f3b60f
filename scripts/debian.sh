# Sourced by the scripts/ensure-*.sh: what they share, from Debian's packages only.

# install_missing PURPOSE PACKAGE...: install the packages (none: nothing to do) as root,
# quietly; anyone else is told the command to run.
install_missing() {
  local purpose=$1
  shift
  [ "$#" -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "error: missing $*; run: sudo apt-get install -y $*" >&2
    exit 1
  fi
  echo "Installing Debian's $* for $purpose..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ensure_postgres PURPOSE: the PostgreSQL at 127.0.0.1:5432 answers; as root, Debian's newest
# cluster is started when it does not.
ensure_postgres() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
      for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
    fi
  fi
  pg_isready -q -h 127.0.0.1 -p 5432 || {
    echo "error: $1 needs PostgreSQL on 127.0.0.1:5432" >&2
    exit 1
  }
}
