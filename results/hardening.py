"""The hardening summary of results/README.md: load held, faults survived and bad inputs
tried, each row from records (loadgen runs that sampled the orderer's memory, fault test
runs of scripts/faults.sh, fuzz runs of scripts/fuzz.sh)."""
import collections
import datetime


def _table(rows, header):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _when(record):
    return datetime.datetime.fromtimestamp(record["unix_time"], datetime.timezone.utc).strftime("%Y-%m-%d")


def _mib(value):
    return f"{value / (1 << 20):.1f}" if value is not None else "-"


def load_rows(all_records):
    rows = []
    for r in all_records:
        f, p = r["figures"], r["params"]
        if r.get("kind") != "loadgen" or "server_peak_anon_rss_bytes" not in f:
            continue
        offered = p.get("rate", {}).get("fixed")
        seconds = p["duration"]["secs"] + p["duration"]["nanos"] / 1e9 if p.get("duration") else None
        lost = f["rejected_tx"] + f["unacked_tx"] + f["missing_tx"]
        rows.append([_when(r), r["git_rev"], f"{offered:.0f}" if offered else "max",
                     f"{len(p['channels'])}x{p['broadcast_streams_per_channel']}",
                     f"{seconds:.0f}" if seconds else "-", f"{f['sent_tx']}",
                     f"{f['throughput_delivered_tps']:.0f}", f"{lost}",
                     _mib(f["server_peak_anon_rss_bytes"]), _mib(f.get("server_peak_rss_bytes"))])
    return rows


FAULT_DETAIL = {
    "sigkill": lambda p, f: f"{p['kills']} kills, {p['ack_mode']} acks; "
                            f"{f['restarts_verified']} restarts verified",
    "disk_full": lambda p, f: f"{p['filesystem']} of {p['size_bytes'] >> 20} MiB filled; "
                              f"unavailable {f['unavailable_after_fill_ms']} ms after the fill, "
                              f"resumed {f['resumed_after_free_ms']} ms after the free, "
                              f"{f['blocks_served_while_full']} blocks served while full",
    "disk_full_under_load": lambda p, f: f"{p['filesystem']} of {p['size_bytes'] >> 20} MiB filled under "
                                         f"{p['broadcast_streams']} streams of {p['in_flight']} in flight; "
                                         f"{f['refused_unavailable_tx']} refused with 503 while full, "
                                         f"{f['restarts_verified']} restart verified",
    "broker_pause_under_load": lambda p, f: f"broker stopped {f['paused_ms']} ms under {p['broadcast_streams']} "
                                            f"streams of {p['in_flight']} in flight; "
                                            f"{f['refused_while_paused_tx']} refused with 503, "
                                            f"{f['refused_but_ordered_after_resume_tx']} of them ordered after",
    "broker_pause": lambda p, f: f"broker stopped {f['paused_ms']} ms; "
                                 f"{f['refused_while_paused_tx']} refused with 503, "
                                 f"{f['refused_but_ordered_after_resume_tx']} of them ordered after",
}


def fault_rows(all_records):
    rows = []
    for r in all_records:
        if r.get("kind") != "fault":
            continue
        p, f = r["params"], r["figures"]
        detail = FAULT_DETAIL.get(p["fault"], lambda p, f: "")(p, f)
        rows.append([_when(r), r["git_rev"], p["fault"], detail, f"{f['acked_tx']}", f"{f['missing_tx']}"])
    return rows


def fuzz_rows(all_records):
    totals = collections.OrderedDict()
    for r in sorted((r for r in all_records if r.get("kind") == "fuzz"), key=lambda r: r["params"]["target"]):
        t = totals.setdefault(r["params"]["target"], {"seconds": 0, "cpu": 0, "runs": 0, "crashes": 0, "cov": 0})
        t["seconds"] += r["params"]["seconds"]
        t["cpu"] += r["figures"].get("cpu_seconds") or r["params"]["seconds"]
        t["runs"] += r["figures"]["runs"]
        t["crashes"] += r["figures"]["crash_files"]
        t["cov"] = max(t["cov"], r["figures"]["coverage"])
    return [[target, f"{t['seconds'] / 3600:.2f}", f"{t['cpu'] / 3600:.2f}", f"{t['runs']:,}", f"{t['cov']}",
             f"{t['crashes']}"] for target, t in totals.items()]


def section(all_records):
    parts = ["", "## Hardening summary: load held, faults survived, bad inputs tried", "",
             "Every row is a record below or in `faults.ndjson`; `lost`/`missing` count envelopes "
             "answered SUCCESS that are not in the chain afterwards (or, under load, also "
             "rejected or never answered)."]
    rows = load_rows(all_records)
    if rows:
        parts += ["", "### Load held (loadgen against a release `orderer start`, `--server-pid`)", "",
                  "Anonymous RSS is the orderer's heap and stacks sampled every 20 ms; VmHWM also "
                  "counts the block files' mapped pages.", "",
                  _table(rows, ["date", "git", "offered tx/s", "channels x streams", "seconds", "sent",
                                "delivered tx/s", "lost", "peak anon RSS MiB", "VmHWM MiB"])]
    rows = fault_rows(all_records)
    if rows:
        parts += ["", "### Faults survived (`scripts/faults.sh`)", "",
                  "Fabric's default acknowledges on enqueue, so a SIGKILL can lose what it answered; "
                  "`durable` acknowledges after the block is synced.", "",
                  _table(rows, ["date", "git", "fault", "what happened", "acked", "missing"])]
    rows = fuzz_rows(all_records)
    if rows:
        parts += ["", "### Bad inputs tried (`scripts/fuzz.sh`, all runs summed)", "",
                  "Wall hours are libFuzzer's time; CPU hours what the runs got (older records "
                  "without a CPU figure count their wall time).", "",
                  _table(rows, ["target", "wall hours", "CPU hours", "inputs", "best coverage", "crashes"])]
    return parts
