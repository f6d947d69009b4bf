#!/usr/bin/python3
"""Proves a refactor changed no number: short runs of every task family and model, made by two
builds of gradscope, compared file by file.

    scripts/same-outputs.py run GRADSCOPE_BINARY OUT_DIR     # every case below into OUT_DIR
    scripts/same-outputs.py compare BEFORE_DIR AFTER_DIR      # exit 1 on any difference
    scripts/same-outputs.py compare BEFORE_DIR AFTER_DIR --added NAME
                                      # the same, for a commit that adds metric columns NAME.*
                                      # and a summary section NAME (and changes nothing else)
    scripts/same-outputs.py drift BEFORE_DIR AFTER_DIR        # for a commit that changes numbers

Compared: metrics.jsonl, metrics.csv, config.toml, theory.json, spectra/*.npy and fourier/*.npy
byte for byte; summary.json with its wall-clock fields (wall_time_s, steps_per_s) left out; the
last checkpoint's header (wall_time_s left out) and its payload (parameters, W_0, optimizer
state) byte for byte (without the CRC-32 trailer, which covers wall_time_s too). Also the sweep
manifest (sweep.json) and run ids of a short sweep.
`drift` says, for a commit that unifies arithmetic, which cases changed, the largest relative
difference of any logged metric in each (|a - b| / max(|a|, 1e-12), over every row and column
of metrics.jsonl) and whether the summary's phases (memorized/generalized steps, grokking delay,
regime, phase changes) are unchanged.
Standard library only (Debian's /usr/bin/python3).
"""
import json
import os
import struct
import subprocess
import sys

# (case name, experiment file, overrides): one short run of every task family and model.
CASES = [
    ("nanda", "nanda-grokking.toml", ["train.steps=150"]),
    ("nanda-f64", "nanda-grokking.toml", ["train.steps=40", "precision=float64"]),
    ("nanda-plain-probe", "nanda-rank.toml", ["train.steps=120", "probe.every=30"]),
    ("nanda-fourier", "nanda-fourier.toml", ["train.steps=150", "train.log_every=25",
                                             "probe.every=25", "train.checkpoint_every=50"]),
    ("pair-mlp", "pair-mlp.toml", ["train.steps=300"]),
    ("concat-mlp", "grok-mlp-small.toml", ["train.steps=400"]),
    ("power-minibatch", "power-add.toml", ["train.steps=30", "train.log_every=10"]),
    ("permutation", "power-s5-compose.toml", ["train.steps=30", "train.log_every=10"]),
    ("diag-stages", "diag-stages.toml", ["train.steps=600"]),
    ("diag-attention", "diag-attention.toml", ["train.steps=400"]),
    ("saxe", "saxe-deep-linear.toml", ["train.steps=400"]),
    ("arora", "arora-completion.toml", ["train.steps=200"]),
    ("parity-hinge", "parity-n20-k3.toml", ["train.steps=300"]),
    ("multitask", "multitask-parity.toml", ["train.steps=400"]),
    ("induction", "induction-2layer.toml", ["train.steps=200"]),
    ("text", "text-induction-1layer.toml", ["train.steps=40", "train.log_every=10",
                                            "task.n_eval=16"]),
    ("text-gpt", "text-gpt.toml", ["train.steps=6", "train.log_every=3", "task.n_eval=8",
                                   "optim.warmup_steps=2"]),
    ("icl", "icl-fresh-tasks.toml", ["train.steps=60", "train.log_every=20",
                                     "optim.warmup_steps=20"]),
    ("icl-pool", "icl-fresh-tasks.toml", ["train.steps=60", "train.log_every=20",
                                          "optim.warmup_steps=20", "task.n_pool=16"]),
    ("arrays", "arrays-grok-mlp.toml", ["train.steps=200"]),
    ("grokfast-ema", "grokfast-xy97-ema.toml", ["train.steps=60", "train.log_every=20"]),
    ("grokfast-ma", "grokfast-xy97-ma.toml", ["train.steps=60", "train.log_every=20",
                                              "optim.filter_window=8"]),
    ("weight-norm", "omnigrok-fixed-norm.toml", ["train.steps=100", "train.log_every=20"]),
    ("epoch-batches", "power-add.toml", ["train.steps=30", "train.log_every=10",
                                         "train.batch_order=\"epoch\""]),
    ("clip-cosine", "grok-mlp-small.toml", ["train.steps=200", "optim.clip_norm=0.5",
                                            "optim.decay=\"cosine\""]),
    ("nanda-1-thread", "nanda-grokking.toml", ["train.steps=60", "--threads=1"]),
]
SWEEP = ("wd-frac-sweep.toml", ["train.steps=60", "seed=3"])
WALL = ("wall_time_s", "steps_per_s")
HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "examples")


