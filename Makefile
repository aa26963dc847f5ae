# A thin wrapper over CMake and ctest, so that two commands are enough:
# `./setup.sh` (install, build, run) and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all build run test check bench clean

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

clean:
	rm -rf $(BUILD) out
