#!/usr/bin/env bash
# The long crash test: TRIALS (default 50) campaigns of 1,000 recipients plus five awkward
# rows, each applied with concurrency 4 against a `campaign sandbox` child and killed with
# SIGKILL at random moments until a run finishes. Trials cycle through no faults, 429 storms
# with slow answers, and dropped connections with 5xx answers. After each kill the journal's
# in-flight messages are counted; at the end `--retry-unknown` against a fault-free sandbox
# on the same log settles every unknown. Prints one line per trial and fails if anyone got
# two messages, a row ended where it may not, or a kill left more unknowns than were in flight.
#
#   scripts/crash-test.sh [TRIALS]
set -euo pipefail
cd "$(dirname "$0")/.."

export CRASH_TRIALS="${1:-50}"
exec cargo test --test cli crash::crash_test_long -- --ignored --nocapture --test-threads 1
