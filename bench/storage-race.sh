#!/usr/bin/env bash
# Storage under concurrent reads (bench/StorageRace): eight writers filing messages through MessageIngest and
# N readers using MessageRepository as the API does, in process, for a bounded time; stops at the first
# storage exception, then reopens the database and checks every acknowledged message byte for byte.
# Reproduces docs/reliability.md findings 5 (reads starve the writer) and 6 (LiteDB's page cache race).
# Usage: bench/storage-race.sh [seconds=180] [readers=4]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release -v q --nologo bench/StorageRace >/dev/null
dotnet bench/StorageRace/bin/Release/net10.0/StorageRace.dll "${1:-180}" "${2:-4}"
