#!/usr/bin/env python3
"""The side-by-side benchmark: gradscope against PyTorch on the same machine, in one run.

Usage: compare.py BUILD_DIR [--out docs/PERFORMANCE.md] [--rounds 3] [--steps 10] [--no-whole-run]

For each thread count (1, 2) and workload, runs gradscope's bench_workloads and PyTorch's
torch_workloads.py interleaved (gradscope, PyTorch, gradscope, PyTorch, ...; each a fresh process
timing --steps steps after warm-up), pools the step times per side and reports medians, the
PyTorch / gradscope ratio (how many times faster gradscope is), gradscope's GEMM GFLOP/s against
the sgemm rate measured in the same run, and each side's peak RSS. Writes the Markdown report.
No number in the report is typed by hand.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

# Models past toy size: text-gpt's step with the model and batch overridden on both sides
# (d_model, layers, heads, MLP width, window, windows per step), and the tokens a step trains on.
GPT_3M = ["model.d_model=256", "model.n_layers=4", "model.n_heads=4", "model.d_mlp=1024",
          "task.seq_len=256", "train.batch_size=16"]
GPT_19M = ["model.d_model=512", "model.n_layers=6", "model.n_heads=8", "model.d_mlp=2048",
           "task.seq_len=256", "train.batch_size=8"]
TOKENS = {"GPT_3M": 16 * 256, "GPT_19M": 8 * 256, "text-gpt": 32 * 64}

# (title, gradscope workload, [(PyTorch workload, how PyTorch computes it)], overrides, tokens)
WORKLOADS = [
    ("nanda-grokking step (3,830 examples)", "nanda",
     [("nanda", "as published: every position, logits sliced at the last"),
      ("nanda-last", "last layer's MLP and unembedding on the last position only")]),
    ("pair-mlp step (911 examples)", "pair-mlp",
     [("pair-mlp", "as published: per example, E[a] W_in + E[b] W_in"),
      ("pair-factored", "the same factored form: E W_in once, gather; W_out E^T once")]),
    ("Power et al. 2-layer step, batch 512", "power", [("power", "every position")]),
    ("diag_attention step (512 sequences)", "diag-attention", [("diag-attention", "")]),
    ("spectral probe, nanda model (17 SVDs)", "probe", [("probe", "torch.linalg.svdvals, float64")]),
    ("text-gpt step (32 windows of 64 characters)", "text-gpt", [("text-gpt", "every position")],
     [], TOKENS["text-gpt"]),
    ("GPT of 3.3M parameters (d_model 256, 4 layers, 4 heads), 16 windows of 256", "text-gpt",
     [("text-gpt", "every position")], GPT_3M, TOKENS["GPT_3M"]),
    ("GPT of 19M parameters (d_model 512, 6 layers, 8 heads), 8 windows of 256", "text-gpt",
     [("text-gpt", "every position")], GPT_19M, TOKENS["GPT_19M"]),
]


# The step at which examples/nanda-grokking.toml (seed 0) generalizes (test accuracy 0.99), as
# recorded in docs/RESULTS.md. The benchmark runs gradscope that far and checks the run's
# summary.json says so; PyTorch's whole run is its per-step time times the same step count.
GENERALIZED_STEP = 8000


def run(cmd, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def gradscope(build, workload, threads, steps, overrides=()):
    return run([os.path.join(build, "bench_workloads"), workload, str(threads), str(steps),
                *overrides])


def torch(workload, threads, steps, overrides=()):
    return run(["/usr/bin/python3", os.path.join(HERE, "torch_workloads.py"), workload,
                str(threads), str(steps), *overrides])


def ms(s):
    return f"{s * 1e3:.3g}" if s * 1e3 < 100 else f"{s * 1e3:.0f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "PERFORMANCE.md"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--no-whole-run", action="store_true",
                    help="skip the timed nanda-grokking run to test accuracy 0.99 (minutes)")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite the report from the JSON of the last measurement (e.g. after "
                         "GENERALIZED_STEP changed) without measuring again")
    a = ap.parse_args()
    json_path = os.path.splitext(a.out)[0] + ".json"
    if a.report_only:
        with open(json_path) as f:
            loaded = json.load(f)
        results = {int(k) if k.isdigit() else k: v for k, v in loaded.items()}
        write_report(a.out, results, results.pop("elapsed_s"))
        print(f"rewrote {a.out} from {json_path}", file=sys.stderr)
        return
    results = {}
    t0 = time.time()
    for threads in (1, 2):
        sgemm = [gradscope(a.build, "sgemm", threads, 5) for _ in range(2)]
        rate = max(r["gemm_gflop"] / r["median_s"] for r in sgemm)
        rows = []
        for entry in WORKLOADS:
            title, gs_name, peers = entry[:3]
            overrides, tokens = entry[3:] if len(entry) > 3 else ([], None)
            gs_times, gs_rss, gflop, shares = [], 0.0, 0.0, []
            peer = {name: ([], 0.0) for name, _ in peers}
            steps = max(3, a.steps // 3) if overrides else a.steps  # the big models: seconds a step
            for _ in range(a.rounds):
                g = gradscope(a.build, gs_name, threads, steps, overrides)
                gs_times += g["times_s"]
                gs_rss, gflop = max(gs_rss, g["peak_rss_mb"]), g["gemm_gflop"]
                if gflop:  # the machine's sgemm rate right after, for this round's GEMM share
                    s = gradscope(a.build, "sgemm", threads, 3)
                    shares.append((gflop / g["median_s"]) / (s["gemm_gflop"] / s["median_s"]))
                for name, _ in peers:
                    p = torch(name, threads, steps, overrides)
                    times, rss = peer[name]
                    peer[name] = (times + p["times_s"], max(rss, p["peak_rss_mb"]))
                print(f"threads {threads}: {title}: done a round", file=sys.stderr, flush=True)
            g_med = statistics.median(gs_times)
            rows.append({
                "title": title, "gradscope_ms": g_med * 1e3, "gemm_gflop": gflop, "tokens": tokens,
                "gflops": gflop / g_med if gflop else None,
                # the median over rounds of (the round's GEMM rate / the sgemm rate measured
                # right after it), and its spread over the rounds ((max - min) / median)
                "sgemm_fraction": statistics.median(shares) if shares else None,
                "sgemm_spread": (max(shares) - min(shares)) / statistics.median(shares)
                if shares else None, "gradscope_rss_mb": gs_rss,
                "peers": [{"name": name, "how": how,
                           "torch_ms": statistics.median(peer[name][0]) * 1e3,
                           "ratio": statistics.median(peer[name][0]) / g_med,
                           "torch_rss_mb": peer[name][1]} for name, how in peers]})
        results[threads] = {"sgemm_gflops": rate, "rows": rows}
    results["evaluation"] = measure_evaluation(a.build, a.rounds)
    # Peak RSS of a real nanda-grokking run (200 steps reach every buffer a full run uses: the
    # evaluations of both splits happen at step 0), 2 threads.
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([os.path.join(a.build, "gradscope"), "--threads", "2", "run",
                                 os.path.join(ROOT, "examples", "nanda-grokking.toml"),
                                 "train.steps=200", "--out", os.path.join(tmp, "run")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        results["run_rss_mb"] = usage.ru_maxrss / 1024
    # The whole run: gradscope's wall time from start to the step where nanda-grokking reaches
    # test accuracy 0.99, everything included (evaluations, probes, checkpoints), 2 threads.
    if not a.no_whole_run:
        with tempfile.TemporaryDirectory() as tmp:
            out_dir = os.path.join(tmp, "run")
            start = time.time()
            subprocess.run([os.path.join(a.build, "gradscope"), "--threads", "2", "run",
                            os.path.join(ROOT, "examples", "nanda-grokking.toml"),
                            f"train.steps={GENERALIZED_STEP}", "--out", out_dir],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            seconds = time.time() - start
            with open(os.path.join(out_dir, "summary.json")) as f:
                summary = json.load(f)
        results["whole_run"] = {"seconds": seconds, "steps": GENERALIZED_STEP,
                                "generalized_step": summary.get("generalized_step"),
                                "final_test_acc": summary["final"]["test_acc"]}
        print(f"whole run: {seconds:.0f} s, generalized at {summary.get('generalized_step')}",
              file=sys.stderr)
    # The linear op against plain sgemm (bench/bench_linear.cpp, Google Benchmark).
    linear_md = os.path.join(a.build, "bench_linear.md")
    subprocess.run([os.path.join(a.build, "bench_linear"), "--benchmark_color=false",
                    f"--markdown={linear_md}"], check=True, capture_output=True)
    results["linear_markdown"] = open(linear_md).read()
    elapsed = time.time() - t0
    with open(json_path, "w") as f:
        json.dump({**results, "elapsed_s": elapsed}, f, indent=1)
    write_report(a.out, results, elapsed)
    print(f"wrote {a.out} and {json_path} ({elapsed:.0f} s)", file=sys.stderr)


# One evaluation of a text run at 19M parameters (both splits' task.n_eval windows, the model
# measures, the prefix-matching probe's task.n_repeats sequences) against one training step,
# measured in the same round, 2 threads: at examples/text-gpt.toml's task.n_eval (128, the 64
# repeats' default) and at a small setting.
EVAL_SETTINGS = [("task.n_eval = 128, task.n_repeats = 64 (the example's)", []),
                 ("task.n_eval = 12, task.n_repeats = 12", ["task.n_eval=12", "task.n_repeats=12"])]


def measure_evaluation(build, rounds):
    steps, evals = [], [[] for _ in EVAL_SETTINGS]
    for _ in range(rounds):
        steps += gradscope(build, "text-gpt", 2, 3, GPT_19M)["times_s"]
        for times, (_, extra) in zip(evals, EVAL_SETTINGS):
            times += gradscope(build, "text-eval", 2, 1, GPT_19M + extra)["times_s"]
        print("evaluation at 19M: done a round", file=sys.stderr, flush=True)
    step = statistics.median(steps)
    return {"step_s": step, "rows": [
        {"setting": name, "eval_s": statistics.median(t), "steps": statistics.median(t) / step,
         "spread": (max(t) - min(t)) / statistics.median(t)}
        for (name, _), t in zip(EVAL_SETTINGS, evals)]}


def write_report(path, results, elapsed):
    import torch as t  # only for its version string; the workloads ran in their own processes
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    L = ["# Performance", "",
         "Generated by `make bench` (bench/compare/compare.py): gradscope's bench/bench_workloads "
         "and PyTorch's bench/compare/torch_workloads.py, built from the same example files, "
         "run interleaved in one session on this machine. Do not edit by hand.", "",
         f"Machine: {cpu}, {os.cpu_count()} cores; PyTorch {t.__version__} (Debian), Python "
         f"{platform.python_version()}. PyTorch gets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS set "
         "to the thread count before import, and OMP_WAIT_POLICY=PASSIVE at 2 threads. Medians "
         "over every timed step (several processes per side, alternating); one step is forward, "
         "backward and the optimizer update. 'x faster' = PyTorch's median / gradscope's. GEMM "
         "GFLOP/s counts the matrix FLOPs gradscope actually performs (every GEMM call, 2 M N K); "
         "its share of sgemm is, per round, the step's GEMM rate over a 2048^3 sgemm through "
         "OpenBLAS measured right after it, the median over the rounds with the rounds' spread "
         "((max - min) / median) beside it. Peak RSS is each "
         f"benchmark process's maximum resident set. The whole report took {elapsed / 60:.0f} "
         "minutes.", ""]
    linear = results.pop("linear_markdown", "")
    evaluation = results.pop("evaluation", None)
    run_rss = results.pop("run_rss_mb", None)
    whole = results.pop("whole_run", None)
    for threads, r in results.items():
        L += [f"## {threads} thread{'s' if threads > 1 else ''} (sgemm: "
              f"{r['sgemm_gflops']:.0f} GFLOP/s)", "",
              "| workload | gradscope ms | PyTorch ms (how) | x faster | GEMM GFLOP/step | "
              "GEMM GFLOP/s (% of sgemm, spread over rounds) | peak RSS MB gradscope / PyTorch |",
              "|---|---|---|---|---|---|---|"]
        for row in r["rows"]:
            for i, p in enumerate(row["peers"]):
                first = i == 0
                spread = (f", {100 * row['sgemm_spread']:.0f}%" if row.get("sgemm_spread")
                          is not None else "")
                flops = (f"{row['gflops']:.0f} ({100 * row['sgemm_fraction']:.0f}%{spread})"
                         if row["gflops"] else "-")
                gflop = f"{row['gemm_gflop']:.2f}" if row["gemm_gflop"] else "-"
                how = f" ({p['how']})" if p["how"] else ""
                L.append(f"| {row['title'] if first else ''} "
                         f"| {ms(row['gradscope_ms'] / 1e3) if first else ''} "
                         f"| {ms(p['torch_ms'] / 1e3)}{how} | {p['ratio']:.2f} "
                         f"| {gflop if first else ''} | {flops if first else ''} "
                         f"| {row['gradscope_rss_mb']:.0f} / {p['torch_rss_mb']:.0f} |")
        L.append("")
    sized = [(threads, row) for threads, r in results.items() for row in r["rows"]
             if row.get("tokens")]
    if sized:
        L += ["## Text: tokens per second", "",
              "Tokens a training step trains on (windows x window length) over the step's median.",
              "", "| workload | threads | gradscope tokens/s | PyTorch tokens/s | x faster | "
              "peak RSS MB gradscope / PyTorch |", "|---|---|---|---|---|---|"]
        for threads, row in sized:
            p = row["peers"][0]
            L.append(f"| {row['title']} | {threads} "
                     f"| {row['tokens'] / row['gradscope_ms'] * 1e3:,.0f} "
                     f"| {row['tokens'] / p['torch_ms'] * 1e3:,.0f} | {p['ratio']:.2f} "
                     f"| {row['gradscope_rss_mb']:.0f} / {p['torch_rss_mb']:.0f} |")
        L.append("")
    if evaluation:
        L += ["## Text: an evaluation at 19M parameters", "",
              "One evaluation of the 19M-parameter GPT's run (`bench_workloads text-eval`: both "
              "splits' task.n_eval windows, the model measures and the prefix-matching probe's "
              "task.n_repeats sequences, as the run makes at each logged step) against one of its "
              f"training steps ({ms(evaluation['step_s'])} ms, 8 windows of 256), measured in the "
              "same rounds, 2 threads. An evaluation is a forward pass over 2 * task.n_eval + "
              "task.n_repeats windows.", "",
              "| setting | evaluation ms | training steps | spread over rounds |", "|---|---|---|---|"]
        for row in evaluation["rows"]:
            L.append(f"| {row['setting']} | {ms(row['eval_s'])} | {row['steps']:.1f} "
                     f"| {100 * row['spread']:.0f}% |")
        L.append("")
    best = {}
    for threads, r in results.items():
        for row in r["rows"]:
            for p in row["peers"]:
                key = (row["title"], p["name"])
                best.setdefault(key, {})[threads] = (row["gradscope_ms"], p["torch_ms"])
    L += ["## Each side at its best thread count", "",
          "| workload | PyTorch variant | gradscope best ms | PyTorch best ms | x faster |",
          "|---|---|---|---|---|"]
    for (title, name), by in best.items():
        g = min(v[0] for v in by.values())
        p = min(v[1] for v in by.values())
        L.append(f"| {title} | {name} | {g:.3g} | {p:.3g} | {p / g:.2f} |")
    nanda = best.get(("nanda-grokking step (3,830 examples)", "nanda"))
    if nanda:
        g = min(v[0] for v in nanda.values())
        p = min(v[1] for v in nanda.values())
        L += ["", "## Whole run", ""]
        if whole:
            reached = (f"summary.json: generalized_step {whole['generalized_step']:,}, final test "
                       f"accuracy {whole['final_test_acc']:.4f}"
                       if whole["generalized_step"] else
                       f"it did NOT reach test accuracy 0.99 (final {whole['final_test_acc']:.4f})")
            L += [f"Measured: `gradscope --threads 2 run examples/nanda-grokking.toml "
                  f"train.steps={whole['steps']}` took {whole['seconds'] / 60:.1f} minutes of wall "
                  f"time, everything included (an evaluation of both splits every 100 steps, the "
                  f"spectral probes, checkpoints); {reached}.", ""]
        L += [f"Per step: nanda-grokking reaches test accuracy 0.99 at step {GENERALIZED_STEP:,} "
              f"(docs/RESULTS.md, seed 0). At the best per-step medians above that is "
              f"{GENERALIZED_STEP * g / 6e4:.1f} minutes of training steps for gradscope and "
              f"{GENERALIZED_STEP * p / 6e4:.1f} minutes for PyTorch as published (per-step time x "
              f"{GENERALIZED_STEP:,} steps, evaluation not included): "
              f"{p / g:.1f}x."]
    if run_rss:
        L += ["", "## Memory", "",
              f"Peak RSS of `gradscope --threads 2 run examples/nanda-grokking.toml "
              f"train.steps=200` (every buffer of a full run is in use by then): {run_rss:.0f} MB."]
    if linear and "\n## " in linear:  # bench_linear's sections, without its own title
        L += ["", linear[linear.index("\n## ") + 1:].strip()]
    # Measured by scripts of their own, kept as they are: the GPU (gpu_report.py, on a GPU machine)
    # and replica groups against processes (replicas.py).
    kept = "".join("\n" + s for s in (kept_section(path, "## GPU"),
                                      kept_section(path, "## Replica groups (CPU)")) if s)
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n" + kept)


def kept_section(path, title):
    """The section `title` of the existing report (to its end or the next section), or ""."""
    try:
        text = open(path).read()
    except OSError:
        return ""
    start = text.find("\n" + title + "\n")
    if start < 0:
        return ""
    end = text.find("\n## ", start + 1)
    return text[start + 1:end + 1 if end >= 0 else len(text)]


if __name__ == "__main__":
    main()
