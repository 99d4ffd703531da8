#!/usr/bin/env bash
# Runs Plotline's benchmarks and prints their figures as a table, each with
# a ratio to a reference measured in the same run (these machines are
# noisy; ratios travel better than absolute times).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
bench() { go test -run '^$' "$@" | tee -a "$out"; }
bench -bench 'ExecWarm|PythonProcess$' -benchtime 200x ./interpreter/
bench -bench 'NewSession|PythonProcessImports' -benchtime 15x ./interpreter/
bench -bench 'FiveThreads|SixteenAtOnce' -benchtime 3x ./interpreter/
bench -bench 'RunStep' -benchtime 200x ./app/engine/
bench -bench 'RunInLongThread' -benchtime 100x ./app/engine/
bench -bench 'SaveMessage|ListMessages|Get$' -benchtime 2000x ./app/sqlite/
bench -bench 'Message|RunStream$|RunStreamSDK' -benchtime 3s ./app/api/
bench -bench 'RunStreamPaced' -benchtime 512x ./app/api/
bench -bench 'StreamToken' -benchtime 100x ./app/ui/
bench -bench 'SearchKeystroke' -benchtime 5x ./app/ui/
bench -bench 'TableJobs' -benchtime 1x ./app/cli/
bench -bench 'Runtimes' -benchtime 1x ./app/cli/wiring/
PLOTLINE_BENCH_ROWS=10000000 go test -run '^$' -bench 'TableJobs' -benchtime 1x ./app/cli/ | sed 's/^BenchmarkTableJobs/BenchmarkTableJobs10M/' | tee -a "$out"
bench -bench 'ReadCSV1M|Profile1M|GroupBy1M|Resample1M|Chart' ./plotting/
if command -v Xvfb >/dev/null && command -v xdotool >/dev/null; then
	bench -bench 'WindowStart' -benchtime 5x .
fi
awk -f scripts/bench-table.awk "$out"
