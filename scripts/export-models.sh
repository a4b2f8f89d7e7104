#!/usr/bin/env bash
# Re-exports the committed models/ from the runs that scripts/results.sh trains: blobs in
# every encoding the tests use, model cards beside them, and the float ONNX references in
# models/<stem>/. Needs the `onnx` feature (the default), so it builds in the dev profile.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
runs=${PSE_RESULTS:-runs/results}
cargo build -p pse-trainer
bin=target/debug/pse-trainer

# stem | run | encodings | ONNX references (yes/no) | more export arguments
models=(
  "mnist-pse-star-10d|default-mnist-pse-star-10d-s0|f32 f16 i8|yes|"
  "mnist-pse-star-20d|default-mnist-pse-star-20d-s0|f32 f16 i8|yes|"
  "fashion-pse-star-20d|default-fashion-pse-star-20d-s0|i8|yes|"
  # The enrollment demo: trained without sevens, exported without the label "seven".
  "mnist-pse-star-10d-without-seven|leave-out-seven-mnist-pse-star-10d-s0|i8|no|--without-label seven"
  # For digits from outside MNIST: the robust recipe (augmented, γ = 5, 120,000 steps).
  "mnist-pse-star-10d-robust|robust-mnist-pse-star-10d-s0|i8|no|"
)
mkdir -p models
for m in "${models[@]}"; do
  IFS='|' read -r stem run encodings onnx more <<<"$m"
  if [ ! -f "$runs/$run/metrics.json" ]; then
    echo "skipping $stem: $runs/$run is not trained and evaluated yet (scripts/results.sh)" >&2
    continue
  fi
  for enc in $encodings; do
    # shellcheck disable=SC2086
    "$bin" export "$runs/$run" --weights "$enc" -o "models/$stem-$enc.pse" $more
  done
  if [ "$onnx" = yes ]; then
    "$bin" export "$runs/$run" --weights f32 -o "/tmp/pse-export-$stem-f32.pse" --onnx "models/$stem"
    rm -f "/tmp/pse-export-$stem-f32.pse" "/tmp/pse-export-$stem-f32.json"
  fi
done
ls -l models
