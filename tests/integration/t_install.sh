#!/usr/bin/env bash
# t_install.sh - `make install` / `make uninstall` into a temporary DESTDIR (PREFIX=/usr/local):
# every file lands where systemd and the FHS expect it, with the right mode; the unit installed
# from deploy/pgrelay.service is the same file, runs the installed binary with
# /etc/pgrelay/proxy.ini and passes `systemd-analyze verify` (run with --root on a copy of the
# install plus the system's own units, so nothing is written outside temporary directories);
# as root, systemd-sysusers and systemd-tmpfiles apply the installed entries inside that root.
# A second install keeps an edited proxy.ini; uninstall removes everything but proxy.ini.
# PREFIX=/opt/... puts the unit in /etc/systemd/system. Needs no cluster: it runs under
# tests/integration/run.sh or on its own (bash tests/integration/t_install.sh, after
# `make pgrelay`). Needs systemd-analyze (Debian package systemd).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

note() { echo "# $*"; }

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# the layout under test comes from the command line only
unset PREFIX BINDIR SYSCONFDIR DOCDIR SYSTEMDUNITDIR SYSUSERSDIR TMPFILESDIR DESTDIR INSTALL || true

command -v systemd-analyze >/dev/null ||
	fail "systemd-analyze not found: install the Debian package 'systemd' (apt-get install systemd)"
[ -x "$ROOT/pgrelay" ] || fail "$ROOT/pgrelay is missing: run 'make pgrelay' first"
[ -x /bin/kill ] || fail "/bin/kill (the unit's ExecReload) is missing: install the package 'procps'"

