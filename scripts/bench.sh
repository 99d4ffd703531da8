#!/usr/bin/env bash
# Runs the interpreter benchmarks and prints their medians as a table, with
# each figure also as a ratio to its reference measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench 'ExecWarm|PythonProcess$' -benchtime 200x ./interpreter/ | tee "$out"
go test -run '^$' -bench 'NewSession|PythonProcessImports' -benchtime 15x ./interpreter/ | tee -a "$out"
awk '
/^Benchmark/ {
	name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
	for (i = 2; i <= NF; i++) if ($(i+1) == "median-ms") med[name] = $i
}
END {
	ref1 = med["PythonProcess"]; ref2 = med["PythonProcessImports"]
	print ""
	print "| measurement | median | vs. reference |"
	print "|---|---|---|"
	printf "| warm `Exec` round trip of `1 + 1` | %.3f ms | %.4f× a fresh `python3 -c` |\n", med["ExecWarm"], med["ExecWarm"] / ref1
	printf "| new session to first result, pool warm | %.3f ms | %.3f× a fresh `python3 -c` |\n", med["NewSessionPooled"], med["NewSessionPooled"] / ref1
	printf "| new session to first result, cold | %.0f ms | %.2f× `python3 -c \"import numpy, pandas, matplotlib.pyplot\"` |\n", med["NewSessionCold"], med["NewSessionCold"] / ref2
	printf "| reference: fresh `python3 -c \"1 + 1\"` | %.2f ms | 1 |\n", ref1
	printf "| reference: fresh `python3 -c` with the imports | %.0f ms | 1 |\n", ref2
}' "$out"
