# ModernCNN: `make chapters` and `make test` do all the set-up on a fresh machine.
# `make` alone lists the targets.

SHELL      := /bin/bash
SWIFT      ?= swift
RELEASE    := $(SWIFT) build -c release
BIN        := .build/release
TEST_FLAGS := --scratch-path .build-test -c release -Xswiftc -enable-testing
TEST_BUILD := $(SWIFT) build $(TEST_FLAGS) --build-tests
TEST_RUN   := MODERNCNN_BIN=.build-test/release $(SWIFT) test $(TEST_FLAGS) --skip-build
CHAPTERS   := tensors convolutions lenet alexnet vgg nin googlenet
# Debian packages the build, the chapters and the tests need. dataset-fashion-mnist is the real
# Fashion-MNIST in /usr/share/datasets/fashion-mnist (no downloads at run time).
# chromium, chromium-driver and python3-selenium check the chapters' pages (make check-pages).
PACKAGES   := libgraphviz-dev zlib1g-dev pkg-config dataset-fashion-mnist chromium chromium-driver python3-selenium
# Where make check-pages runs the chapters (their pages and transcripts), and which build's.
PAGES_DIR  := .build-pages
PAGES_BIN  ?= $(BIN)

# bench-compare's Python (PyTorch, onnxruntime) lives here, made on first use; tests and CI never
# need it. PyPI's torch wheel brings its CUDA libraries along (about 5 GB, a minute or two).
VENV       := .venv-bench

.PHONY: help setup build chapters test exercises bench bench-compare fuzz format lint clean check-pages check-pages-run $(CHAPTERS)

help:
	@echo "ModernCNN targets:"
	@echo "  make chapters   set up, build in release, run every chapter in order (quick mode)"
	@echo "  make test       set up, build, run the whole test suite"
	@echo "  make exercises  only the exercise tests (replace an answer with yours and check it)"
	@echo "  make bench      kernel throughput beside OpenBLAS (if installed), then whole models"
	@echo "  make bench-compare  LeNet and AlexNet beside PyTorch and onnxruntime (installs them in $(VENV))"
	@echo "  make format     reformat the Swift sources (swift format, the checked-in .swift-format)"
	@echo "  make lint       check that they are formatted (make test runs it first)"
	@echo "  make fuzz       libFuzzer on the IDX, safetensors and checkpoint readers (FUZZ_SECONDS each)"
	@echo "  make check-pages  a short run of every chapter, each page checked in headless Chromium"
	@echo "  make setup      install the missing Debian packages: $(PACKAGES)"
	@echo "  make clean      remove build products and chapter output"
	@echo "One chapter: $(addprefix make ,$(CHAPTERS)); pass flags with ARGS, e.g."
	@echo "  make tensors ARGS='--size 1024 --threads 1'"

# Installs only what is missing, so a second `make` starts at once. apt-get needs `update` on a
# fresh machine before it can find anything.
setup:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	  else echo "setup: missing Debian packages:$$missing"; \
	       echo "setup: run as root: apt-get update && apt-get install -y$$missing"; exit 1; fi; \
	  echo "setup: installing$$missing"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null || \
	  { echo "setup: apt-get could not install$$missing; install them by hand and run make again"; exit 1; }; \
	fi

build: setup
	$(RELEASE)

# Each chapter in order; the first failure stops the run and names the chapter.
chapters: build
	@all=$$(date +%s); for c in $(CHAPTERS); do \
	  echo ">>> chapter $$c"; start=$$(date +%s); \
	  $(BIN)/$$c || { echo "make chapters: chapter '$$c' failed"; exit 1; }; \
	  echo "<<< chapter $$c: $$(( $$(date +%s) - start )) s"; \
	done; echo "make chapters: all $(words $(CHAPTERS)) chapters in $$(( $$(date +%s) - all )) s"

$(CHAPTERS): build
	$(BIN)/$@ $(ARGS)

# Tests build in release: the kernels' naive-loop sweeps are far too slow in debug builds.
# -enable-testing lets the tests reach internal helpers with @testable import. Those flags differ
# from `make build`'s, so the test build has a folder of its own (.build-test): each command then
# rebuilds only what changed instead of the whole package. The tests run the chapters built there
# (MODERNCNN_BIN).
# The whole suite runs twice: on this processor's tiles, then on the AVX2 ones (MODERNCNN_TILE,
# see GemmBlocking.wideTile), so that an AVX-512 machine also checks the kernels, layers and
# chapters as a laptop without AVX-512 runs them.
# Last, each fuzzer replays its corpus and runs for 10 seconds.
test: setup lint
	$(TEST_BUILD)
	$(TEST_RUN)
	MODERNCNN_TILE=avx2 $(TEST_RUN)
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10
	$(MAKE) --no-print-directory check-pages-run PAGES_BIN=.build-test/release

# The pages as a reader's browser shows them: every chapter run short into $(PAGES_DIR) (the
# book's own layout, output/<chapter>, with output/index.html), its transcript kept, then each
# page opened in headless Chromium by Tests/Pages/check_pages.py (images loaded, nothing wider
# than the window, local links resolve, no absolute path, every section of the transcript).
# Screenshots go to output/check-pages/ for a person to look at. Debian's python3, which has
# python3-selenium.
check-pages: build
	$(MAKE) --no-print-directory check-pages-run

