#!/usr/bin/env bash
# A/B of MailSink's SMTP ingest: a git revision against the working tree, interleaved, on LiteDB (or on
# PostgreSQL with ENGINE=postgresql).
#
#   bash bench/ab.sh <revision> [rounds]     e.g.  bash bench/ab.sh e99d91b 5
#   B_ENV="NAME=value ..." bash bench/ab.sh HEAD 5
#                                            the same code, B run with those environment variables
#                                            (a runtime setting's A/B)
#
#   WORKLOADS="conn1 mailkit" bash bench/ab.sh HEAD 5
#                                            only those workloads (default: w2k w100k conn1 conn10 mailkit;
#                                            mailkit-bdat on request)
#
#   ENGINE=postgresql bash bench/ab.sh HEAD 5
#                                            both on the PostgreSQL engine: a throwaway cluster made here
#                                            (bench/pg-cluster.sh), one database each; PostgreSQL's CPU per
#                                            message is reported beside MailSink's
#
# Workloads: w2k 5,000 × 2 KB over 10 kept sessions; w100k 2,000 × 100 KB over 10; conn1 and conn10
# 1,000 × 2 KB, a connection per message, one or ten at a time (smtp-source); mailkit 3,000 × 2 KB on one
# MailKit connection (bench/SmtpLoad), mailkit-bdat the same sent with BDAT (MailKit's PreferSendAsBinaryData).
#
# Builds <revision> (in a temporary git worktree) and the working tree in Release, starts both on fresh
# databases and free 127.0.0.1 ports, warms each with 20,000 messages of 2 KB (the JIT, and a database
# that is not empty) and with each workload's own code paths, then runs each workload on A and B in
# turn, the order swapped every round, so that the machine's minute-to-minute noise falls on both.
# Prints, per workload, the medians of messages/s and of the server's CPU per message (user + system,
# from /proc), and B ÷ A.
# Needs Postfix's smtp-source (Debian: `apt-get install postfix`, which bench/run.sh installs), and for
# ENGINE=postgresql Debian's postgresql package (bench/postgresql.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rev=${1:?usage: bash bench/ab.sh <revision> [rounds]}
rounds=${2:-5}
smtp_source=/usr/sbin/smtp-source
[[ -x $smtp_source ]] || { echo "needs $smtp_source (Debian: apt-get install postfix)" >&2; exit 2; }
engine=${ENGINE:-litedb}
[[ $engine == litedb || $engine == postgresql ]] || { echo "ENGINE is litedb or postgresql" >&2; exit 2; }
source bench/pg-cluster.sh

work=$(mktemp -d /tmp/mailsink-ab.XXXXXX)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  git worktree remove --force "$work/a-src" 2>/dev/null || true
  pg_cluster_stop
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building $rev and the working tree (Release)" >&2
git worktree add -q --detach "$work/a-src" "$rev"
dotnet build -c Release -v q --nologo "$work/a-src/src/MailSink.Server" -o "$work/a-bin" >/dev/null
dotnet build -c Release -v q --nologo src/MailSink.Server -o "$work/b-bin" >/dev/null
dotnet build -c Release -v q --nologo bench/SmtpLoad >/dev/null

declare -A smtp pid
[[ $engine == postgresql ]] && pg_cluster_start "$work"
start() { # name
  local http; smtp[$1]=$(free_port); http=$(free_port)
  mkdir -p "$work/$1"
  local env=() store=(--MailSink:Storage:Path="$work/$1/mail.db")
  [[ $1 == b && -n ${B_ENV:-} ]] && read -ra env <<<"$B_ENV"
  [[ $engine == postgresql ]] && store=(--MailSink:Storage:Engine=PostgreSql "--MailSink:Storage:PostgreSql:ConnectionString=$(pg_database "ab_$1")")
  env "${env[@]}" dotnet "$work/$1-bin/MailSink.Server.dll" --contentRoot="$work/$1" --urls "http://127.0.0.1:$http" \
    --MailSink:Smtp:BindAddress=127.0.0.1 --MailSink:Smtp:Listeners:0:Port="${smtp[$1]}" \
    --MailSink:Smtp:Listeners:0:Tls=None "${store[@]}" \
    --Logging:LogLevel:Default=Warning >"$work/$1.log" 2>&1 &
  pid[$1]=$!; pids+=("${pid[$1]}")
  local _
  for _ in $(seq 600); do
    curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$http/health" && return 0
    kill -0 "${pid[$1]}" 2>/dev/null || { cat "$work/$1.log" >&2; exit 1; }
    sleep 0.05
  done
  echo "$1 never became healthy" >&2; exit 1
}
start a; start b

