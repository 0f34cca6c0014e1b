#!/usr/bin/env bash
# t_reload.sh - live reload on a cluster of the test's own. pgrelay starts with the master and
# n1 only; n2 is added to proxy.ini and SIGHUP makes it serve reads. An invalid file is refused
# (the log and RELOAD say why) and the old configuration keeps working. A threshold and the log
# level change at once; a restart-only key (listen_port) is reported and kept. n1 is removed
# while a client reads through it: the client is not dropped. SET changes a reloadable key until
# the next reload and refuses a restart-only one. Clients connected before stay connected
# throughout.
source "$(dirname "$0")/lib.sh"

own_cluster rl
C=$OC_DIR
R1=$(cluster_port "$C" n1)
R2=$(cluster_port "$C" n2)
proxy_write_ini "$C" "$OC_PORT" "monitor_interval = 0.2"
cp "$C/proxy.ini" "$TMP/full.ini"
# start without n2
"$PY" - "$C/proxy.ini" n2 <<'PYEOF'
import re, sys
path, node = sys.argv[1], sys.argv[2]
text = open(path).read()
text = re.sub(r"\[node\.%s\]\n(?:[^\[]*\n)" % node, "", text)
open(path, "w").write(text)
PYEOF
grep -q "node.n2" "$C/proxy.ini" && fail "could not remove n2 from proxy.ini"
_EXTRA_DIRS+=("$C")
proxy_start "$C" "$PGRELAY_BIN" || fail "pgrelay did not start"
pid=$(proxy_pid "$C")
export PGPASSWORD=postgres
P=(psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d postgres -X -q -At)
A=(psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d pgrelay -X -q -At)
"${P[@]}" -c "create table rl (id int)" -c "insert into rl values (1)"
cluster_wait_replay "$C" >/dev/null
assert_eq "$("${A[@]}" -c "show nodes" | cut -d'|' -f1 | tr '\n' ' ')" "n0 n1 " "n2 is not configured yet"

# a client connected before every reload, checked at the end
"$PY" - "$OC_PORT" "$TMP/long.out" <<'PYEOF' &
import psycopg2, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
c = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", password="postgres",
                     dbname="postgres")
c.autocommit = True
errors, n, ports = 0, 0, set()
end = time.monotonic() + 12
while time.monotonic() < end:
    try:
        with c.cursor() as cur:
            cur.execute("select current_setting('port'), count(*) from rl")
            ports.add(cur.fetchone()[0])
        n += 1
    except Exception as e:
        errors += 1
        print("error: %s" % e, file=sys.stderr)
    time.sleep(0.02)
open(out, "w").write("%d %d %s\n" % (n, errors, ",".join(sorted(ports))))
PYEOF
long=$!
bg_track "$long"

# ---- add n2 ---------------------------------------------------------------------------------
cp "$TMP/full.ini" "$C/proxy.ini"
kill -HUP "$pid"
wait_until 5 grep -q "event config_reloaded: .*node n2 added" "$C/pgrelay.log" ||
	fail "the reload did not add n2: $(tail -5 "$C/pgrelay.log")"
n2_up() { "${A[@]}" -c "show nodes" | grep -q "^n2|127.0.0.1|$R2|replica|up|"; }
wait_until 10 n2_up || fail "n2 is not up after the reload: $("${A[@]}" -c 'show nodes')"
wait_until 10 read_reaches "$OC_PORT" "$R2" || fail "the added replica n2 serves no reads"

# ---- an invalid file is refused ---------------------------------------------------------------
cp "$TMP/full.ini" "$C/proxy.ini"
sed -i 's/^\[pgrelay\]$/[pgrelay]\nmax_lag_bytes = lots/' "$C/proxy.ini"
out=$("${A[@]}" -c "reload" 2>&1) && fail "RELOAD of an invalid file succeeded"
assert_contains "$out" "proxy.ini:3: key 'max_lag_bytes'" "RELOAD names the file, line and key"
assert_contains "$out" "the old configuration stays" "and says the old one stays"
kill -HUP "$pid"
wait_until 5 grep -q "reload refused, the old configuration stays: .*max_lag_bytes" "$C/pgrelay.log" ||
	fail "SIGHUP with an invalid file: no error logged"
pid_alive "$pid" || fail "pgrelay died on an invalid file"
assert_eq "$("${P[@]}" -c "select count(*) from rl")" "1" "queries still work on the old configuration"
assert_contains "$("${A[@]}" -c "show config")" "max_lag_bytes|16777216|" "the old value stays"

# a new node must have a numeric address: no DNS lookup on the loop
cp "$TMP/full.ini" "$C/proxy.ini"
printf '\n[node.n9]\nhost = localhost\nport = %s\n' "$R2" >>"$C/proxy.ini"
sed -i '/^\[databases\]/,/^\* =/d' "$C/proxy.ini"
printf '\n[databases]\n* =\n' >>"$C/proxy.ini"
out=$("${A[@]}" -c "reload" 2>&1) && fail "a node named by host name was added at reload"
assert_contains "$out" "host 'localhost' is not a numeric address" "a reload refuses a host name"

# ---- thresholds, log level, a restart-only key -----------------------------------------------
cp "$TMP/full.ini" "$C/proxy.ini"
sed -i -e 's/^\[pgrelay\]$/[pgrelay]\nmax_lag_bytes = 2MB\npool_size = 7/' \
	-e 's/^log_level = .*/log_level = debug/' -e "s/^listen_port = .*/listen_port = 1/" "$C/proxy.ini"
