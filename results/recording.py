"""What every record appended by the scripts under results/ carries: the git revision
(without results/ itself, so committing figures does not dirty the next record) and the
machine."""
import json
import os
import platform
import subprocess
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


def hardware():
    memory_gib = None
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
            memory_gib = round(kib / (1 << 20), 1)
    except (OSError, ValueError, IndexError):
        pass
    return {"cores": os.cpu_count(), "memory_gib": memory_gib, "kernel": platform.release()}


def append(name, kind, params, figures):
    """Appends one record of `kind` to results/`name`."""
    record = {"kind": kind, "unix_time": int(time.time()), "git_rev": git_rev(), "hardware": hardware(),
              "params": params, "figures": figures}
    with open(os.path.join(HERE, name), "a") as f:
        f.write(json.dumps(record) + "\n")
