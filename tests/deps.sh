#!/usr/bin/env bash
# tests/deps.sh - installs the Debian packages that building, testing, the demo and the
# benchmark of pgrelay need, only those that are missing. Prints nothing when all are present.
#
# Installing postgresql-15 or pgbouncer may create and start Debian's default "15 main"
# cluster (port 5432) or the pgbouncer service (port 6432). If this run started them, they are
# stopped again; services that were already running before are left alone.
set -euo pipefail

PACKAGES=(
	build-essential pkg-config libpg-query-dev
	libev-dev libinih-dev libpq-dev libssl-dev libcriterion-dev
	postgresql-15 postgresql-client-15 postgresql-server-dev-15
	pgbouncer python3-psycopg2
	valgrind clang libclang-rt-14-dev
	systemd procps curl
)

missing=()
for pkg in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	if [ "$status" != "install ok installed" ]; then
		missing+=("$pkg")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	SUDO=(sudo)
fi

# Is Debian's default cluster running? (false when it does not exist)
main_cluster_running() {
	command -v pg_ctlcluster >/dev/null 2>&1 || return 1
	pg_ctlcluster 15 main status >/dev/null 2>&1
}

# Is the pgbouncer system service running?
pgbouncer_service_running() {
	[ -x /etc/init.d/pgbouncer ] || return 1
	command -v service >/dev/null 2>&1 || return 1
	"${SUDO[@]}" service pgbouncer status >/dev/null 2>&1
}

main_was_running=no
pgbouncer_was_running=no
if main_cluster_running; then
	main_was_running=yes
fi
if pgbouncer_service_running; then
	pgbouncer_was_running=yes
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}"

if [ "$main_was_running" = no ] && main_cluster_running; then
	echo "deps: stopping the default cluster 15/main that the install started"
	"${SUDO[@]}" pg_ctlcluster 15 main stop
fi
if [ "$pgbouncer_was_running" = no ] && pgbouncer_service_running; then
	echo "deps: stopping the pgbouncer service that the install started"
	"${SUDO[@]}" service pgbouncer stop
fi
