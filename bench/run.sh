#!/usr/bin/env bash
# MailSink's benchmark (issue 4): MailSink side by side with Postfix's smtp-sink and aiosmtpd in the
# same run, then the API, latency, memory, start-up and database-size measurements, all on loopback.
# The SMTP workloads run in interleaved rounds (each workload on MailSink, then aiosmtpd, then smtp-sink,
# then the next workload), so that the machine's minute-to-minute noise falls on all three; every round
# is printed, with each server's CPU per message, and the SMTP targets are ratios of the medians.
#
#   bash bench/run.sh           full run, 5 rounds (2-5 minutes on 2 cores, plus the build)
#   bash bench/run.sh --quick   smoke run, 1 round and small counts (under a minute, plus the build)
#
# Installs what it needs when missing (Debian: postfix for smtp-source/smtp-sink, with the MTA left
# unconfigured and not running; python3-aiosmtpd), builds MailSink and the load tools in Release, starts
# every server on free 127.0.0.1 ports with fresh data in a temporary folder, stops them all at the end.
# Prints the results table and the per-round table and writes both to bench/results/<date>.md (git-ignored;
# the record is docs/performance.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

quick=0
case "${1:-}" in
  --quick) quick=1 ;;
  "") ;;
  *) echo "usage: bash bench/run.sh [--quick]" >&2; exit 2 ;;
esac

if ((quick)); then
  rounds=1; n2k=1000; n100k=200; nconn=200; nmailkit=500; fill=10000; api_iter=100; await_s=3; big_n=10; warm=3000; words_n=5000
else
  rounds=5; n2k=5000; n100k=2000; nconn=1000; nmailkit=3000; fill=100000; api_iter=500; await_s=10; big_n=10; warm=15000; words_n=20000
fi
big_size=25000000 # bytes per message in the memory test: 25 MB, under the default 25 MiB limit

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

# ---------------------------------------------------------------- tools
as_root() { if ((EUID == 0)); then "$@"; else sudo "$@"; fi; }
missing=()
[[ -x /usr/sbin/smtp-source && -x /usr/sbin/smtp-sink ]] || missing+=(postfix)
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(python3-aiosmtpd)
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  # "No configuration": no main.cf is written and the MTA is not set up; smtp-source and smtp-sink are
  # stand-alone test programs that need neither.
  echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
  as_root apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
    --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Postfix MTA must not run (it would bind port 25): stop it if a package script started it.
if pgrep -f '^/usr/lib/postfix/sbin/master' >/dev/null; then
  say "stopping the Postfix MTA that the package started"
  as_root postfix stop >/dev/null 2>&1 || true
fi
smtp_source=/usr/sbin/smtp-source
smtp_sink=/usr/sbin/smtp-sink
python=/usr/bin/python3 # Debian's, where python3-aiosmtpd is installed (not a pyenv python on PATH)

say "building MailSink and the load tools (Release)"
dotnet build -c Release -v q --nologo src/MailSink.Server >/dev/null
dotnet build -c Release -v q --nologo bench/SmtpLoad >/dev/null
dotnet build -c Release -v q --nologo bench/ApiBench >/dev/null
server_dll=src/MailSink.Server/bin/Release/net10.0/MailSink.Server.dll
smtpload() { dotnet bench/SmtpLoad/bin/Release/net10.0/SmtpLoad.dll "$@"; }
apibench() { dotnet bench/ApiBench/bin/Release/net10.0/ApiBench.dll "$@"; }

