#!/usr/bin/env bash
# tests/integration/regress.sh - runs PostgreSQL's regression suite (../shared/pgregress,
# schedule proxy_schedule) twice on one cluster with asynchronous replicas: directly against
# the master, and through pgrelay with reads on the replicas (read-your-writes on, as by
# default). It passes when both sides pass and fail the same tests and write identical
# results/*.out files, and no statement was refused by a replica as a write (25006). It
# reports the share of routed units the replicas answered.
#
#   REGRESS_ONLY=direct    run only the direct side (passes when every test passes)
#   REGRESS_ONLY=pgrelay   run only the pgrelay side (same)
#   REGRESS_CLUSTER_DIR    use (create or start) the cluster there instead of a temporary one;
#                          it is left running
#   PGREGRESS_DIR          the suite (default ../shared/pgregress next to the checkout)
#   PGRELAY_BIN            the binary (default ./pgrelay)
#   REGRESS_TIMEOUT        seconds one pg_regress run may take (default 900)
#   REGRESS_KEEP=1         keep the work directory (outputs, logs) at the end
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/tests/lib/cluster.sh"

SUITE_SRC=${PGREGRESS_DIR:-$ROOT/../shared/pgregress}
PGRELAY_BIN=${PGRELAY_BIN:-$ROOT/pgrelay}
REGRESS_ONLY=${REGRESS_ONLY:-}
REGRESS_TIMEOUT=${REGRESS_TIMEOUT:-900}
PG_REGRESS=$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress

case "$REGRESS_ONLY" in
"" | direct | pgrelay) ;;
*)
	echo "regress: REGRESS_ONLY must be direct or pgrelay" >&2
	exit 2
	;;
esac
if [ ! -f "$SUITE_SRC/proxy_schedule" ]; then
	echo "regress: no regression suite at $SUITE_SRC" >&2
	exit 1
fi
if [ "$REGRESS_ONLY" != direct ] && [ ! -x "$PGRELAY_BIN" ]; then
	echo "regress: $PGRELAY_BIN is missing; build it with make" >&2
	exit 1
fi

WORK=$(mktemp -d /tmp/pgrelay-regress.XXXXXX)
chmod 755 "$WORK"
CLUSTER=""       # the cluster directory
OWN_CLUSTER=no   # did this script create the cluster (and so must stop and remove it)?
PROXY_DIR=$WORK/proxy

