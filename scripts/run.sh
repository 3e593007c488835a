#!/usr/bin/env bash
# `make run`: the embedded development setup in one foreground process group.
# Ctrl-C stops the sandbox, the web server, the worker, beat (and a private Redis if we started one).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

mkdir -p var
# The env file (.env, or the one ENV_FILE names; a development one is written if it is missing)
# fills in what the environment leaves unset, for every process started here, as it does for
# manage.py (config/settings.py). honcho would load it over the environment instead
# (`DEBUG=0 make run` ran the web server, the worker and beat with .env's DEBUG=1), so it is
# read here, with honcho's own parser, and honcho is given none. RUN_FILE is `<env file>.run`,
# below (scripts/env_file.py). Assigned first: a failing script stops the run here (set -e).
env_lines="$($BIN/python scripts/env_file.py)"
eval "$env_lines"

# runserver speaks plain HTTP only: with DEBUG=0 (whose default turns the redirect on) every page
# but the probes answered 301 to https://127.0.0.1:$PORT/..., where nothing answers. The
# environment or .env may still ask for it.
export SECURE_SSL_REDIRECT="${SECURE_SSL_REDIRECT:-0}"

export WEB_PORT="${PORT:-8000}"
export SANDBOX_PORT="${SANDBOX_PORT:-8100}"
export INTEGRATOR_API_URL="${INTEGRATOR_API_URL:-http://127.0.0.1:${SANDBOX_PORT}/v1}"
# Accounts other than the default one: both regions are the sandbox's (EU under /eu/v1).
export INTEGRATOR_US_API_URL="${INTEGRATOR_US_API_URL:-http://127.0.0.1:${SANDBOX_PORT}/v1}"
export INTEGRATOR_EU_API_URL="${INTEGRATOR_EU_API_URL:-http://127.0.0.1:${SANDBOX_PORT}/eu/v1}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"

# A port in use is said before anything starts. Left to the processes, runserver's "That port
# is already in use" came after its start-up, which on a busy machine takes longer than
# respawn's --min-uptime: it was restarted every few seconds, the error scrolling past, for ever.
port_in_use() {
  ! $BIN/python - "$1" <<'PY' 2>/dev/null
import socket, sys
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as runserver and the sandbox
    s.bind(("127.0.0.1", int(sys.argv[1])))
PY
}
for spec in "PORT:$WEB_PORT" "SANDBOX_PORT:$SANDBOX_PORT"; do
  if port_in_use "${spec#*:}"; then
    echo "Port ${spec#*:} (${spec%%:*}) is already in use on 127.0.0.1: stop what listens there, or choose other ports (PORT=9000 SANDBOX_PORT=9100 make run)." >&2
    exit 1
  fi
done

redis_answers() {
  $BIN/python - "$1" <<'PY' >/dev/null 2>&1
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1, socket_timeout=1).ping()
PY
}

REDIS_PID=""
SEED_PID=""
# Each kill may fail (the seed is usually long done) and must not end the cleanup under set -e
# before the private Redis is stopped.
cleanup() {
  if [ -n "$RUN_FILE" ]; then rm -f "$RUN_FILE"; fi
  if [ -n "$SEED_PID" ]; then kill "$SEED_PID" 2>/dev/null || true; fi
  if [ -n "$REDIS_PID" ]; then kill "$REDIS_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

if ! redis_answers "$REDIS_URL"; then
  if command -v redis-server >/dev/null 2>&1; then
    port=$($BIN/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
      --logfile "$PWD/var/redis.log" >/dev/null &
    REDIS_PID=$!
    export REDIS_URL="redis://127.0.0.1:${port}/0"
    for _ in $(seq 50); do redis_answers "$REDIS_URL" && break; sleep 0.1; done
    redis_answers "$REDIS_URL" || { echo "Could not start redis-server (see var/redis.log)." >&2; exit 1; }
    echo "Redis was not answering; started a private redis-server on port ${port}."
  else
    echo "Redis is not answering at ${REDIS_URL}: install it (e.g. 'apt-get install redis-server' or 'brew install redis') or set REDIS_URL." >&2
    exit 1
  fi
fi
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-$REDIS_URL}"

# The addresses every process below is given, for a manage.py command in another terminal, which
# reads this file after the env file (config/settings.py): that holds no ports, and without them
# such a command called the default sandbox port and Redis database instead of this run's.
# `.env.run`, or `<file>.run` beside the file ENV_FILE names (none when ENV_FILE is empty: no
# command would read it). Removed when the run ends (cleanup).
if [ -n "$RUN_FILE" ]; then
  {
    echo "# Written by 'make run' while it runs: the addresses it gave its processes."
    for name in WEB_PORT INTEGRATOR_API_URL INTEGRATOR_US_API_URL INTEGRATOR_EU_API_URL \
      REDIS_URL CELERY_BROKER_URL; do
      echo "${name}=${!name}"
    done
  } > "$RUN_FILE"
fi

# Prometheus metrics (docs/operations.md): the web server and the worker record into one
# directory, emptied at each start (prometheus_client's multiprocess mode); /metrics at the web
# server adds them up, for the holder of METRICS_TOKEN (written to a new .env and printed in the banner; unset,
# /metrics is a 404).
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$PWD/var/prometheus}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

$BIN/python manage.py migrate --noinput >/dev/null
# The demo template's first version is published with a snapshot of its integration, read from
# the sandbox that honcho starts: the seed waits for it in the background (and prints the
# logins once done). Only the first run publishes; later runs find the template and go on.
# --eu: a second demo account in the EU region (the sandbox's), with the template on it too.
$BIN/python manage.py seed_demo --web-url "http://127.0.0.1:${WEB_PORT}" \
  --sandbox-url "http://127.0.0.1:${SANDBOX_PORT}" --wait 60 --eu &
SEED_PID=$!

# A stop asked for (Ctrl-C, or SIGTERM to honcho) is a normal end: honcho then exits 130 or 143,
# which make reported as "make: *** [Makefile:9: run] Error 130", a failure to a newcomer. Any
# other status is a real one (a process that died during start-up) and is passed on.
#
# honcho runs in the background, waited for, so that a SIGTERM to this script (make passes its
# own on to it, and to no one else: a supervisor's stop, `timeout make run`) is passed on to
# honcho at once; a shell waiting for a command in the foreground died of it instead, and left
# honcho and every process running, their ports taken. Ctrl-C reaches honcho from the terminal
# itself: the shell only waits for it to finish stopping. So does the SIGHUP of a terminal that
# closes: honcho runs under scripts/honcho_start.py, which takes it as a stop (honcho alone died
# of it, and left every process running) and drops the output the hung-up terminal refuses.
HONCHO_PID=""
STOPPING=""
stop_honcho() {
  STOPPING=1
  if [ -n "$HONCHO_PID" ]; then kill -TERM "$HONCHO_PID" 2>/dev/null || true; fi
}
trap stop_honcho TERM HUP
trap 'STOPPING=1' INT
$BIN/python scripts/honcho_start.py -f Procfile --env /dev/null &
HONCHO_PID=$!
if [ -n "$STOPPING" ]; then stop_honcho; fi
status=0
wait "$HONCHO_PID" || status=$?
# A trapped signal ends the wait, not honcho: wait again until honcho has stopped everything.
while kill -0 "$HONCHO_PID" 2>/dev/null; do
  status=0
  wait "$HONCHO_PID" || status=$?
done
case "$status" in
  130 | 143)
    echo "make run stopped: every process has exited."
    exit 0
    ;;
esac
exit "$status"
