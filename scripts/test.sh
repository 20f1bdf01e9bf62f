#!/usr/bin/env bash
# The test suite, as CI runs it: every unit, integration and property test under nextest (with
# the `planted-bugs` feature, which compiles in the merge bugs the hunt's self-test plants;
# they stay off unless that test switches one on), then the library's doc examples, which
# nextest does not run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo nextest run --features planted-bugs "$@"
cargo test --doc --features planted-bugs
