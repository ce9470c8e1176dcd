#!/usr/bin/env bash
# The soak of issue 5, item 6: starts a Release build of MailSink on free loopback ports with a fresh
# database, runs bench/Soak against it (50 SMTP sessions and 50 API readers and waiters for 3 minutes by
# default, after a warm-up), then checks that no error occurred, every acknowledged message is accounted for
# through the API, and the server's memory and open files are back near their warm baseline after a GC.
# Finally SIGTERM must stop the server with exit code 0. Loopback only; bounded in time. A failed run keeps
# its database in bench/results/.
# Usage: bench/soak.sh [seconds=180] [sessions=50] [readers=50] [messages/s=500] [requests/s=500]
# Figures go to docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
seconds="${1:-180}"; sessions="${2:-50}"; readers="${3:-50}"; messages="${4:-500}"; requests="${5:-500}"
work=$(mktemp -d)
server=""
status=1
cleanup() {
  if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then kill -KILL "$server"; wait "$server" 2>/dev/null || true; fi
  if [[ $status -ne 0 && -f "$work/soak.db" ]]; then
    # A failed soak keeps its database for a post-mortem (bench/results/ is not committed).
    mkdir -p bench/results && kept="bench/results/soak-$(date -u +%Y%m%dT%H%M%S)" && mv "$work" "$kept" && echo "database kept in $kept"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

dotnet build -c Release -v q --nologo src/MailSink.Server >/dev/null
dotnet build -c Release -v q --nologo bench/Soak >/dev/null

smtp=$(free_port); http=$(free_port)
dotnet src/MailSink.Server/bin/Release/net10.0/MailSink.Server.dll --contentRoot="$work" \
  --urls "http://127.0.0.1:$http" --MailSink:Smtp:BindAddress=127.0.0.1 \
  --MailSink:Smtp:Listeners:0:Port="$smtp" --MailSink:Smtp:Listeners:0:Tls=None \
  --MailSink:Storage:Path="$work/soak.db" --Logging:LogLevel:Default=Warning &
server=$!
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$http/health" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$http/health" >/dev/null || { echo "MailSink did not become healthy within 60 s"; exit 1; }

echo "MailSink $(dotnet --list-runtimes | grep -m1 Microsoft.NETCore.App | cut -d' ' -f2), pid $server, SMTP $smtp, HTTP $http, $(nproc) cores"
set +e
timeout $((seconds * 2 + 300)) dotnet bench/Soak/bin/Release/net10.0/Soak.dll "$smtp" "$http" "$server" "$seconds" "$sessions" "$readers" "$messages" "$requests" "$work/soak.db"
status=$?
set -e
echo "database: $(du -m "$work/soak.db" | cut -f1) MB, log: $(du -m "$work/soak-log.db" 2>/dev/null | cut -f1) MB"

kill -TERM "$server"
for _ in $(seq 300); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$server" 2>/dev/null; then echo "MailSink did not stop within 30 s of SIGTERM"; exit 1; fi
wait "$server"; code=$?
server=""
echo "SIGTERM: MailSink exited with code $code"
[[ $code -eq 0 ]] || status=1
exit "$status"
