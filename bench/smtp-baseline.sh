#!/usr/bin/env bash
# SMTP baseline for MailSink: starts a Release build on free loopback ports with a fresh database, sends
# 2 KB messages back to back on one connection (MailKit, and a raw pipelining client) and over ten
# connections, prints one table, and stops the server. Figures go to docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT

dotnet build -c Release -v q --nologo src/MailSink.Server >/dev/null
dotnet build -c Release -v q --nologo bench/SmtpLoad >/dev/null

smtp=$(free_port); http=$(free_port)
dotnet src/MailSink.Server/bin/Release/net10.0/MailSink.Server.dll --contentRoot="$work" \
  --urls "http://127.0.0.1:$http" --MailSink:Smtp:BindAddress=127.0.0.1 \
  --MailSink:Smtp:Listeners:0:Port="$smtp" --MailSink:Smtp:Listeners:0:Tls=None \
  --MailSink:Storage:Path="$work/bench.db" --Logging:LogLevel:Default=Warning &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http/health" >/dev/null && break; sleep 0.1; done

load() { dotnet bench/SmtpLoad/bin/Release/net10.0/SmtpLoad.dll "$smtp" "$@"; }
load 500 1 2048 raw warmup >/dev/null
echo -e "mode\tmessages\tconnections\tbytes\tseconds\tmsg/s\tMB/s\traw bytes"
load 3000 1 2048 mailkit one
load 3000 1 2048 raw one
load 5000 10 2048 raw ten
load 1000 10 102400 raw big
