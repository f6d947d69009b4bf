#!/usr/bin/env bash
# Regenerates the small run directories that the viewer's inside-page browser tests read
# (tests/web/fixtures/inside/{nanda,ind,icl}): a modular transformer, a 2-layer induction model and
# an in-context regression model, each trained for a few hundred steps at most with probe.inside
# on. Checkpoints are left out (the viewer reads only config.toml, the metrics, summary.json and
# inside/). Run it after a change to the inside frames' format, and commit the result:
#   scripts/web-fixtures.sh [build/gradscope]
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-build/gradscope}
out=tests/web/fixtures/inside
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

train() {  # name example overrides...
  local name=$1 example=$2
  shift 2
  "$binary" run "examples/$example" probe.inside=true "$@" --out "$tmp/$name" >/dev/null
  rm -rf "$tmp/$name/checkpoints"
}
train nanda nanda-fourier.toml task.p=23 train.steps=300 train.stop_after_generalized=0 \
  probe.fourier=false probe.restricted_loss=false probe.spectra=false model.d_model=32 \
  model.d_mlp=64 inside.every=60
train ind induction-2layer.toml train.steps=40 model.d_model=32 inside.every=40
train icl icl-fresh-tasks.toml train.steps=20 optim.warmup_steps=0 model.d_model=16 \
  model.n_layers=2 inside.every=20
rm -rf "$out"
mkdir -p "$out"
for name in nanda ind icl; do mv "$tmp/$name" "$out/$name"; done
du -sh "$out"
