#!/usr/bin/env bash
# The PostgreSQL engine's figures (issue 12), on loopback, with a throwaway PostgreSQL cluster made here
# (Debian's postgresql package; run as the postgres user when this runs as root):
#   1. one node: 5,000 × 2 KB over 10 sessions (smtp-source), interleaved with aiosmtpd (which stores
#      nothing) and with MailSink on LiteDB in the same run, five rounds each, medians and their ratio,
#      server CPU per message; once with each session's messages on one connection (bench/run.sh's first
#      row) and once with a new connection for every message;
#   2. two nodes on the one database, fed at once (sessions kept): the combined rate, and every message
#      accounted for;
#   3. await on node B for mail accepted on node A, 500 messages/s (ApiBench await);
#   4. with 100,000 messages stored: list, search by subject and by sender, and a body word no message
#      holds, asked of node B (ApiBench api).
# Usage: bash bench/postgresql.sh [--quick]    Prints tab-separated figures; the record is docs/performance.md.
# PARTS="1 3" runs only those parts (the rest needs what part 2 starts: node B).
# NODE_ENV="NAME=value ..." starts the MailSink nodes with those environment variables, e.g.
# NODE_ENV="MailSink__Storage__PostgreSql__BodySearchIndex=false" PARTS="1 4" for the figures without the
# body index (docs/postgresql.md, "The body index").
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

quick=0; [[ "${1:-}" == "--quick" ]] && quick=1
if ((quick)); then rounds=1; n2k=2000; fill=10000; api_iter=100; await_s=3; else rounds=5; n2k=5000; fill=100000; api_iter=500; await_s=10; fi
rounds=${ROUNDS:-$rounds}

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }
as_root() { if ((EUID == 0)); then "$@"; else sudo "$@"; fi; }
missing=()
[[ -x /usr/sbin/smtp-source ]] || missing+=(postfix)
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(python3-aiosmtpd)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
  as_root apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
source bench/pg-cluster.sh
python=/usr/bin/python3

say "building MailSink and the load tools (Release)"
dotnet build -c Release -v q --nologo src/MailSink.Server >/dev/null
dotnet build -c Release -v q --nologo bench/SmtpLoad >/dev/null
dotnet build -c Release -v q --nologo bench/ApiBench >/dev/null
server_dll=src/MailSink.Server/bin/Release/net10.0/MailSink.Server.dll
smtpload() { dotnet bench/SmtpLoad/bin/Release/net10.0/SmtpLoad.dll "$@"; }
apibench() { dotnet bench/ApiBench/bin/Release/net10.0/ApiBench.dll "$@"; }

