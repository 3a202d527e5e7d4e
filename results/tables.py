#!/usr/bin/env python3
"""Writes results/README.md from the NDJSON records in results/: one table per kind of
record, newest first. Never edit the tables by hand; run `python3 results/tables.py`."""
import collections
import datetime
import glob
import json
import os
import statistics
import sys

import hardening

HERE = os.path.dirname(os.path.abspath(__file__))


def records():
    out = []
    for path in sorted(glob.glob(os.path.join(HERE, "*.ndjson"))):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    record = json.loads(line)
                    record["_file"] = os.path.basename(path)
                    out.append(record)
    return sorted(out, key=lambda r: r.get("unix_time", 0), reverse=True)


def workload_of(record):
    params = record["params"]
    return params.get("workload", params)


def rate(workload):
    rate = workload.get("rate", {})
    if "fixed" in rate:
        return f"{rate['fixed']:.0f}"
    if "max" in rate:
        return f"max (window {rate['max']['window']})"
    return "?"


def ms(us):
    return f"{us / 1000:.1f}"


def row(record):
    w, f = workload_of(record), record["figures"]
    orderer = record["params"].get("orderer", {})
    when = datetime.datetime.fromtimestamp(record["unix_time"], datetime.timezone.utc)
    return [
        when.strftime("%Y-%m-%d %H:%M"),
        record["git_rev"],
        orderer.get("consensus", "-") + (f" {orderer['max_message_count']}/{orderer['batch_timeout_ms']}ms" if orderer else "")
        + (" TLS" if orderer.get("tls") else "")
        + (" durable-ack" if orderer.get("ack_mode") == "durable" else "")
        + "".join(f" {p}" for p in orderer.get("kafka_properties", [])),
        checks(w, orderer),
        f"{len(w['channels'])}x{w['broadcast_streams_per_channel']}",
        str(w["payload_bytes"]),
        rate(w),
        f"{f['sent_tx']}",
        f"{f['throughput_acked_tps']:.0f}",
        f"{f['throughput_delivered_tps']:.0f}",
        f"{f['throughput_steady_tps']:.0f}" if "throughput_steady_tps" in f else "-",
        ms(f["ack_latency_us"]["p50"]),
        ms(f["ack_latency_us"]["p99"]),
        ms(f["commit_latency_us"]["p50"]),
        ms(f["commit_latency_us"]["p99"]),
        ms(f["commit_latency_us"]["p999"]),
        f"{f['rejected_tx'] + f['unacked_tx'] + f['missing_tx']}",
        f"{f['tx_per_orderer_cpu_s']:.0f}" if f.get("tx_per_orderer_cpu_s") else "-",
        (f"{f['server_peak_rss_bytes'] / 2**20:.0f}" if f.get("server_peak_rss_bytes") else "-")
        + (f" ({f['server_peak_anon_rss_bytes'] / 2**20:.0f} anon)" if f.get("server_peak_anon_rss_bytes") else ""),
        f"{record['hardware']['cores']}",
    ]


def checks(workload, orderer):
    """Whether envelopes were signed and whether the orderer verified them. Records from
    before the orderer verified anything carry no `verify` field."""
    signed = "signed" if workload.get("signed") else "unsigned"
    if "verify" not in orderer:
        return signed + ", not verified (no checks yet)" if orderer else signed
    return signed + (", verified" if orderer["verify"] else ", not verified (--no-verify)")


HEADER = ["time (UTC)", "git", "orderer", "sign / verify", "ch x streams", "payload B", "rate tx/s",
          "tx", "acked tx/s", "delivered tx/s", "delivered while sending tx/s", "ack p50 ms", "ack p99 ms", "commit p50 ms",
          "commit p99 ms", "commit p99.9 ms", "lost", "tx per orderer CPU-s", "orderer peak RSS MiB", "cores"]


KAFKA_HEADER = ["time (UTC)", "git", "kafka properties", "ch x streams", "tx", "solo delivered tx/s",
                "kafka delivered tx/s", "kafka / solo", "kafka commit p50 ms", "kafka commit p99 ms",
                "orderer CPU-s", "broker CPU-s"]


