"""Turns the logs of bench/compare/run.sh into results.md: medians, ratios to rnnkit, the machine.

    /tmp/keras-venv/bin/python bench/compare/summarize.py --logs bench/compare/out/logs \
        --ids bench/compare/out/ids --out bench/compare/results.md
"""

import argparse
import datetime
import glob
import json
import os
import platform
import re
import statistics
import subprocess

import numpy as np

TRAINERS = [("rnnkit", "rnnkit"), ("keras", "Keras"), ("torch", "PyTorch"),
            ("torch1", "PyTorch 1 thread"), ("rustyml", "RustyML")]
PHASES = [("read_s", "read the .tar.gz (50k reviews)"), ("clean_s", "strip `<br />`"),
          ("fit_s", "fit the Tokenizer (25k reviews)"), ("map_s", "texts → ids (50k)"),
          ("pad_s", "pad to 500 (50k)"), ("total_s", "total")]

NOTES = """## How the contenders differ

- **Keras** (`keras_run.py`): the lesson's program in Keras 3 with the TensorFlow backend,
  `fit(validation_data=...)`, `evaluate(batch_size=32)`, `verbose=0`; threads as TensorFlow
  chooses (both cores). Epoch times come from a callback (`on_epoch_begin` to `on_epoch_end`,
  which follows the validation pass); the first epoch includes tracing the graph.
- **PyTorch** (`torch_run.py`): `torch.set_num_threads(2)`; `nn.Embedding` → `nn.RNN(tanh,
  batch_first)` → last state → `nn.Linear` → sigmoid, initialised as Keras does (uniform ±0.05,
  Glorot uniform, orthogonal, zeros). `torch.optim.RMSprop(lr=0.001, alpha=0.9, eps=1e-7)`:
  PyTorch puts epsilon *outside* the square root (g / (√v + ε)) where Keras and rnnkit put it
  inside (g / √(v + ε)); same hyper-parameters, slightly different steps while v is tiny.
  `nn.RNN` has two bias vectors (322,145 parameters instead of 322,113). The loss is
  `BCEWithLogitsLoss` on the logit, as Keras' `fit` computes it for a sigmoid output.
- **PyTorch 1 thread** (contender `torch1`, only when asked for): the same script with
  `torch.set_num_threads(1)`. PyTorch's CPU `nn.RNN` runs one small product per time step, and
  with 2 threads both must meet at every step, forward and backward: when other processes hold
  the cores, one thread spins until the other is scheduled again. On a busy machine that makes the
  2-thread runs many times slower than 1 thread and than on an idle machine (16.9–28.4 s per
  epoch in earlier measurements on this machine type), while burning CPU time: compare the two
  PyTorch columns. The 1-thread run is not interleaved with the others (it was added afterwards
  with `CONTENDERS=torch1 REPEATS=1 TEXT_REPEATS=0 KEEP_LOGS=1`); its load average is listed.
- **rnnkit** (`examples/compare.rs train`): `sentiment::lesson_model(&SentimentConfig::default())`,
  `RmsProp::new(0.001)`, `Loss::BinaryCrossentropy`, `Metric::Accuracy`, batch 32, `verbose: 0`;
  one `fit` call of one epoch per epoch (each with its own shuffle seed) so that every epoch is
  timed alone; rayon's default thread count (the machine's cores).
- **RustyML** (`rustyml/`, crates.io `rustyml` 0.17.0, a Keras-like crate with `Embedding`,
  `SimpleRNN` and `Sequential`): same layers, `RMSprop::new(0.001, 0.9, 1e-7, 0.0)`,
  `BinaryCrossEntropy`, `fit_with_batches(.., 1 epoch, 32)` per epoch. It has no metrics and its
  `evaluate` is a single full-batch pass, so validation and test are scored from `predict` in
  batches of 32 (loss and accuracy computed by the runner, included in the times). Its embedding
  gradient is dense over the whole 10,000 × 32 table at every step; its binary cross-entropy works
  on clipped probabilities rather than on the logit.

The machine is shared: other processes ran during the measurement (see the load averages per run)
and its speed drifts by up to 1.5–1.8× over tens of seconds, so single numbers move; compare the
medians and ratios, which come from runs interleaved in one session. Accuracy after 3 epochs
varies from run to run (and Keras is not bit-reproducible on CPU)."""


