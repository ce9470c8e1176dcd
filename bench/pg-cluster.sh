# shellcheck shell=bash
# A throwaway PostgreSQL cluster for the benchmarks, sourced by bench/postgresql.sh and bench/ab.sh (ENGINE=postgresql),
# after bench/lib.sh.
# Debian's postgresql package; run as the postgres user when the script runs as root (the server refuses root).
#   pg_cluster_start DIR    initdb into DIR/pg, start on a free 127.0.0.1 port; sets pgbin, pg_dir, pg_port
#   pg_database NAME        creates database NAME and prints its connection string for MailSink
#   pg_ticks                CPU ticks the cluster has used (see below)
#   pg_cluster_stop         immediate stop; safe to call when nothing was started

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
pg_dir=
pg_port=

as_pg() { if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_cluster_start() {
  [[ -n $pgbin ]] || { echo "needs PostgreSQL (Debian: apt-get install postgresql)" >&2; return 2; }
  pg_dir=$1/pg
  mkdir -p "$pg_dir" "$1/sock"
  chmod 755 "$1"
  ((EUID == 0)) && chown postgres "$pg_dir" "$1/sock"
  as_pg "$pgbin/initdb" -D "$pg_dir" --auth=trust -U postgres --locale=C.UTF-8 -E UTF8 >/dev/null
  pg_port=$(free_port)
  as_pg "$pgbin/pg_ctl" -D "$pg_dir" -w -l "$pg_dir/server.log" \
    -o "-p $pg_port -k $1/sock -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
}

pg_database() {
  "$pgbin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE $1" >/dev/null
  echo "Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=$1"
}

# The postmaster, its children alive now (the backends, which the pool keeps open, and the background
# processes), and those that have ended (autovacuum workers come and go: their CPU is in the postmaster's
# cutime and cstime once it has reaped them, and would otherwise leave the sum).
pg_ticks() {
  local pm p sum
  pm=$(head -1 "$pg_dir/postmaster.pid")
  sum=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")
  for p in $(pgrep -P "$pm"); do sum=$((sum + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$sum"
}

pg_cluster_stop() {
  [[ -n $pg_dir && -d $pg_dir ]] && as_pg "$pgbin/pg_ctl" -D "$pg_dir" -m immediate stop >/dev/null 2>&1
  return 0
}
