#!/usr/bin/env bash
# t_sdnotify.sh - systemd notification and journald log lines, without systemd: a small Python
# listener binds a datagram socket, an extra pgrelay gets it as NOTIFY_SOCKET with
# WATCHDOG_USEC=400000, and the listener writes each datagram it receives on its own line
# ("<monotonic time> <datagram, newlines as \n>"); on each READY=1 it also runs psql -c 'select 1'
# through that pgrelay at once (a "P" line). Checks: READY=1 with a STATUS naming the port, and
# the port answers right then; at least 2 WATCHDOG=1 within 1.5 s after READY; SIGHUP gives
# RELOADING=1 (with MONOTONIC_USEC) then READY=1, and the port answers after it;
# SIGTERM gives STOPPING=1 and the process exits. Logs: that instance's lines stay plain
# (timestamped); with PGRELAY_LOG_FORMAT=journal, and with JOURNAL_STREAM naming the log file,
# lines are "<6>INFO ..." without a timestamp.
source "$(dirname "$0")/lib.sh"

SOCK=$TMP/notify.sock
OUT=$TMP/notify.out
NAME=sdnotify-$$
INI=$WORK_DIR/extra/$NAME/proxy.ini
: >"$OUT"

# ---- the listener: one line per datagram, psql through the proxy on each READY=1 (60 s max)
"$PY" - "$SOCK" "$OUT" "$INI" <<'EOF' &
import re, socket, subprocess, sys, threading, time

sock_path, out_path, ini_path = sys.argv[1:4]
lock = threading.Lock()
out = open(out_path, "a", buffering=1)


def emit(line):
    with lock:
        out.write(line + "\n")


def psql_check(n):
    with open(ini_path) as f:
        port = re.search(r"^\s*listen_port\s*=\s*(\d+)", f.read(), re.M).group(1)
    try:
        r = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "postgres", "-X",
             "-At", "-c", "select 1"],
            capture_output=True, text=True, timeout=15)
        emit("P %.3f ready#%d rc=%d out=%s err=%s" % (
            time.monotonic(), n, r.returncode, r.stdout.strip(),
            r.stderr.strip().replace("\n", " ")))
    except Exception as e:
        emit("P %.3f ready#%d rc=-1 err=%r" % (time.monotonic(), n, e))


s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock_path)
s.settimeout(0.5)
readies = 0
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        data = s.recv(4096)
    except socket.timeout:
        continue
    text = data.decode("utf-8", "replace")
    emit("D %.3f %s" % (time.monotonic(), text.replace("\n", "\\n")))
    if text.split("\n")[0] == "READY=1":
        readies += 1
        threading.Thread(target=psql_check, args=(readies,), daemon=True).start()
EOF
bg_track $!
wait_until 10 test -S "$SOCK" || fail "the notify listener did not bind $SOCK"

# datagram lines whose first field (after the time) matches an extended regex
dgrams() { awk -v re="$1" '$1 == "D" && $3 ~ re' "$OUT"; }
has_dgram() { [ -n "$(dgrams "$1")" ]; }
psql_lines() { awk '$1 == "P"' "$OUT"; }
has_psql_line() { [ "$(psql_lines | wc -l)" -ge "$1" ]; }

show_out() {
	echo "--- datagrams received:" >&2
	sed -e 's/^/  | /' "$OUT" >&2
}

# ---- start: READY=1, and the port answers at that moment
export NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=400000
unset WATCHDOG_PID PGRELAY_LOG_FORMAT JOURNAL_STREAM
extra_proxy_start "$NAME"
unset NOTIFY_SOCKET WATCHDOG_USEC
SD_DIR=$XP_DIR
SD_PORT=$XP_PORT
pid=$(proxy_pid "$SD_DIR") || fail "no pid for the notified instance"
[ "$XP_DIR/proxy.ini" = "$INI" ] || fail "extra instance in $XP_DIR, expected $INI"

wait_until 10 has_dgram '^READY=1' || {
	show_out
	fail "no READY=1 within 10 s of the start"
}
ready=$(dgrams '^READY=1' | head -n 1)
note "first READY: $ready"
assert_contains "$ready" "STATUS=listening on port $SD_PORT" "the STATUS sent with READY=1"
wait_until 20 has_psql_line 1 || {
	show_out
	fail "the listener's psql after READY=1 did not finish"
}
p=$(psql_lines | head -n 1)
assert_contains "$p" "rc=0 out=1 " "psql -c 'select 1' through pgrelay right after READY=1"

# ---- watchdog: pings every WATCHDOG_USEC/2 = 200 ms
t_ready=$(printf '%s\n' "$ready" | awk '{print $2}')
sleep 1.6
pings=$(dgrams '^WATCHDOG=1$' | awk -v t="$t_ready" '$2 > t && $2 <= t + 1.5' | wc -l)
note "$pings WATCHDOG=1 within 1.5 s after READY=1"
if [ "$pings" -lt 2 ]; then
	show_out
	fail "fewer than 2 WATCHDOG=1 within 1.5 s after READY=1 ($pings)"
