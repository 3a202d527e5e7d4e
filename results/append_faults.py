#!/usr/bin/env python3
"""Reads test output on stdin and appends every `fault-record {json}` line's fault to
results/faults.ndjson (called by scripts/faults.sh). Exits 1 when there is none."""
import json
import sys

from recording import append

count = 0
MARK = "fault-record "
for line in sys.stdin:
    # libtest may have printed "test <name> ... " on the same line first.
    if MARK in line:
        record = json.loads(line[line.index(MARK) + len(MARK):])
        params = dict(record["params"], fault=record["fault"])
        append("faults.ndjson", "fault", params, record["figures"])
        count += 1
print(f"{count} fault records appended to results/faults.ndjson")
sys.exit(0 if count else 1)
