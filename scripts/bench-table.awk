# Prints make bench's figures as the README's table: each measurement with
# a ratio to the reference it was measured against in the same run.
/^Benchmark/ {
	name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i++) m[name, $(i+1)] = $i
}
function row(what, v, unit, ratio) { printf "| %s | %s %s | %s |\n", what, v, unit, ratio }
END {
	py = m["PythonProcess", "median-ms"]; pyi = m["PythonProcessImports", "median-ms"]
	save = m["SaveMessage", "ns/op"] / 1e6
	print ""
	print "| measurement | median | vs. reference |"
	print "|---|---|---|"
	row("warm `Exec` round trip of `1 + 1`", sprintf("%.3f", m["ExecWarm", "median-ms"]), "ms", sprintf("%.4f× a fresh `python3 -c`", m["ExecWarm", "median-ms"] / py))
	row("new session to first result, pool warm", sprintf("%.2f", m["NewSessionPooled", "median-ms"]), "ms", sprintf("%.3f× a fresh `python3 -c`", m["NewSessionPooled", "median-ms"] / py))
	row("5 threads opened back to back, each to its first result (median), pool warm", sprintf("%.1f", m["FiveThreadsBackToBack", "median-ms"]), "ms", sprintf("%.3f× a fresh `python3 -c`", m["FiveThreadsBackToBack", "median-ms"] / py))
	row("16 CPU-bound cells at once: when the median one ends", sprintf("%.0f", m["SixteenAtOnce", "median-ms"]), "ms", sprintf("%.2f× when the last one ends", m["SixteenAtOnce", "median-of-last"]))
	row("new session to first result, cold", sprintf("%.0f", m["NewSessionCold", "median-ms"]), "ms", sprintf("%.2f× `python3 -c \"import numpy, pandas, matplotlib.pyplot\"`", m["NewSessionCold", "median-ms"] / pyi))
	row("engine overhead per run step (in-process model, no code)", sprintf("%.2f", m["RunStep", "median-ms"]), "ms", sprintf("%.1f× one SQLite message write", m["RunStep", "median-ms"] / save))
	row("a run in a 5,000-message thread (Ask, in-process model)", sprintf("%.2f", m["RunInLongThread", "long-thread-ms"]), "ms", sprintf("%.2f× a run in a new thread", m["RunInLongThread", "x-fresh"]))
	row("run step through the HTTP model client", sprintf("%.2f", m["RunStepScripted", "median-ms"]), "ms", sprintf("%.2f× the in-process step", m["RunStepScripted", "median-ms"] / m["RunStep", "median-ms"]))
	row("SQLite write of one message", sprintf("%.3f", save), "ms", "")
	row("SQLite read of one message by id, 5,000 stored", sprintf("%.3f", m["Get", "ns/op"] / 1e6), "ms", sprintf("%.2f× one message write", m["Get", "ns/op"] / 1e6 / save))
	row("SQLite list of 20 messages of a 5,000-message thread", sprintf("%.3f", m["ListMessages", "ns/op"] / 1e6), "ms", sprintf("%.2f× one message write", m["ListMessages", "ns/op"] / 1e6 / save))
	row("API: create a message, 32 clients", sprintf("%.0f", m["MessageCreate", "req/s"]), "req/s", sprintf("%.2f× a bare net/http server", m["MessageCreate", "x-bare"]))
	row("API: list 20 messages, 32 clients", sprintf("%.0f", m["MessageList/limit=20", "req/s"]), "req/s", sprintf("%.2f× a bare net/http server", m["MessageList/limit=20", "x-bare"]))
	row("API: list 100 messages, 32 clients", sprintf("%.0f", m["MessageList/limit=100", "req/s"]), "req/s", sprintf("%.2f× a bare net/http server", m["MessageList/limit=100", "x-bare"]))
	row("API: streamed run of a one-sentence answer, 32 clients", sprintf("%.0f", m["RunStream", "req/s"]), "runs/s", sprintf("%.2f× streaming it from the model (raw bytes)", m["RunStream", "x-model"]))
	row("API: the same, both read with the openai-go SDK", sprintf("%.0f", m["RunStreamSDK", "req/s"]), "runs/s", sprintf("%.2f× streaming it from the model with the SDK", m["RunStreamSDK", "x-model-sdk"]))
	row("API: streamed run, the model at a hosted model's pace (first text 300 ms, a piece every 20 ms), 32 clients", sprintf("%.1f", m["RunStreamPaced", "req/s"]), "runs/s", sprintf("%.2f× streaming it from the model; first text %.1f ms later", m["RunStreamPaced", "x-model"], m["RunStreamPaced", "added-first-text-ms"]))
	row("window: a streamed token at the end of a 20,000-character answer", sprintf("%.1f", m["StreamToken", "median-ms"]), "ms", sprintf("%.0f× rendering a one-line message", m["StreamToken", "median-ms"] / m["StreamToken", "short-row-ms"]))
	row("window: first search keystroke, 1,000 threads stored, on Fyne's goroutine", sprintf("%.2f", m["SearchKeystroke", "median-ms"]), "ms", sprintf("%.3f× a 60 Hz frame (16.7 ms)", m["SearchKeystroke", "median-ms"] / 16.7))
	row("window: the same, until the matching thread is listed (nothing read yet)", sprintf("%.0f", m["SearchKeystroke", "result-ms"]), "ms", "")
	if (m["WindowStart", "median-ms"] != "") {
		row("start to a visible window, 20 threads stored", sprintf("%.0f", m["WindowStart", "median-ms"]), "ms", sprintf("%.2f× a bare Fyne window", m["WindowStart", "median-ms"] / m["WindowStart", "bare-fyne-ms"]))
		row("idle memory (RSS) of the window", sprintf("%.0f", m["WindowStart", "idle-rss-MB"]), "MB", sprintf("%.2f× a bare Fyne window", m["WindowStart", "idle-rss-MB"] / m["WindowStart", "bare-fyne-rss-MB"]))
		row("the window's own memory (anonymous, not mapped files)", sprintf("%.0f", m["WindowStart", "idle-anon-MB"]), "MB", sprintf("%.2f× a bare Fyne window", m["WindowStart", "idle-anon-MB"] / m["WindowStart", "bare-fyne-anon-MB"]))
	}
	for (t = 0; t < 2; t++) {
		j = t ? "TableJobs10M" : "TableJobs"; n = t ? "10,000,000" : "1,000,000"
		if (m[j, "bar-ms"] == "") continue
		row("`plotline chart`, grouped bar of a " n "-row CSV", sprintf("%.0f", m[j, "bar-ms"]), "ms", sprintf("%.3f× pandas + matplotlib (%.0f ms)", m[j, "bar-x"], m[j, "bar-pandas-ms"]))
		row("`plotline chart`, daily resampled line, same file", sprintf("%.0f", m[j, "line-ms"]), "ms", sprintf("%.3f× pandas + matplotlib (%.0f ms)", m[j, "line-x"], m[j, "line-pandas-ms"]))
		row("`plotline profile`, same file", sprintf("%.0f", m[j, "profile-ms"]), "ms", sprintf("%.3f× `read_csv` + `describe` (%.0f ms)", m[j, "profile-x"], m[j, "profile-pandas-ms"]))
		row("peak memory: bar / line / profile", sprintf("%.0f / %.0f / %.0f", m[j, "bar-MB"], m[j, "line-MB"], m[j, "profile-MB"]), "MB", sprintf("%.2f× / %.2f× / %.2f× pandas (%.0f / %.0f / %.0f MB)", m[j, "bar-mem-x"], m[j, "line-mem-x"], m[j, "profile-mem-x"], m[j, "bar-pandas-MB"], m[j, "line-pandas-MB"], m[j, "profile-pandas-MB"]))
		row("floor: `wc -l` / a one-pass Go sum, same file", sprintf("%.0f / %.0f", m[j, "wc-ms"], m[j, "gosum-ms"]), "ms", "")
	}
	if (m["Runtimes", "cell-x"] != "") {
		row("Starlark: warm cell round trip of `1 + 1`, through the engine's interpreter", sprintf("%.3f", m["Runtimes", "starlark-cell-ms"]), "ms", sprintf("%.2f× the Python kernel's (%.3f ms)", m["Runtimes", "cell-x"], m["Runtimes", "python-cell-ms"]))
		row("Starlark: read a 1,000,000-row CSV and group it (`table.read(…).group_by`)", sprintf("%.0f", m["Runtimes", "starlark-groupby-ms"]), "ms", sprintf("%.2f× pandas in the Python kernel (%.0f ms)", m["Runtimes", "groupby-x"], m["Runtimes", "python-groupby-ms"]))
	}
	row("reference: fresh `python3 -c \"1 + 1\"`", sprintf("%.2f", py), "ms", "1")
	row("reference: fresh `python3 -c` with the imports", sprintf("%.0f", pyi), "ms", "1")
}
