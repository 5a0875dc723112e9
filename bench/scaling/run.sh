#!/usr/bin/env bash
# Scaling benchmark: rnnkit against PyTorch CPU (2 threads) on ten model sizes, training and
# inference samples per second, each contender as shipped and with flush-to-zero; then rnnkit
# with 1 and with 2 threads on the rows of 128 units and above. Writes
# bench/scaling/results.md (the tables) and docs/scaling.svg (the chart). Not part of CI; about
# 30 minutes on an idle 2-core machine with the defaults.
#
#   bash bench/scaling/run.sh
#
# Every row is Embedding(10000, E) -> recurrent layer -> Dense(1, sigmoid), RMSprop(0.001),
# binary cross-entropy, random ids in 1..10000 and random 0/1 labels. Per row and repeat each
# contender runs twice, in fresh processes: as shipped, and with flush-to-zero (rnnkit: the
# FTZ|DAZ bits set in every thread of its pool by the runner; PyTorch: torch.set_flush_denormal
# (True)). The contenders and the two modes alternate; /proc/loadavg is logged before each row.
#
# Environment (all optional):
#   REPEATS          runs per row, contender and mode (default 3); the tables quote medians
#   MEASURE_SECONDS  seconds of timed training, then of timed inference, per run (default 3)
#   ROWS             which rows (default "1 2 3 4 5 6 7 8 9 10")
#   THREAD_ROWS      rows whose rnnkit runs are then repeated with 1 and with 2 threads, as
#                    shipped, alternated (default "2 3 5 6 7 8 9 10": 128 units and above;
#                    "" skips)
#   CONTENDERS       which to run (default "rnnkit torch")
#   TORCH_FROM       the logs folder of an earlier run (its WORK/logs): when torch is not among
#                    the contenders, its PyTorch runs are reused, and results.md says so (to
#                    measure another rnnkit engine against the same PyTorch numbers)
#   RNNKIT_DIR       the rnnkit checkout to measure (default: this one)
#   CARGO_TARGET_DIR where the runner is built (default: $RNNKIT_DIR/target)
#   TORCH_VENV       (default /tmp/rnnkit-torch-venv) torch + numpy (~5 GB with its CUDA wheels)
#   RESULTS          (default bench/scaling/results.md)
#   CHART            (default docs/scaling.svg)
#   TIMEOUT          seconds before one run is given up (default 300)
#   WORK             build copy, binary and logs (default /tmp/rnnkit-scaling)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=bench/scaling
REPEATS=${REPEATS:-3}
MEASURE_SECONDS=${MEASURE_SECONDS:-3}
ROWS=${ROWS:-1 2 3 4 5 6 7 8 9 10}
THREAD_ROWS=${THREAD_ROWS-2 3 5 6 7 8 9 10}
CONTENDERS=${CONTENDERS:-rnnkit torch}
TORCH_FROM=${TORCH_FROM:-}
RNNKIT_DIR=$(cd "${RNNKIT_DIR:-.}" && pwd)
TORCH_VENV=${TORCH_VENV:-/tmp/rnnkit-torch-venv}
RESULTS=${RESULTS:-$here/results.md}
CHART=${CHART:-docs/scaling.svg}
TIMEOUT=${TIMEOUT:-300}
WORK=${WORK:-/tmp/rnnkit-scaling}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$RNNKIT_DIR/target}
logs=$WORK/logs

# cell units batch steps embedding: the eight rows of the first survey, in order; then a sample
# alone (a served model's call) and a small batch.
SHAPES=(
  "simple_rnn 32 32 500 32"
  "simple_rnn 128 32 500 32"
  "simple_rnn 256 64 200 32"
  "lstm 32 32 500 32"
  "lstm 128 32 200 32"
  "lstm 256 64 100 32"
  "gru 128 32 200 32"
  "lstm 128 32 200 128"
  "lstm 256 1 100 32"
  "lstm 128 8 200 32"
)

echo "== tools"
if ! "$TORCH_VENV/bin/python" -c 'import torch, numpy' 2>/dev/null; then
  python3 -m venv "$TORCH_VENV"
  "$TORCH_VENV/bin/pip" install -q --upgrade pip
  "$TORCH_VENV/bin/pip" install -q torch numpy
fi
# The runner is built from a copy whose `rnnkit` dependency points at the checkout measured.
rm -rf "$WORK/runner"
mkdir -p "$WORK/runner"
cp -r $here/runner/src $here/runner/Cargo.toml "$WORK/runner/"
sed -i "s|^rnnkit = { path = \"../../..\" }|rnnkit = { path = \"$RNNKIT_DIR\" }|" \
  "$WORK/runner/Cargo.toml"
cp "$RNNKIT_DIR/Cargo.lock" "$WORK/runner/"
cargo build --release --quiet --manifest-path "$WORK/runner/Cargo.toml"
# A private copy: the target folder may be shared with other builds during the run.
cp "$CARGO_TARGET_DIR/release/rnnkit-scaling" "$WORK/rnnkit-scaling"
runner=$WORK/rnnkit-scaling
rm -rf "$logs"
mkdir -p "$logs"

