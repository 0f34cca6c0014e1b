#!/usr/bin/env bash
# t_metrics.sh - the HTTP listener (metrics_port) on a cluster of the test's own: /metrics scraped
# with curl has every family in Prometheus' text format with consistent values (statements
# routed to the replicas and the master, a histogram whose buckets add up), /health is 200 with a
# master, 503 while the master is down and being replaced, and 200 again after the failover,
# which pgrelay_failovers_total counts. Unknown paths are 404, other methods 405.
source "$(dirname "$0")/lib.sh"

own_cluster met
C=$OC_DIR
MP=$(free_port_block 1) || fail "no free port"
proxy_write_ini "$C" "$OC_PORT" "monitor_interval = 0.2" "failover_after = 3" \
	"metrics_port = $MP" "metrics_addr = 127.0.0.1"
_EXTRA_DIRS+=("$C")
proxy_start "$C" "$PGRELAY_BIN" || fail "pgrelay did not start"
P=(env PGPASSWORD=postgres psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d postgres -X -q -At)
URL=http://127.0.0.1:$MP
"${P[@]}" -c "create table met (id int)" -c "insert into met values (1)"
cluster_wait_replay "$C" >/dev/null
for i in $(seq 1 20); do "${P[@]}" -c "select count(*) from met" >/dev/null; done

curl -sf "$URL/metrics" >"$TMP/m1" || fail "GET /metrics failed"
for fam in pgrelay_up pgrelay_node_state pgrelay_node_is_master pgrelay_node_lag_bytes \
	pgrelay_node_lag_seconds pgrelay_statements_total pgrelay_node_errors_total \
	pgrelay_server_connections pgrelay_client_connections pgrelay_clients_waiting \
	pgrelay_failovers_total pgrelay_switchovers_total pgrelay_query_duration_seconds \
	pgrelay_bytes_total; do
	grep -q "^# TYPE $fam " "$TMP/m1" || fail "/metrics has no family $fam"
done
# the text format, line by line, and the values that must hold
"$PY" - "$TMP/m1" <<'PYEOF' || fail "/metrics is not consistent"
import re, sys
text = open(sys.argv[1]).read()
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*)?\})? (-?[0-9.e+-]+|\+Inf|NaN)$')
vals = {}
for line in text.splitlines():
    if line.startswith("# HELP ") or line.startswith("# TYPE "):
        continue
    m = sample.match(line)
    if not m:
        sys.exit("bad line: %r" % line)
    vals[m.group(1) + (m.group(2) or "")] = float(m.group(5))
def v(k):
    if k not in vals:
        sys.exit("missing sample %s" % k)
    return vals[k]
assert v('pgrelay_node_is_master{node="n0"}') == 1, "n0 is the master"
assert v('pgrelay_node_state{node="n1",role="replica",state="up"}') == 1, "n1 is up"
reads = v('pgrelay_statements_total{node="n1",kind="read"}') + v('pgrelay_statements_total{node="n2",kind="read"}')
assert reads >= 15, "the replicas served the reads (%d of 20; the first may go to the master)" % reads
assert v('pgrelay_statements_total{node="n0",kind="write"}') >= 2, "the master took the writes"
for n in ("n0", "n1", "n2"):
    count = v('pgrelay_query_duration_seconds_count{node="%s"}' % n)
    inf = v('pgrelay_query_duration_seconds_bucket{node="%s",le="+Inf"}' % n)
    assert count == inf, "the +Inf bucket equals the count (%s)" % n
    les = [(float(m.group(1)), vals[k]) for k in vals
           for m in [re.match(r'pgrelay_query_duration_seconds_bucket\{node="%s",le="([0-9.e+-]+)"\}' % n, k)] if m]
    les.sort()
    assert all(a[1] <= b[1] for a, b in zip(les, les[1:])), "buckets are cumulative (%s)" % n
assert v('pgrelay_bytes_total{node="n0",direction="to_server"}') > 0, "bytes to the master"
assert v("pgrelay_failovers_total") == 0
print("ok")
PYEOF
code=$(curl -s -o "$TMP/h" -w '%{http_code}' "$URL/health")
assert_eq "$code" "200" "/health with a master"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/nope")" "404" "an unknown path"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/metrics")" "405" "POST"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -I "$URL/health")" "200" "HEAD /health"

# the master dies: /health says 503 until the failover is done, then 200
cluster_kill_node "$C" n0
health_is() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/health")" = "$1" ]; }
wait_until 10 health_is 503 || fail "/health does not say 503 with the master down"
note "/health: $(curl -s "$URL/health")"
wait_until 20 health_is 200 || fail "/health does not come back to 200 after the failover"
curl -sf "$URL/metrics" >"$TMP/m2" || fail "GET /metrics after the failover"
grep -q "^pgrelay_failovers_total 1$" "$TMP/m2" || fail "pgrelay_failovers_total is not 1"
grep -q '^pgrelay_node_state{node="n0",role="replica",state="fenced"} 1$' "$TMP/m2" ||
	fail "n0 is not shown fenced: $(grep 'node="n0"' "$TMP/m2" | head -8)"
