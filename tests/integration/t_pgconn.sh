#!/usr/bin/env bash
# t_pgconn.sh - replication/pgconn.c (nonblocking libpq on libev) against the real master:
# connect, results and SQL errors, query timeout, refused and silent peers, free in a callback.
source "$(dirname "$0")/lib.sh"

bin=$ROOT/build/tests/pgconn_test
[ -x "$bin" ] || make -s -C "$ROOT" build/tests/pgconn_test >/dev/null
out=$("$bin" "$MASTER_PORT" 2>&1) || { echo "$out"; fail "pgconn_test failed"; }
echo "$out" | tail -n 1
assert_contains "$out" "18 passed, 0 failed" "every pgconn check passed"
