#!/usr/bin/env bash
# t_check_config.sh - pgrelay --check-config FILE: the suite's valid file exits 0; an unknown
# key (in [pgrelay] and in a node section), a bad value and an unknown section exit 1 with
# "FILE:LINE: key 'KEY'" on stderr; a missing auth file exits 1 naming it. pgrelay -c with a
# bad file exits 1 at once.
source "$(dirname "$0")/lib.sh"

good=$CLUSTER_DIR/proxy.ini
rc=0
out=$(timeout 10 "$PGRELAY_BIN" --check-config "$good" 2>&1) || rc=$?
assert_eq "$rc" 0 "--check-config on the suite's file: exit status (output: $out)"

# with_line FILE AFTER_REGEX LINE: copies the good file to FILE with LINE inserted after the
# first line matching AFTER_REGEX; prints the new line's number.
with_line() {
	local file=$1 after=$2 line=$3 n
	n=$(grep -n -m 1 -e "$after" "$good" | cut -d: -f1)
	[ -n "$n" ] || fail "no line matching $after in $good"
	sed -e "${n}a\\
$line" "$good" >"$file"
	echo $((n + 1))
}

# expect_bad FILE LINE KEY WHAT
expect_bad() {
	local file=$1 line=$2 key=$3 what=$4 rc=0 out
	out=$(timeout 10 "$PGRELAY_BIN" --check-config "$file" 2>"$TMP/stderr") || rc=$?
	assert_eq "$rc" 1 "$what: exit status"
	assert_contains "$(cat "$TMP/stderr")" "$file:$line: key '$key'" "$what: stderr"
	assert_not_contains "$out" "is valid" "$what: stdout"
}

n=$(with_line "$TMP/unknown.ini" '^\[pgrelay\]' "it_bogus_key = 1")
expect_bad "$TMP/unknown.ini" "$n" it_bogus_key "unknown key in [pgrelay]"

n=$(with_line "$TMP/unknown-node.ini" '^\[node\.n1\]' "prio = 3")
expect_bad "$TMP/unknown-node.ini" "$n" prio "unknown key in a node section"

n=$(with_line "$TMP/badvalue.ini" '^\[pgrelay\]' "pool_size = lots")
expect_bad "$TMP/badvalue.ini" "$n" pool_size "bad pool_size value"

n=$(with_line "$TMP/badtype.ini" '^\[pgrelay\]' "auth_type = password")
expect_bad "$TMP/badtype.ini" "$n" auth_type "bad auth_type value"

# an unknown section
n=$(grep -c '' "$good")
{
	cat "$good"
	echo "[it_unknown_section]"
	echo "x = 1"
} >"$TMP/section.ini"
rc=0
timeout 10 "$PGRELAY_BIN" --check-config "$TMP/section.ini" >/dev/null 2>"$TMP/stderr" || rc=$?
assert_eq "$rc" 1 "unknown section: exit status"
assert_contains "$(cat "$TMP/stderr")" "$TMP/section.ini:" "unknown section: stderr names the file"
assert_contains "$(cat "$TMP/stderr")" "it_unknown_section" "unknown section: stderr names it"

# a missing auth file
sed -e "s|^auth_file = .*|auth_file = $TMP/it_missing_users.txt|" "$good" >"$TMP/noauth.ini"
rc=0
timeout 10 "$PGRELAY_BIN" --check-config "$TMP/noauth.ini" >/dev/null 2>"$TMP/stderr" || rc=$?
assert_eq "$rc" 1 "missing auth file: exit status"
assert_contains "$(cat "$TMP/stderr")" "it_missing_users.txt" "missing auth file: stderr"

# a missing file
rc=0
timeout 10 "$PGRELAY_BIN" --check-config "$TMP/it_no_such.ini" >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 1 "missing config file: exit status"

# -c with a bad file does not start
rc=0
timeout 10 "$PGRELAY_BIN" -c "$TMP/unknown.ini" >/dev/null 2>"$TMP/stderr" || rc=$?
assert_eq "$rc" 1 "pgrelay -c with an unknown key: exit status"
assert_contains "$(cat "$TMP/stderr")" "it_bogus_key" "pgrelay -c with an unknown key: stderr"
