#!/bin/sh
# Demotes a former primary: rewinds its data directory to the new primary's timeline with pg_rewind and
# restarts it as that primary's streaming replica (standby.signal, primary_conninfo, its own slot).
# Run by the failover agent automatically when it controls the server (FAILOVER_REJOIN_COMMAND), or by
# hand as the one command of infra/failover/RUNBOOK.md ("Failback").
#
#   rejoin.sh <data dir> <new primary conninfo> <slot name>
#
# PG_CTL_START: how to start the server afterwards (default: pg_ctl start with a log in the data dir).
# The server must be stopped, or is stopped here (fast). pg_rewind runs crash recovery first when the
# server was killed. The password comes from ~/.pgpass or PGPASSFILE.
set -eu
usage() { echo "usage: rejoin.sh <data dir> <new primary conninfo> <slot name>" >&2; exit 64; }
[ $# -eq 3 ] || usage
data_dir=$1
primary=$2
slot=$3
pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}

if "$pg_bin/pg_ctl" status -D "$data_dir" >/dev/null 2>&1; then
  "$pg_bin/pg_ctl" stop -D "$data_dir" -m fast -w -t 60
fi
# The new primary keeps WAL for us from here on.
"$pg_bin/psql" -X -q -d "$primary dbname=postgres" -v ON_ERROR_STOP=1 -v slot="$slot" <<'SQL'
select pg_create_physical_replication_slot(:'slot')
where not exists (select 1 from pg_replication_slots where slot_name = :'slot');
SQL
# A freshly promoted source shows its new timeline in its control file only after a checkpoint (the
# agent takes one on promotion; the role needs pg_checkpoint). Without it pg_rewind can report "no rewind
# required" and the server never streams.
"$pg_bin/psql" -X -q -d "$primary dbname=postgres" -c checkpoint ||
  echo "rejoin.sh: could not CHECKPOINT the new primary (grant pg_checkpoint to the role); rewinding anyway" >&2
"$pg_bin/pg_rewind" --target-pgdata="$data_dir" --source-server="$primary dbname=postgres" --progress
# pg_rewind copied the new primary's configuration; what makes this server its replica is written here.
touch "$data_dir/standby.signal"
{
  echo "primary_conninfo = '$(printf '%s' "$primary" | sed "s/'/''/g")'"
  echo "primary_slot_name = '$slot'"
} >>"$data_dir/postgresql.auto.conf"
if [ -n "${PG_CTL_START:-}" ]; then
  sh -c "$PG_CTL_START"
else
  "$pg_bin/pg_ctl" start -D "$data_dir" -w -t 60 -l "$data_dir/rejoin.log"
fi
echo "rejoin.sh: $data_dir rewound and streaming from the new primary (slot $slot)"
