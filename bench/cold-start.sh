#!/usr/bin/env bash
# A fresh MailSink, as a CI job meets it: start to healthy, then the first 5,000 × 2 KB messages over 10
# sessions (Postfix's smtp-source), for each way of building the server, interleaved round by round so
# that the machine's noise falls on all of them:
#   jit   dotnet publish -c Release (framework-dependent IL: what `dotnet run -c Release` and the tool run)
#   r2r   the same for linux-x64, which the project publishes ReadyToRun (as the dotnet tool's linux-x64
#         package is): our assemblies and the packages' precompiled, so less JIT at start
# Prints each round and the medians: ms to healthy, msg/s of the first 5,000, and the server's CPU
# (user + system) over start and those messages.
#   bash bench/cold-start.sh [rounds=5]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
rounds=${1:-5}
smtp_source=/usr/sbin/smtp-source
[[ -x $smtp_source ]] || { echo "needs $smtp_source (Debian: apt-get install postfix)" >&2; exit 2; }
work=$(mktemp -d /tmp/mailsink-cold.XXXXXX)
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

echo "publishing jit and r2r (Release)"
dotnet publish src/MailSink.Server -c Release -o "$work/jit" --nologo -v q >/dev/null
dotnet publish src/MailSink.Server -c Release -r linux-x64 --self-contained false -o "$work/r2r" --nologo -v q >/dev/null

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

declare -A healthy rate cpu
variants=(jit r2r)
for round in $(seq "$rounds"); do
  order=("${variants[@]}"); ((round % 2 == 0)) && order=(r2r jit)
  for v in "${order[@]}"; do
    data="$work/data-$v-$round"; mkdir -p "$data"
    smtp=$(free_port); http=$(free_port)
    t0=$(now_ns)
    dotnet "$work/$v/MailSink.Server.dll" --contentRoot="$data" --urls "http://127.0.0.1:$http" \
      --MailSink:Smtp:BindAddress=127.0.0.1 --MailSink:Smtp:Listeners:0:Port="$smtp" --MailSink:Smtp:Listeners:0:Tls=None \
      --Logging:LogLevel:Default=Warning >"$data/log" 2>&1 &
    pid=$!
    until curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$http/health"; do
      kill -0 "$pid" 2>/dev/null || { cat "$data/log"; exit 1; }
    done
    ms=$(( ($(now_ns) - t0) / 1000000 ))
    t1=$(now_ns)
    "$smtp_source" -f bench@example.com -t load@bench.localhost -M bench.localhost -s 10 -m 5000 -l 2048 -d "127.0.0.1:$smtp" >/dev/null
    r=$(awk -v ns=$(( $(now_ns) - t1 )) 'BEGIN { printf "%.0f", 5000 / (ns / 1e9) }')
    c=$(awk -v t="$(ticks "$pid")" -v hz="$hz" 'BEGIN { printf "%.0f", t * 1000 / hz }')
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""
    healthy[$v]+="$ms "; rate[$v]+="$r "; cpu[$v]+="$c "
    echo "round $round $v: healthy after $ms ms, first 5,000 at $r msg/s, $c ms CPU"
  done
done

echo
echo "$rounds rounds, medians; load before: $load_before; $(nproc) cores"
echo
echo "| build | start to healthy (ms) | first 5,000 × 2 KB (msg/s) | server CPU, start + 5,000 (ms) |"
echo "|---|---|---|---|"
for v in "${variants[@]}"; do
  # shellcheck disable=SC2086
  echo "| $v | $(median ${healthy[$v]}) | $(median ${rate[$v]}) | $(median ${cpu[$v]}) |"
done
