#!/usr/bin/env bash
# Installs dependencies, builds Torii, and runs it on the bundled httpbin
# walkthrough (examples/httpbin): real httpbin on 127.0.0.1:8080 behind the
# gateway on 127.0.0.1:8081 (Gateway port 80, mapped).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh -DCMAKE_BUILD_TYPE=RelWithDebInfo
exec examples/httpbin/run.sh