cleanup() {
	set +e
	proxy_stop "$PROXY_DIR"
	if [ "$OWN_CLUSTER" = yes ]; then
		cluster_stop "$CLUSTER"
	fi
	if [ "${REGRESS_KEEP:-0}" = 1 ]; then
		echo "regress: work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

# ---- cluster, suite and pgrelay ------------------------------------------------------------

cluster_use "${REGRESS_CLUSTER_DIR:-}" "$WORK"
MASTER_PORT=$(cluster_port "$CLUSTER" n0)

# The server reads data/ and writes results/ (server-side COPY, lo_import/lo_export), so the
# suite and the output directories belong to postgres.
cp -r "$SUITE_SRC" "$WORK/suite"
chmod -R u+w "$WORK/suite"
if [ "$(id -u)" -eq 0 ]; then
	chown -R postgres: "$WORK/suite"
fi
SUITE=$WORK/suite
TOTAL=$(grep '^test:' "$SUITE/proxy_schedule" | sed -e 's/^test://' | wc -w)

# pgrelay gets a directory of its own (config, log, pid) with a copy of the cluster's ports.
mkdir -p "$PROXY_DIR"
cp "$CLUSTER/ports" "$PROXY_DIR/ports"
PROXY_PORT=""
if [ "$REGRESS_ONLY" != direct ]; then
	PROXY_PORT=$(free_port_block 1)
	# pg_regress runs up to 20 sessions at once, and a few tests open a second one.
	proxy_write_ini "$PROXY_DIR" "$PROXY_PORT" <<<"pool_size = 40"
	proxy_start "$PROXY_DIR" "$PGRELAY_BIN"
fi

# ---- one run ------------------------------------------------------------------------------

master_sql() {
	cluster_psql "$CLUSTER" n0 -v ON_ERROR_STOP=1 "$@"
}

# Removes what a previous (maybe interrupted) run left behind and creates the regression
# database the way pg_regress itself would.
prepare_database() {
	local sub db stmt
	# Subscriptions keep their database from being dropped.
	master_sql -At -F ' ' -c "SELECT s.subname, d.datname FROM pg_subscription s
		JOIN pg_database d ON d.oid = s.subdbid
		WHERE d.datname = 'regression' OR d.datname LIKE 'regression\_%'
		   OR d.datname LIKE 'regress\_%'" |
		while read -r sub db; do
			master_sql -d "$db" <<EOF
ALTER SUBSCRIPTION "$sub" DISABLE;
ALTER SUBSCRIPTION "$sub" SET (slot_name = NONE);
DROP SUBSCRIPTION "$sub";
EOF
		done
	# A prepared transaction is ended from its own database.
	master_sql -At -F ' ' -c "SELECT database, format('ROLLBACK PREPARED %L', gid)
		FROM pg_prepared_xacts" |
		while read -r db stmt; do
			master_sql -d "$db" -c "$stmt" </dev/null
		done
	master_sql <<'EOF'
SELECT format('DROP DATABASE %I WITH (FORCE)', datname) FROM pg_database
 WHERE datname = 'regression' OR datname LIKE 'regression\_%' OR datname LIKE 'regress\_%'
\gexec
SELECT format('DROP TABLESPACE %I', spcname) FROM pg_tablespace
 WHERE spcname LIKE 'regress\_%'
\gexec
SELECT format('DROP OWNED BY %I', rolname) FROM pg_roles
 WHERE rolname LIKE 'regress\_%' OR rolname LIKE 'regression\_%'
\gexec
SELECT format('DROP ROLE %I', rolname) FROM pg_roles
 WHERE rolname LIKE 'regress\_%' OR rolname LIKE 'regression\_%'
\gexec
CREATE DATABASE regression TEMPLATE = template0 ENCODING = 'UTF8'
    LC_COLLATE = 'C' LC_CTYPE = 'C';
ALTER DATABASE regression SET lc_messages TO 'C';
ALTER DATABASE regression SET lc_monetary TO 'C';
ALTER DATABASE regression SET lc_numeric TO 'C';
ALTER DATABASE regression SET lc_time TO 'C';
ALTER DATABASE regression SET bytea_output TO 'hex';
ALTER DATABASE regression SET timezone_abbreviations TO 'Default';
EOF
	# Reads may go to the replicas: let them see the new database first.
	cluster_wait_replay "$CLUSTER"
}

# run_side NAME PORT: runs the suite against 127.0.0.1:PORT into $WORK/out-NAME and writes
# $WORK/NAME.status, lines "TEST STATUS" sorted by test name.
run_side() {
	local name=$1 port=$2
	local out=$WORK/out-$name
	local started=$SECONDS rc=0
	echo "regress: running the suite $name (port $port)"
	prepare_database
	mkdir -p "$out"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$out"
	fi
	run_as_pg timeout -k 10 "$REGRESS_TIMEOUT" env PGPASSWORD=postgres \
		"$PG_REGRESS" --use-existing --host=127.0.0.1 --port="$port" --user=postgres \
		--dbname=regression --inputdir="$SUITE" --outputdir="$out" \
		--dlpath="$(pg_config --pkglibdir)" --bindir="$(pg_config --bindir)" \
		--schedule="$SUITE/proxy_schedule" --max-connections=20 \
		>"$WORK/$name.log" 2>&1 || rc=$?
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "regress: $name run timed out after $REGRESS_TIMEOUT s" >&2
	fi
	# Test lines look like "test NAME ... ok 12 ms", "     NAME ... FAILED 12 ms" or
	# "     NAME ... failed (ignored) 12 ms".
	awk '$2 == "..." || $3 == "..." {
		i = ($2 == "...") ? 2 : 3
		status = $(i + 1)
		if (status == "failed")
			status = "failed-ignored"
		print $(i - 1), status
	}' "$WORK/$name.log" | LC_ALL=C sort >"$WORK/$name.status"
	echo "regress: $name: $(count_ok "$name")/$TOTAL ok in $((SECONDS - started)) s" \
		"(pg_regress exit $rc)"
}

