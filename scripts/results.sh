#!/usr/bin/env bash
# Reproduces the trainer's results (README "Results"): the paper's recipe on MNIST PSE* 10D
# over 3 seeds, the default recipe on MNIST and Fashion-MNIST PSE* 10D and 20D, a 2-D model
# for the latent pictures; evaluates every run, prints the tables, and redraws docs/*.png.
# About 40 CPU-minutes; runs two trainings at a time (PSE_JOBS to change). Runs go to
# runs/results/ (delete a run folder to redo it; finished runs are kept).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=${PSE_JOBS:-2}
out=runs/results

scripts/fetch-data.sh
cargo build --release -p pse-trainer --no-default-features
bin=target/release/pse-trainer

# name | train arguments
specs=(
  "paper-mnist-pse-star-10d-s0|--recipe paper --dataset mnist --latent 10 --seed 0"
  "paper-mnist-pse-star-10d-s1|--recipe paper --dataset mnist --latent 10 --seed 1"
  "paper-mnist-pse-star-10d-s2|--recipe paper --dataset mnist --latent 10 --seed 2"
  "default-mnist-pse-star-10d-s0|--dataset mnist --latent 10 --seed 0"
  "default-mnist-pse-star-20d-s0|--dataset mnist --latent 20 --seed 0"
  "default-fashion-pse-star-10d-s0|--dataset fashion --latent 10 --seed 0"
  "default-fashion-pse-star-20d-s0|--dataset fashion --latent 20 --seed 0"
  "default-mnist-pse-star-2d-s0|--dataset mnist --latent 2 --seed 0"
)

# The judges are trained once per dataset, before the parallel runs need them.
for ds in mnist fashion; do "$bin" judge --dataset "$ds"; done

one() {
  local name=${1%%|*} args=${1#*|}
  local run="$out/$name"
  if [ ! -f "$run/metrics.json" ]; then
    rm -rf "$run"
    # shellcheck disable=SC2086
    "$bin" train $args --model pse-star --out "$run" --quiet
    "$bin" eval "$run" --quiet >/dev/null
  fi
  echo "done: $name"
}
export -f one
export bin out
printf '%s\n' "${specs[@]}" | xargs -P "$jobs" -I{} bash -c 'one "$@"' _ {}

echo
"$bin" summarize "$out"/paper-* "$out"/default-*
mkdir -p docs
for d in 2 10; do
  "$bin" plot "$out/default-mnist-pse-star-${d}d-s0" --out "docs/mnist-pse-star-${d}d" >/dev/null
done
echo
echo "pictures: docs/mnist-pse-star-2d/ and docs/mnist-pse-star-10d/"
