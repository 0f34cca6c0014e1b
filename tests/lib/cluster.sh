# tests/lib/cluster.sh - bash library (source it) for test clusters: a PostgreSQL 15 master
# with two streaming hot-standby replicas on 127.0.0.1, plus starting and stopping pgrelay
# against them. Used by the demo, the integration tests, the regression runner and the bench.
#
# Layout of a cluster directory DIR:
#   DIR/n0 DIR/n1 DIR/n2        data directories (n0 master on PORT, n1/n2 on PORT+1/PORT+2)
#   DIR/n0.log ...              server logs
#   DIR/ports                   lines "n0 PORT"
#   DIR/proxy.ini DIR/userlist.txt DIR/pgrelay.log DIR/pgrelay.pid   (proxy_* functions)
# The superuser is "postgres" with password "postgres". When run as root, the servers run as
# the postgres user and DIR is owned by it.
#
# Functions: run_as_pg, wait_until, free_port_block, cluster_create, cluster_start,
# cluster_stop, cluster_kill_node, cluster_start_node, cluster_port, cluster_psql,
# cluster_wait_replicas, cluster_wait_replay, proxy_write_ini, proxy_start, proxy_stop,
# proxy_pid, proxy_port, pid_alive. CLUSTER_FAST=1 at creation turns fsync off.
#
# Every wait is bounded. Functions return non-zero on failure, so they work under
# `set -euo pipefail`.

PGBIN=/usr/lib/postgresql/15/bin
CLUSTER_NODES="n0 n1 n2"

# run_as_pg CMD...: runs CMD as the postgres user when root, else as the current user.
# When postgres cannot enter the current directory, CMD runs in / (give it absolute paths).
run_as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		if runuser -u postgres -- test -x "$PWD" 2>/dev/null; then
			runuser -u postgres -- "$@"
		else
			(cd / && runuser -u postgres -- "$@")
		fi
	else
		"$@"
	fi
}

# wait_until TIMEOUT_SECONDS CMD...: runs CMD every 0.1 s until it succeeds (returns 0) or
# TIMEOUT_SECONDS have passed (returns 1).
wait_until() {
	local timeout=$1
	shift
	local deadline=$((SECONDS + timeout))
	while true; do
		if "$@"; then
			return 0
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			return 1
		fi
		sleep 0.1
	done
}

# free_port_block N: prints a base port P, chosen at random in 20000-60000, such that
# P..P+N-1 can all be bound on 127.0.0.1 right now. Ports from the kernel's range for
# outgoing connections are avoided when that range starts above 21000 (an outgoing
# connection could take such a port before the server binds it).
free_port_block() {
	local n=$1
	local base top=60000 low
	low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 0)
	if [ "$low" -gt 21000 ] && [ "$low" -lt "$top" ]; then
		top=$low
	fi
	for _ in $(seq 1 50); do
		base=$((20000 + (RANDOM * 32768 + RANDOM) % (top - 20000 - n)))
		if /usr/bin/python3 - "$base" "$n" <<'EOF'
import socket, sys
base, n = int(sys.argv[1]), int(sys.argv[2])
for port in range(base, base + n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
EOF
		then
			echo "$base"
			return 0
		fi
	done
	echo "free_port_block: no block of $n free ports found" >&2
	return 1
}