TLS_HEADER = ["time (UTC)", "git", "orderer", "ch x streams", "tx", "plain delivered tx/s",
              "TLS delivered tx/s", "TLS / plain", "plain commit p50 ms", "TLS commit p50 ms",
              "plain tx per orderer CPU-s", "TLS tx per orderer CPU-s"]


def tls_pairs(all_records):
    """`orderer benchmark --tls` records a plain and a TLS run of each consensus with the
    same `run_id`: each TLS record next to its plain twin."""
    plain = {}
    for r in all_records:
        o = r["params"].get("orderer", {})
        if r.get("kind") == "benchmark" and "run_id" in o and not o.get("tls"):
            plain[(o["run_id"], o["consensus"])] = r
    rows = []
    for r in all_records:
        o = r["params"].get("orderer", {})
        twin = plain.get((o.get("run_id"), o.get("consensus")))
        if r.get("kind") != "benchmark" or not o.get("tls") or twin is None:
            continue
        w, f, p = workload_of(r), r["figures"], twin["figures"]
        when = datetime.datetime.fromtimestamp(r["unix_time"], datetime.timezone.utc)
        per_cpu = lambda x: f"{x['tx_per_orderer_cpu_s']:.0f}" if x.get("tx_per_orderer_cpu_s") else "-"
        rows.append([
            when.strftime("%Y-%m-%d %H:%M"), r["git_rev"], o["consensus"],
            f"{len(w['channels'])}x{w['broadcast_streams_per_channel']}", f"{f['sent_tx']}",
            f"{p['throughput_delivered_tps']:.0f}", f"{f['throughput_delivered_tps']:.0f}",
            f"{100 * f['throughput_delivered_tps'] / p['throughput_delivered_tps']:.0f}%",
            ms(p["commit_latency_us"]["p50"]), ms(f["commit_latency_us"]["p50"]),
            per_cpu(p), per_cpu(f),
        ])
    return rows


def kafka_pairs(all_records):
    """`orderer benchmark --consensus kafka` appends a solo record, then the kafka one, of
    the same workload: each kafka record with the solo record just before it."""
    benchmarks = [r for r in all_records if r.get("kind") == "benchmark"
                  and not r["params"].get("orderer", {}).get("tls")]  # newest first
    rows = []
    for record, before in zip(benchmarks, benchmarks[1:]):
        orderer = record["params"].get("orderer", {})
        if orderer.get("consensus") != "kafka" or before["params"].get("orderer", {}).get("consensus") != "solo":
            continue
        same = lambda w: {k: v for k, v in w.items() if k != "endpoint"}
        if before["git_rev"] != record["git_rev"] or same(workload_of(before)) != same(workload_of(record)):
            continue
        w, f, solo = workload_of(record), record["figures"], before["figures"]["throughput_delivered_tps"]
        when = datetime.datetime.fromtimestamp(record["unix_time"], datetime.timezone.utc)
        rows.append([
            when.strftime("%Y-%m-%d %H:%M"),
            record["git_rev"],
            " ".join(orderer.get("kafka_properties", [])) or "defaults",
            f"{len(w['channels'])}x{w['broadcast_streams_per_channel']}",
            f"{f['sent_tx']}",
            f"{solo:.0f}",
            f"{f['throughput_delivered_tps']:.0f}",
            f"{100 * f['throughput_delivered_tps'] / solo:.0f}%",
            ms(f["commit_latency_us"]["p50"]),
            ms(f["commit_latency_us"]["p99"]),
            f"{f['orderer_cpu_s']:.2f}" if f.get("orderer_cpu_s") else "-",
            f"{f['broker_cpu_s']:.2f}" if f.get("broker_cpu_s") else "-",
        ])
    return rows


COMPARE_HEADER = ["time (UTC)", "git", "run id", "variant", "orderer", "rounds ok", "delivered tx/s median (range)",
                  "ours / this tx/s", "tx per orderer CPU-s median", "ours / this tx per CPU-s", "orderer CPU-s",
                  "commit p50 ms", "commit p99 ms", "orderer peak anon RSS MiB", "failed rounds"]