def read_run(log_path):
    """RESULT records, load average and /usr/bin/time figures of one run."""
    run = {"results": [], "loadavg": None, "rss_mib": None, "cpu_s": None,
           "name": os.path.basename(log_path)}
    with open(log_path, encoding="utf-8") as log:
        for line in log:
            if line.startswith("RESULT "):
                run["results"].append(json.loads(line[len("RESULT "):]))
            elif line.startswith("LOADAVG "):
                run["loadavg"] = line.split()[1:]
    time_path = log_path[:-len(".log")] + ".time"
    if os.path.exists(time_path):
        with open(time_path, encoding="utf-8") as times:
            report = times.read()
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
        if match:
            run["rss_mib"] = int(match.group(1)) / 1024
        user = re.search(r"User time \(seconds\): ([\d.]+)", report)
        system = re.search(r"System time \(seconds\): ([\d.]+)", report)
        if user and system:
            run["cpu_s"] = float(user.group(1)) + float(system.group(1))
    return run


def final(run, kind):
    records = [r for r in run["results"] if r.get("kind") == kind]
    return records[-1] if records else None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def spread(values, unit="", digits=1):
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    text = f"{statistics.median(values):.{digits}f}{unit}"
    if len(values) > 1:
        text += f" ({min(values):.{digits}f}–{max(values):.{digits}f}, n={len(values)})"
    return text


def ratio(numerator, denominator):
    if numerator is None or denominator in (None, 0):
        return "—"
    return f"{numerator / denominator:.1f}×"