work=$(mktemp -d /tmp/mailsink-pgbench.XXXXXX)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pg_cluster_stop
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() { local _; for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.02; done; echo "port $1 never opened" >&2; return 1; }
timed_rate() { local n=$1 t0 t1; shift; t0=$(now_ns); "$@" >/dev/null; t1=$(now_ns); awk -v n="$n" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

say "PostgreSQL: a cluster of its own in $work/pg"
pg_cluster_start "$work"
cs=$(pg_database mailsink)
echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'), synchronous_commit on, fsync $(as_pg "$pgbin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -Atc 'show fsync')"

# Starts a MailSink node on the database; sets node_pid, node_smtp, node_http.
start_node() {
  node_smtp=$(free_port); node_http=$(free_port)
  mkdir -p "$work/$1"
  env ${NODE_ENV:-} dotnet "$server_dll" --contentRoot="$work/$1" --urls "http://127.0.0.1:$node_http" \
    --MailSink:Smtp:BindAddress=127.0.0.1 --MailSink:Smtp:Listeners:0:Port="$node_smtp" --MailSink:Smtp:Listeners:0:Tls=None \
    --MailSink:Storage:Engine=PostgreSql "--MailSink:Storage:PostgreSql:ConnectionString=$cs" \
    --Logging:LogLevel:Default=Warning >>"$work/$1.log" 2>&1 &
  node_pid=$!; pids+=("$node_pid")
  local _
  for _ in $(seq 600); do curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$node_http/health" && return 0; sleep 0.1; done
  cat "$work/$1.log" >&2; echo "node $1 never became healthy" >&2; exit 1
}
count_in() { curl -sf "http://127.0.0.1:$1/api/servers" | "$python" -c "import json,sys; print(sum(s['messages'] for s in json.load(sys.stdin)['items'] if s['id'].startswith('$2')))"; }

start_node a; a_pid=$node_pid; a_smtp=$node_smtp; a_http=$node_http
aio_port=$(free_port)
"$python" -m aiosmtpd -n -l "127.0.0.1:$aio_port" >/dev/null 2>&1 &
pids+=($!); wait_port "$aio_port"

src() { /usr/sbin/smtp-source -f bench@example.com -M bench.localhost "$@"; }
# 20,000 messages of warm-up, as bench/run.sh gives MailSink: its JIT needs them (docs/performance.md).
say "warm-up: 20,000 messages to node A"
src -s 10 -m 20000 -l 2048 -d -t "warm@warm.localhost" "127.0.0.1:$a_smtp" >/dev/null

parts=" ${PARTS:-1 2 3 4} "
part() { [[ "$parts" == *" $1 "* ]]; }
if part 1; then
# The same MailSink on LiteDB, for the figures beside today's engine.
lite_smtp=$(free_port); lite_http=$(free_port); mkdir -p "$work/lite"
dotnet "$server_dll" --contentRoot="$work/lite" --urls "http://127.0.0.1:$lite_http" \
  --MailSink:Smtp:BindAddress=127.0.0.1 --MailSink:Smtp:Listeners:0:Port="$lite_smtp" --MailSink:Smtp:Listeners:0:Tls=None \
  --MailSink:Storage:Path="$work/lite/mail.db" --Logging:LogLevel:Default=Warning >>"$work/lite.log" 2>&1 &
lite_pid=$!; pids+=("$lite_pid"); wait_port "$lite_smtp"
src -s 10 -m 20000 -l 2048 -d -t "warm@warm.localhost" "127.0.0.1:$lite_smtp" >/dev/null
per_msg() { awk -v t="$1" -v n="$n2k" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t / hz * 1000 / n }'; }
# $1: "kept" (each of the 10 sessions sends its share of the messages on one connection, smtp-source -d,
# as bench/run.sh's first row) or "each" (a new connection for every message).
one_node() {
  local mode=$1 keep=() r ms=() aio=() lite=() cpu=() ms_before pg_before ms_t pg_t
  [[ $mode == kept ]] && keep=(-d)
  say "1. one node against aiosmtpd and LiteDB: $rounds interleaved rounds of $n2k × 2 KB over 10 sessions, connections $mode"
  for r in $(seq "$rounds"); do
    ms_before=$(cpu_ticks "$a_pid"); pg_before=$(pg_ticks)
    ms+=("$(timed_rate "$n2k" src -s 10 -m "$n2k" -l 2048 "${keep[@]}" -t "load@$mode$r.localhost" "127.0.0.1:$a_smtp")")
    ms_t=$(( $(cpu_ticks "$a_pid") - ms_before )); pg_t=$(( $(pg_ticks) - pg_before ))
    cpu+=("$(per_msg $((ms_t + pg_t)))")
    aio+=("$(timed_rate "$n2k" src -s 10 -m "$n2k" -l 2048 "${keep[@]}" -t "load@aio.localhost" "127.0.0.1:$aio_port")")
    lite+=("$(timed_rate "$n2k" src -s 10 -m "$n2k" -l 2048 "${keep[@]}" -t "load@lite.localhost" "127.0.0.1:$lite_smtp")")
    echo -e "round $r\tMailSink-PostgreSQL ${ms[-1]}/s (CPU per message: MailSink $(per_msg "$ms_t") ms, PostgreSQL $(per_msg "$pg_t") ms)\taiosmtpd ${aio[-1]}/s\tMailSink-LiteDB ${lite[-1]}/s"
  done
  local m_ms m_aio m_lite
  m_ms=$(median "${ms[@]}"); m_aio=$(median "${aio[@]}"); m_lite=$(median "${lite[@]}")
  echo -e "one node, connections $mode\tmedian ${m_ms}/s\taiosmtpd ${m_aio}/s\tratio $(awk -v a="$m_ms" -v b="$m_aio" 'BEGIN { printf "%.2f", a / b }')\tLiteDB ${m_lite}/s\tCPU $(median "${cpu[@]}") ms/msg (MailSink and PostgreSQL together)"
  for r in $(seq "$rounds"); do
    got=$(count_in "$a_http" "$mode$r")
    [[ "$got" == "$n2k" ]] || { echo "round $r: $got of $n2k messages listed" >&2; exit 1; }
  done
}
one_node kept
one_node each
kill "$lite_pid"
fi

say "2. two nodes fed at once"
start_node b; b_smtp=$node_smtp; b_http=$node_http
if part 2; then
src -s 10 -m 2000 -l 2048 -t "warm@warm.localhost" "127.0.0.1:$b_smtp" >/dev/null
t0=$(now_ns)
src -s 10 -m "$n2k" -l 2048 -d -t "two@twoa.localhost" "127.0.0.1:$a_smtp" >/dev/null &
fa=$!
src -s 10 -m "$n2k" -l 2048 -d -t "two@twob.localhost" "127.0.0.1:$b_smtp" >/dev/null &
fb=$!
wait "$fa" "$fb"
t1=$(now_ns)
echo -e "two nodes\t$((2 * n2k)) messages in $(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", ns / 1e9 }') s\t$(awk -v n=$((2 * n2k)) -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')/s combined"
for node in "$a_http" "$b_http"; do
  got=$(( $(count_in "$node" twoa) + $(count_in "$node" twob) ))
  [[ "$got" == "$((2 * n2k))" ]] || { echo "node on $node lists $got of $((2 * n2k))" >&2; exit 1; }
done
echo -e "two nodes\tevery message listed on both nodes: $((2 * n2k))"

fi

if part 3; then
say "3. await on node B for mail accepted on node A, 500 messages/s for ${await_s} s"
# Node B has taken mail but never answered a wait: its first waits compile that code (seen: p99 over a
# second for the first run, 23 ms for the next). A short run first, not counted.
apibench await "$a_smtp" "$b_http" 200 3 10 crosswarm >/dev/null
apibench await "$a_smtp" "$b_http" 500 "$await_s" 10 cross
fi

if part 4; then
say "4. $fill messages stored, asked of node B"
smtpload "$a_smtp" "$fill" 10 2048 fill api >/dev/null
apibench api "$b_http" api "$fill" "$api_iter"
fi
if [[ -n "${HOLD:-}" ]]; then # for a look by hand: keep everything running, print where
  echo "holding: node A SMTP $a_smtp HTTP $a_http, node B SMTP $b_smtp HTTP $b_http, PostgreSQL $pg_port ($cs)"
  sleep "$HOLD"
fi
