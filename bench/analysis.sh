#!/usr/bin/env bash
# Time per analysis call (issue 16), on a Release build: spam (a real spamd, local rules), deliverability
# (DNS to a server that never answers: the CI-box case, bounded by DnsTimeout), HTML compatibility, link
# check (links to a local web server), and one preview (headless Chromium). Each call on a fresh message
# (deliverability reports are kept once made), N rounds, medians in ms.
#   bash bench/analysis.sh [rounds=5]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
rounds=${1:-5}
work=$(mktemp -d /tmp/mailsink-analysis.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

dotnet build -c Release -v q --nologo src/MailSink.Server >/dev/null
spamd_port=$(free_port); web_port=$(free_port); dns_port=$(free_port); smtp=$(free_port); http=$(free_port)
user=(); ((EUID == 0)) && user=(--username=nobody --groupname=nogroup)
/usr/sbin/spamd --listen="127.0.0.1:$spamd_port" --allowed-ips=127.0.0.1 --local --nouser-config --min-children=1 --max-children=2 \
  --pidfile="$work/spamd.pid" --syslog=stderr --helper-home-dir="$work" "${user[@]}" 2>"$work/spamd.log" &
pids+=($!)
mkdir -p "$work/site"; echo ok > "$work/site/fine.html"
(cd "$work/site" && exec python3 -m http.server "$web_port" --bind 127.0.0.1 >/dev/null 2>&1) &
pids+=($!)
dotnet src/MailSink.Server/bin/Release/net10.0/MailSink.Server.dll --contentRoot="$work" --urls "http://127.0.0.1:$http" \
  --MailSink:Smtp:BindAddress=127.0.0.1 --MailSink:Smtp:Listeners:0:Port="$smtp" --MailSink:Smtp:Listeners:0:Tls=None \
  --MailSink:Analysis:SpamAssassin:Host=127.0.0.1 --MailSink:Analysis:SpamAssassin:Port="$spamd_port" \
  --MailSink:Analysis:DnsServers:0="127.0.0.1:$dns_port" --MailSink:Analysis:DnsTimeout=00:00:00.5 \
  --MailSink:Analysis:LinkCheck:AllowPrivate=true --Logging:LogLevel:Default=Warning >"$work/mailsink.log" 2>&1 &
pids+=($!)
until curl -sf -o /dev/null "http://127.0.0.1:$http/health"; do sleep 0.1; done
until printf 'PING SPAMC/1.5\r\n\r\n' | timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$spamd_port; cat >&3; cat <&3" 2>/dev/null | grep -q PONG; do sleep 0.2; done

html="<html><body style=\"font-family: sans-serif\"><h1>Welcome</h1><div style=\"display:flex;border-radius:4px\">Hi</div>
<p>Confirm: <a href=\"http://127.0.0.1:$web_port/fine.html\">confirm</a> or <a href=\"http://127.0.0.1:$web_port/missing.html\">help</a></p></body></html>"
send() { # one message, its id
  local inbox="a$RANDOM$RANDOM"
  swaks --server "127.0.0.1:$smtp" --from news@example.com --to "x@$inbox.localhost" --header "Subject: analysis" \
    --add-header "Content-Type: text/html" --body "$html" --silent 2 >/dev/null
  curl -s "http://127.0.0.1:$http/api/messages?server=$inbox" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])'
}
ms() { curl -s -o /dev/null -w '%{time_total}' "$@" | awk '{ printf "%.0f", $1 * 1000 }'; }
declare -A t
for round in $(seq "$rounds"); do
  id=$(send)
  t[spam]+="$(ms "http://127.0.0.1:$http/api/analysis/spam/$id") "
  t[deliverability]+="$(ms "http://127.0.0.1:$http/api/analysis/deliverability/$id") "
  t[deliverability_kept]+="$(ms "http://127.0.0.1:$http/api/analysis/deliverability/$id") "
  t[html]+="$(ms "http://127.0.0.1:$http/api/analysis/html/$id") "
  t[links]+="$(ms -X POST "http://127.0.0.1:$http/api/analysis/links/$id") "
  start=$(date +%s%N)
  pid=$(curl -s -X POST -H 'Content-Type: application/json' -d '{"emailClients":["mailsink-desktop-light"]}' \
    "http://127.0.0.1:$http/api/messages/$id/screenshots" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http/api/files/screenshots/$pid") == 200 ]]; do sleep 0.05; done
  t[preview]+="$(( ($(date +%s%N) - start) / 1000000 )) "
  echo "round $round done"
done
echo
echo "$rounds rounds, medians (ms); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| analysis | ms |"
echo "|---|---|"
for k in spam deliverability deliverability_kept html links preview; do
  # shellcheck disable=SC2086
  echo "| $k | $(median ${t[$k]}) |"
done
