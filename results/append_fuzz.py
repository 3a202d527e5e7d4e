#!/usr/bin/env python3
"""Appends one fuzz run's figures to results/fuzz.ndjson (called by scripts/fuzz.sh)."""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def git_rev():
    try:
        top = os.path.dirname(HERE)
        rev = subprocess.check_output(["git", "rev-parse", "--short=12", "HEAD"], cwd=top, text=True).strip()
        dirty = subprocess.call(["git", "diff", "--quiet", "HEAD", "--", ".", ":!results"], cwd=top) != 0
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


target, seconds, runs, coverage, status, crashes = sys.argv[1:7]
cpu_seconds = int(sys.argv[7]) if len(sys.argv) > 7 else None
record = {
    "kind": "fuzz",
    "unix_time": int(time.time()),
    "git_rev": git_rev(),
    "hardware": {"cores": os.cpu_count()},
    "params": {"target": target, "seconds": int(seconds), "sanitizer": "none"},
    "figures": {"runs": int(runs), "coverage": int(coverage), "exit": int(status), "crash_files": int(crashes),
                "cpu_seconds": cpu_seconds},
}
with open(os.path.join(HERE, "fuzz.ndjson"), "a") as f:
    f.write(json.dumps(record) + "\n")
