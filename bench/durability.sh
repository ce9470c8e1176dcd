#!/usr/bin/env bash
# The kill -9 durability test (tests/MailSink.Tests/Process/DurabilityTests.cs) with more cycles than CI
# runs: each cycle sends from eight sessions to the real server, SIGKILLs it as a large message is
# acknowledged after a few dozen others, and restarts it on the same database, which must hold every
# acknowledged message byte for byte. Prints one line per cycle and the summary. Figures go to docs/reliability.md.
# Usage: bench/durability.sh [cycles=20] [seed=5]
set -euo pipefail
cd "$(dirname "$0")/.."
export MAILSINK_DURABILITY_CYCLES="${1:-20}"
export MAILSINK_DURABILITY_SEED="${2:-5}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test tests/MailSink.Tests --filter "FullyQualifiedName~Processes.DurabilityTests" \
  --logger "console;verbosity=detailed" >"$log" 2>&1
status=$?
set -e
grep -E "^ *(cycle [0-9]+:|durability summary:)|Passed|Failed|error" "$log" | grep -v "^ *\[mailsink" || true
exit "$status"
