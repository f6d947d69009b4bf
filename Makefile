# Thin wrapper over CMake. The two quick-start commands:
#   make demo   install dependencies, build, run the default experiment
#   make test   install dependencies, build, run the tests (Release, then ASan+UBSan)
# Other targets: build, install, fuzz, bench, oracle-fixtures, format, clean.
JOBS ?= $(shell nproc)
BUILD ?= build
SAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
CTEST_ARGS ?= --output-on-failure -j $(JOBS)

.PHONY: test-slurm deps build install demo test test-release test-sanitize test-slow fuzz bench oracle-fixtures format clean

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DGRADSCOPE_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The gradscope executable into /usr/local/bin and the Python package into the system Python's
# /usr/local/lib/python3.X/dist-packages (CMake, not pip: Debian's python3 refuses pip there).
install: build
	cmake --install $(BUILD)

# The default experiment: Nanda et al.'s grokking transformer on every core (it groks after about
# 8k steps, a few minutes here, and runs to 20k). --force replaces the previous demo run.
demo: build
	./$(BUILD)/gradscope --threads $(JOBS) run examples/nanda-grokking.toml --force
	./$(BUILD)/gradscope plot runs/nanda-grokking

# Fast tests in the Release build, then the unit, gradient-check and allocation tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer, with the fuzz targets' corpora replayed. Tests
# labelled `slow` are left to `make test-slow`.
test: test-release test-sanitize test-slurm

test-release: build
	cd $(BUILD) && ctest $(CTEST_ARGS) -LE 'slow|slurm'

test-sanitize: deps
	@cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRADSCOPE_SANITIZE=ON \
	  -DGRADSCOPE_BUILD_BENCH=OFF -DGRADSCOPE_WERROR=ON -DGRADSCOPE_CUDA=OFF >/dev/null
	@cmake --build $(SAN_BUILD) -j $(JOBS) --target unit_tests gradcheck_tests oracle_tests \
	  alloc_tests fuzzers
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest $(CTEST_ARGS) -LE slow -L 'unit|gradcheck|oracle|fuzz'

# The libFuzzer targets (tests/fuzz), built with clang, ASan and UBSan in $(FUZZ_BUILD), each run
# for FUZZ_SECONDS (default 60) over its corpus; new inputs accumulate in
# $(FUZZ_BUILD)/fuzz/<target>/corpus, findings in $(FUZZ_BUILD)/fuzz/<target>/findings.
fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DGRADSCOPE_SANITIZE=ON -DGRADSCOPE_FUZZ=ON -DGRADSCOPE_FUZZ_SECONDS=$(FUZZ_SECONDS) \
	  -DGRADSCOPE_BUILD_BENCH=OFF -DGRADSCOPE_CUDA=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	cd $(FUZZ_BUILD) && ctest --output-on-failure -j $(JOBS) -L fuzz

test-slow: build
	cd $(BUILD) && ctest $(CTEST_ARGS) -L slow

# A sweep as a job array on a local Slurm cluster (installs slurm-wlm and munge; skipped where
# they cannot be installed).
test-slurm: build
	cd $(BUILD) && ctest $(CTEST_ARGS) -L slurm

bench: build
	scripts/install-deps.sh --torch
	/usr/bin/python3 bench/compare/compare.py $(BUILD) --out docs/PERFORMANCE.md

# Regenerates the PyTorch oracle fixtures (needs Debian's python3-torch, installed here).
oracle-fixtures:
	@bash scripts/install-deps.sh --torch
	/usr/bin/python3 tests/oracle/gen_optim_fixture.py
	/usr/bin/python3 tests/oracle/gen_model_fixture.py

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD)
