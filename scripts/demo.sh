#!/usr/bin/env bash
# The main job: fetch the data if missing, train PSE* 10D on MNIST with the default recipe
# (30,000 steps on every core: 267 s on a fresh 2-core machine here), evaluate it the
# paper's way, draw its pictures, export it as an int8 blob, use that blob through the
# runtime on this machine, and run the same blob on a Cortex-M4F under QEMU.
# PSE_DEMO_STEPS shortens training (e.g. PSE_DEMO_STEPS=2000, the paper's budget: ~20 s).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

run=${PSE_DEMO_RUN:-runs/demo-mnist-pse-star-10d}
steps_arg=()
if [ -n "${PSE_DEMO_STEPS:-}" ]; then steps_arg=(--steps "$PSE_DEMO_STEPS"); fi
train_args=(--dataset mnist --objective pse-star --latent 10 --seed 0 "${steps_arg[@]}" --out "$run")

scripts/fetch-data.sh
# Without the `onnx` feature: tract is only needed for ONNX references, and its release
# build takes ~9 minutes here.
cargo build --release -p pse-trainer --no-default-features
bin=target/release/pse-trainer

if [ -f "$run/checkpoint.bin" ]; then
  echo "== $run already holds a run: resuming it if unfinished (delete it to start over)"
  "$bin" train "${train_args[@]}" --resume
else
  echo "== training PSE* 10D on MNIST into $run"
  "$bin" train "${train_args[@]}"
fi

echo "== evaluating (reconstruction, annotation and generation accuracy)"
"$bin" eval "$run"

echo "== drawing pictures"
"$bin" plot "$run"

echo "== exporting an int8 blob for the runtime"
"$bin" export "$run" --weights i8 -o "$run/model-i8.pse"
"$bin" score --model "$run/model-i8.pse"
"$bin" generate --model "$run/model-i8.pse" --label seven --count 20 -o "$run/sevens.png"
echo "wrote $run/sevens.png"

echo "== what the blob needs on a microcontroller, before flashing it"
"$bin" inspect "$run/model-i8.pse" --target thumbv7em-none-eabihf

echo "== the int8 model on a Cortex-M4F (QEMU mps2-an386): annotate 100 test digits, generate one per label, enroll a label from five 7s"
rustup target add thumbv7em-none-eabihf >/dev/null
scripts/install-qemu.sh
blob=$(cd "$run" && pwd)/model-i8.pse
(cd firmware-example && PSE_BLOB="$blob" cargo run --release) > "$run/firmware.txt"
grep -E '^(MODEL|ACC|ACCX|COST ANNOTATE|COST GENERATE|COST ENROLL|MEM) ' "$run/firmware.txt"
echo "a 3 generated on the device (the label's mean):"
sed -n 's/^ART 3 //p' "$run/firmware.txt"
