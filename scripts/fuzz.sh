#!/usr/bin/env bash
# Builds the libFuzzer targets (Sources/Fuzz/*) and runs each for FUZZ_SECONDS (default 600),
# FUZZ_JOBS at a time (default 2), under `nice -n 10`. Seeds: fuzz/corpus/<target>/ (kept in git);
# the growing corpus lives in fuzz/work/<target>/ (not in git); crashes, leaks and timeouts are
# saved to fuzz/crashes/<target>-<kind>-<sha1> (move them to fuzz/crashes/fixed/ once they are
# regression tests in Tests/ThreatSourcesTests/Fixtures/fuzz/). Prints one line per target:
#   date target seconds-run executions crashes-saved-so-far
# and appends it to fuzz/runs.tsv. Exit status 1 when any target found a crash.
#
#   FUZZ_SECONDS=60 FUZZ_TARGETS="FuzzConfig FuzzPolicyYAML" scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
SECONDS_EACH="${FUZZ_SECONDS:-600}"
JOBS="${FUZZ_JOBS:-2}"
ALL="FuzzAuditLine FuzzAccessLine FuzzHubbleLine FuzzPrometheusAnswer FuzzMsearchAnswer FuzzPolicyYAML FuzzConfig FuzzErrorLine"
TARGETS="${FUZZ_TARGETS:-$ALL}"
SCRATCH="${FUZZ_SCRATCH:-.build-fuzz}"

corpus_of() {
  case "$1" in
    FuzzAuditLine) echo audit-line ;; FuzzAccessLine) echo access-line ;; FuzzHubbleLine) echo hubble-line ;;
    FuzzPrometheusAnswer) echo prometheus-answer ;; FuzzMsearchAnswer) echo msearch-answer ;;
    FuzzPolicyYAML) echo policy-yaml ;; FuzzConfig) echo config ;; FuzzErrorLine) echo error-line ;;
    *) echo "unknown fuzz target $1" >&2; exit 2 ;;
  esac
}
dict_of() { case "$1" in FuzzPolicyYAML|FuzzConfig) echo fuzz/dict/yaml.dict ;; FuzzAccessLine) echo fuzz/dict/access.dict ;; FuzzErrorLine) echo fuzz/dict/error.dict ;; *) echo fuzz/dict/json.dict ;; esac; }

# The targets are only in the package with THREAT_REPORT_FUZZ=1, and only link with the fuzzer
# runtime; they get their own scratch folder so the normal build is untouched.
for t in $TARGETS; do
  corpus_of "$t" >/dev/null
  THREAT_REPORT_FUZZ=1 nice -n 10 swift build -c debug --scratch-path "$SCRATCH" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xcc -fsanitize=fuzzer-no-link,address \
    --product "$t" 2>&1 | grep -v "Cannot export local symbol" | grep -E "error:|Build of" || true
  [ -x "$SCRATCH/debug/$t" ] || { echo "fuzz: building $t failed" >&2; exit 2; }
done

mkdir -p fuzz/crashes fuzz/logs
run_one() {
  local t="$1" c work log
  c="$(corpus_of "$t")"
  work="fuzz/work/$c"
  log="fuzz/logs/$t.log"
  mkdir -p "$work"
  local began=$(date +%s)
  # -max_len: the audit and policy inputs are larger than libFuzzer's 4 KiB default.
  # The font stack's one-time caches (the chart targets draw with Cairo) are not our leaks.
  LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0" nice -n 10 "$SCRATCH/debug/$t" "$work" "fuzz/corpus/$c" \
    -max_total_time="$SECONDS_EACH" -max_len=16384 -timeout=20 -rss_limit_mb=2048 -dict="$(dict_of "$t")" \
    -artifact_prefix="fuzz/crashes/$t-" -print_final_stats=1 -print_pcs=0 -reload=1 >"$log" 2>&1 || true
  local execs crashes ran=$(( $(date +%s) - began ))
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || echo 0)"
  crashes="$(find fuzz/crashes -maxdepth 1 -type f -name "$t-*" | wc -l)"
  printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$ran" "${execs:-0}" "$crashes" | tee -a fuzz/runs.tsv
}
export -f run_one corpus_of dict_of
export SCRATCH SECONDS_EACH
echo "# date target seconds executions crashes"
printf '%s\n' $TARGETS | xargs -P "$JOBS" -I{} bash -c 'run_one {}'
if [ -n "$(find fuzz/crashes -maxdepth 1 -type f)" ]; then
  echo "fuzz: inputs that crashed a target are in fuzz/crashes/ (logs in fuzz/logs/)" >&2
  exit 1
fi
