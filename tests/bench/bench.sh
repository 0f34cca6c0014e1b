#!/usr/bin/env bash
# tests/bench/bench.sh - the benchmark behind `make bench` (not a test): select-only pgbench
# directly against the master, through pgrelay and through PgBouncer (session mode), with 16
# clients and with 1 client, interleaved round by round. Prints throughput, latency, the
# proxy's CPU time per transaction and the ratios to the direct connection.
#
#   BENCH_ROUNDS        rounds (default 1)
#   BENCH_SECONDS       seconds per pgbench run (default 15)
#   BENCH_MODE          pgbench -M: simple, extended or prepared (default simple)
#   BENCH_TARGETS       any of "direct pgrelay pgbouncer" (default all three)
#   BENCH_SCALE         pgbench -i scale (default 10)
#   BENCH_CLUSTER_DIR   use (create or start) the cluster there instead of a temporary one;
#                       it is left running
#   PGRELAY_BIN         the binary (default ./pgrelay)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/tests/lib/cluster.sh"

BENCH_ROUNDS=${BENCH_ROUNDS:-1}
BENCH_SECONDS=${BENCH_SECONDS:-15}
BENCH_MODE=${BENCH_MODE:-simple}
BENCH_TARGETS=${BENCH_TARGETS:-direct pgrelay pgbouncer}
BENCH_SCALE=${BENCH_SCALE:-10}
PGRELAY_BIN=${PGRELAY_BIN:-$ROOT/pgrelay}
PGBOUNCER=/usr/sbin/pgbouncer
BENCH_DB=bench
CLIENTS="16 1"
CLK_TCK=$(getconf CLK_TCK)

for t in $BENCH_TARGETS; do
	case "$t" in
	direct | pgrelay | pgbouncer) ;;
	*)
		echo "bench: unknown target '$t' (use direct, pgrelay, pgbouncer)" >&2
		exit 2
		;;
	esac
done
wants() {
	case " $BENCH_TARGETS " in
	*" $1 "*) return 0 ;;
	*) return 1 ;;
	esac
}
if wants pgrelay && [ ! -x "$PGRELAY_BIN" ]; then
	echo "bench: $PGRELAY_BIN is missing; build it with make" >&2
	exit 1
fi

WORK=$(mktemp -d /tmp/pgrelay-bench.XXXXXX)
chmod 755 "$WORK"
CLUSTER=""
OWN_CLUSTER=no
PROXY_DIR=$WORK/proxy
BOUNCER_DIR=$WORK/pgbouncer
BOUNCER_PID=""
BOUNCER_JOB=""

stop_pgbouncer() {
	[ -n "$BOUNCER_PID" ] || return 0
	kill -TERM "$BOUNCER_PID" 2>/dev/null || true
	if ! wait_until 10 _proxy_gone "$BOUNCER_PID"; then
		kill -KILL "$BOUNCER_PID" 2>/dev/null || true
	fi
	wait "$BOUNCER_JOB" 2>/dev/null || true
	BOUNCER_PID=""
}

