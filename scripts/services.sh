#!/usr/bin/env bash
# Start the local services that Vigil's tests talk to, each only if it is not answering:
# PostgreSQL :5432, Redis :6379, NATS with JetStream :4222, InfluxDB 1.x :8086.
# Idempotent: a service that answers is left alone. Used by .ci/run; a developer can run
# it too (`bash scripts/services.sh`, as root: the start commands are the machine's own,
# from Debian's packages). Install InfluxDB first if it is missing: apt-get install influxdb.
#
# SERVICES_WAIT_SECONDS (default 60) bounds the wait for each service after starting it.
set -euo pipefail

WAIT_SECONDS=${SERVICES_WAIT_SECONDS:-60}
HOST=127.0.0.1

say() { printf '    %s\n' "$*"; }
die() {
  printf 'services.sh: %s\n' "$*" >&2
  exit 1
}

# First line that a TCP server answers, after sending $3 (printf %b escapes) if given.
# Prints nothing and fails if nothing answers within 3 s.
tcp_first_line() {
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    if [[ -n $3 ]]; then printf "%b" "$3" >&3; fi
    IFS= read -r line <&3 || exit 1
    printf "%s\n" "${line//[[:cntrl:]]/}"
  ' _ "$1" "$2" "${3-}" 2>/dev/null
}

pg_up() { pg_isready -q -h "$HOST" -p 5432 -t 3; }
redis_up() { [[ $(tcp_first_line "$HOST" 6379 'PING\r\n') == "+PONG" ]]; }
nats_info() { tcp_first_line "$HOST" 4222; }
nats_up() { [[ $(nats_info) == INFO* ]]; }
influx_up() {
  # GET /ping answers 204 No Content once InfluxDB serves HTTP.
  [[ $(tcp_first_line "$HOST" 8086 'GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n') =~ ^HTTP/1\.[01]\ 204 ]]
}

# wait_until NAME LOGFILE CHECK...: poll CHECK every half second for WAIT_SECONDS.
wait_until() {
  local name=$1 logfile=$2
  shift 2
  local deadline=$((SECONDS + WAIT_SECONDS))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      printf 'services.sh: %s did not answer within %ss after starting it\n' "$name" "$WAIT_SECONDS" >&2
      if [[ -n $logfile && -r $logfile ]]; then
        printf -- '--- last lines of %s ---\n' "$logfile" >&2
        tail -n 20 "$logfile" >&2 || true
      fi
      exit 1
    fi
    sleep 0.5
  done
}

need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"; }

start_postgres() {
  if pg_up; then
    say "PostgreSQL answers on :5432"
    return
  fi
  need pg_ctlcluster "install Debian's postgresql package"
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  [[ -n $version ]] || die "no PostgreSQL cluster under /etc/postgresql"
  say "starting PostgreSQL $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
    say "pg_ctlcluster exited $? (waiting for the server anyway)"
  wait_until PostgreSQL "/var/log/postgresql/postgresql-$version-main.log" pg_up
  say "PostgreSQL answers on :5432"
}

start_redis() {
  if redis_up; then
    say "Redis answers on :6379"
    return
  fi
  need redis-server "install Debian's redis-server package"
  mkdir -p /var/lib/redis /var/log/redis
  say "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_until Redis /var/log/redis/ci.log redis_up
  say "Redis answers on :6379"
}

start_nats() {
  if ! nats_up; then
    need nats-server "install Debian's nats-server package"
    mkdir -p /var/lib/nats-server
    say "starting NATS with JetStream"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
      -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
    wait_until NATS /var/log/nats-server.log nats_up
  fi
  # The first line a NATS server sends is INFO {json}; "jetstream":true when -js is on.
  if [[ $(nats_info) != *'"jetstream":true'* ]]; then
    die "NATS answers on :4222 but without JetStream: restart it with -js"
  fi
  say "NATS with JetStream answers on :4222"
}

start_influxdb() {
  if influx_up; then
    say "InfluxDB answers on :8086"
    return
  fi
  need influxd "install Debian's influxdb package (apt-get install influxdb)"
  local conf=/etc/influxdb/influxdb.conf logfile=/var/log/influxdb/influxd.log
  [[ -r $conf ]] || die "$conf not found (Debian's influxdb package installs it)"
  mkdir -p /var/lib/influxdb /var/log/influxdb
  # Run it as the package's own user, as its systemd unit does, when we can.
  local chuid=() owner=influxdb
  if [[ $EUID -eq 0 ]] && id -u influxdb >/dev/null 2>&1; then
    if getent group influxdb >/dev/null; then owner=influxdb:influxdb; fi
    chown -R "$owner" /var/lib/influxdb
    chuid=(--chuid "$owner")
  fi
  say "starting InfluxDB (influxd -config $conf, log $logfile)"
  # The package's own limit (its unit sets LimitNOFILE=65536).
  ulimit -n 65536 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --no-close "${chuid[@]}" \
    --exec "$(command -v influxd)" -- -config "$conf" >>"$logfile" 2>&1 </dev/null
  wait_until InfluxDB "$logfile" influx_up
  say "InfluxDB answers on :8086"
}

start_postgres
start_redis
start_nats
start_influxdb
