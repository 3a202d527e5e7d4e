#!/usr/bin/env python3
"""Makes the two system-channel genesis blocks of scripts/compare-fabric.sh with Fabric
v2.5.6's configtxgen, over a copy of its sampleconfig made 1.x-shaped so Fabric v1.4.12
starts on the same block as v2.5.6 and ours:

- capabilities V1_4_3 (channel), V1_4_2 (orderer, application) instead of V2_0/V2_5,
  which v1.4.12 does not know;
- `Orderer.Addresses: [127.0.0.1:7050]` (v2.5.6's sample leaves it empty for per-org
  endpoints; v1.4.12 then refuses the block: "Must set some OrdererAddresses");
- `SampleOrg`'s MSPDir is the fabric-vectors MSP loadgen signs with (the same files as
  the sample's msp/, named so nobody has to check).

  genesis.py FABRIC_BIN VECTORS_MSP CHANNEL OUT_DIR

writes OUT_DIR/signed.block (profile SampleDevModeSolo: SampleOrg writes),
OUT_DIR/unsigned.block (SampleInsecureSolo: no organizations, every envelope accepted)
and OUT_DIR/batch.json (BatchSize and BatchTimeout, read back from the signed block:
both profiles share the sample's Orderer defaults, 500 messages / 2 s)."""
import json
import os
import re
import shutil
import subprocess
import sys

PROFILES = {"signed": "SampleDevModeSolo", "unsigned": "SampleInsecureSolo"}


def one_x_shaped(configtx, msp_dir):
    """configtx.yaml of v2.5.6's sample with 1.4-level capabilities and addresses."""
    swaps = [
        (r"(    Channel: &ChannelCapabilities\n(?:.*\n)*?)        V2_0: true\n", r"\1        V1_4_3: true\n"),
        (r"(    Orderer: &OrdererCapabilities\n(?:.*\n)*?)        V2_0: true\n", r"\1        V1_4_2: true\n"),
        (r"(    Application: &ApplicationCapabilities\n(?:.*\n)*?)        V2_5: true\n", r"\1        V1_4_2: true\n"),
        (r"(    Addresses:\n)        # - 127.0.0.1:7050\n", r"\1        - 127.0.0.1:7050\n"),
        (r"(        ID: SampleOrg\n(?:.*\n)*?        MSPDir: )msp\n", r"\g<1>" + msp_dir + "\n"),
    ]
    for pattern, replacement in swaps:
        configtx, count = re.subn(pattern, replacement, configtx, count=1)
        if count != 1:
            sys.exit(f"genesis.py: v2.5.6's configtx.yaml changed shape; no match for {pattern!r}")
    return configtx


def batch_of(configtxgen, env, block):
    """BatchSize and BatchTimeout of `block`, as configtxgen decodes them."""
    dump = json.loads(subprocess.check_output([configtxgen, "-inspectBlock", block], env=env,
                                              stderr=subprocess.DEVNULL))
    values = dump["data"]["data"][0]["payload"]["data"]["config"]["channel_group"]["groups"]["Orderer"]["values"]
    size, timeout = values["BatchSize"]["value"], values["BatchTimeout"]["value"]["timeout"]
    seconds = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s)", timeout)
    if not seconds:
        sys.exit(f"genesis.py: unexpected BatchTimeout {timeout!r}")
    timeout_ms = float(seconds[1]) * (1 if seconds[2] == "ms" else 1000)
    return {"consensus": values["ConsensusType"]["value"]["type"],
            "max_message_count": size["max_message_count"],
            "preferred_max_bytes": size["preferred_max_bytes"],
            "absolute_max_bytes": size["absolute_max_bytes"],
            "batch_timeout_ms": int(timeout_ms)}


def main():
    fabric_bin, msp_dir, channel, out = sys.argv[1:5]
    cfg = os.path.join(out, "configtxgen")
    shutil.copytree(os.path.join(fabric_bin, "v2.5.6", "sampleconfig"), cfg)
    for top, dirs, files in os.walk(cfg):  # the shared copy is read-only; ours is edited, then deleted
        for name in [top] + [os.path.join(top, f) for f in files]:
            os.chmod(name, os.stat(name).st_mode | 0o200)
    path = os.path.join(cfg, "configtx.yaml")
    with open(path) as f:
        configtx = one_x_shaped(f.read(), os.path.abspath(msp_dir))
    with open(path, "w") as f:
        f.write(configtx)
    configtxgen = os.path.join(fabric_bin, "v2.5.6", "configtxgen")
    env = dict(os.environ, FABRIC_CFG_PATH=cfg)
    for variant, profile in PROFILES.items():
        block = os.path.join(out, f"{variant}.block")
        subprocess.run([configtxgen, "-profile", profile, "-channelID", channel, "-outputBlock", block],
                       env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    batch = batch_of(configtxgen, env, os.path.join(out, "signed.block"))
    if batch != batch_of(configtxgen, env, os.path.join(out, "unsigned.block")):
        sys.exit("genesis.py: the two profiles' Orderer values differ")
    batch["profiles"] = PROFILES
    with open(os.path.join(out, "batch.json"), "w") as f:
        json.dump(batch, f)


if __name__ == "__main__":
    main()