def run_all(binary, out):
    os.makedirs(out, exist_ok=True)
    for name, exp, overrides in CASES:
        threads = next((o.split("=")[1] for o in overrides if o.startswith("--threads=")), "2")
        overrides = [o for o in overrides if not o.startswith("--threads=")]
        cmd = [binary, "--threads", threads, "run", os.path.join(EXAMPLES, exp), *overrides,
               "--out", os.path.join(out, name), "--force"]
        print(" ".join(cmd[1:]), flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    exp, args = SWEEP
    subprocess.run([binary, "sweep", os.path.join(EXAMPLES, exp), *args, "--jobs", "2",
                    "--root", os.path.join(out, "sweeps")], check=True,
                   stdout=subprocess.DEVNULL)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def strip_header(text):
    return b"\n".join(l for l in text.split(b"\n") if not l.startswith(b"# gradscope "))


def checkpoint_parts(path):
    data = read(path)
    (length,) = struct.unpack("<Q", data[8:16])
    header = json.loads(data[16:16 + length])
    header.pop("wall_time_s", None)
    # Format 2's CRC-32 trailer covers the header, wall_time_s included: the payload ends before it.
    end = len(data) - 4 if header.get("checksum") == "crc32" else len(data)
    return data[:8], header, data[16 + length:end]


ADDED = []  # compare --added: metric column prefixes (NAME.) and summary sections (NAME) the
# after build adds; they are dropped from its files before comparing


def without_added_rows(text):
    """metrics.jsonl's rows without the added columns, parsed (numbers read back exactly)."""
    rows = []
    for line in text.splitlines():
        row = json.loads(line, object_pairs_hook=list)
        rows.append([(k, v) for k, v in row if not any(k.startswith(n + ".") for n in ADDED)])
    return rows


def without_added_csv(text):
    lines = [l.split(",") for l in text.decode().splitlines()]
    keep = [i for i, k in enumerate(lines[0]) if not any(k.startswith(n + ".") for n in ADDED)]
    return [[cells[i] for i in keep] for cells in lines]


def same_but_added(f, ta, tb):
    """Whether file f is the same before and after once the added columns and sections go."""
    if f == "metrics.jsonl":
        return without_added_rows(ta) == without_added_rows(tb)
    if f == "metrics.csv":
        return without_added_csv(ta) == without_added_csv(tb)
    return False


def compare_run(a, b, problems):
    for f in sorted(set(os.listdir(a)) | set(os.listdir(b))):
        pa, pb = os.path.join(a, f), os.path.join(b, f)
        if f.endswith(".svg") or f == "logs" or f.startswith("index.sqlite"):
            continue  # plots, sweep logs and the SQLite index hold wall-clock times
        if not os.path.exists(pa) or not os.path.exists(pb):
            problems.append(f"{pb}: only in {'after' if os.path.exists(pb) else 'before'}")
        elif f == "checkpoints":
            ca, cb = sorted(os.listdir(pa)), sorted(os.listdir(pb))
            if ca != cb:
                problems.append(f"{pb}: checkpoint steps differ ({ca} vs {cb})")
            elif ca:
                x, y = checkpoint_parts(os.path.join(pa, ca[-1])), checkpoint_parts(
                    os.path.join(pb, cb[-1]))
                for part, what in zip(range(3), ("magic", "header", "payload")):
                    if x[part] != y[part]:
                        problems.append(f"{pb}/{ca[-1]}: {what} differs")
        elif os.path.isdir(pa):
            compare_run(pa, pb, problems)
        elif f == "summary.json":
            sa, sb = json.loads(read(pa)), json.loads(read(pb))
            for s in (sa, sb):
                for k in WALL + tuple(ADDED):
                    s.pop(k, None)
                if isinstance(s.get("final"), dict):
                    s["final"] = {k: v for k, v in s["final"].items()
                                  if not any(k.startswith(n + ".") for n in ADDED)}
            if sa != sb or list(sa) != list(sb):
                problems.append(f"{pb}: differs beyond wall-clock fields")
            # Byte layout too: the same text once the wall-clock lines are dropped.
            strip = lambda t: b"\n".join(l for l in t.split(b"\n") if not any(
                (f'"{k}"').encode() in l for k in WALL))
            if not ADDED and strip(read(pa)) != strip(read(pb)):
                problems.append(f"{pb}: text differs beyond wall-clock fields")
        elif f == "config.toml" and strip_header(read(pa)) == strip_header(read(pb)):
            continue  # the header comment names the build's git revision
        elif read(pa) != read(pb) and not (ADDED and same_but_added(f, read(pa), read(pb))):
            problems.append(f"{pb}: differs")


def compare(before, after):
    problems = []
    compare_run(before, after, problems)
    for p in problems:
        print(p)
    cases = [c[0] for c in CASES] + ["sweeps"]
    print(f"{len(cases)} cases compared ({', '.join(cases)}): "
          f"{'identical' if not problems else f'{len(problems)} differences'}")
    return 1 if problems else 0


PHASES = ("memorized_step", "generalized_step", "grokking_delay", "regime", "phase_changes")


def metric_drift(a, b):
    """The largest relative difference of any numeric field of two metrics.jsonl files."""
    worst, where = 0.0, ""
    rows_a = [json.loads(l) for l in read(a).splitlines()]
    rows_b = [json.loads(l) for l in read(b).splitlines()]
    if len(rows_a) != len(rows_b):
        return float("inf"), "row count"
    for ra, rb in zip(rows_a, rows_b):
        for k, va in ra.items():
            vb = rb.get(k)
            if isinstance(va, (int, float)) and isinstance(vb, (int, float)) and va != vb:
                d = abs(va - vb) / max(abs(va), 1e-12)
                if d > worst:
                    worst, where = d, f"{k} at step {ra.get('step')}"
    return worst, where


def same_shape(a, b, rel=1e-6, tiny=1e-9):
    """Whether two summary fields agree but for floats within `rel` of each other (or `tiny`
    apart: a phase's change is a difference of two values and keeps only their absolute error)."""
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= max(rel * max(abs(a), abs(b)), tiny)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_shape(a[k], b[k], rel, tiny) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_shape(x, y, rel, tiny) for x, y in zip(a, b))
    return a == b


