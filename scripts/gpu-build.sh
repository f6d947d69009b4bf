#!/usr/bin/env bash
# Builds what scripts/gpu-check.sh runs on a GPU machine that has the CUDA toolkit, PyTorch and
# CMake but none of this project's Debian packages: a Release build for a generic x86-64
# (-DGRADSCOPE_NATIVE=OFF) in build-gpu/, and .gpu/ (git-ignored) holding the executable, the
# GPU test binary, bench_workloads and the shared libraries they need that such a machine lacks
# (OpenBLAS, gomp, fmt, SQLite, ...; found with ldd). The CUDA runtime and cuBLAS are left out:
# the GPU machine's own are used. Carry .gpu/ to the machine (the device tool's `carry`).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DGRADSCOPE_NATIVE=OFF -DGRADSCOPE_WERROR=ON \
  >/dev/null
cmake --build build-gpu -j "$(nproc)" --target gradscope gpu_tests bench_workloads
rm -rf .gpu
mkdir -p .gpu/bin .gpu/lib
cp build-gpu/gradscope build-gpu/gpu_tests build-gpu/bench_workloads .gpu/bin/
# The source revision measured (gpu-check.sh copies it into its logs; uncommitted work shows as
# -dirty).
git describe --always --dirty > .gpu/revision.txt
# Every library the binaries load, except the system's own and CUDA's.
skip='^(linux-vdso|ld-linux|libc\.|libm\.|libdl\.|libpthread|librt\.|libstdc\+\+|libgcc_s|libcuda|libcudart|libcublas|libnvidia)'
for b in .gpu/bin/*; do
  ldd "$b" | awk '/=> \//{print $1, $3}' | while read -r name path; do
    [[ $name =~ $skip ]] || cp -L "$path" .gpu/lib/
  done
done
du -sh .gpu
ls .gpu/lib
