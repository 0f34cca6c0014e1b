#!/usr/bin/env bash
# tests/classify/run_oracle.sh - runs the classifier's differential test (oracle.c) over every
# statement of PostgreSQL's regression suite. Usage: run_oracle.sh ORACLE_BINARY [oracle options]
# (e.g. --misses 5 to see where the classifier loses reads, --skipped for what does not parse).
#   PGREGRESS_DIR   the suite (default ../shared/pgregress next to the checkout); its sql/ is read
# Exits non-zero when the classifier calls a read something the parse tree shows is not one.
set -euo pipefail

if [ $# -lt 1 ]; then
	echo "usage: $0 ORACLE_BINARY [oracle options]" >&2
	exit 2
fi
bin=$1
shift
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SQL_DIR=${PGREGRESS_DIR:-$ROOT/../shared/pgregress}/sql
if [ ! -d "$SQL_DIR" ]; then
	echo "classify-oracle: $SQL_DIR not found (set PGREGRESS_DIR)" >&2
	exit 2
fi
exec "$bin" --funcs "$ROOT/tests/classify/readonly_funcs.txt" "$@" "$SQL_DIR"
