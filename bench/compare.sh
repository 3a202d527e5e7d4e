#!/usr/bin/env bash
# Compares the criterion benches of two git revisions in one run, on one machine:
# builds both, then runs them alternately ROUNDS times and prints, per bench, the
# median of each revision's mean estimates and the ratio B/A (below 1: B is faster).
# Alternating rounds spread the machine's noise over both sides.
#
#   bench/compare.sh REV_A REV_B [ROUNDS] [criterion filter]
set -euo pipefail
rev_a=${1:?usage: bench/compare.sh REV_A REV_B [ROUNDS] [FILTER]}
rev_b=${2:?usage: bench/compare.sh REV_A REV_B [ROUNDS] [FILTER]}
rounds=${3:-3}
filter=${4:-}
top=$(git rev-parse --show-toplevel)
work="$top/target/compare"
mkdir -p "$work"
vectors="${FABRIC_VECTORS:-$(cd "$top/../shared/fabric-vectors" && pwd)}"

for side in a b; do
  rev=$rev_a; [ "$side" = b ] && rev=$rev_b
  tree="$work/$side"
  git -C "$top" worktree remove --force "$tree" 2>/dev/null || rm -rf "$tree"
  git -C "$top" worktree add --detach "$tree" "$rev" >/dev/null
  echo "== building $side = $rev"
  (cd "$tree" && CARGO_TARGET_DIR="$work/target-$side" cargo bench -p bench --no-run --quiet)
done

for round in $(seq 1 "$rounds"); do
  for side in a b; do
    echo "== round $round/$rounds: $side"
    (cd "$work/$side" && FABRIC_VECTORS="$vectors" CARGO_TARGET_DIR="$work/target-$side" \
      cargo bench -p bench --quiet -- --warm-up-time 1 --measurement-time 3 $filter >/dev/null)
    mkdir -p "$work/estimates/$side/$round"
    (cd "$work/target-$side/criterion" && find . -path '*/new/estimates.json' | while read -r f; do
      dest="$work/estimates/$side/$round/$(dirname "$(dirname "$f")")"
      mkdir -p "$dest" && cp "$f" "$dest/estimates.json"
    done)
  done
done

python3 - "$work/estimates" "$rounds" "$rev_a" "$rev_b" <<'PY'
import json, os, statistics, sys
root, rounds, rev_a, rev_b = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def means(side):
    out = {}
    for r in range(1, rounds + 1):
        base = os.path.join(root, side, str(r))
        for dirpath, _, files in os.walk(base):
            if "estimates.json" in files:
                name = os.path.relpath(dirpath, base)
                with open(os.path.join(dirpath, "estimates.json")) as f:
                    out.setdefault(name, []).append(json.load(f)["mean"]["point_estimate"])
    return {k: statistics.median(v) for k, v in out.items()}
a, b = means("a"), means("b")
print(f"{'bench':<45}{'A ('+rev_a+')':>18}{'B ('+rev_b+')':>18}{'B/A':>8}")
for name in sorted(set(a) & set(b)):
    print(f"{name:<45}{a[name]/1e3:>15.1f} us{b[name]/1e3:>15.1f} us{b[name]/a[name]:>8.3f}")
PY
