#!/usr/bin/env bash
# Fuzzes each target in turn for at most SECONDS (default 900) with cargo fuzz (needs a
# nightly toolchain and `cargo install cargo-fuzz`), using the target's dictionary in
# fuzz/dict/ and growing its corpus under fuzz/corpus/. With PLATEAU=S set, a target stops
# early once its edge coverage (libFuzzer's `cov:`) has not grown for S seconds: that is
# the plateau the README's fuzzing figures are measured by. Then it prints one line per
# target: executions, edge coverage at start and end, corpus size, when edge coverage last
# grew, and whether the target plateaued. Inputs may use the whole -max_len from the start
# (-len_control=0), so a plateau is not libFuzzer still raising its own length cap.
#
# A crash, hang (10 s) or out-of-memory (2 GB) stops that target and leaves the input in
# fuzz/artifacts/<target>/; fix it, then copy the input into the corpus so
# tests/fuzz_corpus.rs replays it on every `cargo test`.
#
#   [PLATEAU=S] scripts/fuzz.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-900}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(campaign_file recipients_csv render_segments sandbox_request)
fi
plateau="${PLATEAU:-0}"
logs="${FUZZ_LOGS:-target/fuzz-logs}"
mkdir -p "$logs"

# Prefixes each line of libFuzzer's output with the seconds elapsed and, when a plateau
# is asked for, asks the fuzzer to stop (SIGUSR1: a clean exit with its final statistics)
# once edge coverage has not grown for that long. Wakes every 10 s, since a fuzzer on a
# plateau prints little.
timestamp_and_watch() {
    local target="$1" start=$SECONDS best=-1 grew=0 asked=0 line="" part
    while true; do
        if IFS= read -r -t 10 part; then
            line+="$part"
            local elapsed=$((SECONDS - start))
            printf '%s %s\n' "$elapsed" "$line"
            if [[ "$line" =~ cov:\ ([0-9]+) ]] && ((BASH_REMATCH[1] > best)); then
                best=${BASH_REMATCH[1]}
                grew=$elapsed
            fi
            line=""
        elif (($? > 128)); then
            line+="$part"
        else
            [ -n "$line$part" ] && printf '%s %s\n' "$((SECONDS - start))" "$line$part"
            break
        fi
        if ((plateau > 0 && asked == 0 && best >= 0 && SECONDS - start - grew >= plateau)); then
            printf '%s plateau: edge coverage %s unchanged for %s s\n' \
                "$((SECONDS - start))" "$best" "$plateau"
            asked=1
            pkill -USR1 -f "/release/$target " ||
                echo "plateau: no fuzzer process for $target to stop" >&2
        fi
    done
}

cargo +nightly fuzz build -O || exit 1
status=0
for target in "${targets[@]}"; do
    log="$logs/$target.log"
    dict=()
    [ -f "dict/$target.dict" ] && dict=("-dict=dict/$target.dict")
    echo "fuzzing $target for at most $seconds s (log: $log)" >&2
    if ! cargo +nightly fuzz run -O "$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -len_control=0 -print_final_stats=1 "${dict[@]}" 2>&1 |
        timestamp_and_watch "$target" >"$log"
    then
        echo "$target: FAILED, see $log and fuzz/artifacts/$target/" >&2
        status=1
    fi
done

printf '\n%-16s %8s %12s %8s %15s %8s %10s %9s\n' \
    target seconds executions exec/s "edges start-end" corpus "last grew" plateau
for target in "${targets[@]}"; do
    awk -v target="$target" '
        / cov: / {
            for (i = 1; i < NF; i++) {
                if ($i == "cov:") cov = $(i + 1)
                if ($i == "corp:") corp = $(i + 1)
            }
            if ($3 == "INITED") first = cov
            if (cov + 0 > best + 0) { best = cov; grew = $1 }
        }
        /stat::number_of_executed_units/ { runs = $3 }
        /stat::average_exec_per_sec/ { rate = $3 }
        / plateau: / { flat = "yes" }
        { elapsed = $1 }
        END {
            printf "%-16s %8s %12s %8s %15s %8s %9ss %9s\n", target, elapsed, runs, rate,
                first "-" best, corp, grew, (flat == "" ? "no" : flat)
        }
    ' "$logs/$target.log"
done
exit "$status"