{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "rnnkit=$(git -C "$RNNKIT_DIR" log -1 --format='%h %s' | cut -c1-100)"
  echo "rnnkit_branch=$(git -C "$RNNKIT_DIR" rev-parse --abbrev-ref HEAD)"
  echo "rnnkit_library=$(git -C "$RNNKIT_DIR" log -1 --format='%h %s' -- src | cut -c1-100)"
  echo "harness=$(git log -1 --format='%h')"
  echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)"
  echo "cores=$(nproc)"
  echo "avx512f=$(grep -qw avx512f /proc/cpuinfo && echo yes || echo no)"
  echo "memory=$(free -g | awk '/^Mem:/ {print $2}') GiB"
  echo "repeats=$REPEATS"
  echo "measure_seconds=$MEASURE_SECONDS"
} >"$logs/meta.txt"
cat "$logs/meta.txt"

# One run: row, contender, mode (shipped|ftz), repeat, and rnnkit's threads (default 2; with
# another count the log is threads-ROW-THREADS-RUN.log). Keeps the RESULT line in the log.
measure() {
  local row=$1 contender=$2 mode=$3 run=$4 threads=${5:-2} cell units batch steps embedding flag=()
  read -r cell units batch steps embedding <<<"${SHAPES[$((row - 1))]}"
  [ "$mode" = ftz ] && flag=(--ftz)
  local args=(--cell "$cell" --units "$units" --batch "$batch" --steps "$steps"
    --embedding "$embedding" --seconds "$MEASURE_SECONDS" --threads "$threads" "${flag[@]}")
  local name=$row-$contender-$mode-$run
  [ $# -ge 5 ] && name=threads-$row-$threads-$run
  local command=("$runner" measure "${args[@]}")
  [ "$contender" = torch ] && command=("$TORCH_VENV/bin/python" $here/torch_run.py "${args[@]}")
  if timeout "$TIMEOUT" "${command[@]}" >"$logs/$name.log" 2>"$logs/$name.err"; then
    python3 -c 'import json, sys
r = json.loads([l for l in open(sys.argv[1]) if l.startswith("RESULT ")][-1][7:])
flush = r.get("set_flush_denormal")
note = "  torch.set_flush_denormal(True): %s" % flush if r["ftz"] and flush is not None else ""
print("  %-7s %-8s %d threads  train %9.1f/s  inference %9.1f/s%s"
      % (sys.argv[2], sys.argv[3], r["threads"], r["train_sps"], r["infer_sps"], note))' \
      "$logs/$name.log" "$contender" "$mode"
  else
    echo "  $contender $mode failed or timed out; see $logs/$name.err"
  fi
}

# Before a row's runs: keeps /proc/loadavg in $logs/NAME-ROW-RUN.txt and says what runs next.
announce() {
  local name=$1 row=$2 run=$3 load
  load=$(cat /proc/loadavg)
  echo "$load" >"$logs/$name-$row-$run.txt"
  echo "row $row (${SHAPES[$((row - 1))]}), run $run; /proc/loadavg: $load"
}

echo "== $REPEATS runs of rows $ROWS, ${MEASURE_SECONDS} s of training and of inference each"
for run in $(seq 1 "$REPEATS"); do
  for row in $ROWS; do
    announce load "$row" "$run"
    if [ $(((row + run) % 2)) = 0 ]; then order=(rnnkit torch); else order=(torch rnnkit); fi
    if [ $((run % 2)) = 1 ]; then modes=(shipped ftz); else modes=(ftz shipped); fi
    for contender in "${order[@]}"; do
      [[ " $CONTENDERS " == *" $contender "* ]] || continue
      for mode in "${modes[@]}"; do
        measure "$row" "$contender" "$mode" "$run"
      done
    done
  done
done

if [ -n "$THREAD_ROWS" ] && [[ " $CONTENDERS " == *" rnnkit "* ]]; then
  echo "== rnnkit with 1 and 2 threads: $REPEATS runs of rows $THREAD_ROWS"
  for run in $(seq 1 "$REPEATS"); do
    for row in $THREAD_ROWS; do
      announce threads-load "$row" "$run"
      if [ $(((row + run) % 2)) = 0 ]; then counts=(1 2); else counts=(2 1); fi
      for threads in "${counts[@]}"; do
        measure "$row" rnnkit shipped "$run" "$threads"
      done
    done
  done
fi

if [[ " $CONTENDERS " != *" torch "* ]] && [ -n "$TORCH_FROM" ]; then
  cp "$TORCH_FROM"/*-torch-*.log "$logs/"
  echo "torch_from=$(sed -n 's/^date=//p' "$TORCH_FROM/meta.txt")" >>"$logs/meta.txt"
fi

echo "== results"
python3 $here/summarize.py --logs "$logs" --out "$RESULTS" --summary "$WORK/summary.json" \
  --chart "$CHART" "${SHAPES[@]/#/--shape=}"
"$runner" chart --summary "$WORK/summary.json" --out "$CHART"
cat "$RESULTS"