out=$("${A[@]}" -c "reload" 2>&1) || fail "RELOAD failed: $out"
assert_contains "$out" "listen_port changed: it needs a restart" "a restart-only key is reported"
cfg=$("${A[@]}" -c "show config")
assert_contains "$cfg" "max_lag_bytes|2097152|" "max_lag_bytes took effect"
assert_contains "$cfg" "pool_size|7|" "pool_size took effect"
assert_contains "$cfg" "log_level|debug|" "log_level took effect"
assert_contains "$cfg" "listen_port|$OC_PORT|" "listen_port kept its old value"
"${P[@]}" -c "select 1" >/dev/null
grep -q " DEBUG " "$C/pgrelay.log" || fail "log_level = debug did not take effect"
pool7() { "${A[@]}" -c "show pools" | grep -q "^n0|postgres|postgres|7|"; }
wait_until 5 pool7 || fail "the master's pool does not have pool_size 7: $("${A[@]}" -c 'show pools')"

# a known node's address cannot change at runtime
cp "$TMP/full.ini" "$C/proxy.ini"
"$PY" - "$C/proxy.ini" "$R2" <<'PYEOF'
import sys
path, port = sys.argv[1], sys.argv[2]
text = open(path).read()
i = text.index("[node.n2]")
j = text.index("port = " + port, i)
open(path, "w").write(text[:j] + "port = 1" + text[j + len("port = " + port):])
PYEOF
out=$("${A[@]}" -c "reload" 2>&1) && fail "a changed port of a known node was accepted"
assert_contains "$out" "node n2: its host or port changed" "a known node's address change is refused"
cp "$TMP/full.ini" "$C/proxy.ini"
sed -i -e 's/^\[pgrelay\]$/[pgrelay]\nmax_lag_bytes = 2MB\npool_size = 7/' -e 's/^log_level = .*/log_level = debug/' "$C/proxy.ini"
"${A[@]}" -c "reload" >/dev/null || fail "RELOAD back to the changed keys"

# ---- remove n1 while the long client may be reading through it -----------------------------
cp "$TMP/full.ini" "$C/proxy.ini"
"$PY" - "$C/proxy.ini" n1 <<'PYEOF'
import re, sys
path, node = sys.argv[1], sys.argv[2]
text = open(path).read()
open(path, "w").write(re.sub(r"\[node\.%s\]\n(?:[^\[]*\n)" % node, "", text))
PYEOF
out=$("${A[@]}" -c "reload" 2>&1) || fail "RELOAD without n1 failed: $out"
assert_contains "$out" "node n1 removed" "RELOAD says n1 was removed"
assert_contains "$("${A[@]}" -c "show nodes")" "n1|127.0.0.1|$R1|replica|removed|" "SHOW NODES: n1 removed"
gone_from_n1() {
	[ "$(psql -h 127.0.0.1 -p "$R1" -U postgres -d postgres -X -At -c \
		"select count(*) from pg_stat_activity where backend_type = 'client backend' and
		 application_name not like 'pgrelay %' and pid <> pg_backend_pid()")" = 0 ]
}
wait_until 10 gone_from_n1 || fail "pgrelay keeps connections to the removed n1"
for i in $(seq 1 10); do
	[ "$("${P[@]}" -c "select current_setting('port')")" = "$R1" ] && fail "the removed n1 still serves reads"
done
# the running master cannot be removed, whatever the file says about roles
"$PY" - "$TMP/full.ini" "$C/proxy.ini" <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r"\[node\.n0\]\n(?:[^\[]*\n)", "", text)
text = re.sub(r"(\[node\.n2\]\n(?:[^\[]*\n)?)role = replica", r"\1role = master", text)
open(sys.argv[2], "w").write(text)
PYEOF
out=$("${A[@]}" -c "reload" 2>&1) && fail "a file without the running master was accepted"
assert_contains "$out" "n0 is the master: it cannot be removed" "the master cannot be removed"
cp "$TMP/full.ini" "$C/proxy.ini"

# ---- SET ---------------------------------------------------------------------------------------
out=$("${A[@]}" -c "set max_lag_time = 2.5" 2>&1) || fail "SET max_lag_time: $out"
assert_contains "$out" "until the next reload" "SET says how long it lasts"
assert_contains "$("${A[@]}" -c "show config")" "max_lag_time|2.5|" "SET took effect"
out=$("${A[@]}" -c "set listen_port = 7000" 2>&1) && fail "SET of a restart-only key succeeded"
assert_contains "$out" "cannot change while pgrelay runs" "SET refuses restart-only keys"
out=$("${A[@]}" -c "set max_lag_time = forever" 2>&1) && fail "SET of a bad value succeeded"
assert_contains "$out" "expected a duration" "SET checks the value"
out=$("${A[@]}" -c "set no_such_key = 1" 2>&1) && fail "SET of an unknown key succeeded"
assert_contains "$out" 'unknown key "no_such_key"' "SET of an unknown key"

wait_pid_exit "$long" 30 || fail "the long-lived client failed"
read -r n errors ports <"$TMP/long.out"
note "the client connected throughout: $n reads, $errors errors, served by ports $ports"
assert_eq "$errors" "0" "the client connected before the reloads saw no error"
pid_alive "$pid" || fail "pgrelay is gone"
