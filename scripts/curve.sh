#!/usr/bin/env bash
# Reproduces the budget curve (README "Budget"): MNIST PSE* 10D, seed 0, the default
# schedule scaled to each budget S (--steps S --kl-warmup 0.8·S: KL weight 3 → 1 over the
# first 80 % of the steps, cosine learning-rate decay), evaluated and summarised.
# The largest budgets take long: about 75 CPU-minutes for all six runs (the 180000-step run
# alone ≈ 30). Runs go to runs/curve/ (finished runs are kept); PSE_JOBS (default 2) at a time.
#   scripts/curve.sh [STEPS...]          # default: 2000 10000 30000 60000 120000 180000
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
budgets=("$@")
[ ${#budgets[@]} -gt 0 ] || budgets=(2000 10000 30000 60000 120000 180000)
out=runs/curve

scripts/fetch-data.sh
cargo build --release -p pse-trainer --no-default-features
bin=target/release/pse-trainer
"$bin" judge --dataset mnist

specs=()
for s in "${budgets[@]}"; do
  specs+=("mnist-pse-star-10d-$s|--dataset mnist --model pse-star --latent 10 --seed 0 --steps $s --kl-warmup $((s * 8 / 10))")
done
scripts/train-runs.sh "$bin" "$out" "${specs[@]}"
echo
runs=()
for s in "${budgets[@]}"; do runs+=("$out/mnist-pse-star-10d-$s"); done
"$bin" summarize "${runs[@]}"