count_ok() {
	grep -c ' ok$' "$WORK/$1.status" || true
}

# Prints the start of pg_regress's own diffs (against the expected files) of a side.
show_failures() {
	local name=$1
	local diffs=$WORK/out-$name/regression.diffs
	grep -v ' ok$' "$WORK/$name.status" | sed -e "s/^/regress: $name: /" || true
	if [ -s "$diffs" ]; then
		echo "---- first lines of $name's regression.diffs ----"
		head -n 100 "$diffs"
	fi
	if [ ! -s "$WORK/$name.status" ]; then
		echo "---- end of the $name pg_regress log ----"
		tail -n 30 "$WORK/$name.log"
	fi
}

# replication_mode sync|async: with sync, every commit on the master waits until both
# replicas have applied it (synchronous_commit = remote_apply), so reads that pgrelay sends to
# a replica see the session's own writes; that isolates routing from replication lag.
replication_mode() {
	if [ "$1" = sync ]; then
		master_sql -q -c "ALTER SYSTEM SET synchronous_standby_names = 'ANY 2 (*)'" \
			-c "ALTER SYSTEM SET synchronous_commit = 'remote_apply'" -c "SELECT pg_reload_conf()"
	else
		master_sql -q -c "ALTER SYSTEM RESET synchronous_standby_names" \
			-c "ALTER SYSTEM RESET synchronous_commit" -c "SELECT pg_reload_conf()"
	fi >/dev/null
}

# Statements a replica refused as writes (25006, "cannot execute ... in a read-only
# transaction") beyond those the expected output has: each one is a misroute a client saw.
count_25006() {
	local name=$1 t exp got total=0
	for t in $(awk '{print $1}' "$WORK/$name.status"); do
		[ -f "$WORK/out-$name/results/$t.out" ] || continue
		exp=$(grep -c 'in a read-only transaction' "$SUITE/expected/$t.out" 2>/dev/null || true)
		got=$(grep -c 'in a read-only transaction' "$WORK/out-$name/results/$t.out" || true)
		if [ "$got" -gt "$exp" ]; then
			echo "regress: $name: $t: $((got - exp)) unexpected 25006" >&2
			total=$((total + got - exp))
		fi
	done
	echo "$total"
}

# ---- run and compare ----------------------------------------------------------------------

if [ "$REGRESS_ONLY" = direct ]; then
	run_side direct "$MASTER_PORT"
	n=$(count_ok direct)
	echo "regress: direct $n/$TOTAL ok"
	if [ "$n" -ne "$TOTAL" ]; then
		show_failures direct
		exit 1
	fi
	exit 0
fi
if [ "$REGRESS_ONLY" = pgrelay ]; then
	replication_mode "${REGRESS_REPLICATION:-async}"
	run_side pgrelay "$PROXY_PORT"
	replication_mode async
	n=$(count_ok pgrelay)
	echo "regress: pgrelay $n/$TOTAL ok"
	if [ "$n" -ne "$TOTAL" ]; then
		show_failures pgrelay
		exit 1
	fi
	exit 0
fi

