#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need (the Cortex-M
# Rust target, the data), then checks formatting and lints, runs every test, and builds the
# runtime for thumbv7em-none-eabihf.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

step() { printf '\n== %s\n' "$*"; }

step "toolchain: the microcontroller targets, rustfmt, clippy"
# RUSTUP_AUTO_INSTALL=0 on these machines: add explicitly what we use.
rustup target add thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf \
    thumbv8m.main-none-eabihf riscv32imc-unknown-none-elf riscv32imafc-unknown-none-elf >/dev/null
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "data (MNIST, Fashion-MNIST, GloVe word vectors; SHA-256 checked)"
scripts/fetch-data.sh --glove

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "runtime (no_std) for every microcontroller class: M0/M0+, M3, M4F/M7, M33/M55 (and with Helium), RV32IMC"
for t in thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf thumbv8m.main-none-eabihf \
    riscv32imc-unknown-none-elf; do
    cargo build -q -p pse-runtime --no-default-features --target "$t"
done
# The Helium kernel is compiled only for a Helium CPU: lint it there (own target folder).
RUSTFLAGS="-C target-cpu=cortex-m55" cargo clippy -q -p pse-runtime --no-default-features \
    --target thumbv8m.main-none-eabihf --target-dir target/helium -- -D warnings

step "pse-runtime as a dependency: docs (warnings are errors), the annotate example, the no_std example for Cortex-M4F, cargo package"
RUSTDOCFLAGS="-D warnings" cargo doc -q -p pse-runtime --no-deps
out=$(cargo run -q -p pse-runtime --features std --example annotate -- \
    models/mnist-pse-star-10d-i8.pse runtime/examples/data/seven.png runtime/examples/data/two.png)
echo "$out"
echo "$out" | grep -q "seven.png	seven" && echo "$out" | grep -q "two.png	two" \
    || { echo "the annotate example got the committed digits wrong" >&2; exit 1; }
(cd runtime/examples/no_std && cargo fmt --check \
    && cargo clippy -q --release --target thumbv7em-none-eabihf -- -D warnings \
    && cargo build -q --release --target thumbv7em-none-eabihf)
cargo package -q -p pse-runtime --allow-dirty
ls -l target/package/pse-runtime-*.crate

step "QEMU for the firmware test (qemu-system-arm from bookworm-backports, arm-none-eabi-size)"
scripts/install-qemu.sh

step "firmware-example: fmt and clippy (its own workspace; Cortex-M4F, annotate-only, Cortex-M0, RV32IMAFC, RV32IMC)"
(cd firmware-example && cargo fmt --check && cargo clippy --release -- -D warnings \
    && cargo clippy --release --features annotate-only -- -D warnings \
    && cargo clippy --release --target thumbv6m-none-eabi -- -D warnings \
    && cargo clippy --release --target riscv32imafc-unknown-none-elf -- -D warnings \
    && cargo clippy --release --target riscv32imc-unknown-none-elf -- -D warnings)

step "tests (unit, CLI end-to-end, runtime vs tract parity, host vs QEMU device)"
cargo test --workspace

step "fuzzing: Model::from_bytes + every operation, the IDX reader, the GloVe cache reader (20 s each)"
scripts/fuzz.sh 20
