#!/usr/bin/env bash
# Regenerates docs/live/: the live-Redis tier's results (every compared command as CSV, and
# the agreement counts), by running those tests with GEOSIM_LIVE_OUT set. Needs redis-server
# (./scripts/test.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
GEOSIM_LIVE_OUT="$PWD/docs/live" cargo nextest run --features planted-bugs -E 'test(/^live::/)'
ls -l docs/live