def compare_medians(rounds):
    """Medians over the clean rounds (loadgen exited 0) of one orderer in one run and variant."""
    clean = [r["figures"] for r in rounds if r["figures"].get("loadgen_exit_code") == 0]
    if not clean:
        return None
    median = lambda pick: statistics.median(pick(f) for f in clean)
    tps = [f["throughput_delivered_tps"] for f in clean]
    return {"clean": len(clean), "tps": median(lambda f: f["throughput_delivered_tps"]), "tps_min": min(tps),
            "tps_max": max(tps), "per_cpu": median(lambda f: f.get("tx_per_orderer_cpu_s") or 0),
            "cpu_s": median(lambda f: f["orderer_cpu_s"]),
            "p50": median(lambda f: f["commit_latency_us"]["p50"]), "p99": median(lambda f: f["commit_latency_us"]["p99"]),
            "anon_rss": median(lambda f: f.get("server_peak_anon_rss_bytes") or 0)}


def compare_rows(all_records, run_id=None):
    """`scripts/compare-fabric.sh` records one round per orderer and variant, rounds
    alternating, all sharing `run_id`: per run, variant and orderer the median over its
    clean rounds, and ours / Fabric as the ratio of the medians within that run (the
    figure that survives a noisy machine)."""
    runs = {}
    for r in all_records:
        if r.get("kind") == "compare-fabric" and run_id in (None, r["params"]["run_id"]):
            o = r["params"]["orderer"]
            key = (r["params"]["variant"], o["name"] != "ours", o["version"])  # ours first, then by version
            runs.setdefault(r["params"]["run_id"], {}).setdefault(key, []).append(r)
    rows = []
    for rid in sorted(runs, reverse=True):
        groups = runs[rid]
        start = min(r["unix_time"] for rounds in groups.values() for r in rounds)
        for key in sorted(groups):
            variant, fabric, version = key
            rounds, m = groups[key], compare_medians(groups[key])
            ours = next((compare_medians(g) for (v, f, _), g in groups.items() if v == variant and not f), None)
            ratio = lambda field: f"{ours[field] / m[field]:.2f}x" if fabric and ours and m and ours[field] and m[field] else "-"
            failures = collections.Counter(r["figures"].get("error", "?") for r in rounds
                                           if r["figures"].get("loadgen_exit_code") != 0)
            when = datetime.datetime.fromtimestamp(start, datetime.timezone.utc)
            rows.append([
                when.strftime("%Y-%m-%d %H:%M"), rounds[0]["git_rev"], str(rid), variant,
                f"{rounds[0]['params']['orderer']['name']} {version}", f"{m['clean'] if m else 0}/{len(rounds)}",
                f"{m['tps']:.0f} ({m['tps_min']:.0f}-{m['tps_max']:.0f})" if m else "-", ratio("tps"),
                f"{m['per_cpu']:.0f}" if m and m["per_cpu"] else "-", ratio("per_cpu"),
                f"{m['cpu_s']:.2f}" if m else "-", ms(m["p50"]) if m else "-", ms(m["p99"]) if m else "-",
                f"{m['anon_rss'] / 2**20:.0f}" if m and m["anon_rss"] else "-",
                "; ".join(f"{n}x {error}" for error, n in failures.items()) or "-",
            ])
    return rows


SCALING_HEADER = ["time (UTC)", "git", "run", "point", "rounds", "delivered tx/s median (range)",
                  "vs first point", "tx per orderer CPU-s median", "vs first point", "commit p50 ms",
                  "commit p99 ms"]


