#!/usr/bin/env bash
# Fuzzes each target in turn for SECONDS (default 900) with cargo fuzz (needs a nightly
# toolchain and `cargo install cargo-fuzz`), growing the corpora under fuzz/corpus/, then
# prints one line per target: executions, coverage, corpus size, and when coverage last grew.
# A crash, hang (10 s) or out-of-memory (2 GB) stops that target and leaves the input in
# fuzz/artifacts/<target>/; fix it, then copy the input into the corpus so
# tests/fuzz_corpus.rs replays it on every `cargo test`.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-900}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(campaign_file recipients_csv render_segments sandbox_request)
fi
logs="${FUZZ_LOGS:-target/fuzz-logs}"
mkdir -p "$logs"

cargo +nightly fuzz build -O || exit 1
status=0
for target in "${targets[@]}"; do
    log="$logs/$target.log"
    echo "fuzzing $target for $seconds s (log: $log)" >&2
    start=$SECONDS
    # Each log line starts with the seconds elapsed, so the table can say when coverage
    # last grew.
    if ! cargo +nightly fuzz run -O "$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 2>&1 |
        while IFS= read -r line; do printf '%s %s\n' "$((SECONDS - start))" "$line"; done >"$log"
    then
        echo "$target: FAILED, see $log and fuzz/artifacts/$target/" >&2
        status=1
    fi
done

printf '\n%-16s %8s %12s %8s %8s %8s %10s\n' \
    target seconds executions exec/s cov corpus "last new"
for target in "${targets[@]}"; do
    awk -v target="$target" '
        $3 == "NEW" || $3 == "REDUCE" { last = $1 }
        / cov: / {
            for (i = 1; i < NF; i++) {
                if ($i == "cov:") cov = $(i + 1)
                if ($i == "corp:") corp = $(i + 1)
            }
        }
        /stat::number_of_executed_units/ { runs = $3 }
        /stat::average_exec_per_sec/ { rate = $3 }
        { elapsed = $1 }
        END {
            printf "%-16s %8s %12s %8s %8s %8s %9ss\n", target, elapsed, runs, rate, cov, corp, last
        }
    ' "$logs/$target.log"
done
exit "$status"
