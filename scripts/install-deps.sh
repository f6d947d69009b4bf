#!/usr/bin/env bash
# Installs every build, test and tool dependency of gradscope from Debian 12 packages.
# Idempotent: packages already present are skipped, so `make` can call this on every run.
# Run as root (or with sudo available) on a fresh Debian 12 machine.
#
# Why each library:
#   libopenblas-openmp-dev  GEMM, and LAPACK (SVD, QR) from OpenBLAS, the fastest BLAS Debian
#                           ships; the OpenMP build shares one thread team with gradscope's own
#                           OpenMP kernels, so the two never spin against each other.
#   libtomlplusplus-dev     TOML 1.0 parser for experiment files (header-only, well maintained).
#   nlohmann-json3-dev      JSON for metrics, summaries and test fixtures.
#   libcli11-dev            command-line parsing with subcommands.
#   libfmt-dev              formatting (GCC 12 has no <format>).
#   libsqlite3-dev          the results index (runs/index.sqlite) of sweeps.
#   libzip-dev              reading the user's .npz data files (task.name = "arrays"): zip and
#                           zip64 archives, stored or deflated, as numpy.savez writes them.
#   zlib1g-dev              CRC-32 checksums of checkpoints (a damaged file is detected and a
#                           resume falls back to the previous one).
#   libgtest-dev            unit, gradient-check and oracle tests (GoogleTest).
#   libbenchmark-dev        micro-benchmarks (Google Benchmark).
#   clang-format            the project's formatting.
#   clang, libclang-rt-14-dev
#                           `make fuzz`: libFuzzer (shipped in clang's runtime) drives the fuzz
#                           targets of tests/fuzz, built with clang's ASan and UBSan.
#   pybind11-dev            the `gradscope` Python module's C++ bindings (header-only, with
#                           CMake config); python3-dev for Python.h.
#   python3-numpy           the module hands NumPy arrays out (views where it can).
#   python3-pandas          Run.metrics and gradscope.runs() are DataFrames.
#   python3-pytest          the Python tests (tests/python).
#   python3-nbclient, python3-ipykernel, python3-nbformat, python3-matplotlib
#                           the example notebook (examples/notebooks), executed headlessly by
#                           the tests: the notebook client, its Python kernel, and the plots.
#   libcpp-httplib-dev      `gradscope serve`'s HTTP server (cpp-httplib: maintained, small,
#                           threaded, with request size and time limits).
#   nodejs, npm             fetch the web viewer's pinned npm packages (web/package-lock.json):
#                           uPlot, the plotting library embedded into the executable at build
#                           time (fast line charts of 100k points, 50 kB, no dependencies), and
#                           playwright-core, the browser tests' driver (it drives the system
#                           chromium; it downloads no browser of its own).
#   chromium                the headless browser of the web viewer's tests (tests/web).
#   python3-torch           PyTorch (Debian's, 1.13): gs.Model.to_torch hands a run's model to
#                           it, and its test compares that module with the core's forward; also
#                           the PyTorch oracle fixtures' generator and the benchmark peer.
#   fortunes                the default text corpus of task.name = "text" (examples/text-*.toml):
#                           about 2.6 MB of English quotations in /usr/share/games/fortunes,
#                           real text that needs no download.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libopenblas-openmp-dev
  libtomlplusplus-dev nlohmann-json3-dev libcli11-dev libfmt-dev libsqlite3-dev libzip-dev
  zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format clang libclang-rt-14-dev
  pybind11-dev python3-dev python3-numpy python3-pandas python3-pytest
  python3-nbclient python3-ipykernel python3-nbformat python3-matplotlib
  python3-torch
  fortunes
  libcpp-httplib-dev chromium
)
# Node.js and npm from Debian only where there are none (a machine may carry a newer Node.js with
# its own npm, which Debian's npm package would conflict with). playwright-core wants Node >= 20.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
# Optional extras, installed only when asked: Slurm and munge for the slurm-labelled test and
# scripts/slurm-local.sh (--slurm). --torch is kept for old command lines: PyTorch is installed
# always now.
for arg in "$@"; do
  case "$arg" in
    --torch) packages+=(python3-torch python3-numpy) ;;
    --slurm) packages+=(slurm-wlm munge) ;;
    *) echo "install-deps.sh: unknown option $arg (valid: --torch, --slurm)" >&2; exit 2 ;;
  esac
done

# The web viewer's npm packages, exactly as web/package-lock.json pins them (npm ci), fetched
# again only when the lock file changed since the last install.
install_web_packages() {
  local web
  web="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/web"
  if [[ -f "$web/.installed-lock" ]] && cmp -s "$web/package-lock.json" "$web/.installed-lock"; then
    return
  fi
  echo "install-deps: npm ci in web/ (uplot, playwright-core)" >&2
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$web/package-lock.json" "$web/.installed-lock"
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  install_web_packages
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_web_packages
