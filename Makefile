# The front door. `make demo` and `make test` work on a fresh Debian 12 machine: they
# install the Debian packages Tessera needs, build, and run.
BUILD ?= build
SAN_BUILD ?= build-sanitize
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps configure build demo test test-unit sanitize bench format clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Trains mnist-mlp on Fashion-MNIST on the best device present, compares it on cpu, gpu,
# tpu, fpga and asic, and writes $(BUILD)/report.html and $(BUILD)/report.json.
demo: build
	$(BUILD)/bin/tessera demo --html $(BUILD)/report.html --json $(BUILD)/report.json

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

# The unit tests under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: deps
	cmake -S . -B $(SAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTESSERA_SANITIZE=ON \
	  -DTESSERA_BUILD_BENCH=OFF -DTESSERA_CUDA=OFF $(CMAKE_FLAGS)
	cmake --build $(SAN_BUILD) -j $(JOBS) --target unit_tests
	cd $(SAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

bench: build
	bash scripts/run-benchmarks.sh $(BUILD)

format:
	git ls-files '*.h' '*.cpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