# pid_alive PID: true when PID exists and is not a zombie.
pid_alive() {
	local pid=$1 state
	[ -r "/proc/$pid/stat" ] || return 1
	state=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# cluster_port DIR NODE: prints the port of NODE (n0, n1 or n2).
cluster_port() {
	local dir=$1 node=$2 port
	port=$(awk -v n="$node" '$1 == n { print $2 }' "$dir/ports" 2>/dev/null)
	if [ -z "$port" ]; then
		echo "cluster_port: no node $node in $dir/ports" >&2
		return 1
	fi
	echo "$port"
}

# cluster_psql DIR NODE [psql args]: psql to NODE as postgres over TCP.
cluster_psql() {
	local dir=$1 node=$2 port
	shift 2
	port=$(cluster_port "$dir" "$node") || return 1
	PGPASSWORD=postgres PGCONNECT_TIMEOUT=10 \
		psql -h 127.0.0.1 -p "$port" -U postgres -X -q "$@"
}

# Makes every parent directory of $1 searchable by others (o+x), so that the postgres user
# can reach it. Prints what it changes.
_cluster_make_reachable() {
	local d
	d=$(dirname "$1")
	while [ "$d" != / ]; do
		if [ "$(stat -c %A "$d" | cut -c10)" = - ]; then
			echo "cluster: chmod o+x $d so that postgres can reach $1" >&2
			chmod o+x "$d"
		fi
		d=$(dirname "$d")
	done
}

# Absolute path of $1 (which must exist).
_cluster_abs() {
	(cd "$1" && pwd -P)
}

# Appends the settings shared by every node to a data directory's postgresql.conf.
_cluster_write_conf() {
	local datadir=$1 dir=$2 port=$3
	local sockdir=$dir
	# A Unix socket path is limited to 107 bytes; without a short enough directory the
	# servers listen on TCP only (everything here uses TCP anyway).
	if [ $((${#dir} + 20)) -gt 100 ]; then
		sockdir=
	fi
	cat >>"$datadir/postgresql.conf" <<EOF

# --- tests/lib/cluster.sh ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir'
max_connections = 200
wal_level = replica
max_wal_senders = 10
wal_keep_size = 256MB
wal_log_hints = on
hot_standby = on
logging_collector = off
EOF
	if [ "${CLUSTER_FAST:-0}" = 1 ]; then
		cat >>"$datadir/postgresql.conf" <<EOF
fsync = off
EOF
	fi
}

# Creates the master's data directory DIR/n0 (through DIR/n0.tmp, so that an interrupted
# run leaves nothing half made).
_cluster_init_master() {
	local dir=$1 port=$2
	local tmp=$dir/n0.tmp
	local locale=C
	if locale -a 2>/dev/null | grep -ix 'c.utf-\?8' >/dev/null; then
		locale=C.UTF-8
	fi
	rm -rf "$tmp"
	echo postgres >"$dir/pwfile"
	chmod 600 "$dir/pwfile"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir/pwfile"
	fi
	run_as_pg "$PGBIN/initdb" -D "$tmp" -U postgres -E UTF8 --locale="$locale" \
		--auth-local=trust --auth-host=scram-sha-256 --pwfile="$dir/pwfile" \
		>"$dir/initdb.log" 2>&1 || {
		echo "cluster: initdb failed, see $dir/initdb.log" >&2
		tail -n 20 "$dir/initdb.log" >&2
		return 1
	}
	rm -f "$dir/pwfile"
	run_as_pg tee "$tmp/pg_hba.conf" >/dev/null <<EOF
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 trust
local   replication  all                 trust
host    all          all   127.0.0.1/32  scram-sha-256
host    replication  all   127.0.0.1/32  scram-sha-256
EOF
	_cluster_write_conf "$tmp" "$dir" "$port"
	mv "$tmp" "$dir/n0"
}

# Makes replica NODE (DIR/NODE, through DIR/NODE.tmp) from the running master.
_cluster_init_replica() {
	local dir=$1 node=$2 port=$3 master_port=$4
	local tmp=$dir/$node.tmp
	rm -rf "$tmp"
	run_as_pg env PGPASSWORD=postgres "$PGBIN/pg_basebackup" \
		-d "host=127.0.0.1 port=$master_port user=postgres application_name=$node" \
		-D "$tmp" -R -X stream -c fast >"$dir/$node.basebackup.log" 2>&1 || {
		echo "cluster: pg_basebackup for $node failed, see $dir/$node.basebackup.log" >&2
		tail -n 20 "$dir/$node.basebackup.log" >&2
		return 1
	}
	# Only the port differs from the master's settings (the last setting wins).
	echo "port = $port" >>"$tmp/postgresql.conf"
	mv "$tmp" "$dir/$node"
}

# Starts NODE unless it is running already. Waits until it accepts connections.
_cluster_start_node() {
	local dir node=$2
	dir=$(_cluster_abs "$1") || return 1
	if run_as_pg "$PGBIN/pg_ctl" -D "$dir/$node" status >/dev/null 2>&1; then
		return 0
	fi
	run_as_pg "$PGBIN/pg_ctl" -D "$dir/$node" -l "$dir/$node.log" -w -t 60 start \
		>/dev/null || {
		echo "cluster: $node did not start, last lines of $dir/$node.log:" >&2
		tail -n 20 "$dir/$node.log" >&2
		return 1
	}
}

# cluster_create DIR PORT: creates (or, when DIR already holds one, just starts) a master n0
# on PORT and the streaming replicas n1 and n2 on PORT+1 and PORT+2.
cluster_create() {
	local dir=$1 port=$2
	local node p
	mkdir -p "$dir"
	dir=$(_cluster_abs "$dir")
	if [ -f "$dir/ports" ]; then
		p=$(cluster_port "$dir" n0)
		if [ "$p" != "$port" ]; then
			echo "cluster_create: $dir already holds a cluster on port $p, not $port" >&2
			return 1
		fi
	else
		printf 'n0 %s\nn1 %s\nn2 %s\n' "$port" $((port + 1)) $((port + 2)) >"$dir/ports"
	fi
	if [ "$(id -u)" -eq 0 ]; then
		_cluster_make_reachable "$dir"
		chown -R postgres: "$dir"
	fi
	chmod 755 "$dir"

	if [ ! -f "$dir/n0/PG_VERSION" ]; then
		_cluster_init_master "$dir" "$port"
	fi
	_cluster_start_node "$dir" n0
	for node in n1 n2; do
		if [ ! -f "$dir/$node/PG_VERSION" ]; then
			_cluster_init_replica "$dir" "$node" "$(cluster_port "$dir" "$node")" "$port"
		fi
		_cluster_start_node "$dir" "$node"
	done
}

# cluster_start DIR: starts the nodes of an existing cluster that are not running.
cluster_start() {
	local dir=$1 node
	for node in $CLUSTER_NODES; do
		_cluster_start_node "$dir" "$node"
	done
}

# cluster_stop DIR: stops (fast mode) the nodes of the cluster in DIR that are running,
# replicas first.
cluster_stop() {
	local dir node rc=0
	[ -d "$1" ] || return 0
	dir=$(_cluster_abs "$1")
	for node in n2 n1 n0; do
		[ -f "$dir/$node/PG_VERSION" ] || continue
		if run_as_pg "$PGBIN/pg_ctl" -D "$dir/$node" status >/dev/null 2>&1; then
			run_as_pg "$PGBIN/pg_ctl" -D "$dir/$node" -m fast -w -t 60 stop >/dev/null || rc=1
		fi
	done
	return $rc
}

# cluster_kill_node DIR NODE: stops NODE in immediate mode (like a crash).
cluster_kill_node() {
	local dir node=$2
	dir=$(_cluster_abs "$1") || return 1
	run_as_pg "$PGBIN/pg_ctl" -D "$dir/$node" -m immediate -w -t 60 stop >/dev/null
}

# cluster_start_node DIR NODE: starts one node (e.g. after cluster_kill_node).
cluster_start_node() {
	_cluster_start_node "$1" "$2"
}

_cluster_streaming_count_is() {
	local dir=$1 want=$2 got
	got=$(cluster_psql "$dir" n0 -At -c \
		"SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 2>/dev/null) ||
		return 1
	[ "$got" = "$want" ]
}

# cluster_wait_replicas DIR: waits (at most 60 s) until the master has 2 streaming replicas.
cluster_wait_replicas() {
	local dir=$1
	if ! wait_until 60 _cluster_streaming_count_is "$dir" 2; then
		echo "cluster_wait_replicas: the replicas of $dir are not streaming" >&2
		cluster_psql "$dir" n0 -c "SELECT application_name, state FROM pg_stat_replication" >&2 || true
		return 1
	fi
}

_cluster_replayed() {
	local dir=$1 node=$2 lsn=$3 ok
	ok=$(cluster_psql "$dir" "$node" -At -c \
		"SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn" 2>/dev/null) || return 1
	[ "$ok" = t ]
}

# cluster_wait_replay DIR: waits (at most 60 s) until both replicas have replayed everything
# the master had written when called.
cluster_wait_replay() {
	local dir=$1 lsn node
	lsn=$(cluster_psql "$dir" n0 -At -c "SELECT pg_current_wal_insert_lsn()") || return 1
	for node in n1 n2; do
		if ! wait_until 60 _cluster_replayed "$dir" "$node" "$lsn"; then
			echo "cluster_wait_replay: $node did not replay up to $lsn" >&2
			return 1
		fi
	done
}

# proxy_write_ini DIR PROXYPORT [LINE...]: writes DIR/proxy.ini (pgrelay on
# 127.0.0.1:PROXYPORT in front of the cluster in DIR) and DIR/userlist.txt. Extra lines for
# the [pgrelay] section are given as arguments or on stdin (a here-string or here-doc:
#   proxy_write_ini DIR P <<< "pool_size = 2"
# ); they come first in the section and replace the defaults written here for the same keys.
proxy_write_ini() {
	local dir=$1 pport=$2
	shift 2
	local extra="" key value line node
	# Read stdin only when it has data ready (a here-string, here-doc or file), so that a
	# terminal or an idle inherited pipe never blocks.
	if [ ! -t 0 ] && read -r -t 0; then
		extra=$(cat)
	fi
	for line in "$@"; do
		extra+=$'\n'"$line"
	done
	dir=$(_cluster_abs "$dir")

	printf '"postgres" "postgres"\n"pgrelay_stats" "stats"\n"pgrelay_plain" "plain"\n' \
		>"$dir/userlist.txt"
	{
		echo "; written by tests/lib/cluster.sh"
		echo "[pgrelay]"
		if [ -n "$extra" ]; then
			printf '%s\n' "$extra" | sed -e '/^[[:space:]]*$/d'
		fi
		while read -r key value; do
			if ! printf '%s\n' "$extra" | grep "^[[:space:]]*${key}[[:space:]]*=" >/dev/null; then
				echo "$key = $value"
			fi
		done <<EOF
listen_addr 127.0.0.1
listen_port $pport
auth_type scram-sha-256
auth_file $dir/userlist.txt
log_level info
monitor_user postgres
monitor_password postgres
admin_users postgres
stats_users pgrelay_stats
EOF
		echo
		echo "[node.n0]"
		echo "host = 127.0.0.1"
		echo "port = $(cluster_port "$dir" n0)"
		echo "role = master"
		for node in n1 n2; do
			echo
			echo "[node.$node]"
			echo "host = 127.0.0.1"
			echo "port = $(cluster_port "$dir" "$node")"
			echo "role = replica"
		done
		echo
		echo "[databases]"
		echo "* ="
	} >"$dir/proxy.ini"
}

# proxy_port DIR: prints the listen_port of DIR/proxy.ini.
proxy_port() {
	local port
	port=$(sed -n -e 's/^[[:space:]]*listen_port[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' \
		"$1/proxy.ini" | head -n 1)
	if [ -z "$port" ]; then
		echo "proxy_port: no listen_port in $1/proxy.ini" >&2
		return 1
	fi
	echo "$port"
}

# proxy_pid DIR: prints the PID of the pgrelay started by proxy_start for DIR, if it is
# still running; fails otherwise.
proxy_pid() {
	local dir pid
	dir=$(_cluster_abs "$1") || return 1
	[ -f "$dir/pgrelay.pid" ] || return 1
	pid=$(cat "$dir/pgrelay.pid")
	[ -n "$pid" ] || return 1
	pid_alive "$pid" || return 1
	# Make sure the PID was not reused by another program.
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -F -- "-c $dir/proxy.ini" >/dev/null ||
		return 1
	echo "$pid"
}

_proxy_ready() {
	local dir=$1 port=$2 pid=$3
	if ! pid_alive "$pid"; then
		return 0 # stop waiting; the caller notices that it died
	fi
	pg_isready -q -h 127.0.0.1 -p "$port" -t 1 >/dev/null 2>&1
}

# Every replica of DIR/proxy.ini has been reported up by pgrelay's monitor.
_proxy_replicas_up() {
	local dir=$1 want have
	want=$(grep -c '^role = replica' "$dir/proxy.ini")
	have=$(grep -o 'event node_state: node [A-Za-z0-9_.-]* (replica) [a-z]* -> up' \
		"$dir/pgrelay.log" 2>/dev/null | awk '{print $4}' | sort -u | wc -l)
	[ "$have" -ge "$want" ]
}

# proxy_start DIR [BIN]: starts BIN (default ./pgrelay) with DIR/proxy.ini in the
# background, logging to DIR/pgrelay.log, its PID in DIR/pgrelay.pid, and waits (at most
# 10 s) until it accepts connections, and (at most 3 s) until its monitor has seen every
# replica up. Does nothing when it runs already. On failure it
# prints the end of the log, stops what it started and returns 1.
proxy_start() {
	local dir bin=${2:-./pgrelay}
	local port pid
	dir=$(_cluster_abs "$1")
	if [ ! -x "$bin" ]; then
		echo "proxy_start: $bin is not an executable (run make first)" >&2
		return 1
	fi
	bin=$(realpath "$bin")
	port=$(proxy_port "$dir") || return 1
	if pid=$(proxy_pid "$dir"); then
		echo "proxy_start: pgrelay already runs for $dir (pid $pid)" >&2
		return 0
	fi
	rm -f "$dir/pgrelay.pid"
	# The inner shell writes its own PID and then becomes pgrelay (exec keeps the PID), so
	# the PID file is right whether or not setsid had to fork.
	# shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
	setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' pgrelay-start \
		"$dir/pgrelay.pid" "$bin" -c "$dir/proxy.ini" \
		</dev/null >"$dir/pgrelay.log" 2>&1 &
	disown $! # no job-control message from this shell when it ends
	if ! wait_until 5 test -s "$dir/pgrelay.pid"; then
		echo "proxy_start: pgrelay did not start" >&2
		return 1
	fi
	pid=$(cat "$dir/pgrelay.pid")
	wait_until 10 _proxy_ready "$dir" "$port" "$pid" || true
	if ! pid_alive "$pid"; then
		echo "proxy_start: pgrelay exited; last lines of $dir/pgrelay.log:" >&2
		tail -n 30 "$dir/pgrelay.log" >&2
		rm -f "$dir/pgrelay.pid"
		return 1
	fi
	if ! pg_isready -q -h 127.0.0.1 -p "$port" -t 1 >/dev/null 2>&1; then
		echo "proxy_start: pgrelay does not accept on port $port; last lines of" \
			"$dir/pgrelay.log:" >&2
		tail -n 30 "$dir/pgrelay.log" >&2
		PROXY_STOP_TIMEOUT=5 proxy_stop "$dir"
		return 1
	fi
	# reads go to the master until the monitor has seen the replicas fresh: wait a little
	if grep -q '^monitor_user = .' "$dir/proxy.ini"; then
		wait_until 3 _proxy_replicas_up "$dir" || true
	fi
}

# proxy_stop DIR: sends SIGTERM to the pgrelay of DIR and waits for it to exit (at most
# PROXY_STOP_TIMEOUT seconds, default 35), then sends SIGKILL.
proxy_stop() {
	local dir pid
	[ -d "$1" ] || return 0
	dir=$(_cluster_abs "$1")
	if ! pid=$(proxy_pid "$dir"); then
		rm -f "$dir/pgrelay.pid"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_until "${PROXY_STOP_TIMEOUT:-35}" _proxy_gone "$pid"; then
		echo "proxy_stop: pgrelay (pid $pid) ignored SIGTERM; sending SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null || true
		wait_until 5 _proxy_gone "$pid" || true
	fi
	rm -f "$dir/pgrelay.pid"
}

_proxy_gone() {
	! pid_alive "$1"
}

# cluster_use DIR WORK: for scripts that take an optional cluster. With DIR non-empty, starts
# the cluster there (creating it if DIR has none); otherwise creates a fast one (fsync off) in
# WORK/cluster and sets OWN_CLUSTER=yes, so the caller knows to stop it. Sets CLUSTER, then
# waits until both replicas stream.
cluster_use() {
	if [ -n "$1" ]; then
		CLUSTER=$1
		if [ -f "$CLUSTER/ports" ]; then
			cluster_start "$CLUSTER"
		else
			cluster_create "$CLUSTER" "$(free_port_block 3)"
		fi
	else
		CLUSTER=$2/cluster
		OWN_CLUSTER=yes
		CLUSTER_FAST=1 cluster_create "$CLUSTER" "$(free_port_block 3)"
	fi
	cluster_wait_replicas "$CLUSTER"
}
