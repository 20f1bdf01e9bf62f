#!/usr/bin/env bash
# The test suite, as CI runs it: every unit, integration and property test under nextest (with
# the `planted-bugs` feature, which compiles in the merge bugs the hunt's self-test plants;
# they stay off unless that test switches one on), then the library's doc examples, which
# nextest does not run.
#
# The live tier (tests/integration/live/) runs real redis-server processes on loopback: when
# redis-server is missing, it is installed here from Debian's packages first (apt-get update
# once, then apt-get install redis-server; as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v redis-server > /dev/null; then
  echo "test.sh: installing redis-server (Debian package) for the live-Redis tests" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server > /dev/null
fi
cargo nextest run --features planted-bugs "$@"
cargo test --doc --features planted-bugs
# The library's documentation builds without a warning (broken or private links).
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
