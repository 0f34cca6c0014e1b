#!/usr/bin/env bash
# tests/integration/run.sh - the integration suite behind `make test-integration`: creates one
# temporary PostgreSQL cluster (master + 2 streaming replicas, tests/lib/cluster.sh) and one
# pgrelay in front of it, builds the helper programs (pipeline.c), then runs every
# tests/integration/t_*.sh with a time limit, printing "ok - NAME" or "not ok - NAME" (and the
# test's output) for each and a final "N passed, N failed" line. Exits 1 when a test failed.
#
#   PGRELAY_BIN     the binary under test (default ./pgrelay in the checkout, built if missing)
#   IT_ONLY         a regular expression: run only the tests whose name matches
#   IT_TIMEOUT      seconds one test may take (default 120)
#   IT_KEEP=1       keep the work directory (logs, cluster) instead of removing it
#
# Each test gets PROXY_PORT, MASTER_PORT, CLUSTER_DIR, PGRELAY_BIN, BUILD_DIR and WORK_DIR in
# its environment and sources tests/integration/lib.sh.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
IT_DIR=$ROOT/tests/integration
# shellcheck source=../lib/cluster.sh
source "$ROOT/tests/lib/cluster.sh"

PGRELAY_BIN=${PGRELAY_BIN:-$ROOT/pgrelay}
IT_ONLY=${IT_ONLY:-}
IT_TIMEOUT=${IT_TIMEOUT:-120}

if [ ! -x "$PGRELAY_BIN" ]; then
	echo "run.sh: building $PGRELAY_BIN"
	make -C "$ROOT" pgrelay >/dev/null || {
		echo "run.sh: make failed" >&2
		exit 1
	}
fi
PGRELAY_BIN=$(realpath "$PGRELAY_BIN")

WORK_DIR=$(mktemp -d /tmp/pgrelay-it.XXXXXX)
chmod 755 "$WORK_DIR"
CLUSTER_DIR=$WORK_DIR/cluster
BUILD_DIR=$WORK_DIR/build
LOG_DIR=$WORK_DIR/logs
mkdir -p "$BUILD_DIR" "$LOG_DIR" "$WORK_DIR/extra"
CLUSTER_STARTED=no

cleanup() {
	local d
	set +e
	trap - EXIT INT TERM
	# extra pgrelay instances a test started and could not stop (killed by the timeout)
	for d in "$WORK_DIR"/extra/*/; do
		[ -f "$d/proxy.ini" ] && PROXY_STOP_TIMEOUT=5 proxy_stop "$d"
	done
	PROXY_STOP_TIMEOUT=10 proxy_stop "$CLUSTER_DIR"
	if [ "$CLUSTER_STARTED" = yes ]; then
		cluster_stop "$CLUSTER_DIR"
	fi
	if [ "${IT_KEEP:-0}" = 1 ]; then
		echo "run.sh: kept $WORK_DIR"
	else
		rm -rf "$WORK_DIR"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

setup_failed() {
	echo "run.sh: setup failed: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

# ---- the cluster and the main pgrelay ------------------------------------------------
start_time=$SECONDS
base=$(free_port_block 3) || setup_failed "no free ports"
CLUSTER_STARTED=yes
CLUSTER_FAST=1 cluster_create "$CLUSTER_DIR" "$base" >"$LOG_DIR/cluster.log" 2>&1 || {
	cat "$LOG_DIR/cluster.log" >&2
	setup_failed "cluster_create"
}
cluster_wait_replicas "$CLUSTER_DIR" || setup_failed "replicas not streaming"
# Replication is asynchronous: reads go to the replicas, and tests that compare results with
# a direct connection rely on read-your-writes (each session sees its own commits) and on
# cluster_wait_replay after writes made directly on the master.
MASTER_PORT=$(cluster_port "$CLUSTER_DIR" n0)

PROXY_PORT=$(free_port_block 1) || setup_failed "no free port"
proxy_write_ini "$CLUSTER_DIR" "$PROXY_PORT" </dev/null || setup_failed "proxy_write_ini"
proxy_start "$CLUSTER_DIR" "$PGRELAY_BIN" || setup_failed "proxy_start"

# ---- helper programs -------------------------------------------------------------------
if pkg-config --exists libpq 2>/dev/null; then
	PQFLAGS=$(pkg-config --cflags --libs libpq)
else
	PQFLAGS="-I$(pg_config --includedir) -lpq"
fi
# shellcheck disable=SC2086
cc -std=c11 -Wall -Werror -o "$BUILD_DIR/pipeline" "$IT_DIR/pipeline.c" $PQFLAGS \
	>"$LOG_DIR/pipeline-build.log" 2>&1 || {
	cat "$LOG_DIR/pipeline-build.log" >&2
	echo "run.sh: pipeline.c did not compile; t_pipeline will fail" >&2
}
echo "run.sh: cluster on $MASTER_PORT-$((MASTER_PORT + 2)), pgrelay on $PROXY_PORT" \
	"(setup took $((SECONDS - start_time)) s)"

export PROXY_PORT MASTER_PORT CLUSTER_DIR PGRELAY_BIN BUILD_DIR WORK_DIR

# ---- the tests -------------------------------------------------------------------------
passed=0
failed=0
failed_names=()
for t in "$IT_DIR"/t_*.sh; do
	name=$(basename "$t" .sh)
	name=${name#t_}
	if [ -n "$IT_ONLY" ] && ! [[ $name =~ $IT_ONLY ]]; then
		continue
	fi
	out=$LOG_DIR/$name.out
	t0=$SECONDS
	# A test that stops answering gets SIGTERM (its EXIT trap cleans up), SIGKILL 10 s later.
	timeout -k 10 "$IT_TIMEOUT" bash "$t" >"$out" 2>&1 </dev/null
	rc=$?
	dt=$((SECONDS - t0))
	if [ $rc -eq 0 ]; then
		echo "ok - $name (${dt}s)"
		passed=$((passed + 1))
	else
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			echo "not ok - $name (timed out after ${IT_TIMEOUT}s)"
		else
			echo "not ok - $name (exit $rc, ${dt}s)"
		fi
		sed -e 's/^/#   /' "$out"
		failed=$((failed + 1))
		failed_names+=("$name")
	fi
	# The main pgrelay must survive every test.
	if ! proxy_pid "$CLUSTER_DIR" >/dev/null; then
		echo "not ok - pgrelay-alive-after-$name (the main pgrelay died)"
		tail -n 30 "$CLUSTER_DIR/pgrelay.log" | sed -e 's/^/#   /'
		failed=$((failed + 1))
		failed_names+=("pgrelay-alive-after-$name")
		proxy_start "$CLUSTER_DIR" "$PGRELAY_BIN" >/dev/null 2>&1 || break
	fi
done

if [ $failed -gt 0 ]; then
	echo "# failed: ${failed_names[*]}"
	echo "# pgrelay log: last lines"
	tail -n 20 "$CLUSTER_DIR/pgrelay.log" | sed -e 's/^/#   /'
fi
echo "# total time $((SECONDS - start_time)) s"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