def drift(before, after):
    changed = 0
    for name in [c[0] for c in CASES]:
        pa, pb = os.path.join(before, name), os.path.join(after, name)
        problems = []
        compare_run(pa, pb, problems)
        if not problems:
            continue
        changed += 1
        worst, where = metric_drift(os.path.join(pa, "metrics.jsonl"),
                                    os.path.join(pb, "metrics.jsonl"))
        sa = json.loads(read(os.path.join(pa, "summary.json")))
        sb = json.loads(read(os.path.join(pb, "summary.json")))
        if all(sa.get(k) == sb.get(k) for k in PHASES):
            phases = "unchanged"
        elif all(same_shape(sa.get(k), sb.get(k)) for k in PHASES):
            phases = "unchanged but for the last bits of their values (steps and kinds the same)"
        else:
            phases = "CHANGED"
        print(f"{name}: largest metric difference {worst:.3e} ({where}); summary phases {phases}")
    print(f"{changed} of {len(CASES)} cases changed")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "compare" and sys.argv[4] == "--added":
        ADDED.append(sys.argv.pop(5))
        sys.argv.pop(4)
    if len(sys.argv) != 4 or sys.argv[1] not in ("run", "compare", "drift"):
        sys.exit(__doc__)
    if sys.argv[1] == "run":
        run_all(os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3]))
    elif sys.argv[1] == "drift":
        sys.exit(drift(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(compare(sys.argv[2], sys.argv[3]))
