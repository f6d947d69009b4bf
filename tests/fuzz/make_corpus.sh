#!/usr/bin/env bash
# Regenerates the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/) from real files:
# the examples, a tiny run's checkpoints, metrics and summary (tests/fixtures/tiny.toml, the model
# of checkpoint_fuzz.cpp), its spectra, and .npz data. Usage: tests/fuzz/make_corpus.sh BUILD_DIR
set -euo pipefail
build=$(realpath "${1:?usage: make_corpus.sh BUILD_DIR}")
here=$(cd "$(dirname "$0")" && pwd)
corpus=$here/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$corpus"
mkdir -p "$corpus"/{config,checkpoint,metrics,npy,npz,text,serve}

# config: every example, and one with overrides and sweep axes after "%%".
cp "$here"/../../examples/*.toml "$corpus/config/"
{ cat "$here/../../examples/grok-mlp-small.toml"
  printf '\n%%%%\noptim.weight_decay=0.1,1\nseed=3\nname=with spaces\n'; } > "$corpus/config/overrides.txt"

# A tiny run (tests/fixtures/tiny.toml, the model of checkpoint_fuzz.cpp).
"$build/gradscope" run "$here/../fixtures/tiny.toml" --out "$tmp/tiny" > /dev/null
cp "$tmp"/tiny/checkpoints/*.ckpt "$corpus/checkpoint/"
{ printf '\x00'; cat "$tmp/tiny/metrics.jsonl"; } > "$corpus/metrics/metrics.jsonl"
{ printf '\x01'; cat "$tmp/tiny/summary.json"; } > "$corpus/metrics/summary.json"
for f in "$tmp"/tiny/spectra/*.npy; do cp "$f" "$corpus/npy/$(basename "$f")"; done

# .npz: the example's (uint8 tokens), and float features with int64 labels, deflated.
cp "$here/../../examples/data/add31.npz" "$corpus/npz/add31.npz"
/usr/bin/python3 - "$corpus/npz" <<'PY'
import sys
import numpy as np
rng = np.random.default_rng(0)
out = sys.argv[1]
np.savez_compressed(f"{out}/features.npz", x_train=rng.normal(size=(6, 3)).astype(np.float32),
                    y_train=np.arange(6) % 2, x_test=rng.normal(size=(2, 3)),
                    y_test=np.array([0, 1]), classes=np.int64(2))
np.savez(f"{out}/per_position.npz", x_train=np.arange(12).reshape(4, 3) % 5,
         y_train=(np.arange(12).reshape(4, 3) + 1) % 5, x_test=np.zeros((1, 3), dtype=np.int16),
         y_test=np.ones((1, 3), dtype=np.int16), vocab=np.int64(6))
PY
# text: English (the start of fortune's own file), multi-byte UTF-8, and bytes that are not UTF-8.
head -c 2000 /usr/share/games/fortunes/fortunes > "$corpus/text/fortunes.txt"
printf 'caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 na\xc3\xafve\n' > "$corpus/text/utf8.txt"
printf 'abc\xff\xfe\xc3(\xed\xa0\x80xyz\n' > "$corpus/text/invalid.txt"
# serve: requests as httplib hands them on (method, decoded path, query string; serve_fuzz.cpp).
s=$corpus/serve
printf 'GET\n/api/run\ndir=run' > "$s/run"
printf 'GET\n/api/metrics\ndir=run&keys=train_loss,test_acc&buckets=7' > "$s/metrics"
printf 'GET\n/api/probe\ndir=run&kind=spectra' > "$s/probe"
printf 'GET\n/api/status\ndir=run' > "$s/status"
printf 'GET\n/api/sweep\ndir=' > "$s/sweep"
printf 'GET\n/api/runs\n' > "$s/runs"
printf 'GET\n/\n' > "$s/index"
printf 'GET\n/api/run\ndir=%%2e%%2e/escape' > "$s/traversal"
printf 'GET\n/api/run\ndir=escape' > "$s/symlink"
printf 'POST\n/api/run\ndir=run' > "$s/post"
du -sh "$corpus"/*
