#!/usr/bin/env python3
"""Appends one fuzz run's figures to results/fuzz.ndjson (called by scripts/fuzz.sh)."""
import sys

from recording import append

target, seconds, runs, coverage, status, crashes = sys.argv[1:7]
cpu_seconds = int(sys.argv[7]) if len(sys.argv) > 7 else None
append("fuzz.ndjson", "fuzz",
       {"target": target, "seconds": int(seconds), "sanitizer": "none"},
       {"runs": int(runs), "coverage": int(coverage), "exit": int(status), "crash_files": int(crashes),
        "cpu_seconds": cpu_seconds})
