#!/usr/bin/env bash
# Seeds the fuzzers' corpora (fuzz/corpus/, git-ignored) idempotently:
#   blob: the committed models/*.pse, and small valid blobs of every encoding written by the
#         runtime's own test builder (the megabyte models run thousands of times slower);
#   idx:  small IDX image and label files, raw and gzipped, and one real MNIST test image
#         when data/ holds it;
#   glove_cache: small valid GloVe caches written by the trainer's own cache encoder (the
#         real 71 MB cache would run a million times slower).
# Inputs the fuzzers found earlier stay in the corpus and are kept.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

blob=fuzz/corpus/blob
idx=fuzz/corpus/idx
glove=fuzz/corpus/glove_cache
mkdir -p "$blob" "$idx" "$glove"

shopt -s nullglob
for m in models/*.pse; do
    cp -f "$m" "$blob/model-$(basename "$m")"
done
shopt -u nullglob
PSE_FUZZ_SEEDS="$root/$blob" cargo test --quiet -p pse-runtime --lib write_fuzz_seeds \
    -- --ignored >/dev/null
PSE_FUZZ_SEEDS="$root/$glove" cargo test --quiet -p pse-trainer --no-default-features --lib \
    glove::tests::write_fuzz_seeds -- --ignored >/dev/null

# IDX: magic 00 00 08 NDIM, NDIM big-endian u32 dimensions, then the bytes.
be32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
{ printf '\x00\x00\x08\x03'; be32 2; be32 3; be32 2; printf '\x00\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xff'; } >"$idx/images-2x3x2"
{ printf '\x00\x00\x08\x01'; be32 5; printf '\x00\x01\x02\x09\x07'; } >"$idx/labels-5"
{ printf '\x00\x00\x08\x03'; be32 1; be32 1; be32 1; printf '\x07'; } >"$idx/images-1x1x1"
test_images=data/mnist/t10k-images-idx3-ubyte
if [ -f "$test_images" ]; then
    { printf '\x00\x00\x08\x03'; be32 1; be32 28; be32 28; head -c 800 "$test_images" | tail -c 784; } >"$idx/mnist-t10k-first-image"
fi
for f in "$idx"/images-2x3x2 "$idx"/labels-5; do
    gzip -n -c "$f" >"$f.gz"
done
echo "corpus: $(ls "$blob" | wc -l) blob inputs in $blob, $(ls "$idx" | wc -l) idx inputs in $idx," \
    "$(ls "$glove" | wc -l) glove_cache inputs in $glove"
