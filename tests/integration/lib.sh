# tests/integration/lib.sh - shared helpers sourced by every tests/integration/t_*.sh: psql
# through pgrelay and directly to the master, assertions, background processes cleaned up at
# exit, extra pgrelay instances with their own configuration, and `py`, which runs a Python
# script (on stdin) with a small raw PostgreSQL wire-protocol client (class Conn) preloaded.
#
# Environment (set by run.sh): PROXY_PORT MASTER_PORT CLUSTER_DIR PGRELAY_BIN BUILD_DIR
# WORK_DIR.
set -euo pipefail

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$IT_DIR/../.." && pwd)
# shellcheck source=../lib/cluster.sh
source "$ROOT/tests/lib/cluster.sh"

: "${PROXY_PORT:?run this test through tests/integration/run.sh}"
: "${MASTER_PORT:?}" "${CLUSTER_DIR:?}" "${PGRELAY_BIN:?}" "${BUILD_DIR:?}" "${WORK_DIR:?}"

PY=/usr/bin/python3
export PGPASSWORD=postgres PGCONNECT_TIMEOUT=10 PGAPPNAME=
unset PGSSLMODE PGGSSENCMODE PGOPTIONS PGSERVICE PGDATABASE PGUSER PGHOST PGPORT || true

TEST_NAME=$(basename "$0" .sh)
TEST_NAME=${TEST_NAME#t_}
TMP=$(mktemp -d "$WORK_DIR/$TEST_NAME.XXXXXX")
chmod 755 "$TMP"

_BG_PIDS=()
_EXTRA_DIRS=()
_OWN_CLUSTERS=()

# ---- output and assertions -------------------------------------------------------------

note() { echo "# $*"; }

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# assert_eq GOT WANT WHAT
assert_eq() {
	if [ "$1" != "$2" ]; then
		echo "FAIL: $3" >&2
		echo "  expected: $(printf '%q' "$2")" >&2
		echo "  got:      $(printf '%q' "$1")" >&2
		exit 1
	fi
}

# assert_contains HAYSTACK NEEDLE WHAT
assert_contains() {
	if [[ $1 != *"$2"* ]]; then
		echo "FAIL: $3: expected to contain '$2'; got:" >&2
		printf '%s\n' "$1" | sed -e 's/^/  | /' >&2
		exit 1
	fi
}

# assert_not_contains HAYSTACK NEEDLE WHAT
assert_not_contains() {
	if [[ $1 == *"$2"* ]]; then
		echo "FAIL: $3: expected not to contain '$2'; got:" >&2
		printf '%s\n' "$1" | sed -e 's/^/  | /' >&2
		exit 1
	fi
}

# assert_file_eq GOT_FILE WANT_FILE WHAT: shows a diff when they differ.
assert_file_eq() {
	if ! diff -u "$2" "$1" >"$TMP/diff.out" 2>&1; then
		echo "FAIL: $3 (diff expected got):" >&2
		head -n 60 "$TMP/diff.out" >&2
		exit 1
	fi
}

# ---- psql ------------------------------------------------------------------------------

# pq [psql args]: psql through the main pgrelay, stopping at the first error.
pq() {
	psql -h 127.0.0.1 -p "$PROXY_PORT" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 "$@"
}

# The same as a command line, for background jobs whose $! must be psql's own PID:
#   "${PSQL_PROXY[@]}" -c ... &
# shellcheck disable=SC2034 # used by the tests
PSQL_PROXY=(psql -h 127.0.0.1 -p "$PROXY_PORT" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1)

# pqp PORT [psql args]: the same through the pgrelay on PORT.
pqp() {
	local port=$1
	shift
	psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 "$@"
}

# mq [psql args]: psql directly to the master.
mq() {
	psql -h 127.0.0.1 -p "$MASTER_PORT" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 "$@"
}

# read_reaches PROXYPORT NODEPORT: one of 12 reads through the pgrelay on PROXYPORT is served by
# the node on NODEPORT (for wait_until).
read_reaches() {
	local i
	for i in $(seq 1 12); do
		[ "$(PGPASSWORD=postgres psql -h 127.0.0.1 -p "$1" -U postgres -d postgres -X -At \
			-c "select current_setting('port')")" = "$2" ] && return 0
	done
	return 1
}

# mval SQL: one value from the master.  pval SQL: one value through pgrelay.
mval() { mq -At -c "$1"; }
pval() { pq -At -c "$1"; }

# nodes_sum SQL: the sum of an integer query's result over every node of the cluster.
nodes_sum() {
	local n total=0 v
	for n in $CLUSTER_NODES; do
		v=$(psql -h 127.0.0.1 -p "$(cluster_port "$CLUSTER_DIR" "$n")" -U postgres -d postgres \
			-X -q -At -c "$1") || return 1
		total=$((total + v))
	done
	echo "$total"
}

# on_replica_ports: the ports of the replicas, space-separated (which node answered a read).
replica_ports() {
	echo "$(cluster_port "$CLUSTER_DIR" n1) $(cluster_port "$CLUSTER_DIR" n2)"
}

# wait_replay: waits until the replicas have replayed what the master wrote so far (so that
# a read that pgrelay might send to a replica sees the data written directly to the master).
wait_replay() {
	cluster_wait_replay "$CLUSTER_DIR" >/dev/null
}

# ---- background processes --------------------------------------------------------------

# bg_track PID: kills PID (if still running) when the test exits.
bg_track() {
	_BG_PIDS+=("$1")
}

# wait_pid_exit PID TIMEOUT: waits for a child PID to exit; prints nothing, returns its exit
# status, or 124 on timeout.
wait_pid_exit() {
	local pid=$1 timeout=$2
	if ! wait_until "$timeout" _pid_gone "$pid"; then
		return 124
	fi
	wait "$pid" 2>/dev/null
}

_pid_gone() {
	! kill -0 "$1" 2>/dev/null || ! pid_alive "$1"
}

# ---- extra pgrelay instances -----------------------------------------------------------

# extra_proxy_start NAME [LINE...]: starts another pgrelay on a free port, configured like the
# main one plus the [pgrelay] LINEs (which replace keys of the same name). When XP_DATABASES
# is set, its lines replace the [databases] section. Sets XP_DIR and XP_PORT. The instance is
# stopped when the test exits (and by run.sh if the test is killed).
extra_proxy_start() {
	local name=$1
	shift
	local dir=$WORK_DIR/extra/$name port line keys=""
	mkdir -p "$dir"
	port=$(free_port_block 1)
	for line in "listen_port = $port" "$@"; do
		keys+="$(printf '%s' "$line" | sed -e 's/[[:space:]]*=.*//; s/^[[:space:]]*//')"$'\n'
	done
	{
		XP_DATABASES=${XP_DATABASES:-} awk -v keys="$keys" '
			BEGIN { n = split(keys, k, "\n"); for (i = 1; i <= n; i++) if (k[i] != "") skip[k[i]] = 1 }
			/^\[/ { section = $0 }
			section == "[pgrelay]" && /^[[:space:]]*[a-z_]+[[:space:]]*=/ {
				key = $0; sub(/[[:space:]]*=.*/, "", key); sub(/^[[:space:]]*/, "", key)
				if (key in skip) next
			}
			section == "[databases]" && ENVIRON["XP_DATABASES"] != "" && !/^\[/ { next }
			{ print }
			/^\[pgrelay\]$/ { print "listen_port = '"$port"'" }
			/^\[databases\]$/ && ENVIRON["XP_DATABASES"] != "" { print ENVIRON["XP_DATABASES"] }
		' "$CLUSTER_DIR/proxy.ini" | awk -v extra="$(printf '%s\n' "$@")" '
			{ print }
			/^\[pgrelay\]$/ && extra != "" { print extra }
		'
	} >"$dir/proxy.ini"
	_EXTRA_DIRS+=("$dir")
	if ! proxy_start "$dir" "$PGRELAY_BIN"; then
		echo "--- $dir/proxy.ini:" >&2
		cat "$dir/proxy.ini" >&2
		fail "extra pgrelay '$name' did not start"
	fi
	# shellcheck disable=SC2034 # used by the tests
	XP_DIR=$dir
	# shellcheck disable=SC2034
	XP_PORT=$port
}

# extra_proxy_stop DIR: stops an extra instance (SIGTERM, then SIGKILL after 10 s).
extra_proxy_stop() {
	PROXY_STOP_TIMEOUT=10 proxy_stop "$1"
}

# own_cluster NAME: a master and two streaming replicas of the test's own (for tests that stop
# or pause nodes), in $TMP/NAME, stopped when the test exits. Sets OC_DIR and OC_PORT (a
# pgrelay in front of it is not started: use proxy_write_ini and proxy_start).
own_cluster() {
	OC_DIR=$TMP/$1
	local base
	base=$(free_port_block 3) || fail "no free ports for a cluster"
	_OWN_CLUSTERS+=("$OC_DIR")
	CLUSTER_FAST=1 cluster_create "$OC_DIR" "$base" >"$TMP/$1.log" 2>&1 || {
		cat "$TMP/$1.log" >&2
		fail "cluster_create $OC_DIR"
	}
	cluster_wait_replicas "$OC_DIR" || fail "the replicas of $OC_DIR are not streaming"
	OC_PORT=$(free_port_block 1) || fail "no free port"
}

# ---- cleanup ---------------------------------------------------------------------------

_lib_cleanup() {
	local rc=$? pid d
	set +e
	trap - EXIT
	for pid in "${_BG_PIDS[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null
			wait_until 3 _pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null
		fi
	done
	if [ $rc -ne 0 ]; then
		echo "--- main pgrelay log (last lines):"
		tail -n 25 "$CLUSTER_DIR/pgrelay.log"
	fi
	for d in "${_EXTRA_DIRS[@]}"; do
		if [ $rc -ne 0 ] && [ -f "$d/pgrelay.log" ]; then
			echo "--- $d/pgrelay.log (last lines):"
			tail -n 25 "$d/pgrelay.log"
		fi
		PROXY_STOP_TIMEOUT=5 proxy_stop "$d"
	done
	for d in "${_OWN_CLUSTERS[@]}"; do
		cluster_stop "$d" >/dev/null 2>&1
	done
	exit $rc
}
trap _lib_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# ---- py: Python with a raw wire-protocol client ----------------------------------------

# py [ARGS...] <<'EOF' ... EOF: runs the Python script on stdin with /usr/bin/python3, the
# definitions below preloaded, and PROXY_PORT/MASTER_PORT available as ints.
py() {
	local script
	script=$(cat)
	"$PY" -c "$_PGWIRE_PY"$'\n'"$script" "$@"
}

_PGWIRE_PY=$(
	cat <<'PYEOF'
import base64, hashlib, hmac, os, select, socket, struct, sys, time

PROXY_PORT = int(os.environ["PROXY_PORT"])
MASTER_PORT = int(os.environ["MASTER_PORT"])


class PgError(Exception):
    """An ErrorResponse: .fields maps field codes to values (C = SQLSTATE, M = message)."""

    def __init__(self, fields):
        self.fields = fields
        self.sqlstate = fields.get("C", "")
        self.message = fields.get("M", "")
        self.severity = fields.get("V", fields.get("S", ""))
        Exception.__init__(self, "%s %s: %s" % (self.severity, self.sqlstate, self.message))


class Closed(Exception):
    pass


def parse_fields(body):
    out = {}
    for part in body.split(b"\0"):
        if part:
            out[chr(part[0])] = part[1:].decode("utf-8", "replace")
    return out


def msg(t, body=b""):
    return t + struct.pack("!I", len(body) + 4) + body


def cstr(s):
    return s.encode() + b"\0"


class Conn:
    """A minimal protocol-3.0 client over a plain socket."""

    def __init__(self, port=None, host="127.0.0.1", timeout=10):
        self.sock = socket.create_connection((host, port or PROXY_PORT), timeout=timeout)
        self.buf = b""
        self.notices = []
        self.notifies = []
        self.params = {}
        self.status = None
        self.pid = self.key = None
        self.auth_codes = []

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no data from the server in time")
            r, _, _ = select.select([self.sock], [], [], left)
            if r:
                break
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            raise Closed("connection closed by the server")
        self.buf += data

    def recv_raw(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self, timeout=10):
        """Returns (type, body) of the next message; notices and notifications are stored."""
        deadline = time.monotonic() + timeout
        while True:
            while len(self.buf) < 5:
                self._fill(deadline)
            t = self.buf[:1]
            (n,) = struct.unpack("!I", self.buf[1:5])
            while len(self.buf) < 1 + n:
                self._fill(deadline)
            body = self.buf[5 : 1 + n]
            self.buf = self.buf[1 + n :]
            if t == b"N":
                self.notices.append(parse_fields(body))
                continue
            if t == b"A":
                pid = struct.unpack("!I", body[:4])[0]
                chan, payload = body[4:].split(b"\0")[:2]
                self.notifies.append((pid, chan.decode(), payload.decode()))
                continue
            if t == b"S":
                k, v = body.split(b"\0")[:2]
                self.params[k.decode()] = v.decode()
                continue
            return t, body

    def startup_packet(self, params, proto=196608):
        body = struct.pack("!I", proto)
        for k, v in params.items():
            body += cstr(k) + cstr(v)
        body += b"\0"
        return struct.pack("!I", len(body) + 4) + body

    def login(self, user="postgres", database="postgres", password="postgres", **extra):
        """Startup and authentication up to ReadyForQuery; raises PgError on an ErrorResponse."""
        params = {"user": user}
        if database is not None:
            params["database"] = database
        params.update(extra)
        self.send(self.startup_packet(params))
        while True:
            t, body = self.recv()
            if t == b"E":
                raise PgError(parse_fields(body))
            if t == b"R":
                self._auth(body, user, password)
            elif t == b"K":
                self.pid, self.key = struct.unpack("!II", body[:8])
            elif t == b"Z":
                self.status = body[:1].decode()
                return self
            else:
                raise AssertionError("unexpected message %r during login" % t)

    def _auth(self, body, user, password):
        (code,) = struct.unpack("!I", body[:4])
        self.auth_codes.append(code)
        if code == 0:
            return
        if code == 3:
            self.send(msg(b"p", cstr(password)))
        elif code == 5:
            salt = body[4:8]
            inner = hashlib.md5((password + user).encode()).hexdigest()
            outer = hashlib.md5(inner.encode() + salt).hexdigest()
            self.send(msg(b"p", cstr("md5" + outer)))
        elif code == 10:
            mechs = [m.decode() for m in body[4:].split(b"\0") if m]
            if "SCRAM-SHA-256" not in mechs:
                raise AssertionError("no SCRAM-SHA-256 in %r" % mechs)
            self.cnonce = base64.b64encode(os.urandom(18)).decode()
            self.first_bare = "n=,r=" + self.cnonce
            first = ("n,," + self.first_bare).encode()
            self.send(msg(b"p", cstr("SCRAM-SHA-256") + struct.pack("!I", len(first)) + first))
        elif code == 11:
            server_first = body[4:].decode()
            attrs = dict(a.split("=", 1) for a in server_first.split(","))
            if not attrs["r"].startswith(self.cnonce):
                raise AssertionError("bad SCRAM nonce")
            salted = hashlib.pbkdf2_hmac(
                "sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"])
            )
            ckey = hmac.new(salted, b"Client Key", "sha256").digest()
            stored = hashlib.sha256(ckey).digest()
            final_wo = "c=biws,r=" + attrs["r"]
            auth_msg = ",".join([self.first_bare, server_first, final_wo]).encode()
            sig = hmac.new(stored, auth_msg, "sha256").digest()
            proof = bytes(a ^ b for a, b in zip(ckey, sig))
            skey = hmac.new(salted, b"Server Key", "sha256").digest()
            self.server_sig = base64.b64encode(hmac.new(skey, auth_msg, "sha256").digest())
            self.send(msg(b"p", (final_wo + ",p=" + base64.b64encode(proof).decode()).encode()))
        elif code == 12:
            if body[4:].decode() != "v=" + self.server_sig.decode():
                raise AssertionError("bad SCRAM server signature")
        else:
            raise AssertionError("unsupported authentication request %d" % code)

    def query(self, sql, timeout=30):
        """Simple query; returns a list of (tag, rows); raises PgError (after ReadyForQuery)."""
        self.send(msg(b"Q", cstr(sql)))
        return self.results(timeout)

    def results(self, timeout=30):
        out, rows, err = [], [], None
        while True:
            try:
                t, body = self.recv(timeout)
            except Closed:
                if err:  # a FATAL error, then the connection closed
                    raise err
                raise
            if t == b"T":
                rows = []
            elif t == b"D":
                (n,) = struct.unpack("!H", body[:2])
                pos, row = 2, []
                for _ in range(n):
                    (ln,) = struct.unpack("!i", body[pos : pos + 4])
                    pos += 4
                    if ln < 0:
                        row.append(None)
                    else:
                        row.append(body[pos : pos + ln].decode())
                        pos += ln
                rows.append(tuple(row))
            elif t == b"C":
                out.append((body[:-1].decode(), rows))
                rows = []
            elif t == b"I":
                out.append(("", []))
            elif t == b"E":
                err = PgError(parse_fields(body))
            elif t == b"Z":
                self.status = body[:1].decode()
                if err:
                    raise err
                return out
            elif t in (b"1", b"2", b"3", b"n", b"t", b"s"):
                pass
            else:
                raise AssertionError("unexpected message %r" % t)

    def value(self, sql):
        return self.query(sql)[-1][1][0][0]

    def expect_error(self, timeout=10):
        """Reads until an ErrorResponse and returns it (as PgError)."""
        while True:
            t, body = self.recv(timeout)
            if t == b"E":
                return PgError(parse_fields(body))

    def expect_closed(self, timeout=10):
        """True when the server closes the connection within timeout (skipping messages)."""
        try:
            while True:
                self.recv(timeout)
        except Closed:
            return True
        except (TimeoutError, OSError):
            return False

    def expect_only_close(self, timeout=10):
        """True when the next thing the server does is close the connection (no other message)."""
        try:
            t, body = self.recv(timeout)
            print("unexpected message %r %r before the close" % (t, body[:200]), file=sys.stderr)
            return False
        except Closed:
            return True
        except (TimeoutError, OSError):
            return False

    def close(self):
        try:
            self.send(msg(b"X"))
        except OSError:
            pass
        self.sock.close()


def check(cond, what):
    if not cond:
        print("FAIL: " + what, file=sys.stderr)
        sys.exit(1)


def check_eq(got, want, what):
    if got != want:
        print("FAIL: %s\n  expected: %r\n  got:      %r" % (what, want, got), file=sys.stderr)
        sys.exit(1)


def wait_running(sql, timeout=10):
    """Waits until a backend on the master is running exactly sql."""
    m = Conn(MASTER_PORT).login()
    deadline = time.monotonic() + timeout
    q = "select count(*) from pg_stat_activity where state = 'active' and query = '%s'" % (
        sql.replace("'", "''"))
    while m.value(q) == "0":
        check(time.monotonic() < deadline, "the query %r never started" % sql)
        time.sleep(0.05)
    m.close()


def scram_verifier(password, iterations=4096):
    """A SCRAM-SHA-256 verifier like PostgreSQL stores in pg_authid."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored = hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    server = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = lambda b: base64.b64encode(b).decode()
    return "SCRAM-SHA-256$%d:%s$%s:%s" % (iterations, b64(salt), b64(stored), b64(server))


def login_error(port=None, **kw):
    """Logs in expecting failure; returns the PgError."""
    c = Conn(port)
    try:
        c.login(**kw)
    except PgError as e:
        c.sock.close()
        return e
    c.close()
    print("FAIL: login %r succeeded, an error was expected" % kw, file=sys.stderr)
    sys.exit(1)
PYEOF
)
