#!/bin/sh
# Makes this host's Postgres a streaming replica of the primary: a fresh copy with pg_basebackup, a
# replication slot on the primary named after this host, and standby.signal + primary_conninfo written
# (-R). The data directory must be empty or absent; the server must be stopped.
#
#   make-replica.sh <data dir> <primary conninfo> <slot name>
#   e.g. make-replica.sh /var/lib/postgresql/data 'host=10.77.0.1 user=replicator' standby
#
# The password comes from ~/.pgpass or PGPASSFILE, never from the command line.
set -eu
usage() { echo "usage: make-replica.sh <data dir> <primary conninfo> <slot name>" >&2; exit 64; }
[ $# -eq 3 ] || usage
data_dir=$1
primary=$2
slot=$3
pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}

if [ -d "$data_dir" ] && [ -n "$(ls -A "$data_dir")" ]; then
  echo "make-replica.sh: $data_dir is not empty; a replica starts from an empty directory" >&2
  exit 1
fi
# Drop a slot of the same name left from an earlier copy, so -C can create it afresh.
"$pg_bin/psql" -X -q -d "$primary dbname=postgres" -v ON_ERROR_STOP=1 -v slot="$slot" <<'SQL'
select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = :'slot' and not active;
SQL
"$pg_bin/pg_basebackup" -D "$data_dir" -d "$primary" -R -X stream -C -S "$slot" --checkpoint=fast
chmod 700 "$data_dir"
echo "make-replica.sh: $data_dir is a replica of the primary (slot $slot); start the server"