TMP=$(mktemp -d "${WORK_DIR:-/tmp}/install.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
DEST=$TMP/dest

# mk LOG ARGS...: make in the checkout without rebuilding the binary; fails with the log.
mk() {
	local log=$1
	shift
	if ! timeout 120 make --no-print-directory -C "$ROOT" -o pgrelay "$@" >"$log" 2>&1; then
		sed -e 's/^/  | /' "$log" >&2
		fail "make $* failed"
	fi
}

# ---- install ---------------------------------------------------------------------------
mk "$TMP/install1.log" install DESTDIR="$DEST" PREFIX=/usr/local

UNIT=usr/local/lib/systemd/system/pgrelay.service
DOC=usr/local/share/doc/pgrelay
# path mode, for every file install must create, and nothing else
expected="usr/local/bin/pgrelay 755
$UNIT 644
usr/local/lib/sysusers.d/pgrelay.conf 644
usr/local/lib/tmpfiles.d/pgrelay.conf 644
etc/pgrelay/proxy.ini 640
etc/pgrelay/proxy.ini.example 644
$DOC/README.md 644
$DOC/proxy.ini.example 644
$DOC/rejoin.sh 755
$DOC/grafana-dashboard.json 644"
got=$(cd "$DEST" && find . ! -type d -printf '%P %m\n' | LC_ALL=C sort)
want=$(printf '%s\n' "$expected" | LC_ALL=C sort)
if [ "$got" != "$want" ]; then
	diff -u <(echo "$want") <(echo "$got") | sed -e 's/^/  | /' >&2 || true
	fail "installed files and modes (diff: expected, got)"
fi
mode=$(stat -c %a "$DEST/etc/pgrelay")
[ "$mode" = 750 ] || fail "etc/pgrelay has mode $mode, expected 750"

cmp -s "$ROOT/pgrelay" "$DEST/usr/local/bin/pgrelay" || fail "the installed binary differs from ./pgrelay"
cmp -s "$ROOT/proxy.ini.example" "$DEST/etc/pgrelay/proxy.ini" || fail "proxy.ini is not proxy.ini.example"
cmp -s "$ROOT/deploy/pgrelay.sysusers" "$DEST/usr/local/lib/sysusers.d/pgrelay.conf" ||
	fail "the sysusers.d entry differs from deploy/pgrelay.sysusers"
cmp -s "$ROOT/deploy/pgrelay.tmpfiles" "$DEST/usr/local/lib/tmpfiles.d/pgrelay.conf" ||
	fail "the tmpfiles.d entry differs from deploy/pgrelay.tmpfiles"
/usr/bin/python3 -m json.tool "$DEST/$DOC/grafana-dashboard.json" >/dev/null ||
	fail "the installed grafana-dashboard.json is not valid JSON"
note "install: $(echo "$expected" | wc -l) files with the expected modes"

# ---- the generated unit ----------------------------------------------------------------
# with the default PREFIX the installed unit is deploy/pgrelay.service as it is
cmp -s "$ROOT/deploy/pgrelay.service" "$DEST/$UNIT" || fail "$UNIT differs from deploy/pgrelay.service"
grep -qx 'ExecStart=/usr/local/bin/pgrelay -c /etc/pgrelay/proxy.ini' "$DEST/$UNIT" ||
	fail "$UNIT: no 'ExecStart=/usr/local/bin/pgrelay -c /etc/pgrelay/proxy.ini' line"
grep -qx 'Type=notify' "$DEST/$UNIT" || fail "$UNIT: not Type=notify"
grep -qx 'Documentation=file:/usr/local/share/doc/pgrelay/README.md' "$DEST/$UNIT" ||
	fail "$UNIT: Documentation= does not name the installed README.md"

# systemd-analyze verify checks ExecStart=/ExecReload= binaries and the units the service
# depends on (sysinit.target, network-online.target, ...) inside --root: a copy of the
# install plus the system's own unit files and /bin/kill.
VROOT=$TMP/vroot
mkdir -p "$VROOT/usr/lib/systemd/system" "$VROOT/bin"
cp -a "$DEST/." "$VROOT/"
for d in /usr/lib/systemd/system /lib/systemd/system; do
	if [ -d "$d" ]; then cp -a "$d/." "$VROOT/usr/lib/systemd/system/"; fi
done
[ -f "$VROOT/usr/lib/systemd/system/sysinit.target" ] ||
	fail "no sysinit.target in /usr/lib/systemd/system or /lib/systemd/system: is systemd installed?"
cp /bin/kill "$VROOT/bin/kill"

# verify UNIT_PATH_IN_ROOT: prints systemd-analyze's output, returns its exit status
verify() {
	timeout 60 systemd-analyze verify --root="$VROOT" "$1" 2>&1
}

# First a unit with known faults, to show that verify reports them in this setup.
sed -e 's|^ExecStart=.*|ExecStart=/usr/local/bin/pgrelay-missing -c /etc/pgrelay/proxy.ini|' \
	-e 's|^Type=notify$|Type=notify\nNoSuchKey=1|' "$DEST/$UNIT" \
	>"$VROOT/usr/local/lib/systemd/system/pgrelay-broken.service"
rc=0
out=$(verify /usr/local/lib/systemd/system/pgrelay-broken.service) || rc=$?
[ $rc -ne 0 ] || fail "systemd-analyze verify accepted a unit whose ExecStart does not exist: $out"
[[ $out == *"NoSuchKey"* ]] || fail "systemd-analyze verify did not report an unknown key: $out"
rm -f "$VROOT/usr/local/lib/systemd/system/pgrelay-broken.service"

rc=0
out=$(verify "/$UNIT") || rc=$?
if [ $rc -ne 0 ] || grep -q 'pgrelay' <<<"$out"; then
	printf '%s\n' "$out" | sed -e 's/^/  | /' >&2
	fail "systemd-analyze verify $UNIT: exit $rc, or warnings about the unit"
fi
if [ -n "$out" ]; then
	note "systemd-analyze verify said about other units:"
	printf '%s\n' "$out" | sed -e 's/^/#   /'
fi
note "systemd-analyze verify: $UNIT passes ($(systemd-analyze --version | head -n 1))"

# sysusers.d and tmpfiles.d entries, applied inside the verify root (chown needs root).
if [ "$(id -u)" = 0 ]; then
	timeout 60 systemd-sysusers --root="$VROOT" >"$TMP/sysusers.log" 2>&1 ||
		fail "systemd-sysusers --root: $(cat "$TMP/sysusers.log")"
	grep -q '^pgrelay:x:[0-9]*:[0-9]*:[^:]*:/var/lib/pgrelay:' "$VROOT/etc/passwd" ||
		fail "systemd-sysusers did not create the pgrelay user with home /var/lib/pgrelay"
	grep -q '^pgrelay:x:[0-9]*:' "$VROOT/etc/group" || fail "systemd-sysusers did not create group pgrelay"
	timeout 60 systemd-tmpfiles --root="$VROOT" --create \
		"$VROOT/usr/local/lib/tmpfiles.d/pgrelay.conf" >"$TMP/tmpfiles.log" 2>&1 ||
		fail "systemd-tmpfiles --root --create: $(cat "$TMP/tmpfiles.log")"
	gid=$(grep '^pgrelay:' "$VROOT/etc/group" | cut -d: -f3)
	uid=$(grep '^pgrelay:' "$VROOT/etc/passwd" | cut -d: -f3)
	got=$(stat -c '%a %u:%g' "$VROOT/var/lib/pgrelay")
	[ "$got" = "750 $uid:$gid" ] || fail "var/lib/pgrelay after tmpfiles: $got, expected 750 $uid:$gid"
	got=$(stat -c '%a %u:%g' "$VROOT/etc/pgrelay")
	[ "$got" = "750 0:$gid" ] || fail "etc/pgrelay after tmpfiles: $got, expected 750 0:$gid"
	note "systemd-sysusers and systemd-tmpfiles apply the installed entries"
else
	note "not root: systemd-sysusers/systemd-tmpfiles --root not tried"
fi

# ---- a second install keeps the operator's proxy.ini -----------------------------------
echo "; edited by the operator" >>"$DEST/etc/pgrelay/proxy.ini"
echo "; an old example" >>"$DEST/etc/pgrelay/proxy.ini.example"
cp "$DEST/etc/pgrelay/proxy.ini" "$TMP/proxy.ini.edited"
mk "$TMP/install2.log" install DESTDIR="$DEST" PREFIX=/usr/local
cmp -s "$TMP/proxy.ini.edited" "$DEST/etc/pgrelay/proxy.ini" ||
	fail "a second make install overwrote the edited etc/pgrelay/proxy.ini"
grep -q 'kept the existing' "$TMP/install2.log" || fail "the second install did not say it kept proxy.ini"
cmp -s "$ROOT/proxy.ini.example" "$DEST/etc/pgrelay/proxy.ini.example" ||
	fail "a second make install did not refresh etc/pgrelay/proxy.ini.example"
note "second install: proxy.ini kept, proxy.ini.example refreshed"

# ---- uninstall -------------------------------------------------------------------------
mk "$TMP/uninstall.log" uninstall DESTDIR="$DEST" PREFIX=/usr/local
got=$(cd "$DEST" && find . ! -type d -printf '%P\n')
[ "$got" = etc/pgrelay/proxy.ini ] || fail "after uninstall, expected only etc/pgrelay/proxy.ini; got: $got"
cmp -s "$TMP/proxy.ini.edited" "$DEST/etc/pgrelay/proxy.ini" || fail "uninstall changed proxy.ini"
grep -q "kept $DEST/etc/pgrelay/proxy.ini" "$TMP/uninstall.log" ||
	fail "uninstall did not say it kept proxy.ini: $(cat "$TMP/uninstall.log")"
[ ! -e "$DEST/$DOC" ] || fail "uninstall left $DOC"
note "uninstall: only the operator's proxy.ini is left"

# ---- a PREFIX systemd does not read: the unit goes to /etc/systemd/system ---------------
mk "$TMP/install-opt.log" install DESTDIR="$TMP/opt" PREFIX=/opt/pgrelay
OPTUNIT=$TMP/opt/etc/systemd/system/pgrelay.service
[ -f "$OPTUNIT" ] || fail "PREFIX=/opt/pgrelay: no etc/systemd/system/pgrelay.service"
grep -qx 'ExecStart=/opt/pgrelay/bin/pgrelay -c /etc/pgrelay/proxy.ini' "$OPTUNIT" ||
	fail "PREFIX=/opt/pgrelay: wrong ExecStart in $OPTUNIT"
grep -qx 'Documentation=file:/opt/pgrelay/share/doc/pgrelay/README.md' "$OPTUNIT" ||
	fail "PREFIX=/opt/pgrelay: wrong Documentation= in $OPTUNIT"
for f in etc/sysusers.d/pgrelay.conf etc/tmpfiles.d/pgrelay.conf; do
	[ -f "$TMP/opt/$f" ] || fail "PREFIX=/opt/pgrelay: no $f"
done
[ -x "$TMP/opt/opt/pgrelay/bin/pgrelay" ] || fail "PREFIX=/opt/pgrelay: no opt/pgrelay/bin/pgrelay"
note "PREFIX=/opt/pgrelay: unit, sysusers.d and tmpfiles.d under /etc"

echo "ok: make install / uninstall"
