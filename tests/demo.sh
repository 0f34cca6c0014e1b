#!/usr/bin/env bash
# tests/demo.sh start|stop - the demo behind `make demo` and `make demo-stop`: a PostgreSQL
# master with two streaming replicas and pgrelay in front of them, all on 127.0.0.1.
#
#   DEMO_PORT     pgrelay's port (default 6432)
#   DEMO_PG_PORT  the master's port (default 55432); the replicas use the next two ports
#   DEMO_METRICS_PORT  the /metrics and /health listener (default 9187)
#   DEMO_DIR      where data, logs and the generated proxy.ini live (default .demo in the
#                 checkout)
#   PGRELAY_BIN   the pgrelay binary (default ./pgrelay in the checkout)
#
# `start` creates the cluster or reuses the one in DEMO_DIR, and starts whatever is not
# running; running it again changes nothing. `stop` stops pgrelay and the three servers.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib/cluster.sh"

DEMO_PORT=${DEMO_PORT:-6432}
DEMO_PG_PORT=${DEMO_PG_PORT:-55432}
DEMO_METRICS_PORT=${DEMO_METRICS_PORT:-9187}
DEMO_DIR=${DEMO_DIR:-$ROOT/.demo}
case "$DEMO_DIR" in
/*) ;;
*) DEMO_DIR=$PWD/$DEMO_DIR ;;
esac
PGRELAY_BIN=${PGRELAY_BIN:-$ROOT/pgrelay}

demo_start() {
	if [ ! -x "$PGRELAY_BIN" ]; then
		echo "demo: $PGRELAY_BIN is missing; build it with make" >&2
		exit 1
	fi
	echo "demo: starting PostgreSQL in $DEMO_DIR (master n0 on $DEMO_PG_PORT," \
		"replicas n1/n2 on $((DEMO_PG_PORT + 1))/$((DEMO_PG_PORT + 2)))"
	cluster_create "$DEMO_DIR" "$DEMO_PG_PORT"
	cluster_wait_replicas "$DEMO_DIR"

	if pid=$(proxy_pid "$DEMO_DIR"); then
		echo "demo: pgrelay already running (pid $pid)"
	else
		proxy_write_ini "$DEMO_DIR" "$DEMO_PORT" "metrics_port = $DEMO_METRICS_PORT" \
			"state_file = $(realpath "$DEMO_DIR")/pgrelay.state" </dev/null
		proxy_start "$DEMO_DIR" "$PGRELAY_BIN"
		echo "demo: pgrelay started (pid $(proxy_pid "$DEMO_DIR"))"
	fi

	local pport
	pport=$(proxy_port "$DEMO_DIR")
	cat <<EOF

pgrelay listens on 127.0.0.1:$pport (config $DEMO_DIR/proxy.ini, log $DEMO_DIR/pgrelay.log).
Connect with:
    psql postgresql://postgres:postgres@127.0.0.1:$pport/postgres
The admin console (try SHOW NODES, SHOW HELP, PROMOTE n1):
    psql postgresql://postgres:postgres@127.0.0.1:$pport/pgrelay
Metrics and health:
    curl http://127.0.0.1:$(sed -n 's/^metrics_port = //p' "$DEMO_DIR/proxy.ini")/metrics
The servers directly (same user and password): master on port $(cluster_port "$DEMO_DIR" n0),
replicas on $(cluster_port "$DEMO_DIR" n1) and $(cluster_port "$DEMO_DIR" n2); their logs are $DEMO_DIR/n*.log.
Stop everything with:
    make demo-stop        (or: bash tests/demo.sh stop)
EOF
}

demo_stop() {
	if [ ! -f "$DEMO_DIR/ports" ]; then
		echo "demo: nothing to stop in $DEMO_DIR"
		return 0
	fi
	proxy_stop "$DEMO_DIR"
	cluster_stop "$DEMO_DIR"
	echo "demo: stopped pgrelay and the servers in $DEMO_DIR (data kept; rm -rf it to start afresh)"
}

case "${1:-}" in
start) demo_start ;;
stop) demo_stop ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