# ---------------------------------------------------------------- processes
work=$(mktemp -d /tmp/mailsink-bench.XXXXXX)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget() { local pid=$1 p keep=(); for p in "${pids[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done; pids=("${keep[@]}"); }
stop() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; forget "$1"; }
wait_port() { local i; for i in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.02; done; echo "port $1 never opened" >&2; return 1; }
rss_mb() { awk -v k="$2:" '$1 == k { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# Starts MailSink on fresh free ports with the database $1; sets ms_pid, ms_smtp, ms_http, ms_start_ms.
start_mailsink() {
  ms_smtp=$(free_port); ms_http=$(free_port)
  local t0 i; t0=$(now_ns)
  dotnet "$server_dll" --contentRoot="$work" --urls "http://127.0.0.1:$ms_http" \
    --MailSink:Smtp:BindAddress=127.0.0.1 --MailSink:Smtp:Listeners:0:Port="$ms_smtp" \
    --MailSink:Smtp:Listeners:0:Tls=None --MailSink:Storage:Path="$1" \
    --Logging:LogLevel:Default=Warning >>"$work/mailsink.log" 2>&1 &
  ms_pid=$!; pids+=("$ms_pid")
  local i
  for i in $(seq 6000); do
    curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$ms_http/health" && break
    kill -0 "$ms_pid" 2>/dev/null || { cat "$work/mailsink.log" >&2; echo "MailSink exited" >&2; exit 1; }
  done
  curl -sf -o /dev/null "http://127.0.0.1:$ms_http/health" || { echo "MailSink never became healthy" >&2; exit 1; }
  ms_start_ms=$(( ($(now_ns) - t0) / 1000000 ))
}

# Messages per second of a command that sends $1 messages.
timed_rate() { local n=$1 t0 t1; shift; t0=$(now_ns); "$@" >/dev/null; t1=$(now_ns); awk -v n="$n" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }'; }

read_cpu() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
cpu_begin=$(read_cpu)
run_t0=$(now_ns)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- SMTP throughput
say "SMTP: starting MailSink, smtp-sink and aiosmtpd"
start_mailsink "$work/smtp.db"
sink_port=$(free_port)
sink_user=()
if ((EUID == 0)); then sink_user=(-u nobody); fi # smtp-sink refuses to run as root without -u
"$smtp_sink" "${sink_user[@]}" "127.0.0.1:$sink_port" 1024 >/dev/null 2>&1 &
sink_pid=$!; pids+=("$sink_pid")
aio_port=$(free_port)
"$python" -m aiosmtpd -n -l "127.0.0.1:$aio_port" >/dev/null 2>&1 &
aio_pid=$!; pids+=("$aio_pid")
wait_port "$sink_port"; wait_port "$aio_port"
# Each is one process (smtp-sink and aiosmtpd serve every connection from one event loop), whose
# user + system time in /proc/<pid>/stat is the server's CPU.
declare -A port=([mailsink]=$ms_smtp [sink]=$sink_port [aio]=$aio_port)
declare -A spid=([mailsink]=$ms_pid [sink]=$sink_pid [aio]=$aio_pid)
declare -A name=([mailsink]=MailSink [sink]=smtp-sink [aio]=aiosmtpd)
targets=(mailsink aio sink) # the order of the first round; it rotates by one each round

src() { "$smtp_source" -f bench@example.com -t load@bench.localhost -M bench.localhost "$@"; }
workload() { # name target -> messages/s
  local p=${port[$2]}
  case $1 in
    w2k) timed_rate "$n2k" src -s 10 -m "$n2k" -l 2048 -d "127.0.0.1:$p" ;;
    w100k) timed_rate "$n100k" src -s 10 -m "$n100k" -l 102400 -d "127.0.0.1:$p" ;;
    conn1) timed_rate "$nconn" src -s 1 -m "$nconn" -l 2048 "127.0.0.1:$p" ;;
    conn10) timed_rate "$nconn" src -s 10 -m "$nconn" -l 2048 "127.0.0.1:$p" ;;
    mailkit) smtpload "$p" "$nmailkit" 1 2048 mailkit | cut -f6 ;;
  esac
}
workloads=(w2k w100k conn1 conn10 mailkit)
declare -A count=([w2k]=$n2k [w100k]=$n100k [conn1]=$nconn [conn10]=$nconn [mailkit]=$nmailkit)

# The tiered JIT needs some thousands of messages before MailSink runs at full speed (with tiered PGO,
# which the server no longer uses, it took 15,000-20,000; without it 5,000-message runs straight after
# start went about 2,850, 4,200, 5,200, 5,300/s). The warm-up keeps the margin; the first 5,000 are
# timed on their own: what a short CI job meets.
say "SMTP: warm-up"
cold_rate=$(timed_rate 5000 src -s 10 -m 5000 -l 2048 -d "127.0.0.1:$ms_smtp")
src -s 10 -m "$warm" -l 2048 -d "127.0.0.1:$ms_smtp" >/dev/null
src -s 10 -m 300 -l 102400 -d "127.0.0.1:$ms_smtp" >/dev/null
for t in "${targets[@]}"; do
  src -s 10 -m 1000 -l 2048 -d "127.0.0.1:${port[$t]}" >/dev/null
  src -s 10 -m 100 -l 102400 -d "127.0.0.1:${port[$t]}" >/dev/null
  src -s 10 -m 200 -l 2048 "127.0.0.1:${port[$t]}" >/dev/null
  smtpload "${port[$t]}" 300 1 2048 mailkit >/dev/null