fi
gap=$(dgrams '^WATCHDOG=1$' | awk 'NR > 1 { g = $2 - prev; if (g > max) max = g } { prev = $2 }
	END { printf "%.3f", max }')
note "largest gap between pings: $gap s"

# ---- reload
n_ready=$(dgrams '^READY=1' | wc -l)
kill -HUP "$pid"
reloaded() {
	pid_alive "$pid" || fail "pgrelay died on SIGHUP (no SIGHUP handler?)"
	# a RELOADING=1 line, and a READY=1 after it
	awk '$1 == "D" && $3 ~ /^RELOADING=1/ { r = 1 } $1 == "D" && r && $3 ~ /^READY=1/ { ok = 1 }
		END { exit !ok }' "$OUT"
}
wait_until 15 reloaded || {
	show_out
	fail "no RELOADING=1 followed by READY=1 after SIGHUP"
}
reloading=$(dgrams '^RELOADING=1' | head -n 1)
re='RELOADING=1\\nMONOTONIC_USEC=[0-9]+($|\\n)'
[[ $reloading =~ $re ]] ||
	fail "RELOADING=1 without a numeric MONOTONIC_USEC: $reloading"
assert_eq "$(dgrams '^READY=1' | wc -l)" "$((n_ready + 1))" "READY=1 messages after reload"
pid_alive "$pid" || fail "pgrelay died on SIGHUP"
wait_until 20 has_psql_line 2 || fail "the psql after the second READY=1 did not finish"
assert_contains "$(psql_lines | sed -n 2p)" "rc=0 out=1 " "select 1 right after the reload"

# ---- SIGTERM: STOPPING=1, then the process exits
has_dgram '^STOPPING=1' && fail "STOPPING=1 before SIGTERM"
kill -TERM "$pid"
wait_until 10 has_dgram '^STOPPING=1' || {
	show_out
	fail "no STOPPING=1 within 10 s of SIGTERM"
}
exited() { ! pid_alive "$pid"; }
wait_until 15 exited || fail "pgrelay still runs 15 s after SIGTERM"
assert_eq "$(dgrams '^READY=1' | awk -v t="$(dgrams '^STOPPING=1' | awk '{print $2; exit}')" \
	'$2 > t' | wc -l)" 0 "READY=1 after STOPPING=1"

# the notified instance logged plain, timestamped lines
grep -q 'systemd notification to ' "$SD_DIR/pgrelay.log" ||
	fail "no 'systemd notification to' line in $SD_DIR/pgrelay.log"
first=$(head -n 1 "$SD_DIR/pgrelay.log")
re='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ UTC \[[0-9]+\] [A-Z]+ '
[[ $first =~ $re ]] ||
	fail "plain log line expected without PGRELAY_LOG_FORMAT/JOURNAL_STREAM: $first"

# ---- journald line format
# check_journal_log LOG WHAT: every line is "<N>LEVEL message" (N matching LEVEL), no timestamp
check_journal_log() {
	local log=$1 what=$2 bad
	grep -q '^<6>INFO pgrelay .* started' "$log" || {
		head -n 20 "$log" >&2
		fail "$what: no '<6>INFO pgrelay ... started' line"
	}
	bad=$(grep -Ev '^(<3>(FATAL|ERROR)|<4>WARNING|<6>INFO|<7>DEBUG) ' "$log" || true)
	[ -z "$bad" ] || fail "$what: lines not in the journal format: $bad"
	if grep -Eq '^<[0-9]>[A-Z]+ [0-9]{4}-[0-9]{2}-[0-9]{2} |UTC \[[0-9]+\]' "$log"; then
		fail "$what: a timestamp or pid in a journal line: $(grep -E 'UTC \[' "$log" | head -n 1)"
	fi
}

# forced with PGRELAY_LOG_FORMAT=journal
export PGRELAY_LOG_FORMAT=journal
extra_proxy_start "sdnotify-journal-$$"
unset PGRELAY_LOG_FORMAT
pqp "$XP_PORT" -At -c 'select 1' >/dev/null
check_journal_log "$XP_DIR/pgrelay.log" "PGRELAY_LOG_FORMAT=journal"
note "journal line: $(head -n 1 "$XP_DIR/pgrelay.log")"
extra_proxy_stop "$XP_DIR"

# detected: JOURNAL_STREAM is the device:inode of the file stderr goes to (proxy_start
# truncates the existing log file, so its inode stays)
JDIR=$WORK_DIR/extra/sdnotify-stream-$$
mkdir -p "$JDIR"
: >"$JDIR/pgrelay.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$JDIR/pgrelay.log")
export JOURNAL_STREAM
extra_proxy_start "sdnotify-stream-$$"
unset JOURNAL_STREAM
check_journal_log "$XP_DIR/pgrelay.log" "JOURNAL_STREAM=<the log file>"
extra_proxy_stop "$XP_DIR"
