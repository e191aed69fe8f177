#!/usr/bin/env bash
# Benchmarks of `campaign apply`, printing figures (no pass/fail: machines are noisy).
#
#   scripts/bench-apply.sh rate        # 50/s for 20 s against a sandbox process: achieved
#                                      # rate, and the most sends seen in any 1 s and 60 s
#   scripts/bench-apply.sh throughput  # 100,000 recipients, rate lifted, in-process
#                                      # sandbox: durable sends per second and peak memory
#
# Needs python3 (for reading the sandbox log) and a release build, which it makes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
bin="$PWD/target/release/campaign"
work="$(mktemp -d)"
trap 'kill "${sandbox_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

# A recipient CSV of distinct valid numbers.
recipients() {
  awk -v rows="$1" 'BEGIN {
    print "phone,first_name";
    for (i = 1; i <= rows; i++)
      printf "+1 (415) %03d-%04d,Name%d\n", 200 + int(i / 10000), i % 10000, i;
  }' > "$work/recipients.csv"
  cat > "$work/bench.yaml" <<YAML
version: 1
name: bench-apply
inbox: 42
creator: 7
audience:
  recipients: recipients.csv
message:
  text: "Hi {{ first_name }}, this is a benchmark message. Reply STOP to opt out."
send:
  window: always
  max_recipients: 1000000
YAML
}

rate() {
  recipients 1001
  port=$((20000 + RANDOM % 20000))
  "$bin" sandbox --port "$port" --rate-limit 0 --log "$work/sent.jsonl" > "$work/env" 2>/dev/null &
  sandbox_pid=$!
  for _ in $(seq 50); do grep -q SECRET_KEY "$work/env" 2>/dev/null && break; sleep 0.1; done
  # shellcheck disable=SC1091
  source "$work/env"
  "$bin" apply "$work/bench.yaml" --auto-approve --rate 50/s --concurrency 8 \
    --state-dir "$work/state" --report "$work/report" 2>&1 | tail -1
  python3 - "$work/sent.jsonl" <<'PY'
import json, sys
from datetime import datetime
times = sorted(datetime.fromisoformat(json.loads(l)["received_at"].replace("Z", "+00:00")).timestamp()
               for l in open(sys.argv[1]))
span = times[-1] - times[0]
def most_in(window):
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - window:
            j += 1
        best = max(best, i - j + 1)
    return best
print(f"sends: {len(times)} over {span:.2f} s; achieved {(len(times) - 1) / span:.2f}/s "
      f"(configured 50/s, {((len(times) - 1) / span / 50 - 1) * 100:+.2f}%)")
print(f"most in any 1 s window: {most_in(1.0)}; most in any 60 s window: {most_in(60.0)} (limit 3000)")
PY
}

throughput() {
  recipients 100000
  /usr/bin/time -f "wall %e s, peak memory %M KB" \
    "$bin" apply "$work/bench.yaml" --sandbox --auto-approve --rate unlimited --concurrency 64 \
      --json --state-dir "$work/state" --report "$work/report" > "$work/events.jsonl" 2> "$work/stderr"
  tail -1 "$work/stderr"
  python3 - "$work/events.jsonl" <<'PY'
import json, sys
summary = [json.loads(l) for l in open(sys.argv[1]) if '"finished"' in l][-1]["summary"]
print(f"sent {summary['sent']} in {summary['elapsed']:.2f} s of sending: "
      f"{summary['sent'] / summary['elapsed']:.0f} durable sends/s")
PY
}

case "${1:-}" in
  rate) rate ;;
  throughput) throughput ;;
  *) echo "usage: $0 rate|throughput" >&2; exit 2 ;;
esac
