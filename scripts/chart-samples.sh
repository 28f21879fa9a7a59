#!/usr/bin/env bash
# Draws the chart gallery (the hard cases of Tests/ThreatChartsTests/SampleOutputTests.swift) into
# DIR for a visual check: scripts/chart-samples.sh /tmp/charts-check
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
dir="${1:?usage: scripts/chart-samples.sh DIR}"
mkdir -p "$dir"
THREAT_CHARTS_SAMPLES="$(cd "$dir" && pwd)" swift test --filter 'ThreatChartsTests.SampleOutput'
ls -l "$dir"
