#!/usr/bin/env bash
# Reproduces the word-vector results (README "Word-vector labels"): the paper's Table 3 on
# Fashion-MNIST, PSE and PSE* 10D with one-hot against GloVe labels, 3 seeds each under the
# default recipe, with Welch's t-test of the differences; then the pictures of a GloVe PSE*
# model (compositions, paper Fig. 5; words never seen in training, Fig. 6) into docs/.
# About 70 CPU-minutes; runs two trainings at a time (PSE_JOBS to change). Runs go to
# runs/results/ next to scripts/results.sh's (finished runs are kept).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=${PSE_JOBS:-2}
out=runs/results

scripts/fetch-data.sh --glove
cargo build --release -p pse-trainer --no-default-features
bin=target/release/pse-trainer
"$bin" judge --dataset fashion
"$bin" words nearest jeans --count 5 >/dev/null # builds the GloVe cache once

specs=()
for seed in 0 1 2; do
  for model in pse pse-star; do
    common="--dataset fashion --latent 10 --model $model --seed $seed"
    specs+=("default-fashion-$model-10d-s$seed|$common")
    specs+=("glove-fashion-$model-10d-s$seed|$common --labels glove")
  done
done

PSE_JOBS=$jobs scripts/train-runs.sh "$bin" "$out" "${specs[@]}"

echo
"$bin" summarize "$out"/default-fashion-pse-10d-s* "$out"/default-fashion-pse-star-10d-s* \
  "$out"/glove-fashion-pse-10d-s* "$out"/glove-fashion-pse-star-10d-s*
mkdir -p docs
"$bin" plot "$out/glove-fashion-pse-star-10d-s0" --out docs/fashion-pse-star-10d-glove >/dev/null
echo
echo "pictures: docs/fashion-pse-star-10d-glove/ (compositions.png, unseen-words.png, …)"
