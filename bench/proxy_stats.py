"""What bench/quota_proxy.py saw during one measured run, against the quota.

Usage: proxy_stats.py LOG RATE START END [OUT_JSON [LABEL EXIT]]

Prints one JSON object (with LABEL and EXIT: one row of bench/quota's table):
  wall            seconds from START to END
  bound           the quota bound: the busiest account-region's control-plane
                  calls (GetPolicy and GetFunction have their own quotas) ÷ RATE
  calls           control-plane calls let through, all account-regions
  busiest_place   control-plane calls of the busiest account-region
  policy_calls    GetPolicy calls let through
  throttles       calls answered 429
  busiest_second  the most calls one quota bucket let through within one second
  writes          POST/PUT/DELETE calls let through
  failed          elements of OUT_JSON's results with an "error" ("?" if unreadable)
"""

import json
import sys
from collections import defaultdict

log, rate, start, end = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
calls = [json.loads(line) for line in open(log)]
passed = [c for c in calls if not c["throttled"]]
by_bucket = defaultdict(list)
for c in passed:
    by_bucket[c["bucket"]].append(c["t"])
control = {k: v for k, v in by_bucket.items() if k.endswith("/control")}
busiest_place = max((len(v) for v in control.values()), default=0)


def busiest(times):
    return max((sum(1 for u in times[i:] if u - t < 1.0) for i, t in enumerate(times)), default=0)


failed = "?"
if len(sys.argv) > 5:
    try:
        results = json.load(open(sys.argv[5]))
        failed = sum(1 for r in results if "error" in r)
    except Exception:
        pass
wall = end - start
stats = {
    "wall": wall,
    "bound": busiest_place / rate,
    "calls": sum(len(v) for v in control.values()),
    "busiest_place": busiest_place,
    "policy_calls": sum(len(v) for k, v in by_bucket.items() if k.endswith("/policy")),
    "throttles": sum(c["throttled"] for c in calls),
    "busiest_second": max((busiest(sorted(v)) for v in by_bucket.values()), default=0),
    "writes": sum(1 for c in passed if c["call"].split()[0] in ("POST", "PUT", "DELETE")),
    "failed": failed,
}
if len(sys.argv) > 7:
    label, status = sys.argv[6], sys.argv[7]
    print(
        f"| {label} | {rate}/s | {wall:.1f} s | {stats['bound']:.1f} s | {wall / stats['bound']:.2f}× | "
        f"{stats['calls']} | {stats['throttles']} | {stats['busiest_second']} | {failed} | {status} |"
    )
else:
    print(json.dumps(stats))
