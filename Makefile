# threat-report: the two commands are `make report` and `make test`.
SWIFT ?= swift
export PATH := $(PATH):/opt/swift/usr/bin
RELEASE_BIN := .build/release/threat-report

.PHONY: report test build templates clean screenshot bench fuzz

## Installs what is missing, builds release, and writes the sample report into output/.
report:
	@scripts/install-deps.sh report
	$(SWIFT) build -c release --product threat-report
	$(RELEASE_BIN) report --config samples/threat-report.yml --output output --format html,md,json

## Runs every test (installs the real components the tests drive when missing).
test:
	@scripts/install-deps.sh test
	python3 scripts/embed-templates.py --check
	$(SWIFT) build
	$(SWIFT) test --no-parallel

## Benchmarks against peers measured in the same run (release build): scripts/bench/*.sh
bench:
	@scripts/install-deps.sh test
	$(SWIFT) build -c release --product threat-report
	@for b in scripts/bench/*.sh; do echo "== $$b"; $$b || exit 1; done

## libFuzzer runs of every parser of untrusted input, FUZZ_SECONDS each (default 600): docs/fuzzing.md
fuzz:
	scripts/fuzz.sh

build:
	$(SWIFT) build -c release --product threat-report

## Recompiles templates/*.mustache into the binary's built-in defaults.
templates:
	python3 scripts/embed-templates.py

## Screenshot of the sample report for the README (headless Chromium).
screenshot: report
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --log-level=3 \
	  --screenshot=docs/sample-report.png --window-size=1280,3000 file://$(CURDIR)/output/report.html

clean:
	rm -rf .build .build-fuzz output/report.* output/charts
