#!/usr/bin/env bash
# Side-by-side timings of the lesson's IMDB model: Keras (TensorFlow backend), PyTorch (2 threads),
# rnnkit and RustyML, trained on the same token ids in one run, contenders alternated; then the
# text pipeline (read + tokenize + pad the 50,000 reviews) in rnnkit and in Keras' Python.
# Writes bench/compare/results.md and prints its tables. Not part of CI; takes ~15-25 minutes.
#
#   bash bench/compare/run.sh
#
# Environment (all optional):
#   RNNKIT_DATA   aclImdb_v1.tar.gz or the folder holding it (default: ../shared/data)
#   REPEATS       training runs per contender (default 3), each 3 epochs + evaluate
#   TEXT_REPEATS  text-pipeline runs per contender (default 3)
#   EPOCHS        epochs per training run (default 3)
#   CONTENDERS    which to train (default "rnnkit keras torch rustyml"; "torch1" adds PyTorch
#                 with 1 thread)
#   KEEP_LOGS     1: keep the logs of earlier runs (to add runs, e.g. with TEXT_REPEATS=0)
#   KERAS_VENV    (default /tmp/keras-venv)       tensorflow-cpu + keras-preprocessing
#   TORCH_VENV    (default /tmp/rnnkit-torch-venv) torch + numpy (~5 GB with its CUDA wheels)
#   WORK          build and output folder for RustyML (default /tmp/rnnkit-compare)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=bench/compare
out=$here/out
logs=$out/logs
ids=$out/ids
REPEATS=${REPEATS:-3}
TEXT_REPEATS=${TEXT_REPEATS:-3}
EPOCHS=${EPOCHS:-3}
CONTENDERS=${CONTENDERS:-rnnkit keras torch rustyml}
KERAS_VENV=${KERAS_VENV:-/tmp/keras-venv}
TORCH_VENV=${TORCH_VENV:-/tmp/rnnkit-torch-venv}
WORK=${WORK:-/tmp/rnnkit-compare}

data=${RNNKIT_DATA:-../shared/data}
[ -d "$data" ] && data=$data/aclImdb_v1.tar.gz
if [ ! -f "$data" ]; then
  echo "no IMDB archive at $data: set RNNKIT_DATA to aclImdb_v1.tar.gz or its folder" >&2
  exit 1
fi

echo "== tools"
if [ ! -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq time
fi
if [ -f ../shared/tools/keras-venv.sh ]; then
  bash ../shared/tools/keras-venv.sh "$KERAS_VENV"
elif ! "$KERAS_VENV/bin/python" -c 'import tensorflow, keras, keras_preprocessing' 2>/dev/null; then
  python3 -m venv "$KERAS_VENV"
  "$KERAS_VENV/bin/pip" install -q tensorflow-cpu
  "$KERAS_VENV/bin/pip" install -q --no-deps keras-preprocessing
fi
if ! "$TORCH_VENV/bin/python" -c 'import torch, numpy' 2>/dev/null; then
  python3 -m venv "$TORCH_VENV"
  "$TORCH_VENV/bin/pip" install -q --upgrade pip
  "$TORCH_VENV/bin/pip" install -q torch numpy
fi
cargo build --release --quiet --example compare
# A private copy: target/ is shared with whoever else builds the crate during the run.
mkdir -p "$WORK"
cp target/release/examples/compare "$WORK/rnnkit-compare"
rnnkit_bin=$WORK/rnnkit-compare
rustyml_bin=$WORK/rustyml-target/release/rustyml-compare
[ "${KEEP_LOGS:-0}" = 1 ] || rm -rf "$logs"
mkdir -p "$logs" "$ids"
if [ "$TEXT_REPEATS" = 0 ] && [ ! -f "$ids/x_train.npy" ]; then
  echo "no ids in $ids yet: run with TEXT_REPEATS of at least 1 first" >&2
  exit 1
fi
if [[ " $CONTENDERS " == *" rustyml "* ]]; then
  if ! CARGO_TARGET_DIR=$WORK/rustyml-target cargo build --release --quiet \
      --manifest-path $here/rustyml/Cargo.toml >"$logs/rustyml-build.log" 2>&1; then
    echo "RustyML did not build (see $logs/rustyml-build.log); leaving it out"
    CONTENDERS=${CONTENDERS/rustyml/}
  fi
fi

# One timed run: NAME then the command; keeps stdout, the load average and /usr/bin/time -v.
timed() {
  local name=$1; shift
  echo "LOADAVG $(cut -d' ' -f1-3 /proc/loadavg)" >"$logs/$name.log"
  /usr/bin/time -v -o "$logs/$name.time" "$@" >>"$logs/$name.log" 2>"$logs/$name.err" || {
    echo "$name failed; see $logs/$name.err" >&2
    return 1
  }
  grep '^RESULT' "$logs/$name.log" | tail -n 1 | cut -c8- | cut -c1-160
}

keras_text() {
  timed "text-keras-$1" "$KERAS_VENV/bin/python" $here/prepare_data.py --data "$data" \
    ${2:+--out "$ids"}
}
rnnkit_text() {
  timed "text-rnnkit-$1" $rnnkit_bin text --data "$data" ${2:+--out "$ids"}
}

echo "== text pipeline and the shared ids ($TEXT_REPEATS runs each, alternating)"
for run in $(seq 1 "$TEXT_REPEATS"); do
  first=$([ "$run" = 1 ] && echo yes || true)
  if [ $((run % 2)) = 1 ]; then
    keras_text "$run" "$first"; rnnkit_text "$run" "$first"
  else
    rnnkit_text "$run" "$first"; keras_text "$run" "$first"
  fi
done

train() {
  local contender=$1 run=$2
  case $contender in
    rnnkit) timed "train-rnnkit-$run" $rnnkit_bin train --ids "$ids" --epochs "$EPOCHS" ;;
    keras) timed "train-keras-$run" "$KERAS_VENV/bin/python" $here/keras_run.py --ids "$ids" \
      --epochs "$EPOCHS" ;;
    torch) timed "train-torch-$run" "$TORCH_VENV/bin/python" $here/torch_run.py --ids "$ids" \
      --epochs "$EPOCHS" --threads 2 ;;
    torch1) timed "train-torch1-$run" "$TORCH_VENV/bin/python" $here/torch_run.py --ids "$ids" \
      --epochs "$EPOCHS" --threads 1 ;;
    rustyml) timed "train-rustyml-$run" "$rustyml_bin" "$ids" "$EPOCHS" ;;
  esac
}

echo "== training: $CONTENDERS ($REPEATS runs each of $EPOCHS epochs, order rotated per run)"
read -r -a order <<<"$CONTENDERS"
for run in $(seq 1 "$REPEATS"); do
  for contender in "${order[@]}"; do
    train "$contender" "$run" || true
  done
  order=("${order[@]:1}" "${order[0]}")
done

echo "== results"
"$KERAS_VENV/bin/python" $here/summarize.py --logs "$logs" --ids "$ids" --out $here/results.md
