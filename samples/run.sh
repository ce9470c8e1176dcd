#!/usr/bin/env bash
# Packs MailSink.Testing into artifacts/packages and runs the sample test projects (xunit, NUnit, MSTest)
# against that package, as a user's test project would consume it. Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
# The package keeps its version while it changes: start from nothing, as a clean checkout would.
rm -rf artifacts/packages samples/.packages/mailsink.testing samples/*/bin samples/*/obj
dotnet pack src/MailSink.Testing -c Release -o artifacts/packages --nologo -v q
for sample in xunit nunit mstest; do
    echo "--- sample: $sample"
    dotnet test "samples/$sample" --nologo -v q
done