run_side direct "$MASTER_PORT"
replication_mode async
run_side pgrelay "$PROXY_PORT"
n_25006=$(count_25006 pgrelay)
# the share of statements the replicas answered, from the routing counters
kill -USR1 "$(proxy_pid "$PROXY_DIR")"
sleep 1
awk '/route-stats: node=/ && /count=/ {
	n = $0; sub(/.*node=/, "", n); sub(/ .*/, "", n)
	c = $0; sub(/.*count=/, "", c)
	if (n == "n0") m += c; else r += c
} END { if (m + r) printf "regress: replicas answered %d of %d routed units (%.1f%%)\n", r, m + r, 100 * r / (m + r) }' \
	"$PROXY_DIR/pgrelay.log"
n_direct=$(count_ok direct)
n_proxy=$(count_ok pgrelay)
same=yes

# Lines "TEST DIRECT_STATUS PGRELAY_STATUS" for the tests whose status differs.
LC_ALL=C join -a 1 -a 2 -e missing -o 0,1.2,2.2 "$WORK/direct.status" "$WORK/pgrelay.status" |
	awk '$2 != $3' >"$WORK/status.diff"
if [ -s "$WORK/status.diff" ]; then
	same=no
	echo "---- $(wc -l <"$WORK/status.diff") tests whose status differs (test, direct, pgrelay) ----"
	head -n 60 "$WORK/status.diff" | awk '{ printf "  %-28s %-16s %s\n", $1, $2, $3 }'
fi
if [ ! -s "$WORK/direct.status" ]; then
	same=no
	show_failures direct
fi

# Every results/*.out of either side must exist on the other and be identical.
outs=$( (cd "$WORK/out-direct/results" 2>/dev/null && ls -- *.out 2>/dev/null
	cd "$WORK/out-pgrelay/results" 2>/dev/null && ls -- *.out 2>/dev/null) | sort -u)
differing=""
for f in $outs; do
	if ! cmp -s "$WORK/out-direct/results/$f" "$WORK/out-pgrelay/results/$f"; then
		differing+=" $f"
	fi
done
if [ -n "$differing" ]; then
	same=no
	echo "---- $(echo "$differing" | wc -w) results/*.out differ" \
		"(- direct, + pgrelay; first 300 lines) ----"
	for f in $differing; do
		diff -u "$WORK/out-direct/results/$f" "$WORK/out-pgrelay/results/$f" || true
	done | head -n 300
fi

# A test passes here when pgrelay gives it the same status and the same output as direct.
# REGRESS_KNOWN_DIFF can name tests to excuse while investigating; there are none.
KNOWN_DIFF=${REGRESS_KNOWN_DIFF-}
bad_list=$({
	awk '{ print $1 }' "$WORK/status.diff" 2>/dev/null
	for f in $differing; do echo "${f%.out}"; done
} | sort -u)
known=""
for t in $KNOWN_DIFF; do
	if grep -qx "$t" <<<"$bad_list"; then
		known+=" $t"
		bad_list=$(grep -vx "$t" <<<"$bad_list" || true)
	fi
done
n_bad=$(grep -c . <<<"$bad_list" || true)
if [ "$n_bad" -eq 0 ] && [ "$n_25006" -eq 0 ]; then
	echo "regress: direct $n_direct/$TOTAL ok, pgrelay $n_proxy/$TOTAL ok," \
		"identical except the known differences:${known:- none}"
	n_known=$(wc -w <<<"$known")
	echo "regress: $((TOTAL - n_bad - n_known)) passed, $n_bad failed, $n_known known differences"
	exit 0
fi
if [ "$n_25006" -ne 0 ]; then
	echo "regress: $n_25006 statements were refused by a replica (25006): misrouted"
	same=no
fi
echo "regress: direct $n_direct/$TOTAL ok, pgrelay $n_proxy/$TOTAL ok, DIFFERENT"
[ "$n_bad" -gt 0 ] || n_bad=$TOTAL
echo "regress: $((TOTAL - n_bad)) passed, $n_bad failed"
exit 1
