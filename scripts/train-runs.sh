#!/usr/bin/env bash
# Trains and evaluates named runs, PSE_JOBS (default 2) at a time, skipping finished ones
# (a run folder with metrics.json); a run folder without it is started again from scratch.
#   scripts/train-runs.sh BIN OUT "NAME|TRAIN ARGUMENTS" ...
# e.g. scripts/train-runs.sh target/release/pse-trainer runs/results "m10|--latent 10"
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 BIN OUT 'NAME|TRAIN ARGUMENTS'..." >&2; exit 2; }
bin=$1 out=$2
shift 2
one() {
  local name=${1%%|*} args=${1#*|}
  local run="$out/$name"
  if [ ! -f "$run/metrics.json" ]; then
    rm -rf "$run"
    # shellcheck disable=SC2086
    "$bin" train $args --out "$run" --quiet
    "$bin" eval "$run" --quiet >/dev/null
  fi
  echo "done: $name"
}
export -f one
export bin out
printf '%s\n' "$@" | xargs -P "${PSE_JOBS:-2}" -I{} bash -c 'one "$@"' _ {}
