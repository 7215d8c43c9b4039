# Thin wrapper: everything real is in CMakeLists.txt.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
# The project's own builds treat warnings as errors; CMake's default (OFF)
# is for packagers and users on other compilers.
WERROR     := -DSLUICE_WERROR=ON

.PHONY: all deps build build-matrix asan demo demo-oneentry test test-normal test-asan test-busy tsan docs clean fuzz memcheck

all: build

deps:
	@sh scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(WERROR) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON $(WERROR) >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The flagship job: sample nginx log -> tail -> parse -> activity -> the
# oneentry sink -> the local OneEntry emulator, then what it received.
demo: build
	sh scripts/demo.sh $(BUILD)

demo-oneentry: demo

# -Werror builds with gcc and clang at every CMAKE_BUILD_TYPE (slow: 8 builds).
build-matrix: deps
	JOBS=$(JOBS) sh scripts/build-matrix.sh build-matrix

test-normal: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# The integration tests again while stress-ng keeps both cores busy: tests
# wait for facts, not for times, so load may slow them but never fail them.
test-busy: build
	JOBS=$(JOBS) sh scripts/test-busy.sh $(BUILD)

test: test-normal test-asan test-busy tsan

# ThreadSanitizer (its own build): the core unit tests and the integration
# tests that exercise the engine's threads; any race report fails them.
TSAN_BUILD ?= build-tsan
TSAN_TESTS ?= ^unit\.test_|^integration\.(cli|graph|stdin_fanout|reload|admin|kit_pipetest|activity_pipeline|activity_deadletter|parse_formats|harden_nofile|oneentry_pages\.h1|tail_[a-z_]+|nats_[a-z0-9]+)$$
# test_allocfail replaces malloc itself, as TSan does: it has no threads to check.
TSAN_SKIP  ?= ^unit\.test_allocfail$$
tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_TSAN=ON $(WERROR) >/dev/null
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	cd $(TSAN_BUILD) && TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
	  ctest --output-on-failure -j $(JOBS) -R '$(TSAN_TESTS)' -E '$(TSAN_SKIP)'

# Regenerate docs/plugins/*.md from the plugins' option tables.
docs: build
	sh scripts/gen-plugin-docs.sh $(BUILD) docs/plugins

# libFuzzer targets (clang), each run FUZZ_SECONDS; FUZZ_TARGETS picks some.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz: deps
	sh scripts/fuzz-deps.sh
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_TESTS=OFF $(WERROR) \
	  -DSLUICE_FUZZ=ON -DSLUICE_SANITIZE=ON -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link >/dev/null
	sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Core unit and integration tests under valgrind (a build without ASan).
MEMCHECK_BUILD ?= build-memcheck
memcheck: deps
	cmake -S . -B $(MEMCHECK_BUILD) -DCMAKE_BUILD_TYPE=Debug $(WERROR) >/dev/null
	cmake --build $(MEMCHECK_BUILD) -j $(JOBS)
	sh scripts/memcheck.sh $(MEMCHECK_BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD) $(MEMCHECK_BUILD)
