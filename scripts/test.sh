#!/usr/bin/env bash
# The whole test suite, as CI runs it, on a fresh machine: installs what the
# tests need (Go modules, the local libSQL server), checks formatting and vet,
# runs every test with the race detector, the packages that write session
# files once more without it, then each fuzz target for a while.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

unformatted=$(gofmt -l $(git ls-files '*.go'))
if [[ -n $unformatted ]]; then
	echo "test: gofmt would change: $unformatted" >&2
	exit 1
fi
go vet ./...
go vet -tags race ./record
# convlog is built for Windows too, where these tests do not run: the
# binary must at least build there (76 s with empty caches; macOS shares
# the code of the other Unix systems).
GOOS=windows go build -o /dev/null .

# Each stage runs whatever the one before it did, so that one failure does
# not hide the others; the script fails at the end if any stage did.
failed=()

# The race detector watches convlog's code and the Go code around it, not
# the SQLite engine and C library that modernc.org translated from C: their
# data lives on their own C heap, outside the Go heap the detector tracks,
# so instrumenting them finds nothing and makes every query several times
# slower: the tests of archive, record and sync took 14-16, 13-15 and
# 25-27 s with it, 5-6, 6.5 and 17 s without; the whole script, on 2 CPUs
# with empty Go caches, 20.0 min with it (a minute of which installing
# Chromium), 14.8 min without (Chromium there already). The flags reach the
# convlog binary the tests build too (through GOFLAGS).
race_gcflags="-gcflags=modernc.org/sqlite/lib=-race=false -gcflags=modernc.org/libc/...=-race=false"
GOFLAGS="${GOFLAGS:+$GOFLAGS }$race_gcflags" go test -race -count=1 -timeout 20m ./... || failed+=("the tests with -race")

# Without the race detector, the session writer binds a line's bytes in
# place rather than copying them first (record/rawstmt.go): this run is what
# tests that path, with the convlog binary built the way users build it:
# the writer's own tests, the archive's, and the end-to-end tests that
# write session files and compare what was stored with the input (tee,
# import, the kills, every agent's stream). Those that wait out a lock
# held by another process run with -race only, where the binary is slower
# and their bounds harder to keep. One package at a time: run side by
# side, cli's and relay's tests (which keep CPUs busy on purpose) slowed
# each other from 49 and 24 s to 103 and 87 s.
go test -count=1 -timeout 20m ./record ./archive || failed+=("the tests without -race")
go test -count=1 -timeout 20m -p 1 -run '^Test(Tee|Import|Kill|Agent)' -skip 'Lock' ./cli ./relay ||
	failed+=("the end-to-end tests without -race")

# Fuzzing of what parses untrusted input, bounded in time. Seeds come from
# the tests; anything found is saved under testdata/fuzz and fails here.
#
# Go 1.26's fuzzing can fail a run with a bare "context deadline exceeded"
# when -fuzztime ends while a worker is busy (Go issue 75804, fixed in Go
# 1.27): no input failed and none is written. Such a run is done once more;
# a run that fails any other way, or writes a failing input, fails here.
# Three seconds a target keeps CI, on 2 CPUs with empty Go caches, within
# its 15 minutes (5 s took 36 s more); CONVLOG_FUZZTIME=10m fuzzes for real.
fuzztime=${CONVLOG_FUZZTIME:-3s}
fuzzlog=$(mktemp)
trap 'rm -f "$fuzzlog"' EXIT
for target in $(grep -rhoE '^func Fuzz[A-Za-z0-9_]+' --include='*_test.go' . | sed 's/^func //' | sort -u); do
	pkg=$(dirname "$(grep -rlE "^func $target\(" --include='*_test.go' . | head -1)")
	for attempt in 1 2; do
		echo "fuzz $target in $pkg for $fuzztime"
		if go test -run '^$' -fuzz "^$target\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tee "$fuzzlog"; [[ ${PIPESTATUS[0]} -eq 0 ]]; then
			break
		fi
		# Only those lines, and the deadline among them: anything else (a
		# failing input, a test's message, a panic) is a real failure.
		if ((attempt == 2)) || ! grep -q '^    context deadline exceeded$' "$fuzzlog" ||
			grep -qvE '^(fuzz: |--- FAIL: Fuzz|    context deadline exceeded$|FAIL|exit status )' "$fuzzlog"; then
			failed+=("fuzzing $target")
			break
		fi
		echo "fuzz $target: the fuzzing deadline race, no failing input; once more"
	done
done

if ((${#failed[@]} > 0)); then
	printf 'test: failed: %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "test: all passed"
