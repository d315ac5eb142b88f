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

go test -race -count=1 -timeout 20m ./...

# Without the race detector, the session writer binds a line's bytes in
# place rather than copying them first (record/rawstmt.go): this run is what
# tests that path, with the convlog binary built the way users build it.
go test -count=1 -timeout 20m . ./record

# Fuzzing of what parses untrusted input, bounded in time. Seeds come from
# the tests; anything found is saved under testdata/fuzz and fails here.
fuzztime=${CONVLOG_FUZZTIME:-10s}
for target in $(grep -rhoE '^func Fuzz[A-Za-z0-9_]+' --include='*_test.go' . | sed 's/^func //' | sort -u); do
	pkg=$(dirname "$(grep -rlE "^func $target\(" --include='*_test.go' . | head -1)")
	echo "fuzz $target in $pkg for $fuzztime"
	go test -run '^$' -fuzz "^$target\$" -fuzztime "$fuzztime" "$pkg"
done
