#!/usr/bin/env bash
# Side by side with Fabric in one run: the same loadgen workload against this orderer
# (release `orderer start`) and Fabric's own v1.4.12 and v2.5.6 solo orderers
# (../shared/fabric-bin), in rounds that alternate between them (ours, 1.4.12, 2.5.6,
# ours, ...), each orderer started fresh on a fresh ledger from the same system-channel
# genesis block. Two variants:
#   signed    SampleDevModeSolo: SampleOrg writes; loadgen signs as the fabric-vectors
#             MSP (SampleOrg) and every orderer verifies each envelope against Writers.
#   unsigned  SampleInsecureSolo: no organizations, Fabric accepts every envelope;
#             loadgen --unsigned.
# The blocks are made at run time by v2.5.6's configtxgen (scripts/compare/genesis.py).
# Every round appends a record to results/compare-fabric.ndjson: loadgen's own record plus
# the round's params (orderer, version, variant, round, run id) and the orderer process's
# CPU seconds during the run (utime + stime of /proc/PID/stat, before and after), hence
# tx per orderer CPU-second (scripts/compare/round.py). A round that fails (loadgen exits
# non-zero: envelopes rejected, Deliver refused, timeout) is reported, recorded with its
# error and skipped; the script goes on and exits 1 at the end. results/README.md is then
# regenerated; its "Side by side with Fabric" table compares medians within one run id.
#
# Workload (same for every orderer): one channel (the system channel, `syschannel`; Fabric
# solo orders MESSAGE envelopes there), 4 Broadcast streams, 1 Deliver client matching
# every envelope, 1 KiB payloads, closed loop (--rate max, 256 in flight per stream),
# --total envelopes, 200,000 by default (a multiple of MaxMessageCount, so no round ends
# waiting for a batch timeout; 5-8 s of load for ours, 20-35 s for Fabric verifying
# signatures), signed before the clock starts (--presign) so signing takes no CPU from the
# orderer: `orderer benchmark`'s canonical workload, run against a separate process.
# BatchSize and BatchTimeout are the sample's, which are also the canonical ones: 500
# messages, 2 MB preferred, 10 MB absolute, 2 s.
#
#   scripts/compare-fabric.sh [--rounds R] [--variants signed,unsigned]
#       [--orderers ours,1.4.12,2.5.6] [--total N] [--window N] [--results FILE]
#       [-- more loadgen flags]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

rounds=3
variants=signed,unsigned
orderers=ours,1.4.12,2.5.6
total=200000
window=256
results=$top/results/compare-fabric.ndjson
extra=()
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --variants) variants=$2; shift 2 ;;
    --orderers) orderers=$2; shift 2 ;;
    --total) total=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --results) results=$(realpath -m "$2"); shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare-fabric.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

IFS=, read -ra orderer_list <<<"$orderers"
IFS=, read -ra variant_list <<<"$variants"
for name in "${orderer_list[@]}"; do
  [[ $name =~ ^(ours|1\.4\.12|2\.5\.6)$ ]] || { echo "compare-fabric.sh: unknown orderer $name (ours, 1.4.12, 2.5.6)" >&2; exit 2; }
done
for variant in "${variant_list[@]}"; do
  [[ $variant =~ ^(signed|unsigned)$ ]] || { echo "compare-fabric.sh: unknown variant $variant (signed, unsigned)" >&2; exit 2; }
done

fabric=$(realpath "$top/../shared/fabric-bin")
msp=$(realpath "$top/../shared/fabric-vectors/msp")
channel=syschannel
run_id=$(date +%s)
# Only what this script sets may configure the orderers.
unset FABRIC_CFG_PATH $(compgen -e | grep '^ORDERER_' || true)

cargo build --release --locked -p orderer -p loadgen
work=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]]; then stop_orderer; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 scripts/compare/genesis.py "$fabric" "$msp" "$channel" "$work"