smtpload() { dotnet bench/SmtpLoad/bin/Release/net10.0/SmtpLoad.dll "$@" >/dev/null; }
src() { "$smtp_source" -f bench@example.com -t load@ab.localhost -M bench.localhost "$@" >/dev/null; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
pg_now() { if [[ $engine == postgresql ]]; then pg_ticks; else echo 0; fi; }
run() { # name workload -> "rate cpu_us_per_message postgresql_cpu_us_per_message"
  local who=$1 p=${smtp[$1]} n t0 t1 c0 c1 g0 g1
  case $2 in
    w2k) n=5000; set -- src -s 10 -m $n -l 2048 -d "127.0.0.1:$p" ;;
    w100k) n=2000; set -- src -s 10 -m $n -l 102400 -d "127.0.0.1:$p" ;;
    conn1) n=1000; set -- src -s 1 -m $n -l 2048 "127.0.0.1:$p" ;;
    conn10) n=1000; set -- src -s 10 -m $n -l 2048 "127.0.0.1:$p" ;;
    mailkit) n=3000; set -- smtpload "$p" $n 1 2048 mailkit ;;
    mailkit-bdat) n=3000; set -- smtpload "$p" $n 1 2048 mailkit-bdat ;;
  esac
  c0=$(ticks "${pid[$who]}"); g0=$(pg_now); t0=$(date +%s%N)
  "$@"
  t1=$(date +%s%N); c1=$(ticks "${pid[$who]}"); g1=$(pg_now)
  awk -v n=$n -v ns=$((t1 - t0)) -v t=$((c1 - c0)) -v g=$((g1 - g0)) -v hz="$hz" \
    'BEGIN { printf "%.0f %.0f %.0f\n", n / (ns / 1e9), t / hz * 1e6 / n, g / hz * 1e6 / n }'
}

echo "warming both with 20,000 × 2 KB, then 300 connections and 300 MailKit messages" >&2
for name in a b; do
  src -s 10 -m 20000 -l 2048 -d "127.0.0.1:${smtp[$name]}"
  src -s 10 -m 300 -l 2048 "127.0.0.1:${smtp[$name]}" # a session's start and end, which kept sessions barely run
  smtpload "${smtp[$name]}" 300 1 2048 mailkit
  smtpload "${smtp[$name]}" 300 1 2048 mailkit-bdat
done

read -ra workloads <<<"${WORKLOADS:-w2k w100k conn1 conn10 mailkit}"
declare -A rate cpu pgcpu
for ((r = 1; r <= rounds; r++)); do
  order=(a b); ((r % 2)) || order=(b a)
  for w in "${workloads[@]}"; do
    for name in "${order[@]}"; do
      read -r x c g < <(run "$name" "$w")
      rate[$name,$w]+="$x "; cpu[$name,$w]+="$c "; pgcpu[$name,$w]+="$g "
    done
  done
  echo "round $r of $rounds done" >&2
done

printf '\n%s (A) against the working tree (B%s), %s, %d rounds, medians; load before: %s\n\n' "$rev" "${B_ENV:+ with $B_ENV}" "$engine" "$rounds" "$load_before"
pg_head='' pg_rule=''
[[ $engine == postgresql ]] && pg_head=' A PostgreSQL µs/msg | B PostgreSQL µs/msg | B ÷ A |' pg_rule='---|---|---|'
printf '| workload | A msg/s | B msg/s | B ÷ A | A CPU µs/msg | B CPU µs/msg | B ÷ A |%s\n|---|---|---|---|---|---|---|%s\n' "$pg_head" "$pg_rule"
# shellcheck disable=SC2086 # each is a list of figures, split on purpose
for w in "${workloads[@]}"; do
  ra=$(median ${rate[a,$w]}); rb=$(median ${rate[b,$w]}); ca=$(median ${cpu[a,$w]}); cb=$(median ${cpu[b,$w]})
  ga=$(median ${pgcpu[a,$w]}); gb=$(median ${pgcpu[b,$w]})
  awk -v w="$w" -v ra="$ra" -v rb="$rb" -v ca="$ca" -v cb="$cb" -v ga="$ga" -v gb="$gb" -v pg="$pg_head" \
    'BEGIN { printf "| %s | %d | %d | %.2f | %d | %d | %.2f |", w, ra, rb, rb / ra, ca, cb, cb / ca
             if (pg != "") printf " %d | %d | %.2f |", ga, gb, (ga > 0 ? gb / ga : 0)
             printf "\n" }'
done
