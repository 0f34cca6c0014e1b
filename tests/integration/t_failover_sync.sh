#!/usr/bin/env bash
# t_failover_sync.sh - t_failover.sh's kill under load with synchronous replication
# (synchronous_standby_names = 'ANY 1 (n1, n2)'): zero acknowledged writes may be lost.
FO_SYNC=1 exec bash "$(dirname "$0")/t_failover.sh"
