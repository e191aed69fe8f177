#!/usr/bin/env bash
# Throughput of the sandbox alone: rate limit off, JSONL log on, driven over loopback by
# keep-alive HTTP/1.1 connections (examples/sandbox_load.rs). Prints accepted sends/s.
#
#   scripts/bench-sandbox.sh                 # 64 connections, 10 s, log on
#   scripts/bench-sandbox.sh --no-log        # extra options go to the load generator
#
# The bar is 20,000 accepted sends/s on a 2-core machine with a release build.
set -euo pipefail

cd "$(dirname "$0")/.."
cargo build --release --quiet --example sandbox_load
target_dir="${CARGO_TARGET_DIR:-target}"
exec "$target_dir/release/examples/sandbox_load" --connections 64 --seconds 10 "$@"
