#!/usr/bin/env bash
# t_pipeline.sh - runs the libpq pipeline-mode program (pipeline.c, built by run.sh) through
# pgrelay, and directly against the master as a reference.
source "$(dirname "$0")/lib.sh"

[ -x "$BUILD_DIR/pipeline" ] || fail "$BUILD_DIR/pipeline was not built (see run.sh's output)"
conninfo="host=127.0.0.1 user=postgres password=postgres dbname=postgres connect_timeout=10"
for target in master pgrelay; do
	port=$PROXY_PORT
	[ $target = master ] && port=$MASTER_PORT
	mq -c "set client_min_messages = warning" -c "drop table if exists it_pipe" \
		-c "create table it_pipe (id int)"
	out=$(timeout 60 "$BUILD_DIR/pipeline" "$conninfo port=$port" 2>&1) || {
		printf '%s\n' "$out"
		fail "the pipeline program failed against $target"
	}
	assert_eq "$out" "pipeline: 358 checks passed" "pipeline program output against $target"
done
mq -c "drop table it_pipe"