def scaling_rows(all_records, point_of):
    """`scripts/scaling.sh` runs `orderer benchmark` in alternating rounds, the rounds of
    one study sharing `run_id`. A run whose records differ in `point_of` (the number of
    signers, say) is such a study: per point the median over its rounds, and the ratio
    of medians to the run's first point."""
    runs = {}
    for r in all_records:
        run_id = r["params"].get("orderer", {}).get("run_id")
        if r.get("kind") == "benchmark" and run_id is not None:
            runs.setdefault(run_id, []).append(r)
    rows = []
    for rid, records_of_run in sorted(runs.items(), key=lambda item: -max(r["unix_time"] for r in item[1])):
        points = {}
        for r in sorted(records_of_run, key=lambda r: r["unix_time"]):
            points.setdefault(point_of(r), []).append(r["figures"])
        if len(points) < 2:
            continue
        medians = {}
        for point, figures in points.items():
            pick = lambda field: statistics.median(f.get(field) or 0 for f in figures)
            medians[point] = {"tps": pick("throughput_delivered_tps"), "per_cpu": pick("tx_per_orderer_cpu_s"),
                              "p50": statistics.median(f["commit_latency_us"]["p50"] for f in figures),
                              "p99": statistics.median(f["commit_latency_us"]["p99"] for f in figures),
                              "range": (min(f["throughput_delivered_tps"] for f in figures),
                                        max(f["throughput_delivered_tps"] for f in figures)),
                              "rounds": len(figures)}
        first = medians[next(iter(points))]
        start = min(r["unix_time"] for r in records_of_run)
        when = datetime.datetime.fromtimestamp(start, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
        for point, m in medians.items():
            ratio = lambda field: f"{m[field] / first[field]:.2f}" if first[field] else "-"
            rows.append([when, records_of_run[0]["git_rev"], str(rid), point, str(m["rounds"]),
                         f"{m['tps']:.0f} ({m['range'][0]:.0f}-{m['range'][1]:.0f})", ratio("tps"),
                         f"{m['per_cpu']:.0f}", ratio("per_cpu"), ms(m["p50"]), ms(m["p99"])])
    return rows


def signers_point(record):
    return f"{workload_of(record).get('signers', 1)} signers"


def channels_point(record):
    w = workload_of(record)
    return f"{len(w['channels'])} ch x {w['broadcast_streams_per_channel']} streams"


CONFIG_UPDATE_HEADER = ["time (UTC)", "git", "run", "orderer", "rate tx/s", "max tx/s (same run)", "rate / max",
                        "update at s", "MaxMessageCount", "answer (ms)", "config block", "tx/block max before",
                        "tx/block max after", "blocks after at new max", "delivered tx/s before (median)",
                        "lowest around", "after (median)", "dip ratio", "lowest before / median",
                        "delivered tx/s per second, t-3 s to t+3 s", "missing", "lost"]


def closed_loop_max(all_records, run_id, consensus):
    """The closed-loop `orderer benchmark` record of run `run_id` and `consensus`: the
    max a config-update run's rate is a fraction of (`scripts/config-under-load.sh`
    measures it first, in the same sitting)."""
    for r in all_records:
        o = r["params"].get("orderer", {})
        if (r.get("kind") == "benchmark" and o.get("run_id") == run_id and o.get("consensus") == consensus
                and "max" in workload_of(r).get("rate", {}) and not o.get("tls")):
            return r["figures"].get("throughput_steady_tps")
    return None


def per_second_around(figures, at_s):
    """Delivered tx/s in the whole seconds from 3 s before the update to 3 s after, the
    update's second in brackets, from the record's delivered timeline."""
    timeline = figures.get("delivered_timeline")
    if not timeline:
        return "-"
    per_second = collections.Counter()
    for i, n in enumerate(timeline["delivered_tx"]):
        per_second[int(i * timeline["bucket_ms"] / 1000)] += n
    at = int(at_s)
    cells = []
    for second in range(max(0, at - 3), at + 4):
        cell = f"{per_second[second] / 1000:.1f}k"
        cells.append(f"[{cell}]" if second == at else cell)
    return " ".join(cells)


def config_update_rows(all_records):
    """`orderer benchmark --config-update-at`: one row per record, with the closed-loop max
    of the same run when there is one."""
    rows = []
    for r in all_records:
        if r.get("kind") != "config-update":
            continue
        o, w, f, u = r["params"]["orderer"], workload_of(r), r["figures"], r["params"]["config_update"]
        offered = w["rate"].get("fixed")
        best = closed_loop_max(all_records, o.get("run_id"), o["consensus"])
        when = datetime.datetime.fromtimestamp(r["unix_time"], datetime.timezone.utc)
        number = lambda v, fmt="{:.0f}": fmt.format(v) if v is not None else "-"
        answer_ms = (f["update_answered_s"] - f["update_sent_s"]) * 1000
        rows.append([
            when.strftime("%Y-%m-%d %H:%M"), r["git_rev"], str(o.get("run_id", "-")),
            f"{o['consensus']} {o['max_message_count']}/{o['batch_timeout_ms']}ms" + (" TLS" if o.get("tls") else ""),
            number(offered), number(best), f"{100 * offered / best:.0f}%" if offered and best else "-",
            f"{u['at_s']:g}", f"{u['max_message_count_from']} -> {u['max_message_count_to']}",
            f"{f['update_status']} ({answer_ms:.1f})", number(f.get("config_block")),
            str(f["tx_per_block_max_before"]), str(f["tx_per_block_max_after"]),
            f"{f['blocks_after_at_new_max']} of {f['blocks_after']}",
            number(f.get("rate_before_tps")), number(f.get("rate_min_around_tps")), number(f.get("rate_after_tps")),
            number(f.get("dip_ratio"), "{:.2f}"), number(f.get("min_ratio_before"), "{:.2f}"),
            per_second_around(f, u["at_s"]),
            str(f["missing_tx"]), str(f["rejected_tx"] + f["unacked_tx"] + f["missing_tx"] + f["duplicate_tx"]),
        ])
    return rows


def table(rows, header=HEADER):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main():
    all_records = records()
    parts = [
        "# Benchmark results",
        "",
        "Generated by `python3 results/tables.py` from the `*.ndjson` records in this folder "
        "(one JSON object per run: params, hardware, git revision, figures). Do not edit by hand.",
        "",
        "`lost` counts envelopes rejected, never answered or never delivered. Latencies are "
        "measured from each envelope's send time (closed loop) or intended send time (open "
        "loop). Machines are noisy: compare runs as ratios within one session.",
    ]
    parts += hardening.section(all_records)
    for kind, title in [("benchmark", "orderer benchmark"), ("loadgen", "loadgen against a running orderer"),
                        ("sweep", "rate sweeps")]:
        rows = [row(r) for r in all_records if r.get("kind") == kind]
        if rows:
            parts += ["", f"## {title}", ""]
            if kind == "sweep":
                ids = sorted({r["params"]["sweep_id"] for r in all_records if r.get("kind") == "sweep"})
                parts += [f"Curves: " + ", ".join(f"[{i}](sweep-{i}.svg)" for i in ids), ""]
            parts.append(table(rows))
    pairs = kafka_pairs(all_records)
    if pairs:
        parts += ["", "## Kafka next to solo (same run, same workload)", "",
                  "Each `orderer benchmark --consensus kafka` run: the solo record, then the Kafka one. "
                  "CPU seconds are the run's: the orderer's threads, and the local broker's process. "
                  "Records with a broker figure also count librdkafka's threads as the orderer's; "
                  "earlier ones left them out.", "",
                  table(pairs, KAFKA_HEADER)]
    fuzz = [r for r in all_records if r.get("kind") == "fuzz"]
    if fuzz:
        rows = [[datetime.datetime.fromtimestamp(r["unix_time"], datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
                 r["git_rev"], r["params"]["target"], f"{r['params']['seconds']}", f"{r['figures']['runs']}",
                 f"{r['figures'].get('cpu_seconds', '')}", f"{r['figures']['coverage']}",
                 f"{r['figures']['crash_files']}"] for r in fuzz]
        parts += ["", "## Fuzzing (scripts/fuzz.sh)", "",
                  "libFuzzer through `cargo fuzz -s none` on the stable toolchain; `runs` are inputs "
                  "executed, `CPU s` the CPU time the run got (recorded since the long runs share the "
                  "machine at low priority; blank in older records), `coverage` libFuzzer's final "
                  "edge count, `crashes` files left in fuzz/artifacts.", "",
                  table(rows, ["time (UTC)", "git", "target", "seconds", "runs", "CPU s", "coverage",
                               "crashes"])]
    pairs = tls_pairs(all_records)
    if pairs:
        parts += ["", "## TLS next to plain (same run, same workload)", "",
                  "Each `orderer benchmark --tls` run: the plain record and the TLS one of each "
                  "consensus, paired by `run_id`.", "", table(pairs, TLS_HEADER)]
    for point_of, title, text in [
        (signers_point, "Signers (scripts/scaling.sh)",
         "The canonical benchmark signed by 1 client, then by N clients of the channel's org used round "
         "robin (`orderer benchmark --signers N`), rounds alternating within one run. A channel builds "
         "key tables for its first 64 frequent signers; the others are verified by ring."),
        (channels_point, "Channels (scripts/scaling.sh)",
         "The canonical benchmark over 1, 2, 4 and 8 channels with 8 Broadcast streams in all and one "
         "Deliver client per channel, rounds alternating within one run."),
    ]:
        rows = scaling_rows(all_records, point_of)
        if rows:
            parts += ["", f"## {title}", "", text + " Medians over the rounds; `vs first point` is the "
                      "ratio of medians to the run's first point.", "", table(rows, SCALING_HEADER)]
    rows = config_update_rows(all_records)
    if rows:
        parts += ["", "## Config update under load (scripts/config-under-load.sh)", "",
                  "`scripts/config-under-load.sh` measures, in one sitting and under one `--run-id`, the max "
                  "of this machine (`orderer benchmark`, closed loop, the canonical workload: its delivered-"
                  "while-sending tx/s, `max tx/s` here), then runs `orderer benchmark --rate <half of it> "
                  "--duration 30 --config-update-at 10 --new-max-message-count 100`: open loop while, 10 s in, "
                  "an admin of the channel's org broadcasts a CONFIG_UPDATE (read set the Orderer group at its "
                  "version, write set BatchSize at version + 1, as `configtxlator compute_update` makes it; "
                  "signed with a ConfigSignature) setting BatchSize.MaxMessageCount from 500 to 100. "
                  "`answer` is Broadcast's status and its delay; `config block` the block that carries the new "
                  "config; the tx/block columns are the most envelopes in a block before and after it, and how "
                  "many blocks after it were cut full at the new count. Delivered rates come from loadgen's "
                  "timeline of 250 ms buckets of commit time: the median before the update (after 1 s of "
                  "warm-up), the lowest bucket from the update to 2 s after its answer, the median after that "
                  "until sending stops; `dip ratio` is lowest around / median before, and `lowest before / "
                  "median` the same ratio with no update in it (the noise floor). `missing` counts envelopes "
                  "answered SUCCESS and never delivered; `lost` adds the refused, unanswered and duplicated.", "",
                  table(rows, CONFIG_UPDATE_HEADER)]
    rows = compare_rows(all_records)
    if rows:
        parts += ["", "## Side by side with Fabric (scripts/compare-fabric.sh)", "",
                  "Each run alternates rounds between this orderer (release `orderer start`) and Fabric's "
                  "v1.4.12 and v2.5.6 solo orderers, each started fresh on the same system-channel genesis "
                  "block (v2.5.6's configtxgen; `signed`: SampleDevModeSolo, every envelope signed and "
                  "verified against Writers; `unsigned`: SampleInsecureSolo, no organizations). Medians over "
                  "a run's clean rounds; `ours / this` divides our median by this orderer's within the same "
                  "run. Orderer CPU-s is the orderer process's utime + stime over the loadgen run. Anonymous RSS "
                  "(heap and stacks) because VmHWM would count our mapped block files.", "",
                  table(rows, COMPARE_HEADER)]
    with open(os.path.join(HERE, "README.md"), "w") as f:
        f.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--compare-fabric"]:  # one run's table, for scripts/compare-fabric.sh
        print(table(compare_rows(records(), int(sys.argv[2])), COMPARE_HEADER))
    else:
        main()
