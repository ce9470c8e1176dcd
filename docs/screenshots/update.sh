#!/usr/bin/env bash
# Takes the web UI screenshots in this folder again: runs the one test that makes them (it sends sample
# mail to an in-process MailSink and photographs each main view in headless Chromium). Needs Debian's
# chromium (apt-get install chromium).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
MAILSINK_SCREENSHOTS="$PWD/docs/screenshots" dotnet test --filter "FullyQualifiedName~MailSink.Tests.Ui.ScreenshotTests"
