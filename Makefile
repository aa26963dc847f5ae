# A thin wrapper over CMake and ctest, so that two commands are enough:
# `./setup.sh` (install, build, run) and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all build run test check bench bench-compare clean

all: build

build:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/momsandbox scripts/trace2d.lua

# Every test: C unit tests, busted specs, the scripts, and all of it once
# more under AddressSanitizer + UBSan.
test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The quick round while working: everything but the sanitizer rerun.
check: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -E '^sanitize\.'

bench: build
	for b in bench/*.lua; do $(BUILD)/momsandbox $$b || exit 1; done

# The benchmarks under a build of BASE (default HEAD~1) and one of the
# working tree, side by side; fails on a figure > 10% worse.  Builds of its
# own in a temporary folder.  `make bench-compare BASE=rev ROUNDS=5`
bench-compare:
	bench/compare.sh --rounds "$${ROUNDS:-3}" -- "$${BASE:-HEAD~1}"

clean:
	rm -rf $(BUILD) out
