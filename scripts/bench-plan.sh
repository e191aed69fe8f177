#!/usr/bin/env bash
# Benchmark: `campaign plan --json` over a generated 1,000,000-row recipient CSV.
# Prints wall time and peak memory (maximum resident set size). Target on a 2-core
# machine: under 5 s and under 200 MB.
#
#   scripts/bench-plan.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release --locked --quiet

# Distinct valid NANP numbers across many area codes, every 1,000th row a duplicate and
# every 5,000th an invalid number, so every path of the planner is exercised.
awk -v rows="$rows" 'BEGIN {
  split("201 212 305 312 415 503 510 602 617 702 713 808 907 919", areas, " ");
  print "phone,first_name,city,order_total";
  for (i = 1; i <= rows; i++) {
    area = areas[(i % 14) + 1];
    n = i;
    if (i % 1000 == 0) n = i - 1;
    phone = sprintf("+1 (%s) %03d-%04d", area, 200 + int(n / 10000) % 800, n % 10000);
    if (i % 5000 == 0) phone = "1.5105E+10";
    printf "%s,Name%d,City %d,%d.%02d\n", phone, i, i % 97, i % 500, i % 100;
  }
}' > "$work/recipients.csv"

cat > "$work/bench.yaml" <<YAML
version: 1
name: bench-one-million
inbox: 42
creator: 7
audience:
  recipients: recipients.csv
  duplicates: skip
  invalid_rows: skip
message:
  text: |
    Hi {{ first_name }}, your {{ city }} order of \${{ order_total }} is ready: {{ link }}
    Reply STOP to opt out.
vars:
  link: https://example.com/orders
send:
  max_recipients: 2000000
  cost_per_segment: 0.0079
YAML

echo "rows: $rows ($(du -h "$work/recipients.csv" | cut -f1) CSV)"
/usr/bin/time -f "wall: %e s  peak memory: %M KB" \
  target/release/campaign plan "$work/bench.yaml" --json --offline > "$work/plan.json"
echo "plan.json: $(du -h "$work/plan.json" | cut -f1), $(grep -c '"row"' "$work/plan.json") messages"
