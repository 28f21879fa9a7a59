# threat-report: the two commands are `make report` and `make test`.
SWIFT ?= swift
export PATH := $(PATH):/opt/swift/usr/bin
RELEASE_BIN := .build/release/threat-report

.PHONY: report test build clean screenshot bench fuzz

## Installs what is missing, builds release, and writes the sample report into output/.
report:
	@scripts/install-deps.sh report
	$(SWIFT) build -c release --product threat-report
	$(RELEASE_BIN) report --config samples/threat-report.yml --output output --format html,md,json,sarif,junit,codequality,pdf

## Runs every test (installs the real components the tests drive when missing).
test:
	@scripts/install-deps.sh test
	$(SWIFT) build
	@# The tests' scratch folders go into one folder of this run, removed when the run ends; it is
	@# open to other users (0755) as /tmp is, since the lab's NGINX workers read files in it.
	@t=$$(mktemp -d "$${TMPDIR:-/tmp}/threat-report-tests.XXXXXX") && chmod 0755 "$$t" && trap 'rm -rf "$$t"' EXIT && TMPDIR="$$t" $(SWIFT) test

## Benchmarks against peers measured in the same run, one table (scripts/bench/bench.py):
## release build, inputs generated into .bench/, chart micro-benchmarks in Benchmarks/.
## BENCH_BIG=1 adds the 1 GB and 5 GB logs; BENCH_RUNS=N sets the runs per timing (median).
bench:
	@scripts/install-deps.sh bench
	$(SWIFT) build -c release --product threat-report
	python3 scripts/bench/bench.py

## libFuzzer runs of every parser of untrusted input, FUZZ_SECONDS each (default 600): docs/fuzzing.md
fuzz:
	scripts/fuzz.sh

build:
	$(SWIFT) build -c release --product threat-report

## Screenshot of the sample report for the README (headless Chromium).
screenshot: report
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --log-level=3 \
	  --screenshot=docs/sample-report.png --window-size=1280,3000 file://$(CURDIR)/output/report.html

clean:
	rm -rf .build .build-fuzz Benchmarks/.build .bench output/report.* output/charts
