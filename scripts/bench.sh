#!/usr/bin/env bash
# Training speed side by side with PyTorch, in one run on this machine (README "Speed"):
# `pse-trainer bench` (this CPU's measured peak; the PSE* step on 1 thread and on every
# core) and the same step in PyTorch (scripts/bench_pytorch.py) on 1 thread and on every
# core, alternating, ROUNDS times each; prints the medians and the ratios.
#   scripts/bench.sh [--latent D] [--steps N] [--rounds R]     (default 20, 500, 3)
# PyTorch: the Python in $PSE_TORCH_PYTHON, else target/torch-venv (created with
# `python3 -m venv target/torch-venv && target/torch-venv/bin/pip install torch` if missing).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
latent=20 steps=500 rounds=3
while [ $# -gt 0 ]; do
  case $1 in
    --latent) latent=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
py=${PSE_TORCH_PYTHON:-target/torch-venv/bin/python}
if [ ! -x "$py" ]; then
  echo "bench.sh: installing PyTorch into target/torch-venv (several GB, once)" >&2
  python3 -m venv target/torch-venv
  target/torch-venv/bin/pip install -q torch numpy
  py=target/torch-venv/bin/python
fi
cargo build -q --release -p pse-trainer --no-default-features
bin=target/release/pse-trainer
cores=$(nproc)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$rounds"); do
  echo "round $r/$rounds" >&2
  "$bin" bench --latent "$latent" --steps "$steps" --threads "$cores" --json > "$tmp/pse-$r.json"
  for t in 1 "$cores"; do
    "$py" scripts/bench_pytorch.py --threads "$t" --latent "$latent" --steps "$steps" >> "$tmp/torch-$t.jsonl"
  done
done
python3 - "$tmp" "$rounds" "$cores" <<'PY'
import json, statistics, sys
tmp, rounds, cores = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pse = [json.load(open(f"{tmp}/pse-{r}.json")) for r in range(1, rounds + 1)]
med = statistics.median
peak = med(p["peak_gflops_single_core"] for p in pse)
print(f"this CPU's multiply-add peak: {peak:.1f} GFLOP/s on one core (median of {rounds})")
print(f"| 2000 steps of PSE* {pse[0]['measurements'][0]['latent']}D, batch 100 | pse-trainer | PyTorch {json.loads(open(f'{tmp}/torch-1.jsonl').readline())['torch']} | PyTorch / pse |")
print("|---|---|---|---|")
for t in sorted({1, cores}):
    ours = med(m["paper_recipe_seconds"] for p in pse for m in p["measurements"] if m["threads"] == t)
    share = med(m["matmul_share_of_peak"] for p in pse for m in p["measurements"] if m["threads"] == t)
    torch = med(json.loads(l)["paper_recipe_seconds"] for l in open(f"{tmp}/torch-{t}.jsonl"))
    print(f"| {t} thread{'s' if t > 1 else ''} | {ours:.1f} s (matmul at {100*share:.0f} % of peak) | {torch:.1f} s | {torch/ours:.2f}× |")
PY
