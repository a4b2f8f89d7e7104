#!/usr/bin/env bash
# Reproduces docs/comparison.md's tables (the paper's Tables 1 and 2 with its baselines):
# `pse-trainer compare` on MNIST and Fashion-MNIST, latent 10 plus PSE* 20D, under the
# paper's recipe (3 seeds, and the 2-D latent figure) and under the default recipe (3 seeds
# on MNIST, seed 0 on Fashion-MNIST, as in docs/comparison.md; PSE_DEFAULT_SEEDS=N sets both).
# About 3 CPU-hours (1.5 hours of wall time); two trainings at a time (PSE_JOBS to change). Runs go to runs/compare/ (finished runs are
# kept: a second call only redraws the tables). The figures are copied into docs/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=${PSE_JOBS:-2}
seeds_mnist=${PSE_DEFAULT_SEEDS:-3}
seeds_fashion=${PSE_DEFAULT_SEEDS:-1}

scripts/fetch-data.sh
cargo build --release -p pse-trainer --no-default-features
bin=target/release/pse-trainer

mkdir -p docs
for dataset in mnist fashion; do
  "$bin" compare --dataset "$dataset" --recipe paper --seeds 3 --jobs "$jobs"
  cp "runs/compare/$dataset-10d-paper/latent-2d.png" "docs/compare-$dataset-latent-2d.png"
  echo
done
for spec in "mnist $seeds_mnist" "fashion $seeds_fashion"; do
  read -r dataset seeds <<<"$spec"
  "$bin" compare --dataset "$dataset" --recipe default --seeds "$seeds" \
    --figure-latent 0 --jobs "$jobs"
  echo
done
echo "tables: runs/compare/*/comparison.md; figures: docs/compare-*-latent-2d.png"