version_of() {
  case $1 in
    ours) target/release/orderer version | awk '{print $2}' ;;
    *) "$fabric/v$1/orderer" version | awk '/Version:/ {print $2}' ;;
  esac
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_orderer NAME BLOCK LEDGER PORT LOG: starts it in the background, sets $pid.
start_orderer() {
  local name=$1 block=$2 ledger=$3 port=$4 log=$5
  local common=(ORDERER_GENERAL_LISTENADDRESS=127.0.0.1 ORDERER_GENERAL_LISTENPORT="$port"
    ORDERER_OPERATIONS_LISTENADDRESS=127.0.0.1:0 ORDERER_FILELEDGER_LOCATION="$ledger"
    ORDERER_GENERAL_LOCALMSPDIR="$msp" ORDERER_GENERAL_LOCALMSPID=SampleOrg)
  case $name in
    ours) env "${common[@]}" FABRIC_CFG_PATH="$top/sampleconfig" ORDERER_GENERAL_BOOTSTRAPMETHOD=file \
            ORDERER_GENERAL_BOOTSTRAPFILE="$block" target/release/orderer start >"$log" 2>&1 & ;;
    1.4.12) env "${common[@]}" FABRIC_CFG_PATH="$fabric/v1.4.12/sampleconfig" ORDERER_GENERAL_GENESISMETHOD=file \
              ORDERER_GENERAL_GENESISFILE="$block" "$fabric/v1.4.12/orderer" >"$log" 2>&1 & ;;
    2.5.6) env "${common[@]}" FABRIC_CFG_PATH="$fabric/v2.5.6/sampleconfig" ORDERER_GENERAL_BOOTSTRAPMETHOD=file \
             ORDERER_GENERAL_BOOTSTRAPFILE="$block" ORDERER_ADMIN_LISTENADDRESS=127.0.0.1:0 \
             "$fabric/v2.5.6/orderer" >"$log" 2>&1 & ;;
  esac
  pid=$!  # env execs the orderer: this is its process id
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_listening PORT LOG: until the orderer accepts connections; fails if it exits or
# takes over 60 s.
wait_listening() {
  local port=$1 log=$2
  for _ in $(seq 600); do
    if listening "$port"; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null || [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]]; then
      echo "compare-fabric.sh: the orderer exited at start; its log ends:" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "compare-fabric.sh: the orderer did not listen on $port within 60 s" >&2
  return 1
}

# stop_orderer: SIGTERM, up to 20 s to exit (Fabric's take 1-4 s), then SIGKILL.
stop_orderer() {
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 200); do
    [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo gone) =~ ^(Z|gone)$ ]] && break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=
}

declare -A versions
for name in "${orderer_list[@]}"; do versions[$name]=$(version_of "$name"); done
workload=(--channels "$channel" --broadcasters 4 --deliverers 1 --message-size 1024
  --rate max --window "$window" --total "$total" --presign --quiet)
failed=()
echo "run $run_id: $rounds rounds of ${variant_list[*]} on ${orderer_list[*]}, $total envelopes each"
for round in $(seq "$rounds"); do
  for variant in "${variant_list[@]}"; do
    case $variant in
      signed) signing=(--msp-dir "$msp" --msp-id SampleOrg) ;;
      unsigned) signing=(--unsigned) ;;
    esac
    for name in "${orderer_list[@]}"; do
      ledger=$work/ledger port=$(free_port) log=$work/$name-$variant-$round.log
      rm -rf "$ledger"
      start_orderer "$name" "$work/$variant.block" "$ledger" "$port" "$log"
      if ! wait_listening "$port" "$log"; then
        stop_orderer
        failed+=("$name $variant round $round: did not start")
        continue
      fi
      code=0
      python3 scripts/compare/round.py --pid "$pid" --orderer "$name" --version "${versions[$name]}" \
        --variant "$variant" --round "$round" --run-id "$run_id" --batch "$work/batch.json" \
        --results "$results" --log "$work/loadgen.log" --timeout 300 -- \
        target/release/loadgen --endpoint "http://127.0.0.1:$port" "${workload[@]}" "${signing[@]}" "${extra[@]}" \
        || code=$?
      if ((code)); then
        failed+=("$name ${versions[$name]} $variant round $round (loadgen exit $code)")
        echo "  loadgen's output ends:" >&2
        tail -n 5 "$work/loadgen.log" | sed 's/^/    /' >&2
        echo "  the orderer's log ends:" >&2
        tail -n 5 "$log" | sed 's/^/    /' >&2
      fi
      stop_orderer
      rm -rf "$ledger"
      sync
    done
  done
done

python3 results/tables.py
python3 results/tables.py --compare-fabric "$run_id"
if ((${#failed[@]})); then
  echo "run $run_id: ${#failed[@]} rounds failed:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
