#!/usr/bin/env bash
# The long crash test: TRIALS (default 20) campaigns of 1,000 recipients, each applied against
# a `campaign sandbox` child and killed with SIGKILL at random moments until a run finishes;
# every other trial also injects dropped connections and server errors. Prints one line per
# trial and fails if anyone got two messages or a recipient ended neither `sent` nor `unknown`.
#
#   scripts/crash-test.sh [TRIALS]
set -euo pipefail
cd "$(dirname "$0")/.."

export CRASH_TRIALS="${1:-20}"
exec cargo test --test cli crash::crash_test_long -- --ignored --nocapture --test-threads 1