cleanup() {
	set +e
	stop_pgbouncer
	proxy_stop "$PROXY_DIR"
	if [ "$OWN_CLUSTER" = yes ]; then
		cluster_stop "$CLUSTER"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

# ---- setup ---------------------------------------------------------------------------------

cluster_use "${BENCH_CLUSTER_DIR:-}" "$WORK"
MASTER_PORT=$(cluster_port "$CLUSTER" n0)

echo "bench: pgbench -i -s $BENCH_SCALE in database $BENCH_DB on the master (port $MASTER_PORT)"
if [ -z "$(cluster_psql "$CLUSTER" n0 -At -c \
	"SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'")" ]; then
	cluster_psql "$CLUSTER" n0 -c "CREATE DATABASE $BENCH_DB"
fi
PGPASSWORD=postgres "$PGBIN/pgbench" -h 127.0.0.1 -p "$MASTER_PORT" -U postgres \
	-i -s "$BENCH_SCALE" -q "$BENCH_DB" >"$WORK/pgbench-init.log" 2>&1 || {
	cat "$WORK/pgbench-init.log" >&2
	exit 1
}
cluster_wait_replay "$CLUSTER"

declare -A PORT PID
PORT[direct]=$MASTER_PORT
PID[direct]=""

if wants pgrelay; then
	mkdir -p "$PROXY_DIR"
	cp "$CLUSTER/ports" "$PROXY_DIR/ports"
	PORT[pgrelay]=$(free_port_block 1)
	proxy_write_ini "$PROXY_DIR" "${PORT[pgrelay]}" <<<"pool_size = 20"
	proxy_start "$PROXY_DIR" "$PGRELAY_BIN"
	PID[pgrelay]=$(proxy_pid "$PROXY_DIR")
	echo "bench: pgrelay on port ${PORT[pgrelay]} (pid ${PID[pgrelay]})"
fi

if wants pgbouncer; then
	mkdir -p "$BOUNCER_DIR"
	PORT[pgbouncer]=$(free_port_block 1)
	printf '"postgres" "postgres"\n' >"$BOUNCER_DIR/userlist.txt"
	cat >"$BOUNCER_DIR/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=$MASTER_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${PORT[pgbouncer]}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $BOUNCER_DIR/userlist.txt
pool_mode = session
default_pool_size = 20
max_client_conn = 100
logfile = $BOUNCER_DIR/pgbouncer.log
pidfile = $BOUNCER_DIR/pgbouncer.pid
EOF
	if [ "$(id -u)" -eq 0 ]; then
		# PgBouncer refuses to run as root.
		chown -R postgres: "$BOUNCER_DIR"
	fi
	# In the foreground, but in the background of this script; its own PID is in the pidfile
	# (when root, $! is the PID of runuser).
	run_as_pg "$PGBOUNCER" "$BOUNCER_DIR/pgbouncer.ini" </dev/null \
		>"$BOUNCER_DIR/stderr.log" 2>&1 &
	BOUNCER_JOB=$!
	if ! wait_until 10 pg_isready -q -h 127.0.0.1 -p "${PORT[pgbouncer]}" -t 1 ||
		! [ -s "$BOUNCER_DIR/pgbouncer.pid" ]; then
		echo "bench: pgbouncer did not start" >&2
		tail -n 20 "$BOUNCER_DIR/stderr.log" "$BOUNCER_DIR/pgbouncer.log" >&2 || true
		BOUNCER_PID=$(cat "$BOUNCER_DIR/pgbouncer.pid" 2>/dev/null || true)
		exit 1
	fi
	BOUNCER_PID=$(cat "$BOUNCER_DIR/pgbouncer.pid")
	PID[pgbouncer]=$BOUNCER_PID
	echo "bench: pgbouncer on port ${PORT[pgbouncer]} (pid $BOUNCER_PID)"
fi

# ---- runs ----------------------------------------------------------------------------------

# cpu_ticks PID: user + system CPU time of PID so far, in clock ticks.
cpu_ticks() {
	[ -r "/proc/$1/stat" ] || return 1
	sed -e 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

declare -A TPS LAT CPU
failed=0

# run_one ROUND TARGET CLIENTS
run_one() {
	local round=$1 target=$2 clients=$3
	local key=$round:$target:$clients
	local jobs=1 pid=${PID[$target]} before=0 after=0 log tx
	if [ "$clients" -ge 2 ]; then
		jobs=2
	fi
	log=$WORK/run-$round-$target-$clients.log
	if [ -n "$pid" ]; then
		before=$(cpu_ticks "$pid") || pid=""
	fi
	if ! PGPASSWORD=postgres "$PGBIN/pgbench" -h 127.0.0.1 -p "${PORT[$target]}" -U postgres \
		-S -n -c "$clients" -j "$jobs" -T "$BENCH_SECONDS" -M "$BENCH_MODE" "$BENCH_DB" \
		>"$log" 2>&1; then
		echo "bench: pgbench failed for $target with $clients clients:" >&2
		tail -n 10 "$log" >&2
		failed=1
		return 0
	fi
	if [ -n "$pid" ]; then
		after=$(cpu_ticks "$pid") || pid=""
	fi
	TPS[$key]=$(sed -n -e 's/^tps = \([0-9.]*\) .*/\1/p' "$log" | awk '{ printf "%.0f", $1 }')
	LAT[$key]=$(sed -n -e 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$log")
	tx=$(sed -n -e 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$log")
	if [ -n "$pid" ] && [ -n "$tx" ] && [ "$tx" -gt 0 ]; then
		CPU[$key]=$(awk -v d=$((after - before)) -v hz="$CLK_TCK" -v n="$tx" \
			'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
	fi
	echo "bench: round $round, $target, $clients clients: ${TPS[$key]:-?} tps," \
		"${LAT[$key]:-?} ms" >&2
}

echo "bench: $BENCH_ROUNDS round(s), $BENCH_SECONDS s per run, -M $BENCH_MODE," \
	"targets: $BENCH_TARGETS"
for round in $(seq 1 "$BENCH_ROUNDS"); do
	for target in $BENCH_TARGETS; do
		for clients in $CLIENTS; do
			run_one "$round" "$target" "$clients"
		done
	done
done

# ---- table ---------------------------------------------------------------------------------

# ratio A B: A / B with two decimals, or "-" when either is missing.
ratio() {
	if [ -z "$1" ] || [ -z "$2" ]; then
		echo -
		return
	fi
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}

echo
printf '%-5s %-10s %7s %10s %8s %11s %9s %9s\n' round target clients tps "lat ms" \
	"cpu us/tx" "tps/dir" "lat/dir"
for round in $(seq 1 "$BENCH_ROUNDS"); do
	for target in $BENCH_TARGETS; do
		for clients in $CLIENTS; do
			key=$round:$target:$clients
			dkey=$round:direct:$clients
			printf '%-5s %-10s %7s %10s %8s %11s %9s %9s\n' "$round" "$target" "$clients" \
				"${TPS[$key]:-FAILED}" "${LAT[$key]:--}" "${CPU[$key]:--}" \
				"$(ratio "${TPS[$key]:-}" "${TPS[$dkey]:-}")" \
				"$(ratio "${LAT[$key]:-}" "${LAT[$dkey]:-}")"
		done
	done
done
exit $failed