done

# Interleaved: every workload runs on the three servers back to back, so that a slow minute of the
# machine falls on all three, and the order rotates each round so that no server always goes first;
# runs[w,t] and cpu[w,t] (ms of server CPU per message) get one value a round.
hz=$(getconf CLK_TCK)
declare -A runs cpu
round_load=()
for ((r = 1; r <= rounds; r++)); do
  round_load+=("$(cut -d' ' -f1 /proc/loadavg)")
  say "SMTP: round $r of $rounds (load average ${round_load[-1]})"
  shift_by=$(((r - 1) % ${#targets[@]}))
  order=("${targets[@]:shift_by}" "${targets[@]:0:shift_by}")
  for w in "${workloads[@]}"; do
    for t in "${order[@]}"; do
      c0=$(cpu_ticks "${spid[$t]}")
      v=$(workload "$w" "$t")
      c=$(awk -v d=$(($(cpu_ticks "${spid[$t]}") - c0)) -v n="${count[$w]}" -v hz="$hz" 'BEGIN { printf "%.3f", d / hz * 1000 / n }')
      runs[$w,$t]+=" $v"; cpu[$w,$t]+=" $c"
      printf '   %-8s %-9s %8s msg/s  %s ms CPU/msg\n' "$w" "${name[$t]}" "$v" "$c" >&2
    done
  done
done
stop "$ms_pid"
for p in "${pids[@]}"; do stop "$p"; done
rm -f "$work"/smtp*.db

# ---------------------------------------------------------------- store of $fill messages, API
say "API: filling $fill messages into 10 inboxes"
start_mailsink "$work/api.db"
fill_line=$(smtpload "$ms_smtp" "$fill" 10 2048 fill api)
fill_rate=$(cut -f6 <<<"$fill_line"); fill_bytes=$(cut -f8 <<<"$fill_line")
sleep 3
rss_stored=$(rss_mb "$ms_pid" VmRSS)
stop "$ms_pid"
db_bytes=$(cat "$work"/api*.db | wc -c)
db_ratio=$(awk -v d="$db_bytes" -v r="$fill_bytes" 'BEGIN { printf "%.2f", d / r }')

# Start to healthy on both stores, interleaved pair by pair with the order swapped, so that neither
# always follows the fill's shutdown (starts straight after it read about 150 ms slower).
say "start to healthy: an empty store and the store of $fill messages, interleaved"
starts_full=(); starts_empty=()
for i in 1 2 3; do
  order=(full empty); ((i % 2)) || order=(empty full)
  for which in "${order[@]}"; do
    if [[ $which == full ]]; then
      start_mailsink "$work/api.db"; starts_full+=("$ms_start_ms")
    else
      rm -f "$work"/empty*; start_mailsink "$work/empty.db"; starts_empty+=("$ms_start_ms")
    fi
    stop "$ms_pid"
  done
done

say "API: restarting on the store of $fill messages"
start_mailsink "$work/api.db"
sleep 5
rss_idle=$(rss_mb "$ms_pid" VmRSS)

say "API: latency of list, search and get"
api_out=$(apibench api "$ms_http" api "$fill" "$api_iter") || say "the API measurement failed (see above)"
echo "$api_out" >&2
rss_after_api=$(rss_mb "$ms_pid" VmRSS)

say "API: 250 to a waiting client at 1,000 msg/s for $await_s s"
await_out=$(apibench await "$ms_smtp" "$ms_http" 1000 "$await_s" 10 lat) || say "the latency measurement failed (see above)"
echo "$await_out" >&2
stop "$ms_pid"

# ---------------------------------------------------------------- memory with large messages, start-up
say "memory: $big_n concurrent messages of $((big_size / 1000000)) MB (with a base64 attachment)"
rm -f "$work"/big*.db
start_mailsink "$work/big.db"
big_line=$(smtpload "$ms_smtp" "$big_n" "$big_n" "$big_size" raw big attachment)
big_bytes=$(cut -f8 <<<"$big_line")
big_s=$(cut -f5 <<<"$big_line")
rss_peak=$(rss_mb "$ms_pid" VmHWM)
stop "$ms_pid"
big_db_ratio=$(awk -v d="$(cat "$work"/big*.db | wc -c)" -v r="$big_bytes" 'BEGIN { printf "%.2f", d / r }')

# The fill repeats one line of text, which compresses far better than real mail: the same size once more
# with random words (about as compressible as prose in a language nobody speaks).
say "database size: $words_n × 2 KB of random words"
start_mailsink "$work/words.db"
words_line=$(smtpload "$ms_smtp" "$words_n" 10 2048 fill words words)
stop "$ms_pid"
words_db_ratio=$(awk -v d="$(cat "$work"/words*.db | wc -c)" -v r="$(cut -f8 <<<"$words_line")" 'BEGIN { printf "%.2f", d / r }')

cpu_end=$(read_cpu)
run_s=$(( ($(now_ns) - run_t0) / 1000000000 ))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
# CPU this script and its children used, against what the whole machine used in the same time.
times >"$work/times" # not in a pipe: a subshell would report its own (empty) children
ours=$(tail -1 "$work/times" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
others=$(awk -v b="$cpu_begin" -v e="$cpu_end" -v ours="$ours" -v hz="$(getconf CLK_TCK)" 'BEGIN {
  split(b, x, " "); split(e, y, " "); busy = (y[1] - x[1]) / hz; total = (y[2] - x[2]) / hz
  o = busy - ours; if (o < 0) o = 0; printf "%.0f core-seconds (%.0f%% of the machine)", o, 100 * o / total }')

# ---------------------------------------------------------------- the table
api_field() { awk -F'\t' -v n="$1" -v f="$2" '$1 == n { print $f }' <<<"$api_out"$'\n'"$await_out"; }
met() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN { print ((dir == "min" ? v >= t : v <= t) ? "met" : "**not met**") }'; }
# a ÷ b to two decimals ("-" when b is 0); the targets are judged on this rounded figure, the one printed.
ratio_num() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
ratio() { local x; x=$(ratio_num "$1" "$2"); [[ $x == - ]] && echo – || echo "$x×"; }
fmtn() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; } # 12345 -> 12,345

declare -A label=(
  [w2k]="$(fmtn "$n2k") × 2 KB over 10 sessions (smtp-source -d)"
  [w100k]="$(fmtn "$n100k") × 100 KB over 10 sessions (smtp-source -d)"
  [conn1]="$(fmtn "$nconn") × 2 KB, one message per connection, 1 at a time"
  [conn10]="$(fmtn "$nconn") × 2 KB, one message per connection, 10 at a time"
  [mailkit]="$(fmtn "$nmailkit") × 2 KB, one MailKit connection, pipelining"
)
# The SMTP targets (issue 17): MailSink against a peer measured in the same rounds, as a ratio of the
# medians, so that a slow or fast machine moves both sides. The 100 KB row keeps its absolute target.
declare -A goal_peer=([w2k]=aio [conn1]=aio [conn10]=aio [mailkit]=aio)
declare -A goal=([w2k]=1.5 [w100k]=1000 [conn1]=1.5 [conn10]=2 [mailkit]=1.5)
w2k_sink_goal=0.4 # MailSink ÷ smtp-sink, 2 KB over 10 sessions
cpu_goal=0.15     # ms of MailSink's CPU per 2 KB message over 10 sessions

declare -A mrate mcpu # medians
for w in "${workloads[@]}"; do
  for t in "${targets[@]}"; do
    # shellcheck disable=SC2086 # one value a round, split on purpose
    mrate[$w,$t]=$(median ${runs[$w,$t]}); mrate[$w,$t]=${mrate[$w,$t]%.*}
    # shellcheck disable=SC2086
    mcpu[$w,$t]=$(printf '%.3f' "$(median ${cpu[$w,$t]})")
  done
done
cell() { printf '%s/s · %s ms' "$(fmtn "${mrate[$1,$2]}")" "${mcpu[$1,$2]}"; } # workload target

table=$work/table.md
{
  echo "| workload (medians of $rounds round(s): messages/s · server CPU per message) | MailSink | smtp-sink | aiosmtpd | MailSink ÷ smtp-sink | MailSink ÷ aiosmtpd | target | |"
  echo "|---|---|---|---|---|---|---|---|"
  for w in "${workloads[@]}"; do
    m=${mrate[$w,mailsink]}; s=${mrate[$w,sink]}; a=${mrate[$w,aio]}
    if [[ -n ${goal_peer[$w]:-} ]]; then
      p=${goal_peer[$w]}
      goal_text="MailSink ÷ ${name[$p]} ≥ ${goal[$w]}×"
      x=$(ratio_num "$m" "${mrate[$w,$p]}"); if [[ $x == - ]]; then ok="**not met**"; else ok=$(met "$x" "${goal[$w]}" min); fi
    else
      goal_text="≥ $(fmtn "${goal[$w]}")/s"; ok=$(met "$m" "${goal[$w]}" min)
    fi
    echo "| ${label[$w]} | $(cell "$w" mailsink) | $(cell "$w" sink) | $(cell "$w" aio) | $(ratio "$m" "$s") | $(ratio "$m" "$a") | $goal_text | $ok |"
    if [[ $w == w2k ]]; then
      x=$(ratio_num "$m" "$s"); if [[ $x == - ]]; then ok="**not met**"; else ok=$(met "$x" "$w2k_sink_goal" min); fi
      echo "| ${label[$w]}, against smtp-sink | | | | $(ratio "$m" "$s") | | MailSink ÷ smtp-sink ≥ $w2k_sink_goal× | $ok |"
    fi
  done
  echo "| server CPU (user + system) per message, ${label[w2k]} | ${mcpu[w2k,mailsink]} ms | ${mcpu[w2k,sink]} ms | ${mcpu[w2k,aio]} ms | | | MailSink ≤ $cpu_goal ms | $(met "${mcpu[w2k,mailsink]}" "$cpu_goal" max) |"
  lat() { # name target-p99 label
    local p50 p99; p50=$(api_field "$1" 3); p99=$(api_field "$1" 4)
    if [[ -z $p99 || $p99 == - ]]; then echo "| $3 | not measured | – | – | | | p99 < $2 ms | **not met** |"; return; fi
    echo "| $3 | p50 $p50 / p99 $p99 ms | – | – | | | p99 < $2 ms | $(met "$p99" "$2" max) |"
  }
  # The latency target holds at 1,000 msg/s: a run that could not send that fast does not meet it.
  sent=$(api_field "250 to visible to a waiting client" 7 | awk '{ print $1 + 0 }')
  p99=$(api_field "250 to visible to a waiting client" 4); p50=$(api_field "250 to visible to a waiting client" 3)
  if [[ -n $p99 && $p99 != - ]]; then
    ok=$(met "$p99" 20 max); [[ $ok == met ]] && ((sent < 900)) && ok="**not met** (rate)"
    echo "| 250 → visible to a waiting API client at 1,000 msg/s | p50 $p50 / p99 $p99 ms at $(fmtn "$sent") msg/s | – | – | | | p99 < 20 ms at 1,000 msg/s | $ok |"
  else
    echo "| 250 → visible to a waiting API client at 1,000 msg/s | not measured | – | – | | | p99 < 20 ms | **not met** |"
  fi
  lat "list one inbox, 50 newest" 10 "API, $(fmtn "$fill") stored: list one inbox (50 newest)"
  lat "search sentTo (1% of the inbox)" 50 "API: search by sentTo (1% of the inbox matches)"
  lat "search subject (one match)" 50 "API: search by subject (one message matches)"
  lat "get one message" 5 "API: get one message"
  echo "| RSS after $(fmtn "$fill") messages stored | $rss_stored MB | – | – | | | < 250 MB | $(met "$rss_stored" 250 max) |"
  echo "| RSS idle after restart on that store | $rss_idle MB | – | – | | | < 150 MB | $(met "$rss_idle" 150 max) |"
  echo "| peak RSS, $big_n concurrent $((big_size / 1000000)) MB messages | $rss_peak MB | – | – | | | < 800 MB | $(met "$rss_peak" 800 max) |"
  m=$(median "${starts_empty[@]}"); f=$(median "${starts_full[@]}")
  echo "| start to healthy, empty store | $(fmtn "$m") ms | – | – | | | < 1,000 ms | $(met "$m" 1000 max) |"
  echo "| start to healthy, $(fmtn "$fill") messages stored | $(fmtn "$f") ms | – | – | | | < 1,000 ms | $(met "$f" 1000 max) |"
  echo "| database ÷ raw bytes, $(fmtn "$fill") × 2 KB (one line of text repeated) | ${db_ratio}× | – | – | | | ≤ 1.3× | $(met "$db_ratio" 1.3 max) |"
  echo "| database ÷ raw bytes, $(fmtn "$words_n") × 2 KB of random words | ${words_db_ratio}× | – | – | | | ≤ 1.3× | $(met "$words_db_ratio" 1.3 max) |"
  echo "| database ÷ raw bytes, $big_n × $((big_size / 1000000)) MB | ${big_db_ratio}× | – | – | | | ≤ 1.3× | $(met "$big_db_ratio" 1.3 max) |"
} >"$table"

# Every round of every server: messages/s · ms of the server's CPU per message; then, per round, MailSink
# over each peer (its median column: the ratio of the medians, which the targets use).
rounds_table=$work/rounds.md
{
  echo "Every SMTP round (each workload on the three servers back to back, then the next; the servers' order rotates each round): messages/s · server CPU (user + system) per message; in the MailSink ÷ rows, the median column is the ratio of the medians, which the targets use."
  echo
  printf '| workload | server'; for ((r = 1; r <= rounds; r++)); do printf ' | round %d' "$r"; done; echo " | median |"
  printf '|---|---'; for ((r = 1; r <= rounds; r++)); do printf '|---'; done; echo "|---|"
  for w in "${workloads[@]}"; do
    l=${label[$w]} # on the first row of the workload only
    for t in "${targets[@]}"; do
      read -ra rs <<<"${runs[$w,$t]}"; read -ra cs <<<"${cpu[$w,$t]}"
      printf '| %s | %s' "$l" "${name[$t]}"; l=""
      for i in "${!rs[@]}"; do printf ' | %s/s · %s ms' "$(fmtn "${rs[i]}")" "${cs[i]}"; done
      echo " | $(cell "$w" "$t") |"
    done
    read -ra ms <<<"${runs[$w,mailsink]}"
    for t in aio sink; do
      read -ra rs <<<"${runs[$w,$t]}"
      printf '| | MailSink ÷ %s' "${name[$t]}"
      for i in "${!rs[@]}"; do printf ' | %s' "$(ratio "${ms[i]}" "${rs[i]}")"; done
      echo " | $(ratio "${mrate[$w,mailsink]}" "${mrate[$w,$t]}") |"
    done
  done
  printf '| load average (1 minute) at the round'"'"'s start |'; for l in "${round_load[@]}"; do printf ' | %s' "$l"; done; echo " | |"
} >"$rounds_table"

details=$work/details.md
{
  cat "$rounds_table"
  echo
  echo "MailSink straight after start (the first 5,000 × 2 KB over 10 sessions, before the warm-up): $cold_rate msg/s."
  echo
  echo "Fill: $(fmtn "$fill") messages (raw pipelining client, 10 connections) at $fill_rate msg/s; $(fmtn "$fill_bytes") raw bytes; database $(fmtn "$db_bytes") bytes."
  echo "Start to healthy (ms, each start): empty store ${starts_empty[*]}; $(fmtn "$fill") stored ${starts_full[*]}. RSS after the API measurements: $rss_after_api MB."
  echo "$big_n × $((big_size / 1000000)) MB: sent in $big_s s."
  echo
  echo "| API measurement | requests | p50 ms | p99 ms | mean ms | max ms | note |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n%s\n' "$api_out" "$await_out" | awk -F'\t' 'NF >= 6 { printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }'
  echo
  echo "Run: $run_s s; load average before $load_before, after $load_after; CPU used by other processes during the run: $others."
} >"$details"

mkdir -p bench/results
suffix=""; if ((quick)); then suffix=-quick; fi
out=bench/results/$(date -u +%Y-%m-%d)$suffix.md
{
  echo "# MailSink benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')${suffix:+ (quick)}"
  echo
  echo "$(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), .NET $(dotnet --version) SDK, runtime $(dotnet --list-runtimes | awk '/NETCore/ { v = $2 } END { print v }'), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' (src modified)'). Command: \`bash bench/run.sh${suffix:+ --quick}\`."
  echo
  cat "$table"
  echo
  cat "$details"
} >"$out"

echo
cat "$table"
echo
cat "$details"
echo
echo "written to $out"
