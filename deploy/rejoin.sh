#!/usr/bin/env bash
# deploy/rejoin.sh - turns a failed old master into a replica of the new master after a
# pgrelay failover: stops it if it runs, rewinds it with pg_rewind to the point where the
# timelines diverged, writes standby.signal and primary_conninfo (pointing at the new
# master), drops the read-only fence pgrelay may have set (default_transaction_read_only),
# and starts it (--start). Run it as the operating-system user that owns the data directory
# (postgres). pg_rewind needs wal_log_hints = on or data checksums on the old master, and a
# login on the new master that may run CHECKPOINT and read its files (a superuser, or a
# role with pg_checkpoint and the grants pg_rewind documents). pgrelay keeps the node fenced until
# an operator unfences it (admin console: UNFENCE NODE) once it streams.
#
# Usage: rejoin.sh -D DATADIR -h NEWMASTER_HOST -p NEWMASTER_PORT [-U USER]
#                  [-n APPLICATION_NAME] [-s SLOT] [--bindir DIR] [--start]
# The password comes from PGPASSWORD or ~/.pgpass, as for any libpq program.
set -euo pipefail

usage() {
	sed -n 's/^# \{0,1\}//; /^Usage/,/^The password/p' "$0" >&2
	exit 2
}

DATADIR="" HOST="" PORT="" USER_NAME=postgres APPNAME="" SLOT="" BINDIR="" START=no
while [ $# -gt 0 ]; do
	case "$1" in
	-D) DATADIR=$2; shift 2 ;;
	-h) HOST=$2; shift 2 ;;
	-p) PORT=$2; shift 2 ;;
	-U) USER_NAME=$2; shift 2 ;;
	-n) APPNAME=$2; shift 2 ;;
	-s) SLOT=$2; shift 2 ;;
	--bindir) BINDIR=$2; shift 2 ;;
	--start) START=yes; shift ;;
	*) usage ;;
	esac
done
[ -n "$DATADIR" ] && [ -n "$HOST" ] && [ -n "$PORT" ] || usage
[ -f "$DATADIR/PG_VERSION" ] || { echo "rejoin: $DATADIR is not a data directory" >&2; exit 1; }
if [ -z "$BINDIR" ]; then
	BINDIR=/usr/lib/postgresql/$(cat "$DATADIR/PG_VERSION")/bin
fi
[ -n "$APPNAME" ] || APPNAME=$(basename "$DATADIR")

# 1. stopped (a fast stop writes a clean shutdown checkpoint, which pg_rewind wants)
if "$BINDIR/pg_ctl" -D "$DATADIR" status >/dev/null 2>&1; then
	echo "rejoin: stopping the old master"
	"$BINDIR/pg_ctl" -D "$DATADIR" -m fast -w -t 60 stop
fi

# 2. back to where the new master's timeline forked. A freshly promoted master records its
# new timeline in its control file only at its next checkpoint: pg_rewind reads it there.
SOURCE="host=$HOST port=$PORT user=$USER_NAME dbname=postgres"
echo "rejoin: CHECKPOINT on the new master"
"$BINDIR/psql" "$SOURCE" -X -q -c "CHECKPOINT"
echo "rejoin: pg_rewind from $HOST:$PORT"
# pg_rewind copies the source's configuration files over the target's: keep the node's own
KEEP=$(mktemp -d)
trap 'rm -rf "$KEEP"' EXIT
for f in postgresql.conf pg_hba.conf pg_ident.conf; do
	[ -f "$DATADIR/$f" ] && cp -p "$DATADIR/$f" "$KEEP/$f"
done
"$BINDIR/pg_rewind" --target-pgdata="$DATADIR" --source-server="$SOURCE" --progress
for f in postgresql.conf pg_hba.conf pg_ident.conf; do
	[ -f "$KEEP/$f" ] && cp -p "$KEEP/$f" "$DATADIR/$f"
done

# 3. a standby of the new master, without pgrelay's read-only fence
AUTO=$DATADIR/postgresql.auto.conf
touch "$AUTO"
sed -i -e '/^[[:space:]]*primary_conninfo[[:space:]]*=/d' \
	-e '/^[[:space:]]*primary_slot_name[[:space:]]*=/d' \
	-e '/^[[:space:]]*default_transaction_read_only[[:space:]]*=/d' "$AUTO"
# as pg_basebackup -R does, the password given to this script goes into primary_conninfo
PASS=""
if [ -n "${PGPASSWORD:-}" ]; then
	PASS=" password=$(printf '%s' "$PGPASSWORD" | sed -e "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g")"
fi
printf "primary_conninfo = 'host=%s port=%s user=%s application_name=%s%s'\n" \
	"$HOST" "$PORT" "$USER_NAME" "$APPNAME" "$PASS" >>"$AUTO"
if [ -n "$SLOT" ]; then
	printf "primary_slot_name = '%s'\n" "$SLOT" >>"$AUTO"
fi
touch "$DATADIR/standby.signal"
echo "rejoin: $DATADIR is a standby of $HOST:$PORT"

# 4. started, if asked
if [ "$START" = yes ]; then
	"$BINDIR/pg_ctl" -D "$DATADIR" -w -t 60 -l "$DATADIR/rejoin.log" start
fi
