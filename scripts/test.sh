#!/usr/bin/env bash
# The test suite, as CI runs it: every unit, integration and property test under nextest (with
# the `planted-bugs` feature, which compiles in the merge bugs the hunt's self-test plants;
# they stay off unless that test switches one on), then the library's doc examples, which
# nextest does not run.
#
# Two tiers need real programs, installed here from Debian's packages when missing (apt-get
# update once, then apt-get install; as root, or through sudo):
# * the live tier (tests/integration/live/) runs real redis-server processes on loopback;
# * the browser tests (tests/integration/browser.rs) open the HTML reports in headless
#   Chromium and check their screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v redis-server > /dev/null || missing+=(redis-server)
command -v chromium > /dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]} (Debian packages) for the live-Redis and browser tests" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" > /dev/null
fi
cargo nextest run --features planted-bugs "$@"
cargo test --doc --features planted-bugs
# The library builds, lint-clean, without the `cli` feature (no clap, indicatif, plotters or
# rayon), as another crate would use it.
cargo clippy --lib --no-default-features --quiet -- -D warnings
# The library's documentation builds without a warning (broken or private links).
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
