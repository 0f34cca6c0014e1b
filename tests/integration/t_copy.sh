#!/usr/bin/env bash
# t_copy.sh - large COPY both ways through pgrelay: a 200,000-row table (~22 MB of text) made
# directly on the master is copied out (text and binary) through pgrelay and directly, with
# identical bytes; the text file is copied back in through pgrelay (COPY FROM STDIN) into a
# new table whose count, sum and copy-out match; a COPY FROM STDIN with a bad row fails with
# 22P02 and leaves the connection usable.
source "$(dirname "$0")/lib.sh"

ROWS=200000
mq -c "set client_min_messages = warning" -c "drop table if exists it_copy_src, it_copy_dst"
mq -c "create table it_copy_src (id int primary key, label text, payload text, n numeric)" \
	-c "insert into it_copy_src select g, 'row ' || g || E'\\ttab\\\\slash ''q''',
		repeat(md5(g::text), 2) || case when g % 7 = 0 then null else 'é€' end,
		g * 1.25 from generate_series(1, $ROWS) g" \
	-c "update it_copy_src set payload = null where id % 1000 = 0"
wait_replay

copy_out="copy (select * from it_copy_src order by id) to stdout"
mq -c "$copy_out" >"$TMP/direct.txt"
pq -c "$copy_out" >"$TMP/pgrelay.txt"
size=$(stat -c %s "$TMP/direct.txt")
[ "$size" -gt 20000000 ] || fail "the copy-out is only $size bytes"
assert_eq "$(wc -l <"$TMP/pgrelay.txt")" "$ROWS" "rows copied out through pgrelay"
assert_eq "$(md5sum <"$TMP/pgrelay.txt")" "$(md5sum <"$TMP/direct.txt")" \
	"md5 of COPY TO STDOUT through pgrelay vs directly"

mq -c "$copy_out with (format binary)" >"$TMP/direct.bin"
pq -c "$copy_out with (format binary)" >"$TMP/pgrelay.bin"
assert_eq "$(md5sum <"$TMP/pgrelay.bin")" "$(md5sum <"$TMP/direct.bin")" \
	"md5 of binary COPY TO STDOUT through pgrelay vs directly"

# COPY FROM STDIN through pgrelay, from the file copied out.
mq -c "create table it_copy_dst (like it_copy_src including all)"
out=$(pq -c "copy it_copy_dst from stdin" <"$TMP/pgrelay.txt" 2>&1) || fail "COPY FROM STDIN: $out"
assert_eq "$(mval "select count(*), sum(id), sum(n), sum(length(payload)), count(payload)
	from it_copy_dst")" "$(mval "select count(*), sum(id), sum(n), sum(length(payload)),
	count(payload) from it_copy_src")" "count and sums after COPY FROM STDIN through pgrelay"
assert_eq "$(mval "select count(*) from (select * from it_copy_src except
	select * from it_copy_dst) d")" 0 "rows identical after COPY FROM STDIN"
wait_replay
pq -c "copy (select * from it_copy_dst order by id) to stdout" >"$TMP/back.txt"
assert_eq "$(md5sum <"$TMP/back.txt")" "$(md5sum <"$TMP/direct.txt")" \
	"md5 of the copied-in table, copied out again"

# Binary COPY FROM STDIN through pgrelay.
mq -c "truncate it_copy_dst"
out=$(pq -c "copy it_copy_dst from stdin with (format binary)" <"$TMP/direct.bin" 2>&1) ||
	fail "binary COPY FROM STDIN: $out"
assert_eq "$(mval "select count(*) from (select * from it_copy_src except
	select * from it_copy_dst) d")" 0 "rows identical after binary COPY FROM STDIN"
assert_eq "$(mval "select count(*) from it_copy_dst")" "$ROWS" "rows after binary COPY"

# A bad row in the middle: the COPY fails with 22P02, nothing is inserted, the session goes on.
mq -c "truncate it_copy_dst"
{
	head -n 1000 "$TMP/direct.txt"
	printf 'notanumber\tx\ty\t1\n'
	sed -n -e '1001,2000p' "$TMP/direct.txt"
} >"$TMP/bad.txt"
out=$(pq -v ON_ERROR_STOP=0 -c "\\set VERBOSITY sqlstate" -c "\\copy it_copy_dst from '$TMP/bad.txt'" \
	-c "select 'after', count(*) from it_copy_dst" -At 2>&1) || true
assert_contains "$out" "ERROR:  22P02" "bad COPY row error"
assert_contains "$out" "after|0" "session usable after the failed COPY"

mq -c "drop table it_copy_src, it_copy_dst"
