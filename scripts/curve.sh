#!/usr/bin/env bash
# Reproduces the budget curve (README "Budget"): PSE*, seed 0, the default schedule scaled
# to each budget S (--steps S --kl-warmup 0.8·S: KL weight 3 → 1 over the first 80 % of the
# steps, cosine learning-rate decay), evaluated and summarised.
# The largest budgets take long: about 75 CPU-minutes for all six MNIST 10D runs (the
# 180000-step run alone ≈ 30). Runs go to runs/curve/ (finished runs are kept); PSE_JOBS
# (default 2) at a time.
#   scripts/curve.sh [--dataset mnist|fashion] [--latent D] [STEPS...]
#   default: --dataset mnist --latent 10, steps 2000 10000 30000 60000 120000 180000
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
dataset=mnist latent=10 budgets=()
while [ $# -gt 0 ]; do
  case $1 in
    --dataset) dataset=$2; shift 2 ;;
    --latent) latent=$2; shift 2 ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    *) budgets+=("$1"); shift ;;
  esac
done
[ ${#budgets[@]} -gt 0 ] || budgets=(2000 10000 30000 60000 120000 180000)
out=runs/curve
name=$dataset-pse-star-${latent}d

scripts/fetch-data.sh
cargo build --release -p pse-trainer --no-default-features
bin=target/release/pse-trainer
"$bin" judge --dataset "$dataset"

specs=()
for s in "${budgets[@]}"; do
  specs+=("$name-$s|--dataset $dataset --objective pse-star --latent $latent --seed 0 --steps $s --kl-warmup $((s * 8 / 10))")
done
scripts/train-runs.sh "$bin" "$out" "${specs[@]}"
echo
runs=()
for s in "${budgets[@]}"; do runs+=("$out/$name-$s"); done
"$bin" summarize "${runs[@]}"
