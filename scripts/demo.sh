#!/usr/bin/env bash
# The main job: fetch the data if missing, train PSE* 10D on MNIST with the default recipe
# (about 5 minutes on one core), evaluate it the paper's way, and draw its pictures.
# Set PSE_DEMO_STEPS to shorten training (e.g. PSE_DEMO_STEPS=2000 for the paper's budget).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

run=${PSE_DEMO_RUN:-runs/demo-mnist-pse-star-10d}
steps_arg=()
if [ -n "${PSE_DEMO_STEPS:-}" ]; then steps_arg=(--steps "$PSE_DEMO_STEPS"); fi

scripts/fetch-data.sh
cargo build --release -p pse-trainer
bin=target/release/pse-trainer

if [ -f "$run/checkpoint.bin" ]; then
  echo "== $run already holds a run: resuming it (or delete it to start over)"
  "$bin" train --dataset mnist --model pse-star --latent 10 --seed 0 "${steps_arg[@]}" --out "$run" --resume
else
  echo "== training PSE* 10D on MNIST into $run"
  "$bin" train --dataset mnist --model pse-star --latent 10 --seed 0 "${steps_arg[@]}" --out "$run"
fi

echo "== evaluating (reconstruction, annotation, generation accuracy)"
"$bin" eval "$run"

echo "== drawing pictures"
"$bin" plot "$run"
