#!/usr/bin/env bash
# Starts the local test broker on loopback and waits until it answers; prints
# `KAFKA_BROKERS=127.0.0.1:PORT` and `KAFKA_PID=PID` lines for `eval`/sourcing.
# When KAFKA_BROKERS is already set, a cluster is named: nothing is started and it is
# echoed back. Stop with scripts/kafka/stop.sh (by pid).
#
#   eval "$(scripts/kafka/start.sh)"     # optional: KAFKA_PORT=9092
#
# KAFKA_ADVERTISED=host:port makes the broker tell clients to connect there instead (a
# TLS terminator in front of it, say); KAFKA_BROKERS is still the broker's own address.
set -euo pipefail
if [ -n "${KAFKA_BROKERS:-}" ]; then
  echo "KAFKA_BROKERS=$KAFKA_BROKERS"
  exit 0
fi
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${TANSU_DIR:-$top/target/kafka}
bin=$("$top/scripts/kafka/install.sh")
port=${KAFKA_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
mkdir -p "$dir/run"
log=$dir/run/tansu-$port.log
url=tcp://127.0.0.1:$port
advertised=tcp://${KAFKA_ADVERTISED:-127.0.0.1:$port}
nohup "$bin" broker --listener-url "$url" --advertised-listener-url "$advertised" \
  --storage-engine memory://tansu/ > "$log" 2>&1 &
pid=$!
# Ready when the port accepts connections (about 0.1 s), within 10 s.
for _ in $(seq 1 100); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "start.sh: tansu exited; its log ($log):" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
    echo "KAFKA_BROKERS=127.0.0.1:$port"
    echo "KAFKA_PID=$pid"
    exit 0
  fi
  sleep 0.1
done
kill "$pid" 2>/dev/null || true
echo "start.sh: tansu did not accept connections on 127.0.0.1:$port within 10 s" >&2
exit 1
