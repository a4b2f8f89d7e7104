#!/usr/bin/env bash
# Reproduces the trainer's results (README "Results"): the paper's recipe on MNIST PSE* 10D
# over 3 seeds, the default recipe on MNIST and Fashion-MNIST PSE* 10D and 20D, a 2-D model
# for the latent pictures, and an MNIST 10D model trained without sevens for the enrollment
# measurement, and the robust recipe's MNIST 10D model (README "Robust training"); evaluates
# every run, prints the tables, and redraws docs/*.png.
# About 85 CPU-minutes (the robust run 40 of them); runs two trainings at a time (PSE_JOBS
# to change). Runs go to runs/results/ (delete a run folder to redo it; finished runs are kept).
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
  "paper-mnist-pse-star-10d-s0|--recipe paper --objective pse-star --dataset mnist --latent 10 --seed 0"
  "paper-mnist-pse-star-10d-s1|--objective pse-star --recipe paper --dataset mnist --latent 10 --seed 1"
  "paper-mnist-pse-star-10d-s2|--objective pse-star --recipe paper --dataset mnist --latent 10 --seed 2"
  "default-mnist-pse-star-10d-s0|--objective pse-star --dataset mnist --latent 10 --seed 0"
  "default-mnist-pse-star-20d-s0|--objective pse-star --dataset mnist --latent 20 --seed 0"
  "default-fashion-pse-star-10d-s0|--objective pse-star --dataset fashion --latent 10 --seed 0"
  "default-fashion-pse-star-20d-s0|--objective pse-star --dataset fashion --latent 20 --seed 0"
  "default-mnist-pse-star-2d-s0|--objective pse-star --dataset mnist --latent 2 --seed 0"
  "leave-out-seven-mnist-pse-star-10d-s0|--objective pse-star --dataset mnist --latent 10 --seed 0 --leave-out seven"
  "robust-mnist-pse-star-10d-s0|--recipe robust --objective pse-star --dataset mnist --latent 10 --seed 0"
)

# The judges are trained once per dataset, before the parallel runs need them.
for ds in mnist fashion; do "$bin" judge --dataset "$ds"; done

PSE_JOBS=$jobs scripts/train-runs.sh "$bin" "$out" "${specs[@]}"

echo
"$bin" summarize "$out"/paper-* "$out"/default-*-s0
mkdir -p docs
for d in 2 10; do
  "$bin" plot "$out/default-mnist-pse-star-${d}d-s0" --out "docs/mnist-pse-star-${d}d" >/dev/null
done
echo
echo "pictures: docs/mnist-pse-star-2d/ and docs/mnist-pse-star-10d/"

# Enrollment: the model that never saw a seven, exported without the label, learns it from
# 5 training images (10 random draws), measured on the test set.
no7="$out/leave-out-seven-mnist-pse-star-10d-s0"
echo
"$bin" export "$no7" --weights i8 --without-label seven -o "$no7/without-seven-i8.pse" >/dev/null
"$bin" enroll-eval --model "$no7/without-seven-i8.pse" --class seven --shots 5 --draws 10
