# MetaFolio: set-up, build, run and test on Debian with Swift.
# `make run` and `make test` install the missing system packages first (apt-get).

SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
CONFIG ?= release
SYSTEM_PACKAGES := libopenblas-dev liblapacke-dev pkg-config python3
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
TEST_FLAGS := -c $(CONFIG) -Xswiftc -enable-testing

.PHONY: deps build run test fuzz fuzz-smoke sanitize sanitize-address sanitize-thread bench bench-compare bench-compare-autodiff docs clean check-warnings report-check

## Install the Debian packages MetaFolio links against, if any is missing.
deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "System packages present: $(SYSTEM_PACKAGES)"; fi

build: deps
	$(SWIFT) build -c $(CONFIG)

## The main job: a walk-forward multi-asset backtest with costs on the embedded data, a metrics
## table and an HTML + JSON report in ./metafolio-report (see `metafolio run --help`).
run: deps
	$(SWIFT) run -c $(CONFIG) metafolio run

## Checks that each target's declared dependencies equal its imports, builds everything (failing on
## any warning in MetaFolio's own code), then runs the whole suite.
test: deps
	SWIFT=$(SWIFT) python3 Scripts/check_dependencies.py
	$(SWIFT) build --build-tests $(TEST_FLAGS) 2>&1 | tee .build-log.txt
	@! grep -E '^/.*/(Sources|Tests|Examples)/.*: warning:' .build-log.txt || \
	  (echo "error: MetaFolio code compiles with warnings (see above)"; exit 1)
	$(SWIFT) test $(TEST_FLAGS) --skip-build
	$(MAKE) --no-print-directory fuzz-smoke

## libFuzzer targets (Fuzz/README.md): CSV reader, safetensors loader, backtest config parser and
## report number formatting, built with ASan in .build-fuzz. `make fuzz` runs each for FUZZ_SECONDS.
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 3
fuzz: deps
	SWIFT=$(SWIFT) Fuzz/fuzz.sh build
	SWIFT=$(SWIFT) Fuzz/fuzz.sh all $(FUZZ_SECONDS)

## A few seconds per fuzz target starting from the committed corpus (part of `make test`).
fuzz-smoke: deps
	SWIFT=$(SWIFT) Fuzz/fuzz.sh build
	SWIFT=$(SWIFT) Fuzz/fuzz.sh smoke $(FUZZ_SMOKE_SECONDS)

## The whole suite under AddressSanitizer, then ThreadSanitizer, each in its own build folder.
sanitize: sanitize-address sanitize-thread

sanitize-address: deps
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/Scripts/lsan.supp \
	  $(SWIFT) test $(TEST_FLAGS) --sanitize=address --scratch-path .build-asan

## METAFOLIO_TSAN puts the project's locks on pthread mutexes, which TSan sees (Linalg's PthreadMutex).
sanitize-thread: deps
	TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test $(TEST_FLAGS) -Xswiftc -DMETAFOLIO_TSAN --sanitize=thread --scratch-path .build-tsan

## OpenBLAS threads for `make bench` and `make bench-compare` (e.g. `make bench BENCH_THREADS=2`).
BENCH_THREADS ?= 1
BENCH_ENV := OPENBLAS_NUM_THREADS=$(BENCH_THREADS) OMP_NUM_THREADS=$(BENCH_THREADS)

## Benchmarks (ordo-one/benchmark) of the Swift kernels; the nested package in Benchmarks/ has its own .build.
bench: deps
	cd Benchmarks && $(BENCH_ENV) $(SWIFT) package --allow-writing-to-package-directory benchmark

## Same-run comparison against direct OpenBLAS (C) and NumPy; prints medians and ratios.
## Extra options via BENCH_COMPARE_FLAGS, e.g. BENCH_COMPARE_FLAGS="--rounds 5 --write-readme".
bench-compare: deps
	SWIFT=$(SWIFT) python3 Benchmarks/compare/linalg.py --threads $(BENCH_THREADS) $(BENCH_COMPARE_FLAGS)

## Same-run comparison of Autodiff against PyTorch (CPU, same thread count); prints medians and ratios.
## Needs `pip install torch numpy`. Extra options via BENCH_COMPARE_FLAGS as above.
bench-compare-autodiff: deps
	SWIFT=$(SWIFT) python3 Benchmarks/compare/autodiff.py --threads $(BENCH_THREADS) $(BENCH_COMPARE_FLAGS)

## Builds the backtest report demo, writes .build/report-demo/report.html and checks it in headless
## Chromium (installed with apt-get if missing): charts present, screenshot report.png not blank.
report-check: deps
	$(SWIFT) run -c $(CONFIG) BacktestReportDemo .build/report-demo
	python3 Scripts/check_report.py .build/report-demo/report.html --screenshot .build/report-demo/report.png

## DocC documentation for every module, written to .build/docs.
docs: deps
	$(SWIFT) package --allow-writing-to-directory .build/docs generate-documentation \
	  --output-path .build/docs --enable-experimental-combined-documentation \
	  $(foreach m,Linalg Autodiff NN MetaLearn Market Signals Regimes Portfolio Backtest Strategies MetaFolio,--target $(m))

clean:
	rm -rf .build .build-fuzz .build-asan .build-tsan .build-log.txt
