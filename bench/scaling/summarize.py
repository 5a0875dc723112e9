"""Turns the logs of bench/scaling/run.sh into results.md (medians, ratios, load averages, the
machine) and summary.json (the chart's input). Standard library only.

    python3 bench/scaling/summarize.py --logs /tmp/rnnkit-scaling/logs \
        --out bench/scaling/results.md --summary /tmp/rnnkit-scaling/summary.json \
        --chart docs/scaling.svg --shape="simple_rnn 32 32 500 32" --shape=...
"""

import argparse
import glob
import json
import math
import os
import re
import statistics

CELL_NAMES = {"simple_rnn": "SimpleRnn", "lstm": "LSTM", "gru": "GRU"}
CONTENDERS = ("rnnkit", "torch")
MODES = ("shipped", "ftz")

NOTES = """## How the numbers are made

- Every row: Embedding(10000, E) → the recurrent layer (last state only) → Dense(1, sigmoid),
  RMSprop(0.001), binary cross-entropy; E = 32 unless the row says otherwise; random ids in
  1..10000 and random 0/1 labels, 8 distinct batches cycled.
- Each run is a fresh process: 3 warm-up training batches, then `train_on_batch` (PyTorch:
  zero_grad, forward, backward, step) until the timed seconds have passed; one warm-up inference
  round over the 8 batches, then rounds until the timed seconds have passed (at least 2 of
  each). Samples per second are samples over wall-clock seconds.
- rnnkit: `bench/scaling/runner` (a package of its own, depending on the checkout by path),
  rayon's pool of 2 threads; inference is `Sequential::predict(x, batch)` over the 8 batches
  (which folds the Embedding table into the recurrent layer's input projection once per call).
  Its flush-to-zero runs set MXCSR's FTZ and DAZ bits (FPCR.FZ on aarch64) in the main thread
  and in every thread of the pool before any work; "as shipped" leaves the CPU as rnnkit
  leaves it (an engine that sets the bits itself makes the two columns equal).
- PyTorch: `bench/scaling/torch_run.py`, `torch.set_num_threads(2)`, `nn.RNN` / `nn.LSTM` /
  `nn.GRU` (batch_first) initialised as Keras does, `RMSprop(lr=0.001, alpha=0.9, eps=1e-7)`
  (epsilon outside the square root, where Keras and rnnkit put it inside), `BCEWithLogitsLoss`
  on the logit, two bias vectors per layer; inference in `model.eval()` and
  `torch.inference_mode()`, the sigmoid applied. Its flush-to-zero runs call
  `torch.set_flush_denormal(True)` (the value it returned is stated above).
- rnnkit with 1 and with 2 threads: the same runner with `--threads 1` and `--threads 2` (the
  size of rayon's pool), as shipped, on the rows given by `THREAD_ROWS`; the two counts
  alternate within each row and the order flips between rows and runs.
- Contenders and modes alternate within each row and the order flips between runs; the tables
  quote medians of the runs, ratios are rnnkit / PyTorch (bold below 1.0). `/proc/loadavg` is
  read before each row: on a shared 2-core machine a load above 2 means other processes took
  CPU time during the row, which hurts PyTorch's 2-thread kernels most (its threads spin-wait
  for each other at every step).
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--logs", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--summary", required=True)
    parser.add_argument("--chart", required=True, help="the chart's path, for the link")
    parser.add_argument("--shape", action="append", required=True,
                        help='"cell units batch steps embedding", one per row, in order')
    return parser.parse_args()


def describe(shape):
    cell, units, batch, steps, embedding = shape
    text = f"{CELL_NAMES[cell]} {units}, batch {batch}, {steps} steps"
    return text + (f", Embedding {embedding}" if embedding != 32 else "")


def label(shape):
    cell, units, batch, _, embedding = shape
    return f"{CELL_NAMES[cell]} {units} b{batch}" + (f" E{embedding}" if embedding != 32 else "")


def read_results(logs):
    """{(row, contender, mode): [result, ...]} ordered by run."""
    results = {}
    for path in sorted(glob.glob(os.path.join(logs, "*-*-*-*.log"))):
        match = re.fullmatch(r"(\d+)-(\w+)-(shipped|ftz)-(\d+)\.log", os.path.basename(path))
        if not match:
            continue
        lines = [l for l in open(path) if l.startswith("RESULT ")]
        if lines:
            row, contender, mode, run = match.groups()
            result = json.loads(lines[-1][7:])
            result["run"] = int(run)
            results.setdefault((int(row), contender, mode), []).append(result)
    for runs in results.values():
        runs.sort(key=lambda r: r["run"])
    return results


def read_thread_runs(logs):
    """{(row, threads): [result, ...]} from the runs with 1 and 2 threads, ordered by run."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(logs, "threads-*-*-*.log"))):
        match = re.fullmatch(r"threads-(\d+)-(\d+)-(\d+)\.log", os.path.basename(path))
        lines = [l for l in open(path) if l.startswith("RESULT ")] if match else []
        if lines:
            row, threads, run = map(int, match.groups())
            result = json.loads(lines[-1][7:])
            result["run"] = run
            runs.setdefault((row, threads), []).append(result)
    for values in runs.values():
        values.sort(key=lambda r: r["run"])
    return runs


