#!/usr/bin/env bash
# Benchmarks convlog side by side with its baselines and prints one table:
# figure, convlog, baseline, ratio, target, result.
#
#   scripts/bench.sh                   # full: 1 GB stream, 500 MB of transcripts (~10 min)
#   scripts/bench.sh --quick           # small inputs, under a minute: checks that nothing broke
#   scripts/bench.sh --out bench.tsv   # also write the table as TSV
#
# Machines are shared and noisy, so every target is a ratio to a baseline
# measured in the same run, as the median of several runs, with convlog's and
# the baseline's runs interleaved (and their order alternated) so that a slow
# minute hits both. Progress goes to stderr, the table to stdout.
#
# The exit status is 0 whatever the ratios: missing a target is a finding, not
# a breakage. It is 1 when something crashed or gave wrong output: pass-through
# that differs from the input, a session database missing lines, a baseline
# that stored the wrong number of rows.

# The figures say `cat f | …` on purpose: input from a pipe, as from an agent.
# shellcheck disable=SC2002
set -euo pipefail
export LC_ALL=C # byte-wise awk/sort/grep, and '.' in $EPOCHREALTIME

usage() {
	sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
}

quick=0
out_tsv=
while (($# > 0)); do
	case $1 in
	--quick) quick=1 ;;
	--out)
		[[ $# -ge 2 ]] || { echo "bench: --out needs a file" >&2; exit 2; }
		out_tsv=$2
		shift
		;;
	--out=*) out_tsv=${1#--out=} ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

if ((BASH_VERSINFO[0] < 5)); then
	echo "bench: needs bash 5 or later (for \$EPOCHREALTIME)" >&2
	exit 2
fi

repo=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n $out_tsv && $out_tsv != /* ]]; then
	out_tsv=$PWD/$out_tsv
fi

# Sizes and repetitions. Quick mode keeps every figure but shrinks inputs and
# repetitions; its ratios are indicative only.
if ((quick)); then
	mode=quick
	stream_size=50MB stream_label="50 MB"
	stream_runs=3
	big_base=5MB big_sizes=(16MiB) big_labels=("16 MiB")
	big_runs=1
	lat_lines=200 lat_rounds=1
	tr_size=10MB tr_files=10 tr_label="10 MB"
	agent_size=20MB agent_label="20 MB" agent_runs=1
	import_runs=1 stats_runs=2
	search_size=20MB search_files=20 search_label="20 MB" search_builds=1 search_runs=5
	start_runs=5
	sync_benchtime=1x
	team_sync_runs=1 url_runs=3
	live_updates=20 page_benchtime=1x
else
	mode=full
	stream_size=1GB stream_label="1 GB"
	stream_runs=5
	big_base=20MB big_sizes=(64MiB 100MB 200MB) big_labels=("64 MiB" "100 MB" "200 MB")
	big_runs=2
	# A round's p99 is its 20th slowest line, so one stray event of the
	# machine moves it: 50 rounds of one build, 10 KB lines, ranged from
	# 1.1x to 3.8x tee's (median 2.2x). Resampled, the median of 3 rounds
	# fell in 1.4-3.2x nine times in ten, the median of 7 in 1.7-2.7x.
	lat_lines=2000 lat_rounds=7
	tr_size=500MB tr_files=300 tr_label="500 MB"
	agent_size=200MB agent_label="200 MB" agent_runs=3
	import_runs=3 stats_runs=5
	search_size=1GB search_files=600 search_label="1 GB" search_builds=3 search_runs=15
	start_runs=20
	sync_benchtime=3x
	team_sync_runs=2 url_runs=7
	live_updates=100 page_benchtime=3x
fi
ccusage_version=20.0.24 ccusage_old_version=18.0.11

# convlog must not reach out of the run: no sync to a real database at the end
# of tee, no summary appended to a CI job, no session folder from outside.
unset TURSO_DATABASE_URL TURSO_AUTH_TOKEN CONVLOG_DIR CONVLOG_ARCHIVE CONVLOG_SUMMARY GITHUB_STEP_SUMMARY
export CONVLOG_NO_SUMMARY=1

work=$(mktemp -d "${TMPDIR:-/tmp}/convlog-bench.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_start=$EPOCHREALTIME
say() {
	local t=$((${EPOCHREALTIME/./} - ${bench_start/./}))
	printf 'bench [%4ds] %s\n' $((t / 1000000)) "$*" >&2
}

errors=0
# bad: something crashed or gave wrong output; the run goes on so that the
# other figures are still measured, and the exit status becomes 1.
bad() {
	printf 'bench: ERROR: %s\n' "$*" >&2
	errors=$((errors + 1))
}

# ---------------------------------------------------------------------------
# Small helpers: numbers are handled by awk, durations are integer µs.

table=
row() { # figure convlog baseline ratio target result
	table+=$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$@")$'\n'
}

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

maximum() {
	printf '%s\n' "$@" | sort -g | tail -n 1
}

fmt_dur() { # µs
	awk -v u="$1" 'BEGIN {
		if (u >= 1e6) printf "%.2f s", u / 1e6
		else if (u >= 1e3) printf "%.1f ms", u / 1e3
		else printf "%.0f us", u }'
}

fmt_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (b <= 0) { print "-"; exit }
		r = a / b
		if (r < 0.1) printf "%.3fx", r; else printf "%.2fx", r }'
}

fmt_mib() { # KiB
	awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'
}

# judge VALUE MAX: "pass" when VALUE <= MAX.
judge() {
	awk -v v="$1" -v m="$2" 'BEGIN { print (v + 0 <= m + 0) ? "pass" : "FAIL" }'
}

# measured RSSFILE CMD...: runs CMD, with the peak RSS of it and of every
# process it starts written to RSSFILE, in KiB: the memory they use together,
# then an upper bound (`gen peak` says how; convlog tee runs as two processes
# once a session is long). Every side of a comparison goes through it, so its
# small cost is the same on both.
measured() {
	local rss=$1
	shift
	"$gen" peak -o "$rss" "$@"
}
# rss_of RSSFILE [LINE]: the first figure, or the LINE'th.
rss_of() {
	if [[ -s $1 ]]; then sed -n "${2:-1}p" "$1" | tr -dc 0-9; fi
}

have_sqlite3=0
command -v sqlite3 >/dev/null && have_sqlite3=1

# check_session DIR LINES LABEL: DIR holds exactly one session file whose
# messages, with the lines convlog reported as not logged, are the input's
# LINES. A mismatch is wrong output. Lines not logged (convlog gives up on
# lines when its database stalls for seconds) are reported and left in
# $session_dropped: a figure measured with logging partly off cannot pass.
session_dropped=0
check_session() {
	local dir=$1 want=$2 label=$3 dbs got
	session_dropped=0
	dbs=("$dir"/*.db)
	if [[ ${#dbs[@]} -ne 1 || ! -f ${dbs[0]} ]]; then
		bad "$label: expected one session file in the session folder, found ${#dbs[@]}"
		return
	fi
	((have_sqlite3)) || return 0
	if ! got=$(sqlite3 -separator ' ' "${dbs[0]}" \
		'SELECT (SELECT count(*) FROM messages), (SELECT coalesce(sum(lines_dropped), 0) FROM sessions)'); then
		bad "$label: the session file cannot be read"
		return
	fi
	local msgs=${got% *} dropped=${got#* }
	if ((msgs + dropped != want)); then
		bad "$label: the session has $msgs messages and $dropped lines not logged; the input had $want lines"
	elif ((dropped > 0)); then
		say "$label: $dropped of $want lines were not logged (the logger fell behind)"
		session_dropped=$dropped
	fi
}

# warn_stderr FILE LABEL: with --quiet convlog prints only warnings; show them.
warn_stderr() {
	if [[ -s $1 ]]; then
		say "$2: convlog said on stderr:"
		head -n 5 "$1" | sed 's/^/    /' >&2
	fi
}

# ---------------------------------------------------------------------------
# Build and tools

bin=$work/bin
mkdir -p "$bin"
say "mode $mode; working in a temporary folder; building convlog and the workload generator"
(cd "$repo" && go build -o "$bin/convlog" . && go build -o "$bin/gen" ./scripts/gen)
convlog=$bin/convlog
gen=$bin/gen

for tool in cat tee cmp; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 1; }
done
((have_sqlite3)) || say "sqlite3 is missing: its baselines are n/a and session files are not checked"

# ccusage, the baseline for import and stats, from npm into .tools/: 20.x,
# whose package is a launcher for a native binary in a per-platform package,
# named here explicitly so that npm installs it; and 18.0.11, the last
# JavaScript one (19.x needs Node 22), for one run shown beside it.
# CONVLOG_BENCH_CCUSAGE names another ccusage to use as the baseline.
ccusage_platform() {
	local os arch
	case $(uname -s) in Linux) os=linux ;; Darwin) os=darwin ;; *) return 1 ;; esac
	case $(uname -m) in x86_64 | amd64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) return 1 ;; esac
	echo "$os-$arch"
}

# install_ccusage VERSION DIR [PACKAGE...]: installs ccusage@VERSION (and the
# packages named) into DIR unless it is there; prints why not on failure.
install_ccusage() {
	local version=$1 dir=$2 bin=$2/node_modules/.bin/ccusage
	shift 2
	if [[ -x $bin && "$("$bin" --version 2>/dev/null)" == *"$version"* ]]; then
		return 0
	fi
	if ! command -v npm >/dev/null; then
		echo "npm missing, ccusage $version not installed"
		return 1
	fi
	say "installing ccusage $version into ${dir#"$repo"/} (npm)"
	if ! npm install --prefix "$dir" --no-audit --no-fund --silent "ccusage@$version" "$@" >&2; then
		echo "npm install ccusage@$version failed"
		return 1
	fi
}

ccusage_na=
if [[ -n ${CONVLOG_BENCH_CCUSAGE:-} ]]; then
	ccusage=$CONVLOG_BENCH_CCUSAGE
	[[ -x $ccusage ]] || ccusage_na="CONVLOG_BENCH_CCUSAGE is not executable"
elif ! platform=$(ccusage_platform); then
	ccusage_na="no native ccusage $ccusage_version for $(uname -s) $(uname -m)"
else
	ccusage=$repo/.tools/ccusage$ccusage_version/node_modules/.bin/ccusage
	ccusage_na=$(install_ccusage "$ccusage_version" "$repo/.tools/ccusage$ccusage_version" "@ccusage/ccusage-$platform@$ccusage_version") || true
fi
if [[ -z $ccusage_na ]] && ! "$ccusage" --version >/dev/null 2>"$work/ccusage.err"; then
	ccusage_na="ccusage does not run: $(head -n 1 "$work/ccusage.err")"
fi
[[ -z $ccusage_na ]] || say "ccusage rows are n/a: $ccusage_na"
ccusage_old=$repo/.tools/ccusage/node_modules/.bin/ccusage
ccusage_old_na=$(install_ccusage "$ccusage_old_version" "$repo/.tools/ccusage") || true
[[ -z $ccusage_old_na ]] || say "the ccusage $ccusage_old_version row is n/a: $ccusage_old_na"

# ---------------------------------------------------------------------------
# Inputs

in=$work/in
mkdir -p "$in"
stream=$in/stream.jsonl
say "generating the $stream_label stream"
"$gen" stream -size "$stream_size" -seed 1 >"$stream"
stream_bytes=$(wc -c <"$stream")
stream_lines=$(wc -l <"$stream")
# The baselines count lines by '\n' and sqlite3 splits fields at \x1f: the
# stream must end with a newline and hold no \x1f.
[[ $(tail -c 1 "$stream" | od -An -c | tr -d ' ') == '\n' ]] || bad "the generated stream does not end with a newline"
if grep -q $'\x1f' "$stream"; then
	bad "the generated stream holds a \\x1f byte: the sqlite3 .import baseline would split lines"
fi

ten=$in/ten.jsonl
head -n 10 "$stream" >"$ten"

projects=$work/claude/projects
say "generating $tr_label of transcripts in $tr_files files"
"$gen" transcripts -size "$tr_size" -files "$tr_files" -seed 1 -out "$projects"

# ---------------------------------------------------------------------------
# Throughput on the stream: convlog tee (logging on) next to tee, and next to
# sqlite3 .import of the same lines into one column, which stores each line
# but parses nothing.

# .mode ascii splits fields at \x1f and rows at \n only, with no quoting, so
# each line, commas and quotes included, is one field. The table is created
# before the clock starts: only the import is timed.
import_sql=$work/import.sql
printf '.mode ascii\n.separator "\\037" "\\n"\n.import %s lines\n' "$stream" >"$import_sql"

tee_us=() convlog_us=() sqlite_us=() rss_stream=() rss_stream_upper=() stream_lossy=0

run_tee_baseline() {
	local t0=$EPOCHREALTIME
	if ! cat "$stream" | measured "$work/rss" tee /dev/null >/dev/null; then
		bad "tee failed on the stream"
		return
	fi
	local t1=$EPOCHREALTIME
	tee_us+=($((${t1/./} - ${t0/./})))
}

run_convlog_tee() {
	local r=$1 dir=$work/sessions/stream-$1 t0 t1
	t0=$EPOCHREALTIME
	if ! cat "$stream" | measured "$work/rss" "$convlog" tee --quiet --dir "$dir" >/dev/null 2>"$work/tee.err"; then
		bad "convlog tee failed on the stream (run $r)"
		warn_stderr "$work/tee.err" "stream run $r"
		return
	fi
	t1=$EPOCHREALTIME
	convlog_us+=($((${t1/./} - ${t0/./})))
	rss_stream+=("$(rss_of "$work/rss")") rss_stream_upper+=("$(rss_of "$work/rss" 2)")
	warn_stderr "$work/tee.err" "stream run $r"
	check_session "$dir" "$stream_lines" "stream run $r"
	((session_dropped == 0)) || stream_lossy=$((stream_lossy + 1))
	local dbs=("$dir"/*.db)
	[[ ! -f ${dbs[0]} ]] || session_file_bytes=$(wc -c <"${dbs[0]}")
	rm -rf "$dir"
}

run_sqlite_import() {
	local r=$1 db=$work/import.db t0 t1 got
	rm -f "$db"
	sqlite3 "$db" 'CREATE TABLE lines(line TEXT)'
	t0=$EPOCHREALTIME
	if ! measured "$work/rss" sqlite3 "$db" <"$import_sql" >"$work/sqlite.out" 2>&1; then
		bad "sqlite3 .import failed: $(head -n 1 "$work/sqlite.out")"
		return
	fi
	t1=$EPOCHREALTIME
	sqlite_us+=($((${t1/./} - ${t0/./})))
	# Every line a row, every byte stored (checked fully once: it reads the
	# whole table).
	if ((r == 1)); then
		got=$(sqlite3 "$db" 'SELECT count(*) || " " || (sum(length(CAST(line AS BLOB))) + count(*)) FROM lines')
		[[ $got == "$stream_lines $stream_bytes" ]] ||
			bad "sqlite3 .import stored rows/bytes $got, the stream has $stream_lines lines, $stream_bytes bytes"
	else
		got=$(sqlite3 "$db" 'SELECT count(*) FROM lines')
		[[ $got == "$stream_lines" ]] || bad "sqlite3 .import stored $got rows, the stream has $stream_lines lines"
	fi
	rm -f "$db"
}

# What the disk under the session files allows. A session file holds each
# line twice over where a tool's output is concerned (raw_message and
# tool_output), and convlog's commits must reach the disk, so writing the
# file once at the disk's speed is the least time any tee that keeps it can
# take: dd of as many bytes with fdatasync, the way a checkpoint writes, in
# the same folder. The disk's speed swings by several times within an hour
# (the host's cache), so it is measured in every round, next to the runs it
# judges, and the medians are compared.
floor_us=()
run_disk_floor() {
	[[ -n ${session_file_bytes:-} ]] || return 0
	local mib=$(((session_file_bytes + (1 << 20) - 1) >> 20)) t0 t1
	mkdir -p "$work/sessions"
	t0=$EPOCHREALTIME
	if ! dd if=/dev/zero of="$work/sessions/dd.bin" bs=1M count="$mib" conv=fdatasync 2>"$work/dd.err"; then
		say "dd failed: $(head -n 1 "$work/dd.err")"
		rm -f "$work/sessions/dd.bin"
		return
	fi
	t1=$EPOCHREALTIME
	floor_us+=($((${t1/./} - ${t0/./})))
	rm -f "$work/sessions/dd.bin"
}

for ((r = 1; r <= stream_runs; r++)); do
	say "stream round $r/$stream_runs: tee, convlog tee, the disk's speed (dd)$( ((have_sqlite3 == 0)) || echo ', sqlite3 .import')"
	# Alternate the order so that neither side always runs right after the
	# other. dd writes as many bytes as the last session file had.
	if ((r % 2)); then
		run_tee_baseline
		run_convlog_tee "$r"
		run_disk_floor
		if ((have_sqlite3)); then run_sqlite_import "$r"; fi
	else
		if ((have_sqlite3)); then run_sqlite_import "$r"; fi
		run_disk_floor
		run_convlog_tee "$r"
		run_tee_baseline
	fi
done

# One more run whose output is compared with the input byte for byte (the
# timed runs write to /dev/null, as the figure says, so that cmp's own work
# does not weigh on them).
say "stream: checking convlog tee's output against its input"
if cat "$stream" | measured "$work/rss" "$convlog" tee --quiet --dir "$work/sessions/stream-cmp" 2>"$work/tee.err" |
	cmp -s - "$stream"; then
	rss_stream+=("$(rss_of "$work/rss")") rss_stream_upper+=("$(rss_of "$work/rss" 2)")
	check_session "$work/sessions/stream-cmp" "$stream_lines" "stream cmp run"
else
	bad "convlog tee's output differs from its input on the $stream_label stream"
fi
warn_stderr "$work/tee.err" "stream cmp run"
rm -rf "$work/sessions/stream-cmp"

stream_verdict() { # a figure whose runs lost lines cannot pass
	if ((stream_lossy == 0)); then
		echo "$1"
	else
		echo "FAIL (lines not logged in $stream_lossy of ${#convlog_us[@]} runs)"
	fi
}

if ((${#convlog_us[@]} > 0 && ${#tee_us[@]} > 0)); then
	c=$(median "${convlog_us[@]}")
	t=$(median "${tee_us[@]}")
	cl="$(fmt_dur "$c") ($(awk -v b="$stream_bytes" -v u="$c" 'BEGIN { printf "%.0f MB/s", b / u }'))"
	ratio=$(awk -v a="$c" -v b="$t" 'BEGIN { print a / b }')
	row "tee, $stream_label stream: wall time" "$cl" "tee $(fmt_dur "$t")" "$(fmt_ratio "$c" "$t")" "<= 8x" \
		"$(stream_verdict "$(judge "$ratio" 8)")"
	if ((${#floor_us[@]} > 0)); then
		f=$(median "${floor_us[@]}")
		ratio=$(awk -v a="$c" -v b="$f" 'BEGIN { print a / b }')
		row "tee, $stream_label stream: wall time" "$cl" \
			"its $(awk -v b="${session_file_bytes:-0}" 'BEGIN { printf "%.2f GB", b / 1e9 }') session file written once at disk speed (dd, fdatasync) $(fmt_dur "$f")" \
			"$(fmt_ratio "$c" "$f")" "<= 1.25x" "$(stream_verdict "$(judge "$ratio" 1.25)")"
	else
		row "tee, $stream_label stream: wall time" "$cl" "n/a (dd failed)" "-" "<= 1.25x" "n/a"
	fi
	# Not a target: sqlite3 storing the lines in one column parses nothing
	# and writes each line once, below the disk floor on this kind of
	# machine.
	if ((${#sqlite_us[@]} > 0)); then
		s=$(median "${sqlite_us[@]}")
		row "tee, $stream_label stream: wall time" "$cl" "sqlite3 .import $(fmt_dur "$s")" "$(fmt_ratio "$c" "$s")" "-" "(info)"
	else
		row "tee, $stream_label stream: wall time" "$cl" "n/a (sqlite3 missing)" "-" "-" "(info)"
	fi
else
	row "tee, $stream_label stream: wall time" "error" "-" "-" "<= 8x" "error"
fi

# ---------------------------------------------------------------------------
# The other agents' streams: the same figure, convlog tee next to tee, on a
# stream of each agent's shape (gen agent). Each stream is checked once byte
# for byte through convlog tee, and its session must hold every line and
# tool calls of that agent.

for agent in gemini codex cursor opencode; do
	astream=$in/agent-$agent.jsonl
	say "$agent: generating a $agent_label stream"
	"$gen" agent -agent "$agent" -size "$agent_size" -seed 1 >"$astream"
	a_bytes=$(wc -c <"$astream")
	a_lines=$(wc -l <"$astream")
	a_tee=() a_convlog=() a_lossy=0
	for ((r = 1; r <= agent_runs; r++)); do
		say "$agent round $r/$agent_runs: tee, convlog tee"
		for side in tee convlog; do
			# Alternate the order, as for the Claude Code stream.
			if ((r % 2 == 0)); then side=$([[ $side == tee ]] && echo convlog || echo tee); fi
			dir=$work/sessions/agent-$agent-$r
			t0=$EPOCHREALTIME
			if [[ $side == tee ]]; then
				cat "$astream" | tee /dev/null >/dev/null || { bad "tee failed on the $agent stream"; continue; }
				t1=$EPOCHREALTIME
				a_tee+=($((${t1/./} - ${t0/./})))
			else
				if ! cat "$astream" | "$convlog" tee --quiet --dir "$dir" >/dev/null 2>"$work/tee.err"; then
					bad "convlog tee failed on the $agent stream (run $r)"
					warn_stderr "$work/tee.err" "$agent run $r"
					continue
				fi
				t1=$EPOCHREALTIME
				a_convlog+=($((${t1/./} - ${t0/./})))
				warn_stderr "$work/tee.err" "$agent run $r"
				check_session "$dir" "$a_lines" "$agent run $r"
				((session_dropped == 0)) || a_lossy=$((a_lossy + 1))
				rm -rf "$dir"
			fi
		done
	done
	say "$agent: checking convlog tee's output against its input"
	dir=$work/sessions/agent-$agent-cmp
	if cat "$astream" | "$convlog" tee --quiet --dir "$dir" 2>"$work/tee.err" | cmp -s - "$astream"; then
		check_session "$dir" "$a_lines" "$agent cmp run"
		if ((have_sqlite3)); then
			got=$(sqlite3 "$dir"/*.db "SELECT agent || ' ' || (SELECT count(*) FROM tool_calls) || ' ' || (SELECT count(*) FROM tool_calls WHERE status = 'pending') FROM sessions")
			read -r a_name a_calls a_pending <<<"$got"
			want_name=$agent
			case $agent in gemini) want_name=gemini-cli ;; esac
			if [[ $a_name != "$want_name" || ${a_calls:-0} -eq 0 || ${a_pending:-1} -ne 0 ]]; then
				bad "$agent stream: session says agent ${a_name:-none}, ${a_calls:-0} tool calls, ${a_pending:-?} pending"
			fi
		fi
	else
		bad "convlog tee's output differs from its input on the $agent stream"
	fi
	warn_stderr "$work/tee.err" "$agent cmp run"
	rm -rf "$dir" "$astream"
	if ((${#a_convlog[@]} > 0 && ${#a_tee[@]} > 0)); then
		c=$(median "${a_convlog[@]}")
		t=$(median "${a_tee[@]}")
		verdict=$(judge "$(awk -v a="$c" -v b="$t" 'BEGIN { print a / b }')" 8)
		((a_lossy == 0)) || verdict="FAIL (lines not logged in $a_lossy of ${#a_convlog[@]} runs)"
		row "tee, $agent_label $agent stream: wall time" \
			"$(fmt_dur "$c") ($(awk -v b="$a_bytes" -v u="$c" 'BEGIN { printf "%.0f MB/s", b / u }'))" \
			"tee $(fmt_dur "$t")" "$(fmt_ratio "$c" "$t")" "<= 8x" "$verdict"
	else
		row "tee, $agent_label $agent stream: wall time" "error" "-" "-" "<= 8x" "error"
	fi
done

# ---------------------------------------------------------------------------
# Latency: one line per ms, each stamped with its send time, through tee and
# through convlog tee; gen measure reads the far end. The lines carry times,
# so their bytes differ run to run: the check is that every line arrives and
# is logged. On 10 KB lines, whose padding is a text that the narration
# tells (200 B lines have none), convlog tee runs a second time with
# --progress and its stderr a pipe that nobody reads (a FIFO this shell holds
# open and never reads, half full from the start): the pipe fills within the
# first lines, and the pass-through must not notice.

declare -A lat_p50 lat_p99
lat_run() { # side size round
	local side=$1 size=$2 r=$3 res n p50 p99 hold dir=$work/sessions/lat-$1-$2-$3
	local -a src=("$gen" latency -lines "$lat_lines" -interval 1ms -line-size "$size" -warmup 500ms -seed "$r")
	if [[ $side == tee ]]; then
		"${src[@]}" | tee /dev/null | "$gen" measure >"$work/lat.json" 2>"$work/lat.err" || {
			bad "latency through tee ($size B lines) failed: $(head -n 1 "$work/lat.err")"
			return
		}
	elif [[ $side == progress ]]; then
		local fifo=$work/stderr-$size-$r.fifo
		mkfifo "$fifo"
		exec {hold}<>"$fifo"
		# Half full already, as after a long session: the narration fills
		# the rest within the first lines, quick mode's 200 too.
		head -c 32768 /dev/zero | tr '\0' . >&"$hold"
		"${src[@]}" | "$convlog" tee --quiet --progress --dir "$dir" 2>"$fifo" | "$gen" measure >"$work/lat.json" 2>"$work/lat.err" || {
			bad "latency through convlog tee --progress ($size B lines) failed: $(head -n 1 "$work/lat.err")"
			exec {hold}>&-
			rm -f "$fifo"
			return
		}
		# What is in the pipe, read without waiting: the narration must have
		# filled it, and said so.
		if ! dd if="$fifo" iflag=nonblock bs=65536 count=1 2>/dev/null | grep -q 'progress lines dropped'; then
			bad "latency --progress $size B round $r: the narration did not fill stderr (no dropped lines reported)"
		fi
		exec {hold}>&-
		rm -f "$fifo"
		check_session "$dir" $((lat_lines + 2)) "latency --progress $size B round $r"
		rm -rf "$dir"
	else
		"${src[@]}" | "$convlog" tee --quiet --dir "$dir" 2>"$work/tee.err" | "$gen" measure >"$work/lat.json" 2>"$work/lat.err" || {
			bad "latency through convlog tee ($size B lines) failed: $(head -n 1 "$work/lat.err")"
			warn_stderr "$work/tee.err" "latency $size B"
			return
		}
		warn_stderr "$work/tee.err" "latency $size B"
		# The timed lines, the init line and the result line.
		check_session "$dir" $((lat_lines + 2)) "latency $size B round $r"
		rm -rf "$dir"
	fi
	res=$(sed -E 's/.*"lines":([0-9]+).*"p50_us":([0-9.]+).*"p99_us":([0-9.]+).*/\1 \2 \3/' "$work/lat.json")
	read -r n p50 p99 <<<"$res"
	if [[ $n != "$lat_lines" ]]; then
		bad "latency through $side ($size B lines): $n of $lat_lines lines arrived"
		return
	fi
	lat_p50[$side,$size]+=" $p50"
	lat_p99[$side,$size]+=" $p99"
}

# The sides take turns at going first.
for ((r = 1; r <= lat_rounds; r++)); do
	for size in 200 10000; do
		sides=(tee convlog)
		((size == 200)) || sides+=(progress)
		say "latency round $r/$lat_rounds, $size B lines: $lat_lines lines at 1/ms through ${sides[*]}"
		for ((i = 0; i < ${#sides[@]}; i++)); do
			lat_run "${sides[(r + i) % ${#sides[@]}]}" "$size" "$r"
		done
	done
done

for size in 200 10000; do
	label="200 B"
	[[ $size == 200 ]] || label="10 KB"
	fig="latency p50/p99, $label lines at 1/ms"
	if [[ -z ${lat_p99[convlog,$size]:-} || -z ${lat_p99[tee,$size]:-} ]]; then
		row "$fig" "error" "-" "-" "p99 <= 2x" "error"
		continue
	fi
	# shellcheck disable=SC2086 # word splitting of the collected values is meant
	{
		c50=$(median ${lat_p50[convlog,$size]})
		c99=$(median ${lat_p99[convlog,$size]})
		t50=$(median ${lat_p50[tee,$size]})
		t99=$(median ${lat_p99[tee,$size]})
	}
	ratio=$(awk -v a="$c99" -v b="$t99" 'BEGIN { print a / b }')
	row "$fig" "$(fmt_dur "$c50") / $(fmt_dur "$c99")" "tee $(fmt_dur "$t50") / $(fmt_dur "$t99")" \
		"$(fmt_ratio "$c99" "$t99")" "p99 <= 2x" "$(judge "$ratio" 2)"

	((size != 200)) || continue
	fig="latency p50/p99, $label lines at 1/ms, --progress to a stderr nobody reads"
	if [[ -z ${lat_p99[progress,$size]:-} ]]; then
		row "$fig" "error" "-" "-" "p99 <= 1.5x" "error"
		continue
	fi
	# shellcheck disable=SC2086
	{
		p50=$(median ${lat_p50[progress,$size]})
		p99=$(median ${lat_p99[progress,$size]})
	}
	ratio=$(awk -v a="$p99" -v b="$c99" 'BEGIN { print a / b }')
	row "$fig" "$(fmt_dur "$p50") / $(fmt_dur "$p99")" "without $(fmt_dur "$c50") / $(fmt_dur "$c99")" \
		"$(fmt_ratio "$p99" "$c99")" "p99 <= 1.5x" "$(judge "$ratio" 1.5)"
done

# ---------------------------------------------------------------------------
# Peak RSS: the stream runs above, and streams with one very long line
# each, of 64 MiB, 100 MB and 200 MB (16 MiB with --quick), each run's
# output compared with its input.

if ((${#rss_stream[@]} > 0)); then
	k=$(maximum "${rss_stream[@]}")
	row "peak RSS, $stream_label stream" "$(fmt_mib "$k") (at most $(fmt_mib "$(maximum "${rss_stream_upper[@]}")"))" "-" "-" "<= 100 MiB" "$(judge "$k" $((100 * 1024)))"
else
	row "peak RSS, $stream_label stream" "error" "-" "-" "<= 100 MiB" "error"
fi

# One stream per size of line, each made, run and removed in turn.
big=$in/bigline.jsonl
for i in "${!big_sizes[@]}"; do
	big_label=${big_labels[i]}
	say "generating a stream with one $big_label line"
	"$gen" stream -size "$big_base" -seed 2 -big-line "${big_sizes[i]}" >"$big"
	big_lines=$(wc -l <"$big")
	big_longest=$("$gen" longest "$big")
	rss_big=() rss_big_upper=()
	for ((r = 1; r <= big_runs; r++)); do
		say "one $big_label line, run $r/$big_runs: peak RSS, output compared with the input"
		dir=$work/sessions/big-$r
		if cat "$big" | measured "$work/rss" "$convlog" tee --quiet --dir "$dir" 2>"$work/tee.err" | cmp -s - "$big"; then
			rss_big+=("$(rss_of "$work/rss")") rss_big_upper+=("$(rss_of "$work/rss" 2)")
			check_session "$dir" "$big_lines" "$big_label line run $r"
		else
			bad "convlog tee's output differs from its input on the stream with one $big_label line"
		fi
		warn_stderr "$work/tee.err" "$big_label line run $r"
		rm -rf "$dir"
	done
	rm -f "$big"
	limit_kib=$(((3 * big_longest + 64 * 1024 * 1024) / 1024))
	if ((${#rss_big[@]} > 0)); then
		k=$(maximum "${rss_big[@]}")
		row "peak RSS, one $big_label line" "$(fmt_mib "$k") (at most $(fmt_mib "$(maximum "${rss_big_upper[@]}")"))" "-" "$(fmt_ratio "$k" "$((big_longest / 1024))") line" \
			"<= $(fmt_mib "$limit_kib") (3x line + 64 MiB)" "$(judge "$k" "$limit_kib")"
	else
		row "peak RSS, one $big_label line" "error" "-" "-" "<= $(fmt_mib "$limit_kib")" "error"
	fi
done

# ---------------------------------------------------------------------------
# "What did I spend?" over a folder of Claude Code transcripts. ccusage
# answers from the transcripts; convlog imports them, then answers with
# stats (the first one brings its archive of all sessions up to date). The
# first answer is the two together; asking again is stats alone. Each round
# runs ccusage and a fresh import with its first stats (into a new session
# folder and archive), in alternating order; the peak RSS of ccusage and of
# the import is taken in the same runs. Every convlog answer must have
# ccusage's tokens, model by model (gen usage); costs may differ where
# ccusage prices requests over 200k input tokens otherwise (shown on stderr).

ccusage_us=() ccusage_rss=() import_us=() first_us=() import_rss=()
import_dir= import_archive=

run_ccusage() {
	local t0 t1
	t0=$EPOCHREALTIME
	if ! CLAUDE_CONFIG_DIR=$work/claude measured "$work/rss" "$ccusage" daily --offline --json >"$work/ccusage.json" 2>"$work/ccusage.err"; then
		ccusage_na="ccusage failed: $(head -n 1 "$work/ccusage.err")"
		say "$ccusage_na"
		return
	fi
	t1=$EPOCHREALTIME
	# It must have read the data: days with a cost, not an empty report.
	if ! grep -q '"totalCost"' "$work/ccusage.json" || ! grep -q '"modelBreakdowns"' "$work/ccusage.json"; then
		ccusage_na="ccusage found no usage in the transcripts"
		say "$ccusage_na"
		return
	fi
	ccusage_us+=($((${t1/./} - ${t0/./})))
	ccusage_rss+=("$(rss_of "$work/rss")")
}

# check_tokens LABEL STATS.json: convlog's tokens by model must be ccusage's.
tokens_checked=0 tokens_bad=0
check_tokens() {
	[[ -z $ccusage_na && -s $work/ccusage.json ]] || return 0
	tokens_checked=$((tokens_checked + 1))
	if ! "$gen" usage "$work/ccusage.json" "$2" >"$work/usage.out" 2>&1; then
		tokens_bad=$((tokens_bad + 1))
		bad "$1: convlog's tokens differ from ccusage $ccusage_version's:"
		sed 's/^/    /' "$work/usage.out" >&2
	elif [[ ! -s $work/usage.cmp ]]; then
		cp "$work/usage.out" "$work/usage.cmp"
	fi
}

run_first_answer() {
	local r=$1 dir=$work/sessions/import-$1 arch=$work/archive-$1.db t0 t1 t2 n
	[[ -z $import_dir ]] || rm -rf "$import_dir" "$import_archive"
	t0=$EPOCHREALTIME
	if ! measured "$work/rss" "$convlog" import --dir "$dir" "$projects" >"$work/import.out" 2>"$work/import.err"; then
		bad "convlog import failed: $(head -n 3 "$work/import.err" | tr '\n' ' ')"
		return
	fi
	t1=$EPOCHREALTIME
	if ! "$convlog" stats --dir "$dir" --archive "$arch" --json >"$work/stats.json" 2>"$work/stats.err"; then
		bad "convlog stats failed: $(head -n 1 "$work/stats.err")"
		return
	fi
	t2=$EPOCHREALTIME
	import_us+=($((${t1/./} - ${t0/./})))
	first_us+=($((${t2/./} - ${t1/./})))
	import_rss+=("$(rss_of "$work/rss")")
	import_dir=$dir import_archive=$arch
	n=$(find "$dir" -name '*.db' | wc -l)
	if ((n != tr_files)) || ! grep -q ' 0 failed' "$work/import.out"; then
		bad "convlog import made $n session files from $tr_files transcripts: $(head -n 1 "$work/import.out")"
	fi
	check_tokens "first stats after import round $r" "$work/stats.json"
}

for ((r = 1; r <= import_runs; r++)); do
	say "first answer round $r/$import_runs: ccusage $ccusage_version daily, and convlog import then stats, on $tr_label of transcripts"
	if ((r % 2)); then
		run_first_answer "$r"
		[[ -n $ccusage_na ]] || run_ccusage
	else
		[[ -n $ccusage_na ]] || run_ccusage
		run_first_answer "$r"
	fi
done

# Asking again: stats over the last import, interleaved with more ccusage
# runs, each checked like the first.
stats_us=()
if [[ -n $import_dir ]]; then
	for ((r = 1; r <= stats_runs; r++)); do
		say "stats again, run $r/$stats_runs$([[ -n $ccusage_na ]] || echo ", and ccusage $ccusage_version")"
		t0=$EPOCHREALTIME
		if ! "$convlog" stats --dir "$import_dir" --archive "$import_archive" --json >"$work/stats.json" 2>"$work/stats.err"; then
			bad "convlog stats failed: $(head -n 1 "$work/stats.err")"
			break
		fi
		t1=$EPOCHREALTIME
		stats_us+=($((${t1/./} - ${t0/./})))
		((r > 1)) || check_tokens "stats asked again" "$work/stats.json"
		[[ -n $ccusage_na ]] || run_ccusage
	done
fi

cc=
if [[ -z $ccusage_na && ${#ccusage_us[@]} -gt 0 ]]; then
	cc=$(median "${ccusage_us[@]}")
fi
ccl="ccusage $ccusage_version $([[ -z $cc ]] || fmt_dur "$cc")"
fig="first answer: import of $tr_label of transcripts ($tr_files files), then stats"
if ((${#first_us[@]} == 0)); then
	row "$fig" "error" "-" "-" "<= 2x" "error"
else
	answers=()
	for i in "${!import_us[@]}"; do answers+=($((import_us[i] + first_us[i]))); done
	c=$(median "${answers[@]}")
	cl="$(fmt_dur "$c") (import $(fmt_dur "$(median "${import_us[@]}")") + stats $(fmt_dur "$(median "${first_us[@]}")"))"
	if [[ -z $cc ]]; then
		row "$fig" "$cl" "n/a ($ccusage_na)" "-" "<= 2x" "n/a"
	else
		row "$fig" "$cl" "$ccl" "$(fmt_ratio "$c" "$cc")" "<= 2x" "$(judge "$(awk -v a="$c" -v b="$cc" 'BEGIN { print a / b }')" 2)"
	fi
	# Not a target: the answer of the last JavaScript ccusage, one run.
	if [[ -z $ccusage_old_na && -n $cc ]]; then
		say "ccusage $ccusage_old_version daily, one run"
		t0=$EPOCHREALTIME
		if CLAUDE_CONFIG_DIR=$work/claude "$ccusage_old" daily --offline --json >"$work/ccusage-old.json" 2>/dev/null; then
			t1=$EPOCHREALTIME
			o=$((${t1/./} - ${t0/./}))
			row "$fig" "$(fmt_dur "$c")" "ccusage $ccusage_old_version $(fmt_dur "$o")" "$(fmt_ratio "$c" "$o")" "-" "(info)"
		fi
	fi
fi

fig="stats asked again"
if ((${#stats_us[@]} == 0)); then
	row "$fig" "error" "-" "-" "<= 0.1x" "error"
elif [[ -z $cc ]]; then
	row "$fig" "$(fmt_dur "$(median "${stats_us[@]}")")" "n/a ($ccusage_na)" "-" "<= 0.1x" "n/a"
else
	s=$(median "${stats_us[@]}")
	row "$fig" "$(fmt_dur "$s")" "$ccl" "$(fmt_ratio "$s" "$cc")" "<= 0.1x" "$(judge "$(awk -v a="$s" -v b="$cc" 'BEGIN { print a / b }')" 0.1)"
fi

fig="peak RSS, import of $tr_label of transcripts"
if ((${#import_rss[@]} == 0)); then
	row "$fig" "error" "-" "-" "<= 1x" "error"
elif [[ -z $cc ]]; then
	row "$fig" "$(fmt_mib "$(median "${import_rss[@]}")")" "n/a ($ccusage_na)" "-" "<= 1x" "n/a"
else
	k=$(median "${import_rss[@]}") kc=$(median "${ccusage_rss[@]}")
	row "$fig" "$(fmt_mib "$k")" "ccusage $ccusage_version $(fmt_mib "$kc")" "$(fmt_ratio "$k" "$kc")" "<= 1x" "$(judge "$k" "$kc")"
fi

fig="tokens by model in every stats answer"
if ((tokens_checked == 0)); then
	row "$fig" "n/a" "n/a ($ccusage_na)" "-" "equal" "n/a"
elif ((tokens_bad > 0)); then
	row "$fig" "$tokens_bad of $tokens_checked answers differ" "ccusage $ccusage_version" "-" "equal" "FAIL"
else
	row "$fig" "$tokens_checked answers, $(wc -l <"$work/usage.cmp" | tr -d ' ') models" "ccusage $ccusage_version" "-" "equal" "pass"
	say "tokens and cost by model, ccusage $ccusage_version and convlog (costs differ where requests of more than 200k input tokens are priced otherwise):"
	sed 's/^/    /' "$work/usage.cmp" >&2
fi

# ---------------------------------------------------------------------------
# Search: 1 GB of sessions (generated transcripts, imported), searched with
# `convlog search WORD` (its first 20 hits) next to rg over the same
# transcripts' JSONL, for a word of middling frequency and a common one.
#
# The archive is built from nothing by the first search (update, index and
# search), next to the same update by a convlog linked without the index
# (archive.withoutSearch), their runs interleaved. The first search after
# the last build is the cold one; the warm runs follow, interleaved with
# rg's. The index's size is what `convlog search --reindex` reports.

search_words=(flaky migration)
rg_na=
command -v rg >/dev/null || rg_na="rg missing: apt-get install ripgrep"
fig_build="search index: time added to the archive update, $search_label of sessions"
fig_size="search index: size, next to the text it indexes"
if ! "$convlog" search --help >/dev/null 2>&1; then
	row "$fig_build" "n/a (command missing)" "-" "-" "<= 0.5x" "n/a"
else
	sdir=$work/search
	say "search: generating $search_label of transcripts in $search_files files, importing them"
	"$gen" transcripts -size "$search_size" -files "$search_files" -seed 3 -out "$sdir/projects"
	if ! "$convlog" import --dir "$sdir/sessions" "$sdir/projects" >"$work/search-import.out" 2>&1; then
		bad "convlog import of the search sessions failed: $(head -n 1 "$work/search-import.out")"
	fi
	sarch=$sdir/convlog.db
	noindex=$bin/convlog-noindex
	(cd "$repo" && go build -ldflags "-X github.com/convlog/convlog/archive.withoutSearch=1" -o "$noindex" .)
	with_us=() alone_us=()
	build_with() {
		local t0 t1
		rm -f "$sarch" "$sarch-wal" "$sarch-shm"
		t0=$EPOCHREALTIME
		if ! "$convlog" search --dir "$sdir/sessions" --archive "$sarch" "${search_words[0]}" >"$work/search.out" 2>"$work/search.err"; then
			bad "the first convlog search failed: $(head -n 1 "$work/search.err")"
			return
		fi
		t1=$EPOCHREALTIME
		[[ -s $work/search.out ]] || bad "the first convlog search found nothing"
		with_us+=($((${t1/./} - ${t0/./})))
	}
	build_alone() {
		local t0 t1
		rm -f "$sarch" "$sarch-wal" "$sarch-shm"
		t0=$EPOCHREALTIME
		if ! "$noindex" sql --dir "$sdir/sessions" --archive "$sarch" "SELECT count(*) FROM messages" >/dev/null 2>"$work/search.err"; then
			bad "the archive update without the index failed: $(head -n 1 "$work/search.err")"
			return
		fi
		t1=$EPOCHREALTIME
		alone_us+=($((${t1/./} - ${t0/./})))
	}
	for ((r = 1; r <= search_builds; r++)); do
		say "search: build $r/$search_builds: the archive without its index, and with it"
		if ((r % 2)); then build_alone; build_with; else build_with; build_alone; fi
	done
	# The last build must be one with the index, for the searches below.
	((search_builds % 2)) || build_with
	if ((${#with_us[@]} == 0 || ${#alone_us[@]} == 0)); then
		row "$fig_build" "error" "-" "-" "<= 0.5x" "error"
	else
		f=$(median "${with_us[@]}")
		u=$(median "${alone_us[@]}")
		i=$(awk -v f="$f" -v u="$u" 'BEGIN { printf "%.0f", f - u }')
		row "$fig_build" "$(fmt_dur "$i") (update with it $(fmt_dur "$f"))" "update alone $(fmt_dur "$u")" \
			"$(fmt_ratio "$i" "$u")" "<= 0.5x" "$(judge "$(awk -v a="$i" -v b="$u" 'BEGIN { print a / b }')" 0.5)"
	fi
	idx_line=
	if "$convlog" search --reindex --dir "$sdir/sessions" --archive "$sarch" 2>"$work/search.err"; then
		idx_line=$(cat "$work/search.err")
	else
		bad "convlog search --reindex failed: $(head -n 1 "$work/search.err")"
	fi
	# "…: 25840 documents, 32.1 MB of text, an index of 16.3 MB (51% of the text)."
	if [[ $idx_line =~ ([0-9.]+)\ MB\ of\ text,\ an\ index\ of\ ([0-9.]+)\ MB ]]; then
		text_mb=${BASH_REMATCH[1]} index_mb=${BASH_REMATCH[2]}
		ratio=$(awk -v a="$index_mb" -v b="$text_mb" 'BEGIN { print a / b }')
		row "$fig_size" "$index_mb MB" "$text_mb MB of text" "$(fmt_ratio "$index_mb" "$text_mb")" "<= 0.6x" "$(judge "$ratio" 0.6)"
	elif [[ -n $idx_line ]]; then
		bad "convlog search --reindex did not give the index's size: $idx_line"
	fi

	for word in "${search_words[@]}"; do
		docs=$("$convlog" sql --dir "$sdir/sessions" --archive "$sarch" \
			"SELECT count(*) FROM search_fts WHERE search_fts MATCH 'body : \"$word\"'" 2>/dev/null | tail -n 1)
		fig="search \"$word\" ($docs documents), first 20 hits"
		cold= warm_us=() rg_us=()
		run_search() {
			local t0 t1
			t0=$EPOCHREALTIME
			if ! "$convlog" search --dir "$sdir/sessions" --archive "$sarch" "$word" >"$work/search.out" 2>"$work/search.err"; then
				bad "convlog search $word failed: $(head -n 1 "$work/search.err")"
				return
			fi
			t1=$EPOCHREALTIME
			(($(grep -c '^    #' "$work/search.out") == (docs < 20 ? docs : 20))) ||
				bad "convlog search $word did not show its first 20 hits of $docs"
			if [[ -z $cold ]]; then cold=$((${t1/./} - ${t0/./})); else warm_us+=($((${t1/./} - ${t0/./}))); fi
		}
		run_rg() {
			local t0 t1
			t0=$EPOCHREALTIME
			rg -i -F -- "$word" "$sdir/projects" >/dev/null || bad "rg found no $word"
			t1=$EPOCHREALTIME
			rg_us+=($((${t1/./} - ${t0/./})))
		}
		say "search: $word, the first run (cold) and $search_runs warm ones$([[ -n $rg_na ]] || echo ', interleaved with rg')"
		run_search
		for ((r = 1; r <= search_runs; r++)); do
			if ((r % 2)); then
				run_search
				[[ -n $rg_na ]] || run_rg
			else
				[[ -n $rg_na ]] || run_rg
				run_search
			fi
		done
		if ((${#warm_us[@]} == 0)); then
			row "$fig, warm p50" "error" "-" "-" "<= 0.1x, <= 50 ms" "error"
			continue
		fi
		w=$(median "${warm_us[@]}")
		verdict=$(judge "$w" 50000)
		if [[ -n $rg_na ]]; then
			row "$fig, warm p50" "$(fmt_dur "$w")" "n/a ($rg_na)" "-" "<= 0.1x, <= 50 ms" "$verdict (50 ms only)"
		else
			g=$(median "${rg_us[@]}")
			[[ $(judge "$(awk -v a="$w" -v b="$g" 'BEGIN { print a / b }')" 0.1) == pass ]] || verdict=FAIL
			row "$fig, warm p50" "$(fmt_dur "$w")" "rg -i $(fmt_dur "$g")" "$(fmt_ratio "$w" "$g")" "<= 0.1x, <= 50 ms" "$verdict"
		fi
		if [[ $word == "${search_words[0]}" ]]; then
			row "search \"$word\", the first run after the update (cold)" "$(fmt_dur "$cold")" "-" "-" "<= 1 s" "$(judge "$cold" 1000000)"
		fi
	done
	rm -rf "$sdir"
fi

# ---------------------------------------------------------------------------
# Start-up. convlog's side: `convlog tee --quiet --dir D < 10 lines > file`:
# the process starts, creates a new session file in an existing folder, logs
# the 10 lines, finalises the session and exits; its output is compared with
# the input each time. sqlite3's side: `sqlite3 new.db < schema`, where schema
# is `PRAGMA journal_mode=WAL;` and the repo's schema.sql: a new file with the
# same tables and indexes, in WAL mode like convlog's files, and no rows.

schema_sql=$work/schema-wal.sql
{
	echo 'PRAGMA journal_mode=WAL;'
	cat "$repo/schema.sql"
} >"$schema_sql"
start_dir=$work/sessions/start
mkdir -p "$start_dir" "$work/startdb"
start_c=() start_s=()

start_convlog() {
	local t0 t1 before after
	before=$(find "$start_dir" -name '*.db' | wc -l)
	t0=$EPOCHREALTIME
	if ! "$convlog" tee --quiet --dir "$start_dir" <"$ten" >"$work/start.out" 2>"$work/tee.err"; then
		bad "convlog tee failed on 10 lines"
		warn_stderr "$work/tee.err" "start-up"
		return
	fi
	t1=$EPOCHREALTIME
	after=$(find "$start_dir" -name '*.db' | wc -l)
	cmp -s "$work/start.out" "$ten" || bad "convlog tee's output differs from its 10-line input"
	((after == before + 1)) || bad "convlog tee on 10 lines made $((after - before)) session files"
	warn_stderr "$work/tee.err" "start-up"
	[[ ${1:-} == warm ]] || start_c+=($((${t1/./} - ${t0/./})))
}

start_sqlite() {
	local i=$1 t0 t1
	t0=$EPOCHREALTIME
	if ! sqlite3 "$work/startdb/new-$i.db" <"$schema_sql" >/dev/null 2>"$work/sqlite.err"; then
		bad "sqlite3 could not create a database from schema.sql: $(head -n 1 "$work/sqlite.err")"
		return
	fi
	t1=$EPOCHREALTIME
	[[ $i == warm ]] || start_s+=($((${t1/./} - ${t0/./})))
}

say "start-up: $start_runs runs each of convlog tee on 10 lines and sqlite3 creating the schema"
# One untimed run of each first: both binaries then start from the page cache.
start_convlog warm
if ((have_sqlite3)); then start_sqlite warm; fi
for ((r = 1; r <= start_runs; r++)); do
	if ((r % 2)); then
		start_convlog
		if ((have_sqlite3)); then start_sqlite "$r"; fi
	else
		if ((have_sqlite3)); then start_sqlite "$r"; fi
		start_convlog
	fi
done
# The last session file must hold the 10 lines.
if ((have_sqlite3)); then
	last=$(find "$start_dir" -name '*.db' | sort | tail -n 1)
	[[ $(sqlite3 "$last" 'SELECT count(*) FROM messages') == 10 ]] || bad "a 10-line session does not hold 10 messages"
fi

fig="start-up: tee of 10 lines to a new file"
if ((${#start_c[@]} == 0)); then
	row "$fig" "error" "-" "-" "<= 3x" "error"
elif ((${#start_s[@]} == 0)); then
	row "$fig" "$(fmt_dur "$(median "${start_c[@]}")")" "n/a (sqlite3 missing)" "-" "<= 3x" "n/a"
else
	c=$(median "${start_c[@]}")
	s=$(median "${start_s[@]}")
	row "$fig" "$(fmt_dur "$c")" "sqlite3 + schema $(fmt_dur "$s")" "$(fmt_ratio "$c" "$s")" "<= 3x" \
		"$(judge "$(awk -v a="$c" -v b="$s" 'BEGIN { print a / b }')" 3)"
fi

# ---------------------------------------------------------------------------
# Sync of a 10,000-message session to the local libSQL server (the Turso CLI's
# sync server, which the tests use) next to the same rows sent one statement
# per request: the sync package's benchmarks, which start the server
# themselves. The ratio is time per row, convlog over the baseline.

fig="sync of a 10,000-message session"
say "sync: installing the test server if needed, then the sync benchmarks ($sync_benchtime)"
if [[ -z ${CONVLOG_TURSO_BIN:-} ]] && ! (cd "$repo" && scripts/install-test-deps.sh) >"$work/deps.out" 2>&1; then
	say "sync: scripts/install-test-deps.sh failed: $(tail -n 1 "$work/deps.out")"
	row "$fig" "n/a (test server not installed)" "-" "-" "<= 0.1x (10x faster)" "n/a"
elif ! (cd "$repo" && go test -run '^$' -bench 'Sync' -benchtime "$sync_benchtime" ./sync/) >"$work/sync.out" 2>&1; then
	bad "the sync benchmarks failed:"
	tail -n 15 "$work/sync.out" | sed 's/^/    /' >&2
	row "$fig" "error" "-" "-" "<= 0.1x (10x faster)" "error"
else
	# Each benchmark line ends with "<value> <unit>" pairs.
	metric() { # benchmark unit
		awk -v b="$1" -v u="$2" '$1 ~ "^" b "(-[0-9]+)?$" { for (i = 2; i < NF; i++) if ($(i + 1) == u) print $i }' "$work/sync.out"
	}
	c_rows=$(metric BenchmarkSync10k rows/s)
	c_req=$(metric BenchmarkSync10k requests/session)
	b_rows=$(metric BenchmarkSyncOneRowPerRequest rows/s)
	b_req=$(metric BenchmarkSyncOneRowPerRequest requests/session)
	if [[ -z $c_rows || -z $b_rows ]]; then
		bad "could not read the sync benchmarks' figures"
		row "$fig" "error" "-" "-" "<= 0.1x (10x faster)" "error"
	else
		ratio=$(awk -v c="$c_rows" -v b="$b_rows" 'BEGIN { print b / c }')
		row "$fig" "$(printf '%.0f rows/s, %.0f requests' "$c_rows" "$c_req")" \
			"1 stmt/request $(printf '%.0f rows/s, %.0f requests' "$b_rows" "$b_req")" \
			"$(fmt_ratio "$b_rows" "$c_rows")" "<= 0.1x (10x faster)" "$(judge "$ratio" 0.1)"
	fi
fi

# ---------------------------------------------------------------------------
# The web pages (package web): convlog html of a 10,000-message session, that
# page in Chromium, convlog serve over 10,000 sessions, and live updates. The
# browser figures come from the package's benchmarks, which drive Chromium
# headless (scripts/install-test-deps.sh installs it) and report in ms.

if ((quick)); then
	web_size=4MB web_label="2,000-message" web_runs=3
	web_files=1000 web_tr_size=10MB web_sessions_label="1,000"
else
	web_size=20MB web_label="10,000-message" web_runs=5
	web_files=10000 web_tr_size=100MB web_sessions_label="10,000"
fi
have_chromium=0
for name in "${CONVLOG_CHROMIUM:-}" chromium chromium-browser google-chrome google-chrome-stable; do
	[[ -n $name ]] && command -v "$name" >/dev/null && have_chromium=1 && break
done
((have_chromium)) || say "web: no Chromium (scripts/install-test-deps.sh installs it): the browser rows are n/a"

# web_metric FILE BENCHMARK UNIT: a figure of a Go benchmark's output.
web_metric() {
	awk -v b="$2" -v u="$3" '$1 ~ "^" b "(-[0-9]+)?$" { for (i = 2; i < NF; i++) if ($(i + 1) == u) print $i }' "$1"
}

say "web: generating a $web_label session and logging it"
"$gen" stream -size "$web_size" -line-size 2500B -seed 4 >"$in/web.jsonl"
web_dir=$work/web-sessions
if ! "$convlog" tee --quiet --dir "$web_dir" --session-id big <"$in/web.jsonl" >/dev/null 2>"$work/web.err"; then
	bad "convlog tee failed on the web session"
fi
web_lines=$(wc -l <"$in/web.jsonl")
check_session "$web_dir" "$web_lines" "web session"
if ((have_sqlite3)); then
	stored=$(sqlite3 "$web_dir/big.db" 'SELECT sum(length(CAST(raw_message AS BLOB))) FROM messages')
else
	stored=$(wc -c <"$in/web.jsonl")
fi

html_us=() html_cpu=()
TIMEFORMAT='%R %U %S'
for ((r = 1; r <= web_runs; r++)); do
	if { time "$convlog" html big --dir "$web_dir" -q -o "$work/big.html" 2>"$work/html.err"; } 2>"$work/html.time"; then
		read -r real user sys <"$work/html.time"
		html_us+=("$(awk -v r="$real" 'BEGIN { printf "%d", r * 1e6 }')")
		html_cpu+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%d", (u + s) * 1e6 }')")
	else
		bad "convlog html failed: $(head -n 1 "$work/html.err")"
	fi
done
unset TIMEFORMAT
fig="html: page of a $web_label session ($(fmt_mib $((stored / 1024))) stored)"
if ((${#html_us[@]} > 0)); then
	h=$(median "${html_us[@]}")
	row "$fig: time" "$(fmt_dur "$h") (cpu $(fmt_dur "$(median "${html_cpu[@]}")"))" "-" "-" "<= 0.5 s" "$(judge "$h" 500000)"
	page_bytes=$(wc -c <"$work/big.html")
	ratio=$(awk -v a="$page_bytes" -v b="$stored" 'BEGIN { print a / b }')
	row "$fig: size" "$(fmt_mib $((page_bytes / 1024)))" "stored text $(fmt_mib $((stored / 1024)))" \
		"$(fmt_ratio "$page_bytes" "$stored")" "<= 1.3x" "$(judge "$ratio" 1.3)"
else
	row "$fig: time" "error" "-" "-" "<= 0.5 s" "error"
fi

fig="html: that page interactive in Chromium"
if ((have_chromium == 0)); then
	row "$fig" "n/a (no Chromium)" "-" "-" "<= 1 s" "n/a"
elif [[ ! -s $work/big.html ]]; then
	row "$fig" "n/a (no page)" "-" "-" "<= 1 s" "n/a"
else
	say "web: the page in Chromium (BenchmarkWebPage)"
	if (cd "$repo" && CONVLOG_BENCH_PAGE=$work/big.html go test -run '^$' -bench 'WebPage$' -benchtime "$page_benchtime" ./web/) >"$work/webpage.out" 2>&1; then
		i=$(web_metric "$work/webpage.out" BenchmarkWebPage ms-interactive)
		d=$(web_metric "$work/webpage.out" BenchmarkWebPage ms-rendered)
		st=$(web_metric "$work/webpage.out" BenchmarkWebPage ms-data-parsed)
		# Beside it, not a target: a page with the same data whose script
		# only parses it, what the bytes alone cost on this machine now.
		row "$fig" "${i} ms (all drawn: ${d} ms)" "data only, parsed: ${st} ms" \
			"$(fmt_ratio "$i" "$st")" "<= 1 s" "$(judge "$i" 1000)"
	else
		bad "BenchmarkWebPage failed:"
		tail -n 15 "$work/webpage.out" | sed 's/^/    /' >&2
		row "$fig" "error" "-" "-" "<= 1 s" "error"
	fi
fi

say "web: $web_sessions_label sessions for convlog serve (gen transcripts, convlog import)"
"$gen" transcripts -size "$web_tr_size" -files "$web_files" -seed 5 -out "$work/web-tr"
many=$work/web-many
if ! "$convlog" import --dir "$many" "$work/web-tr" >/dev/null 2>"$work/import-web.err"; then
	bad "convlog import of the web sessions failed: $(head -n 1 "$work/import-web.err")"
fi
rm -rf "$work/web-tr"
fig="serve, $web_sessions_label sessions: list page, server time p50"
say "web: convlog serve (BenchmarkWebServe)"
if (cd "$repo" && CONVLOG_BENCH_SESSIONS=$many go test -run '^$' -bench 'WebServe$' -benchtime 5x ./web/) >"$work/webserve.out" 2>&1; then
	p50=$(web_metric "$work/webserve.out" BenchmarkWebServe ms-list-p50)
	p95=$(web_metric "$work/webserve.out" BenchmarkWebServe ms-list-p95)
	rss=$(web_metric "$work/webserve.out" BenchmarkWebServe MiB-peak-rss)
	start=$(web_metric "$work/webserve.out" BenchmarkWebServe s-start)
	row "$fig" "${p50} ms (p95 ${p95} ms; start, archive built: ${start} s)" "-" "-" "<= 100 ms" "$(judge "$p50" 100)"
	row "serve, $web_sessions_label sessions: peak RSS" "${rss} MiB" "-" "-" "<= 150 MiB" "$(judge "$rss" 150)"
else
	bad "BenchmarkWebServe failed:"
	tail -n 15 "$work/webserve.out" | sed 's/^/    /' >&2
	row "$fig" "error" "-" "-" "<= 100 ms" "error"
fi
rm -rf "$many" "$work/convlog.db"

fig="serve: live update on the page, p95 of $live_updates"
if ((have_chromium == 0)); then
	row "$fig" "n/a (no Chromium)" "-" "-" "<= 1 s" "n/a"
else
	say "web: live updates (BenchmarkWebLive)"
	if (cd "$repo" && CONVLOG_BENCH_LIVE_UPDATES=$live_updates go test -run '^$' -bench 'WebLive$' -benchtime 1x ./web/) >"$work/weblive.out" 2>&1; then
		p50=$(web_metric "$work/weblive.out" BenchmarkWebLive ms-live-p50)
		p95=$(web_metric "$work/weblive.out" BenchmarkWebLive ms-live-p95)
		row "$fig" "${p95} ms (p50 ${p50} ms)" "-" "-" "<= 1 s" "$(judge "$p95" 1000)"
	else
		bad "BenchmarkWebLive failed:"
		tail -n 15 "$work/weblive.out" | sed 's/^/    /' >&2
		row "$fig" "error" "-" "-" "<= 1 s" "error"
	fi
fi

# ---------------------------------------------------------------------------
# The team database: the sessions of the first-answer import, synced to the
# local libSQL server by this convlog and by the convlog before the usage
# tables (f9ee43d), each into a new database, in alternating order; then,
# on this convlog's, stats --url next to local stats over the same sessions
# (and their outputs compared), and each analytics script through sql --url.

team_old_rev=f9ee43d
team_token=bench-token
server_pid= server_url=

# turso_bin is the server the tests use: CONVLOG_TURSO_BIN, else the native
# binary of the npm package in .tools.
turso_bin() {
	if [[ -n ${CONVLOG_TURSO_BIN:-} ]]; then
		echo "$CONVLOG_TURSO_BIN"
		return
	fi
	local b
	for b in "$repo"/.tools/node_modules/@tursodatabase/cli-*/tursodb; do
		[[ -x $b ]] && { echo "$b"; return; }
	done
	return 1
}

# start_server DB: a server on a new database file, on a free port.
start_server() {
	local db=$1 port try deadline
	stop_server
	for ((try = 0; try < 5; try++)); do
		port=$((20000 + RANDOM % 40000))
		(echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue # taken
		"$turso" "$db" --sync-server "127.0.0.1:$port" >"$db.log" 2>&1 &
		server_pid=$! server_url=http://127.0.0.1:$port
		deadline=$((SECONDS + 30))
		while ((SECONDS < deadline)) && kill -0 "$server_pid" 2>/dev/null; do
			if TURSO_AUTH_TOKEN=$team_token "$convlog" sql --url "$server_url" --timeout 2s "SELECT 1" >/dev/null 2>&1; then
				return 0
			fi
			sleep 0.1 # polling a starting server for its first answer
		done
		stop_server
	done
	return 1
}

stop_server() {
	if [[ -n $server_pid ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=
	fi
}
trap 'stop_server; cleanup' EXIT

team_sync_us=() old_sync_us=() team_records= old_records=
# team_sync BINARY LABEL: syncs the imported sessions into a new database.
team_sync() {
	local b=$1 label=$2 db=$work/team-$2-$RANDOM.db t0 t1 n
	if ! start_server "$db"; then
		bad "the libSQL server did not start: $(tail -n 1 "$db.log" 2>/dev/null)"
		return 1
	fi
	t0=$EPOCHREALTIME
	if ! TURSO_AUTH_TOKEN=$team_token "$b" sync --all --dir "$import_dir" --url "$server_url" --json >"$work/sync.json" 2>"$work/sync.err"; then
		bad "$label: convlog sync --all failed: $(head -n 1 "$work/sync.err")"
		return 1
	fi
	t1=$EPOCHREALTIME
	n=$(sed -n 's/.*"rows": *\([0-9]*\).*/\1/p' "$work/sync.json" | tail -n 1)
	if [[ $label == old ]]; then
		old_sync_us+=($((${t1/./} - ${t0/./}))) old_records=$n
	else
		team_sync_us+=($((${t1/./} - ${t0/./}))) team_records=$n
	fi
}

team_na=
if [[ -z $import_dir ]]; then
	team_na="no import to sync"
elif ! turso=$(turso_bin); then
	team_na="the libSQL test server is not installed"
fi
# The baseline's binary is built once into .tools/, like the other tools.
old_bin=$repo/.tools/convlog-$team_old_rev
old_na=
if [[ -z $team_na && ! -x $old_bin ]]; then
	if ! git -C "$repo" cat-file -e "$team_old_rev^{commit}" 2>/dev/null; then
		old_na="commit $team_old_rev is not in this checkout"
	else
		say "team: building convlog at $team_old_rev into .tools/ (once)"
		mkdir -p "$work/old-src" "$repo/.tools"
		if ! git -C "$repo" archive "$team_old_rev" | tar -x -C "$work/old-src" ||
			! (cd "$work/old-src" && go build -o "$old_bin" .) >"$work/old-build.out" 2>&1; then
			old_na="could not build $team_old_rev"
		fi
	fi
	[[ -z $old_na ]] || say "team: the sync baseline is n/a: $old_na"
fi

url_us=() local_us=() sql_worst= sql_worst_us=0 sql_failed=0
if [[ -z $team_na ]]; then
	for ((r = 1; r <= team_sync_runs; r++)); do
		say "team round $r/$team_sync_runs: sync --all of $tr_files sessions$([[ -n $old_na ]] || echo ", by this convlog and by $team_old_rev")"
		if [[ -n $old_na ]]; then
			team_sync "$convlog" new
		elif ((r % 2)); then
			team_sync "$old_bin" old
			team_sync "$convlog" new
		else
			team_sync "$convlog" new
			team_sync "$old_bin" old
			# The last sync is this convlog's: the queries below read it.
			((r < team_sync_runs)) || team_sync "$convlog" new
		fi
	done
	if [[ -n $server_pid && ${#team_sync_us[@]} -gt 0 ]]; then
		for ((r = 1; r <= url_runs; r++)); do
			say "team: stats --url and local stats, run $r/$url_runs"
			t0=$EPOCHREALTIME
			if ! TURSO_AUTH_TOKEN=$team_token "$convlog" stats --url "$server_url" --json >"$work/url.json" 2>"$work/url.err"; then
				bad "convlog stats --url failed: $(head -n 1 "$work/url.err")"
				break
			fi
			t1=$EPOCHREALTIME
			"$convlog" stats --dir "$import_dir" --archive "$import_archive" --json >"$work/local.json" 2>"$work/stats.err" ||
				bad "convlog stats failed: $(head -n 1 "$work/stats.err")"
			t2=$EPOCHREALTIME
			url_us+=($((${t1/./} - ${t0/./}))) local_us+=($((${t2/./} - ${t1/./})))
			cmp -s "$work/url.json" "$work/local.json" || bad "stats --url --json differs from local stats --json on the same sessions"
		done
		for q in "$repo"/scripts/analytics/*.sql; do
			say "team: sql --url < scripts/analytics/$(basename "$q")"
			t0=$EPOCHREALTIME
			if ! TURSO_AUTH_TOKEN=$team_token "$convlog" sql --url "$server_url" --tsv <"$q" >"$work/sql.out" 2>"$work/sql.err"; then
				sql_failed=$((sql_failed + 1))
				bad "sql --url < $(basename "$q") failed: $(head -n 1 "$work/sql.err")"
				continue
			fi
			t1=$EPOCHREALTIME
			if (($((${t1/./} - ${t0/./})) > sql_worst_us)); then
				sql_worst_us=$((${t1/./} - ${t0/./})) sql_worst=$(basename "$q" .sql)
			fi
		done
	fi
	stop_server
fi

fig="team: sync --all of $tr_files sessions to the libSQL server"
if [[ -n $team_na ]]; then
	row "$fig" "n/a ($team_na)" "-" "-" "<= 1.1x" "n/a"
elif ((${#team_sync_us[@]} == 0)); then
	row "$fig" "error" "-" "-" "<= 1.1x" "error"
else
	c=$(median "${team_sync_us[@]}")
	cl="$(fmt_dur "$c") (${team_records:-?} records)"
	if [[ -n $old_na || ${#old_sync_us[@]} -eq 0 ]]; then
		row "$fig" "$cl" "n/a (${old_na:-the $team_old_rev sync failed})" "-" "<= 1.1x" "n/a"
	else
		o=$(median "${old_sync_us[@]}")
		row "$fig" "$cl" "convlog $team_old_rev $(fmt_dur "$o") (${old_records:-?} records)" "$(fmt_ratio "$c" "$o")" "<= 1.1x" \
			"$(judge "$(awk -v a="$c" -v b="$o" 'BEGIN { print a / b }')" 1.1)"
	fi
fi
fig="team: stats --url over them"
if [[ -n $team_na ]]; then
	row "$fig" "n/a ($team_na)" "-" "-" "<= 3x" "n/a"
elif ((${#url_us[@]} == 0)); then
	row "$fig" "error" "-" "-" "<= 3x" "error"
else
	u=$(median "${url_us[@]}") l=$(median "${local_us[@]}")
	row "$fig" "$(fmt_dur "$u")" "local stats $(fmt_dur "$l")" "$(fmt_ratio "$u" "$l")" "<= 3x" \
		"$(judge "$(awk -v a="$u" -v b="$l" 'BEGIN { print a / b }')" 3)"
fi
fig="team: each scripts/analytics/*.sql through sql --url"
if [[ -n $team_na ]]; then
	row "$fig" "n/a ($team_na)" "-" "-" "<= 2 s" "n/a"
elif [[ -z $sql_worst ]]; then
	row "$fig" "error" "-" "-" "<= 2 s" "error"
else
	row "$fig" "slowest $(fmt_dur "$sql_worst_us") ($sql_worst)$( ((sql_failed == 0)) || echo ", $sql_failed failed")" "-" "-" "<= 2 s" \
		"$( ((sql_failed == 0)) && judge "$sql_worst_us" 2000000 || echo FAIL)"
fi

# ---------------------------------------------------------------------------
# The table

header=$'figure\tconvlog\tbaseline\tratio\ttarget\tresult'
elapsed=$((${EPOCHREALTIME/./} - ${bench_start/./}))
say "done in $((elapsed / 1000000)) s"

{
	echo "# convlog benchmarks, $mode mode, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(go env GOVERSION), sqlite3 $(
		((have_sqlite3)) && sqlite3 --version | cut -d' ' -f1 || echo -
	), ccusage ${ccusage_na:+n/a}$([[ -n $ccusage_na ]] || echo "$ccusage_version"), load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo -)"
	echo "# medians of interleaved runs: stream x$stream_runs, latency x$lat_rounds ($lat_lines lines), first answer x$import_runs, stats again x$stats_runs, search x$search_runs (builds x$search_builds), start-up x$start_runs, team sync x$team_sync_runs, stats --url x$url_runs; ratio = convlog / baseline (time, or p99, or rows/s inverted)"
	((quick == 0)) || echo "# quick mode: small inputs, ratios are indicative only"
	printf '%s\n%s' "$header" "$table" | awk -F'\t' '
		{ n = NR; for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } if (NF > nf) nf = NF }
		END {
			for (r = 1; r <= n; r++) {
				line = ""
				for (i = 1; i <= nf; i++) line = line sprintf(i < nf ? "%-" w[i] "s  " : "%s", c[r, i])
				print line
				if (r == 1) { sep = ""; for (i = 1; i <= nf; i++) { s = sprintf("%" w[i] "s", ""); gsub(/ /, "-", s); sep = sep s (i < nf ? "  " : "") } print sep }
			}
		}'
	met=$(printf '%s' "$table" | awk -F'\t' '$6 == "pass"' | wc -l)
	judged=$(printf '%s' "$table" | awk -F'\t' '$6 == "pass" || $6 ~ /^FAIL/' | wc -l)
	echo "# targets met: $met of $judged judged$( ((errors == 0)) || echo "; $errors ERRORS (see stderr)")"
}

if [[ -n $out_tsv ]]; then
	printf '%s\n%s' "$header" "$table" >"$out_tsv"
	say "table written to $out_tsv"
fi

if ((errors > 0)); then
	say "$errors errors: something crashed or gave wrong output"
	exit 1
fi