check-pages-run:
	@rm -rf $(PAGES_DIR) && mkdir -p $(PAGES_DIR)/transcripts
	@set -o pipefail; cd $(PAGES_DIR) && bin=../$(PAGES_BIN) && \
	  echo "check-pages: running the chapters (short) in $(PAGES_DIR)" && \
	  $$bin/tensors --size 64 --repeats 1 > transcripts/01-tensors.txt && \
	  $$bin/convolutions > transcripts/02-convolutions.txt && \
	  $$bin/lenet --epochs 1 --train-limit 512 --test-limit 256 > transcripts/03-lenet.txt && \
	  $$bin/alexnet --skip-experiments --train-limit 64 --test-limit 32 --batch-size 32 \
	    > transcripts/04-alexnet.txt && \
	  $$bin/vgg --skip-experiments --train-limit 256 --test-limit 64 --batch-size 32 \
	    > transcripts/05-vgg.txt && \
	  $$bin/nin --skip-experiments --train-limit 256 --test-limit 64 --batch-size 32 \
	    > transcripts/06-nin.txt && \
	  $$bin/googlenet --skip-experiments --train-limit 256 --test-limit 64 --batch-size 32 \
	    > transcripts/07-googlenet.txt
	/usr/bin/python3 Tests/Pages/check_pages.py $(PAGES_DIR)/output $(PAGES_DIR)/transcripts output/check-pages

# swift format ships with the toolchain; .swift-format holds the style (lines up to 120 columns,
# four-space indents). Prose inside string literals is left as written.
SWIFT_SOURCES := Sources Tests chapters

format:
	$(SWIFT) format format --in-place --recursive --parallel $(SWIFT_SOURCES)

lint:
	$(SWIFT) format lint --strict --recursive --parallel $(SWIFT_SOURCES)

exercises: setup
	$(TEST_BUILD)
	$(TEST_RUN) --filter ExercisesTests

bench: build
	$(BIN)/bench $(ARGS)

bench-compare: build $(VENV)/.installed
	$(BIN)/bench --compare $(VENV)/bin/python $(ARGS)

$(VENV)/.installed:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet torch onnx onnxruntime numpy
	touch $@

clean:
	rm -rf .build .build-test .build-fuzz .build-pages
	find output -mindepth 1 ! -name README.md -exec rm -rf {} +

# libFuzzer harnesses (Tests/Fuzz) for the file readers, built from the readers' own sources with
# the address sanitizer. Each target runs FUZZ_SECONDS (default 60) from its committed seed
# corpus; new inputs go to .build-fuzz/, a crash to .build-fuzz/crash-* (make it a corpus file
# and a test). The backtracer hangs under the sanitizer and a 4 KB allocation Foundation keeps
# until exit reads as a leak, hence the two settings.
FUZZ_SECONDS ?= 60
FUZZ_DIR     := .build-fuzz
FUZZ_FLAGS   := -sanitize=fuzzer,address -parse-as-library -O -module-name Fuzzed
FUZZ_ENV     := SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0
DATA         := Sources/ModernCNN/Data
TRAINING     := Sources/ModernCNN/Training
FUZZ_TARGETS := idx safetensors checkpoint

$(FUZZ_DIR)/idx: Tests/Fuzz/IDXFuzz.swift $(DATA)/IDXFile.swift $(DATA)/Gzip.swift $(DATA)/DataError.swift
	@mkdir -p $(FUZZ_DIR)
	set -o pipefail; $(SWIFT)c $(FUZZ_FLAGS) -I Sources/CZlib $^ -lz -o $@ 2>&1 | { grep -v "Cannot export local symbol" || true; }
$(FUZZ_DIR)/safetensors: Tests/Fuzz/SafeTensorsFuzz.swift $(TRAINING)/SafeTensorsHeader.swift
	@mkdir -p $(FUZZ_DIR)
	set -o pipefail; $(SWIFT)c $(FUZZ_FLAGS) $^ -o $@ 2>&1 | { grep -v "Cannot export local symbol" || true; }
$(FUZZ_DIR)/checkpoint: Tests/Fuzz/CheckpointFuzz.swift $(TRAINING)/SafeTensorsHeader.swift \
		$(TRAINING)/CheckpointValidation.swift $(TRAINING)/EpochMetrics.swift
	@mkdir -p $(FUZZ_DIR)
	set -o pipefail; $(SWIFT)c $(FUZZ_FLAGS) $^ -o $@ 2>&1 | { grep -v "Cannot export local symbol" || true; }

fuzz: $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  echo ">>> fuzzing $$t for $(FUZZ_SECONDS) s"; \
	  mkdir -p $(FUZZ_DIR)/corpus-$$t; \
	  $(FUZZ_ENV) $(FUZZ_DIR)/$$t $(FUZZ_DIR)/corpus-$$t Tests/Fuzz/corpus/$$t -max_total_time=$(FUZZ_SECONDS) \
	    -rss_limit_mb=4096 -artifact_prefix=$(FUZZ_DIR)/crash-$$t- -print_final_stats=1 2>&1 \
	    | grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|INFO: Running with)" ; \
	  test $${PIPESTATUS[0]} -eq 0 || { echo "make fuzz: $$t found a crash; see $(FUZZ_DIR)/crash-$$t-*"; exit 1; }; \
	done; \
	echo "fuzz: $(words $(FUZZ_TARGETS)) passed, 0 failed"
