# Thin wrapper over CMake. The two quick-start commands:
#   make demo   install dependencies, build, run the default experiment
#   make test   install dependencies, build, run the tests (Release, then clang ASan+UBSan with
#               10 s of fuzzing per parser)
# Other targets: build, install, fuzz, reliability, bench, oracle-fixtures, format, clean.
JOBS ?= $(shell nproc)
BUILD ?= build
SAN_BUILD ?= build-asan-clang
FUZZ_BUILD ?= $(SAN_BUILD)
FUZZ_SECONDS ?= 60
TEST_FUZZ_SECONDS ?= 10
CTEST_ARGS ?= --output-on-failure -j $(JOBS)

.PHONY: test-slurm deps build install demo test test-release test-sanitize test-slow fuzz reliability bench oracle-fixtures format clean

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

# Fast tests in the Release build (the fault tests of tests/faults and the web viewer's browser
# and abuse tests of tests/web among them), then the unit,
# gradient-check, oracle and allocation tests again in a clang build under AddressSanitizer +
# UndefinedBehaviorSanitizer, where every libFuzzer target (tests/fuzz) also runs for
# TEST_FUZZ_SECONDS over its corpus and kept regression inputs. Tests labelled `slow` are left
# to `make test-slow`.
test: test-release test-sanitize test-slurm

test-release: build
	cd $(BUILD) && ctest $(CTEST_ARGS) -LE 'slow|slurm'

# Line tables only (what a sanitizer's stack trace needs for file:line), not full debug
# information: about a tenth off this build's compile time.
define configure_clang_sanitizer
	@CC=clang CXX=clang++ cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" \
	  -DGRADSCOPE_SANITIZE=ON -DGRADSCOPE_FUZZ=ON -DGRADSCOPE_FUZZ_SECONDS=$(1) \
	  -DGRADSCOPE_BUILD_BENCH=OFF -DGRADSCOPE_PYTHON=OFF -DGRADSCOPE_WERROR=ON \
	  -DGRADSCOPE_CUDA=OFF >/dev/null
endef

test-sanitize: deps
	$(call configure_clang_sanitizer,$(TEST_FUZZ_SECONDS))
	@cmake --build $(SAN_BUILD) -j $(JOBS) --target unit_tests gradcheck_tests oracle_tests \
	  alloc_tests fuzzers
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest $(CTEST_ARGS) -LE slow -L 'unit|gradcheck|oracle|fuzz'

# The libFuzzer targets for FUZZ_SECONDS (default 60) each, in the sanitizer build; new inputs
# accumulate in $(FUZZ_BUILD)/fuzz/<target>/corpus, findings in .../findings, and each target's
# final stats are appended to the ledger docs/reliability/fuzz-log.jsonl.
fuzz: deps
	$(call configure_clang_sanitizer,$(FUZZ_SECONDS))
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	cd $(FUZZ_BUILD) && ctest --output-on-failure -j $(JOBS) -L fuzz; status=$$?; \
	  /usr/bin/python3 $(CURDIR)/scripts/reliability.py record-fuzz . ; exit $$status

# docs/RELIABILITY.md: the fault tests (tests/faults) run afresh, then the table written from
# their results and the fuzzing ledger.
reliability: build
	rm -f $(BUILD)/reliability/faults.jsonl
	cd $(BUILD) && ctest $(CTEST_ARGS) -L fault -LE slow
	/usr/bin/python3 scripts/reliability.py write --faults $(BUILD)/reliability/faults.jsonl

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
	/usr/bin/python3 tests/oracle/gen_numerics_fixture.py

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD) build-asan build-fuzz
