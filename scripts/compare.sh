#!/usr/bin/env bash
# Reproduces docs/comparison.md's tables (the paper's Tables 1 and 2 with its baselines):
# `pse-trainer compare` on MNIST and Fashion-MNIST, latent 10 plus PSE* 20D, under the
# paper's recipe (3 seeds, and the 2-D latent figure) and under the default recipe (seed 0
# unless PSE_DEFAULT_SEEDS says more). About 110 CPU-minutes with one default seed; two
# trainings at a time (PSE_JOBS to change). Runs go to runs/compare/ (finished runs are
# kept: a second call only redraws the tables). The figures are copied into docs/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=${PSE_JOBS:-2}
default_seeds=${PSE_DEFAULT_SEEDS:-1}

scripts/fetch-data.sh
cargo build --release -p pse-trainer --no-default-features
bin=target/release/pse-trainer

mkdir -p docs
for dataset in mnist fashion; do
  "$bin" compare --dataset "$dataset" --recipe paper --seeds 3 --jobs "$jobs"
  cp "runs/compare/$dataset-10d-paper/latent-2d.png" "docs/compare-$dataset-latent-2d.png"
  echo
done
for dataset in mnist fashion; do
  "$bin" compare --dataset "$dataset" --recipe default --seeds "$default_seeds" \
    --figure-latent 0 --jobs "$jobs"
  echo
done
echo "tables: runs/compare/*/comparison.md; figures: docs/compare-*-latent-2d.png"
