#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer through cargo-fuzz) of the three readers of untrusted
# bytes: pse-runtime's Model::from_bytes, then every model operation on what it accepts
# (target `blob`), the trainer's IDX reader (target `idx`), and the trainer's GloVe cache
# reader, Glove::load, then lookups on what it accepts (target `glove_cache`).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    # each target for SECONDS (default 30)
#
# Runs on the stable toolchain: by default `--sanitizer none`, which keeps every rustc flag
# stable. Panics, arithmetic overflow (debug assertions are on) and over 2 GB of memory
# count as crashes. PSE_FUZZ_SANITIZER=address adds AddressSanitizer for code with `unsafe`
# (its -Zsanitizer flag is unstable: the script then sets RUSTC_BOOTSTRAP=1, which lets the
# stable compiler accept it; seen working with rustc 1.95). Installs cargo-fuzz if missing, seeds fuzz/corpus/ (scripts/fuzz-corpus.sh),
# prints executions and crashes per target, and exits non-zero on any crash; the crashing
# input is kept in fuzz/artifacts/TARGET/.
#
# The instrumented build goes to PSE_FUZZ_TARGET_DIR (default ~/.cache/pse-fuzz-target),
# outside the work tree, so that fresh clones (CI) reuse the dependencies: cold, the build
# takes about 100 CPU-seconds; warm, about 15.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

secs=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(blob idx glove_cache)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz (crates.io)"
    cargo install cargo-fuzz --version 0.13.2 --locked --quiet
fi
scripts/fuzz-corpus.sh

log_dir=$(mktemp -d)
tmp=${TMPDIR:-/tmp}
trap 'rm -rf "$log_dir" /dev/shm/pse-fuzz-glove-* "$tmp"/pse-fuzz-glove-*
      rm -f /dev/shm/pse-fuzz-idx-*.gz "$tmp"/pse-fuzz-idx-*.gz' EXIT
sanitizer=${PSE_FUZZ_SANITIZER:-none}
[ "$sanitizer" = none ] || export RUSTC_BOOTSTRAP=1
target_dir=${PSE_FUZZ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pse-fuzz-target}-$sanitizer
t0=$SECONDS
if ! (cd fuzz && cargo fuzz build --sanitizer "$sanitizer" --target-dir "$target_dir") \
    >"$log_dir/build.log" 2>&1; then
    cat "$log_dir/build.log" >&2
    echo "fuzz: the build failed" >&2
    exit 1
fi
echo "fuzz targets built in $((SECONDS - t0)) s ($target_dir)"
failed=0
for t in "${targets[@]}"; do
    log="$log_dir/$t.log"
    set +e
    (cd fuzz && cargo fuzz run --sanitizer "$sanitizer" --target-dir "$target_dir" "$t" "corpus/$t" -- \
        -max_total_time="$secs" -print_final_stats=1) >"$log" 2>&1
    rc=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    corpus=$(ls "fuzz/corpus/$t" | wc -l)
    if [ "$rc" = 0 ]; then
        echo "fuzz $t: ${runs:-?} executions in ${secs} s, 0 crashes (sanitizer: $sanitizer; corpus: $corpus inputs)"
    else
        failed=1
        echo "fuzz $t: CRASH after ${runs:-?} executions (exit $rc); last lines:" >&2
        grep -v '^#' "$log" | tail -n 30 >&2
        ls -1 "fuzz/artifacts/$t" 2>/dev/null | sed "s|^|  fuzz/artifacts/$t/|" >&2 || true
    fi
done
exit "$failed"
