#!/usr/bin/env bash
# Stops a broker started by start.sh, by pid: `scripts/kafka/stop.sh PID` (or
# KAFKA_PID in the environment). Waits up to 5 s for it to exit, then kills it.
set -euo pipefail
pid=${1:-${KAFKA_PID:-}}
[ -n "$pid" ] || { echo "usage: stop.sh PID (or KAFKA_PID=...)" >&2; exit 2; }
kill -CONT "$pid" 2>/dev/null || true # a paused broker cannot exit
kill "$pid" 2>/dev/null || exit 0
for _ in $(seq 1 50); do
  kill -0 "$pid" 2>/dev/null || exit 0
  sleep 0.1
done
kill -9 "$pid" 2>/dev/null || true