def median(results, key, field):
    runs = results.get(key, [])
    return statistics.median(r[field] for r in runs) if runs else float("nan")


def fmt(value):
    if value != value:
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def ratio(a, b):
    if a != a or b != b or b == 0:
        return "—"
    text = f"{a / b:.2f}×"
    return f"**{text}**" if a / b < 1.0 else text


def pair(results, row, mode, field):
    r = median(results, (row, "rnnkit", mode), field)
    t = median(results, (row, "torch", mode), field)
    return f"{fmt(r)} / {fmt(t)} ({ratio(r, t)})", r, t


def main():
    args = parse_args()
    shapes = []
    for text in args.shape:
        cell, *numbers = text.split()
        shapes.append((cell, *map(int, numbers)))
    meta = dict(line.rstrip("\n").split("=", 1) for line in open(os.path.join(args.logs, "meta.txt")))
    results = read_results(args.logs)
    rows = range(1, len(shapes) + 1)
    measured = [row for row in rows if any((row, c, m) in results for c in CONTENDERS for m in MODES)]

    def load(row):
        values = []
        for path in sorted(glob.glob(os.path.join(args.logs, f"load-{row}-*.txt"))):
            values.append(open(path).read().split()[0])
        return ", ".join(values)

    torch_runs = [r for (row, c, m), runs in results.items() if c == "torch" for r in runs]
    torch_version = torch_runs[0]["version"] if torch_runs else "PyTorch (no run)"
    flush = sorted({str(r["set_flush_denormal"]) for r in torch_runs if r["ftz"]})
    lines = [
        f"# Scaling benchmark: rnnkit and PyTorch at {len(shapes)} model sizes",
        "",
        f"`bash bench/scaling/run.sh`, {meta['date']}: training and inference samples per second,"
        f" medians of {meta['repeats']} alternated runs of {meta['measure_seconds']} s each per"
        " row, contender and mode.",
        "",
        f"- rnnkit: checkout at {meta['rnnkit']} (branch `{meta['rnnkit_branch']}`); its library"
        f" (src/) last changed in {meta.get('rnnkit_library', '—')}; 2 rayon threads; harness"
        f" commit {meta['harness']}",
        f"- {torch_version}, 2 threads; flush-to-zero runs: `torch.set_flush_denormal(True)`"
        f" returned {' / '.join(flush) or '—'}"
        + (f"; **PyTorch was not re-measured: its runs are those of {meta['torch_from']}**"
           " (the load averages below are this run's)" if "torch_from" in meta else ""),
        f"- machine: {meta['cpu']}, {meta['cores']} cores, AVX-512F: {meta['avx512f']},"
        f" {meta['memory']}",
        f"- chart: [`{args.chart}`](../../{args.chart})",
        "",
        "## Samples per second: rnnkit / PyTorch (ratio)",
        "",
        "| # | model | train, as shipped | train, both flush-to-zero |"
        " inference, both flush-to-zero | load average (1 min) before the row, per run |",
        "|---|---|---|---|---|---|",
    ]
    summary_rows = []
    for row in measured:
        shape = shapes[row - 1]
        shipped, _, _ = pair(results, row, "shipped", "train_sps")
        train, train_r, train_t = pair(results, row, "ftz", "train_sps")
        infer, infer_r, infer_t = pair(results, row, "ftz", "infer_sps")
        lines.append(f"| {row} | {describe(shape)} | {shipped} | {train} | {infer} | {load(row)} |")
        # A contender without a run is null (JSON has no NaN); the chart leaves its bar out.
        known = lambda values: [v if math.isfinite(v) else None for v in values]
        summary_rows.append({"label": label(shape), "train": known([train_r, train_t]),
                             "inference": known([infer_r, infer_t])})
    lines += [
        "",
        "## Flush-to-zero: as shipped against flush-to-zero, each contender",
        "",
        "Medians in samples per second; \"cliff\" is flush-to-zero / as shipped (1.00×: no"
        " difference).",
        "",
        "| # | model | rnnkit train | rnnkit inference | PyTorch train | PyTorch inference |",
        "|---|---|---|---|---|---|",
    ]
    for row in measured:
        cells = []
        for contender in CONTENDERS:
            for field in ("train_sps", "infer_sps"):
                s = median(results, (row, contender, "shipped"), field)
                f = median(results, (row, contender, "ftz"), field)
                cliff = f"{f / s:.2f}×" if s == s and f == f and s > 0 else "—"
                cells.append(f"{fmt(s)} → {fmt(f)} ({cliff})")
        lines.append(f"| {row} | {describe(shapes[row - 1])} | " + " | ".join(cells) + " |")
    threads = read_thread_runs(args.logs)
    thread_rows = sorted({row for row, _ in threads})
    if thread_rows:
        lines += [
            "",
            "## rnnkit with 1 and with 2 threads",
            "",
            "As shipped, the two counts alternated in each run; medians in samples per second,"
            " 1 thread → 2 threads (speed-up), then every run's speed-up in run order.",
            "",
            "| # | model | training | inference | training, per run | inference, per run |"
            " load average (1 min) before the row, per run |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in thread_rows:
            cells, per_run = [], []
            for field in ("train_sps", "infer_sps"):
                one = median(threads, (row, 1), field)
                two = median(threads, (row, 2), field)
                speedup = f"{two / one:.2f}×" if one == one and two == two and one > 0 else "—"
                cells.append(f"{fmt(one)} → {fmt(two)} ({speedup})")
                pairs = zip(threads.get((row, 1), []), threads.get((row, 2), []))
                per_run.append(", ".join(f"{b[field] / a[field]:.2f}×" for a, b in pairs) or "—")
            load_files = glob.glob(os.path.join(args.logs, f"threads-load-{row}-*.txt"))
            loads = ", ".join(open(path).read().split()[0] for path in sorted(load_files))
            lines.append(f"| {row} | {describe(shapes[row - 1])} | " + " | ".join(cells + per_run)
                         + f" | {loads} |")
    lines += [
        "",
        "## Every run",
        "",
        "Samples per second per run, in run order: training; inference.",
        "",
        "| # | contender | mode | training | inference |",
        "|---|---|---|---|---|",
    ]
    for row in measured:
        for contender in CONTENDERS:
            for mode in MODES:
                runs = results.get((row, contender, mode), [])
                train = ", ".join(fmt(r["train_sps"]) for r in runs) or "—"
                infer = ", ".join(fmt(r["infer_sps"]) for r in runs) or "—"
                name = "rnnkit" if contender == "rnnkit" else "PyTorch"
                lines.append(f"| {row} | {name} | {mode} | {train} | {infer} |")
    lines += ["", NOTES]
    with open(args.out, "w") as out:
        out.write("\n".join(lines).rstrip("\n") + "\n")
    library = meta.get("rnnkit_library", meta["rnnkit"]).split()[0]
    loads = [float(open(path).read().split()[0])
             for path in glob.glob(os.path.join(args.logs, "load-*.txt"))]
    load_range = f"; load average {min(loads):.1f}–{max(loads):.1f}" if loads else ""
    note = (f"{meta['cpu']}, {meta['cores']} cores, {meta['date']}{load_range}; rnnkit {library},"
            f" {torch_version} with 2 threads; medians of {meta['repeats']} runs")
    with open(args.summary, "w") as out:
        json.dump({"title": "rnnkit and PyTorch (2 threads), both with flush-to-zero;"
                            " rnnkit / PyTorch above each pair", "note": note,
                   "rows": summary_rows}, out, indent=1)


if __name__ == "__main__":
    main()