def command(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        memory = int(meminfo.readline().split()[1]) / 1024 / 1024
    return f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB, {platform.system()} {platform.release()}"


def measured(logs):
    """When the runs ended, from their logs' modification times."""
    ends = [datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
            for path in glob.glob(os.path.join(logs, "*.log"))]
    if not ends:
        return "(no runs)"
    first, last = min(ends), max(ends)
    return f"{first:%Y-%m-%d}, runs ending between {first:%H:%M} and {last:%H:%M}"


def ids_check(ids):
    """Whether rnnkit's text pipeline gave exactly Keras' ids."""
    lines = []
    for split in ("train", "test"):
        keras_path = os.path.join(ids, f"keras_text_{split}.npy")
        rnnkit_path = os.path.join(ids, f"rnnkit_text_{split}.npy")
        if not (os.path.exists(keras_path) and os.path.exists(rnnkit_path)):
            lines.append(f"{split}: not compared (a file is missing)")
            continue
        keras_ids, rnnkit_ids = np.load(keras_path), np.load(rnnkit_path)
        if keras_ids.shape != rnnkit_ids.shape:
            lines.append(f"{split}: shapes differ, {keras_ids.shape} vs {rnnkit_ids.shape}")
            continue
        rows = int((keras_ids != rnnkit_ids).any(axis=1).sum())
        verdict = "identical" if rows == 0 else f"{rows} rows differ"
        lines.append(f"{split} {keras_ids.shape[0]:,} × {keras_ids.shape[1]}: {verdict}")
    return "; ".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--logs", required=True)
    parser.add_argument("--ids", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    runs = [read_run(path) for path in sorted(glob.glob(os.path.join(args.logs, "*.log")))]
    train = {key: [r for r in runs if r["name"].startswith(f"train-{key}-") and final(r, "train")]
             for key, _ in TRAINERS}
    text = {key: [r for r in runs if r["name"].startswith(f"text-{key}-") and final(r, "text")]
            for key in ("rnnkit", "keras")}
    present = [(key, label) for key, label in TRAINERS if train[key]]

    stats = {}
    for key, _ in present:
        totals = [final(r, "train") for r in train[key]]
        stats[key] = {
            "epochs": [s for t in totals for s in t["epoch_s"]],
            "evaluate": [t["evaluate_s"] for t in totals],
            "rss": [r["rss_mib"] for r in train[key]],
            "cpu": [r["cpu_s"] for r in train[key]],
            "accuracy": [t["test_accuracy"] for t in totals],
            "version": totals[0].get("version", ""),
            "threads": totals[0].get("threads"),
            "epochs_per_run": totals[0].get("epochs"),
        }
    base = stats.get("rnnkit")
    others = [(key, label) for key, label in present if key != "rnnkit"]

    commit = command(["git", "rev-parse", "--short", "HEAD"])
    versions = [f"rnnkit {stats[key]['version']} (commit {commit} + working tree, release build)"
                if key == "rnnkit" else stats[key]["version"] for key, _ in present]
    lines = ["# rnnkit vs Keras vs PyTorch vs RustyML: the lesson's IMDB model", ""]
    lines += [
        f"Measured {measured(args.logs)} UTC by `bash bench/compare/run.sh` on: {machine()}.",
        "",
        "Versions: " + "; ".join(dict.fromkeys(versions)) + f"; {command(['rustc', '--version'])}; "
        f"Python {platform.python_version()}.",
        "",
        "All contenders train Embedding(10000, 32) → SimpleRNN(32, tanh) → Dense(1, sigmoid) with "
        "RMSprop (lr 0.001, rho 0.9, epsilon 1e-7), binary cross-entropy, batch 32, on the same "
        "token ids (Keras' pipeline, `prepare_data.py`: 20,000 training / 5,000 validation / "
        "25,000 test reviews, 500 ids each), "
        f"{stats[present[0][0]]['epochs_per_run'] if present else '?'} epochs per run; an epoch is "
        "timed over training plus the validation pass. Each run is a fresh process; peak RSS is "
        "`/usr/bin/time -v`'s maximum resident set size of that process (interpreter, libraries "
        "and data included). The contenders were run in turn, the order rotated per run.",
        "",
        "## Training and evaluation",
        "",
        "Median (min–max, n) over all epochs of all runs; ratios are medians divided by rnnkit's.",
        "",
    ]
    header = "| | " + " | ".join(label for _, label in present)
    header += "".join(f" | {label} / rnnkit" for _, label in others) + " |"
    lines += [header, "|---" * (1 + len(present) + len(others)) + "|"]

    def row(title, field, unit, digits, reduce=median):
        cells = [spread(stats[key][field], unit, digits) for key, _ in present]
        ratios = [ratio(reduce(stats[key][field]), reduce(base[field])) if base else "—"
                  for key, _ in others]
        return f"| {title} | " + " | ".join(cells + ratios) + " |"

    lines.append(row("seconds per epoch (training + validation)", "epochs", " s", 1))
    lines.append(row("evaluate 25,000 test reviews", "evaluate", " s", 1))
    lines.append(row("peak RSS", "rss", " MiB", 0))
    lines.append(row("CPU time of the whole run (user + system)", "cpu", " s", 0))
    accuracy_cells = [", ".join(f"{a:.3f}" for a in stats[key]["accuracy"]) for key, _ in present]
    lines.append("| test accuracy (each run) | " + " | ".join(accuracy_cells + ["" for _ in others])
                 + " |")
    lines.append("| threads | " + " | ".join(str(stats[key]["threads"]) for key, _ in present)
                 + "".join(" | " for _ in others) + " |")
    lines.append("")

    lines += ["Per run (seconds of each epoch; evaluate; peak RSS; load average of the machine "
              "before the run):", ""]
    for key, label in present:
        for run in train[key]:
            total = final(run, "train")
            epochs = ", ".join(f"{s:.1f}" for s in total["epoch_s"])
            rss = f"{run['rss_mib']:.0f} MiB" if run["rss_mib"] else "—"
            cpu = f"{run['cpu_s']:.0f} s CPU" if run["cpu_s"] else "—"
            load = " ".join(run["loadavg"] or [])
            lines.append(f"- {label} `{run['name'][:-4]}`: epochs {epochs} s; evaluate "
                         f"{total['evaluate_s']:.1f} s; {rss}; {cpu}; accuracy "
                         f"{total['test_accuracy']:.4f}; load {load}")
    lines.append("")

    lines += ["## Text pipeline: read + tokenize + pad the 50,000 reviews", "",
              "The lesson's preprocessing from `aclImdb_v1.tar.gz`: rnnkit (`examples/compare.rs "
              "text`, release build: `imdb::load`, `strip_html_breaks`, `Tokenizer`, "
              "`pad_sequences`) vs Python (`prepare_data.py`: `tarfile`, `str.replace`, "
              "`keras_preprocessing.text.Tokenizer`, `keras.utils.pad_sequences`). Median "
              "(min–max, n) seconds per phase.", ""]
    if text["rnnkit"] and text["keras"]:
        lines += ["| phase | rnnkit | Keras (Python) | Keras / rnnkit |", "|---|---|---|---|"]
        for field, title in PHASES:
            values = {key: [final(r, "text")[field] for r in text[key]] for key in text}
            lines.append(f"| {title} | {spread(values['rnnkit'], ' s', 2)} | "
                         f"{spread(values['keras'], ' s', 2)} | "
                         f"{ratio(median(values['keras']), median(values['rnnkit']))} |")
        rss = {key: [r["rss_mib"] for r in text[key]] for key in text}
        lines.append(f"| peak RSS | {spread(rss['rnnkit'], ' MiB', 0)} | "
                     f"{spread(rss['keras'], ' MiB', 0)} | "
                     f"{ratio(median(rss['keras']), median(rss['rnnkit']))} |")
        lines.append("")
        lines.append("Same ids? rnnkit's padded ids against Keras' (file order): "
                     + ids_check(args.ids) + ".")
        lines.append("")

    lines.append(NOTES)

    report = "\n".join(lines)
    with open(args.out, "w", encoding="utf-8") as out:
        out.write(report)
    print(report)


if __name__ == "__main__":
    main()
