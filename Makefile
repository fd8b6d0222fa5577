# rwmeta: the two commands a newcomer needs are `make run` and `make test`.
BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-asan
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
# ccache keyed on paths relative to the checkout, so that every clone of the tree (CI's included)
# reuses what any other clone compiled.
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1

.PHONY: setup configure build run test test-asan bench format format-check lint clean

setup:
	bash scripts/setup.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: setup $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts a meta node on the embedded defaults (everything under ./rwmeta-data/).
run: build
	$(BUILD_DIR)/bin/meta-node

# Every test: unit tests, conformance suites, end-to-end tests through psql and risectl.
test: build
	bash scripts/run_tests.sh $(BUILD_DIR)

# The unit tests under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: setup
	cmake -S . -B $(ASAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRWMETA_SANITIZE=ON -DRWMETA_UNIT_TESTS_ONLY=ON
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)
	ctest --test-dir $(ASAN_BUILD_DIR) --output-on-failure -L unit -j $(JOBS)

# Builds and runs every benchmark under bench/ (each prints its figures).
bench: build
	@for b in $$(find $(BUILD_DIR)/bench -type f -name '*_bench' -perm -u+x | sort); do \
	  echo "== $$b"; $$b || exit 1; done

format:
	find src tests $(wildcard bench) -name '*.h' -o -name '*.cc' | xargs clang-format -i

# Fails if any file is not formatted as .clang-format says (CI runs it).
format-check:
	find src tests $(wildcard bench) -name '*.h' -o -name '*.cc' | xargs clang-format --dry-run -Werror

lint:
	find src -name '*.cc' | xargs clang-tidy -p $(BUILD_DIR) --quiet

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR)
