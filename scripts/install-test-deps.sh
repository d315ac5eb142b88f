#!/usr/bin/env bash
# Installs what the tests need beyond Go itself, idempotently: the Go modules,
# and the Turso CLI (npm package `turso`), whose `--sync-server` is the real
# libSQL server that the sync tests talk to. It goes into .tools/ (ignored by
# git); tests find it there, or at $CONVLOG_TURSO_BIN.
set -euo pipefail

cd "$(dirname "$0")/.."

TURSO_VERSION=0.6.0

installed_version() {
	local pkg=.tools/node_modules/turso/package.json
	[[ -f $pkg ]] || return 0
	node -e 'process.stdout.write(require(process.argv[1]).version)' "$PWD/$pkg" 2>/dev/null || true
}

if [[ -x .tools/node_modules/.bin/turso && "$(installed_version)" == "$TURSO_VERSION" ]] &&
	compgen -G '.tools/node_modules/@tursodatabase/cli-*/tursodb' >/dev/null; then
	echo "turso $TURSO_VERSION already in .tools/"
else
	if ! command -v npm >/dev/null; then
		echo "install-test-deps: npm is needed to install the libSQL test server (turso $TURSO_VERSION)" >&2
		exit 1
	fi
	mkdir -p .tools
	npm install --prefix .tools --no-audit --no-fund --silent "turso@$TURSO_VERSION"
	echo "installed turso $TURSO_VERSION into .tools/"
fi

go mod download
