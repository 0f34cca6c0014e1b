#!/usr/bin/env bash
# t_psycopg2.sh - runs t_psycopg2.py (psycopg2 through pgrelay) with /usr/bin/python3.
source "$(dirname "$0")/lib.sh"

mq -c "set client_min_messages = warning" -c "drop table if exists it_py"
out=$("$PY" "$IT_DIR/t_psycopg2.py" 2>&1) || {
	printf '%s\n' "$out"
	fail "t_psycopg2.py failed"
}
assert_eq "$out" "psycopg2: all checks passed" "t_psycopg2.py output"
