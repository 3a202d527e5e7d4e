#!/usr/bin/env python3
"""One measured round of scripts/compare-fabric.sh: runs loadgen against a running
orderer, reads the orderer process's CPU time from /proc/PID/stat before and after, and
appends one `compare-fabric` record: loadgen's own record (params, hardware, git rev,
figures) with the round's params and the CPU figures added. When loadgen writes no record
(it could not connect, Deliver was refused, it timed out), the record carries the exit
code and loadgen's last error line instead of figures, so failed rounds stay visible.

  round.py --pid PID --orderer NAME --version V --variant signed|unsigned --round N
           --run-id ID --batch batch.json --results FILE --log FILE [--timeout S] -- LOADGEN ARGS...

Exits with loadgen's exit code (124 when it was killed at the timeout)."""
import argparse
import json
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "results"))
import recording  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of every thread of `pid`, in seconds; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # comm may hold spaces; fields 3.. follow ')'
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14 and 15 of proc(5)


def run_loadgen(command, log, timeout_s):
    """Runs loadgen with its output in `log`; (exit code, its CPU seconds)."""
    with open(log, "w") as out:
        pid = os.posix_spawnp(command[0], command, os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, out.fileno(), 2)])
    deadline = time.monotonic() + timeout_s
    while True:
        waited, status, usage = os.wait4(pid, os.WNOHANG)
        if waited:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            return 124, usage.ru_utime + usage.ru_stime
        time.sleep(0.05)
    return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime


def last_error(log):
    with open(log, errors="replace") as f:
        lines = [line.strip() for line in f if line.strip()]
    errors = [line for line in lines if line.startswith("loadgen:")]
    return (errors or lines or ["no output"])[-1]


def round_params(args):
    """What the round ran: the orderer (and the genesis block's consensus and batch
    values), the variant, the round and the run."""
    with open(args.batch) as f:
        batch = json.load(f)
    orderer = {"name": "ours" if args.orderer == "ours" else "fabric", "version": args.version,
               "consensus": batch.pop("consensus"), "genesis_profile": batch.pop("profiles")[args.variant], **batch}
    return {"orderer": orderer, "variant": args.variant, "round": args.round, "run_id": args.run_id}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pid", type=int, required=True, help="the orderer's process id")
    parser.add_argument("--orderer", required=True, help="ours, or Fabric's version (1.4.12, 2.5.6)")
    parser.add_argument("--version", required=True, help="what the orderer's `version` says")
    parser.add_argument("--variant", required=True, choices=["signed", "unsigned"])
    parser.add_argument("--round", type=int, required=True)
    parser.add_argument("--run-id", type=int, required=True, help="shared by the rounds of one invocation")
    parser.add_argument("--batch", required=True, help="batch.json of genesis.py: the genesis blocks' values")
    parser.add_argument("--results", required=True, help="NDJSON file to append the record to")
    parser.add_argument("--log", required=True, help="where loadgen's output goes")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before loadgen is killed")
    parser.add_argument("loadgen", nargs=argparse.REMAINDER, help="-- loadgen and its arguments")
    args = parser.parse_args()
    command = args.loadgen[1:] if args.loadgen[:1] == ["--"] else args.loadgen
    with tempfile.TemporaryDirectory() as scratch:
        own_record = os.path.join(scratch, "loadgen.ndjson")
        before = cpu_seconds(args.pid)
        code, loadgen_cpu_s = run_loadgen(command + ["--results", own_record, "--server-pid", str(args.pid)],
                                          args.log, args.timeout)
        after = cpu_seconds(args.pid)
        loadgen = None
        if os.path.exists(own_record):
            with open(own_record) as f:
                loadgen = json.loads(f.readline())
    params = round_params(args)
    orderer_cpu_s = after - before if before is not None and after is not None else None
    if loadgen is None:
        record = {"kind": "compare-fabric", "unix_time": int(time.time()), "git_rev": recording.git_rev(),
                  "hardware": recording.hardware(), "params": params, "figures": {}}
    else:
        record = dict(loadgen, kind="compare-fabric", params=dict(params, workload=loadgen["params"]))
    figures = record["figures"]
    figures["loadgen_exit_code"] = code
    figures["loadgen_cpu_s"] = round(loadgen_cpu_s, 3)
    figures["orderer_cpu_s"] = round(orderer_cpu_s, 3) if orderer_cpu_s is not None else None
    if code != 0:
        figures["error"] = "loadgen timed out" if code == 124 else last_error(args.log)
    if loadgen is not None and orderer_cpu_s:
        # Envelopes ordered: each Deliver client counts every envelope once.
        ordered = figures["delivered_tx"] / max(1, loadgen["params"]["deliver_clients_per_channel"])
        figures["tx_per_orderer_cpu_s"] = round(ordered / orderer_cpu_s, 1)
    with open(args.results, "a") as f:
        f.write(json.dumps(record) + "\n")
    say = f"{params['orderer']['name']} {params['orderer']['version']} {params['variant']} round {params['round']}: "
    if code == 0:
        print(say + f"{figures['throughput_delivered_tps']:.0f} tx/s delivered, "
              f"orderer {orderer_cpu_s:.2f} CPU-s, {figures.get('tx_per_orderer_cpu_s', 0):.0f} tx per orderer CPU-s, "
              f"commit p50 {figures['commit_latency_us']['p50'] / 1000:.1f} ms")
    else:
        print(say + f"FAILED (loadgen exit {code}): {figures['error']}", file=sys.stderr)
    sys.exit(code)


if __name__ == "__main__":
    main()
