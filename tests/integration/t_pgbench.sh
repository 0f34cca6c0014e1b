#!/usr/bin/env bash
# t_pgbench.sh - pgbench through pgrelay: pgbench -i (scale 1, which loads with COPY), then
# every query mode (-M simple, extended, prepared) with the select-only (-S) and the
# tpcb-like script, 4 clients, 2 threads, 150 transactions each. Every run must exit 0 and
# report every transaction processed and 0 failed; each tpcb run adds exactly its
# transactions to pgbench_history.
source "$(dirname "$0")/lib.sh"

CLIENTS=4
PER_CLIENT=150
TOTAL=$((CLIENTS * PER_CLIENT))

bench() {
	PGPASSWORD=postgres pgbench -h 127.0.0.1 -p "$PROXY_PORT" -U postgres "$@" postgres
}

if ! bench -i -s 1 -q >"$TMP/init.out" 2>&1; then
	cat "$TMP/init.out"
	fail "pgbench -i through pgrelay failed"
fi
assert_eq "$(mval 'select count(*) from pgbench_accounts')" 100000 "pgbench_accounts rows"
assert_eq "$(mval 'select count(*) from pgbench_branches')" 1 "pgbench_branches rows"
assert_eq "$(mval 'select count(*) from pgbench_history')" 0 "pgbench_history rows after -i"

history=0
for mode in simple extended prepared; do
	for script in select-only tpcb-like; do
		args=(-M "$mode" -c "$CLIENTS" -j 2 -t "$PER_CLIENT" -n)
		[ "$script" = select-only ] && args+=(-S)
		out=$TMP/$mode-$script.out
		rc=0
		bench "${args[@]}" >"$out" 2>&1 || rc=$?
		if [ $rc -ne 0 ]; then
			cat "$out"
			fail "pgbench -M $mode $script exited with $rc"
		fi
		processed=$(sed -n -e 's/^number of transactions actually processed: \([0-9]*\)\/.*/\1/p' "$out")
		failed=$(sed -n -e 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
		assert_eq "$processed" "$TOTAL" "transactions processed, -M $mode $script"
		assert_eq "$failed" 0 "failed transactions, -M $mode $script"
		assert_eq "$(grep -c -i 'error' "$out" || true)" 0 "no error in the pgbench output, -M $mode $script"
		if [ "$script" = tpcb-like ]; then
			history=$((history + TOTAL))
		fi
		assert_eq "$(mval 'select count(*) from pgbench_history')" "$history" \
			"pgbench_history rows after -M $mode $script"
		note "-M $mode $script: $(grep '^tps' "$out" | head -n 1)"
	done
done
# The balances stay consistent: every tpcb transaction adds the same delta to the three.
assert_eq "$(mval "select (select sum(abalance) from pgbench_accounts) =
	(select sum(bbalance) from pgbench_branches) and (select sum(bbalance) from pgbench_branches)
	= (select sum(tbalance) from pgbench_tellers) and (select sum(delta) from pgbench_history)
	= (select sum(bbalance) from pgbench_branches)")" t "balances consistent"
mq -c "drop table pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers"
