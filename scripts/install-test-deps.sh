#!/usr/bin/env bash
# Installs what the tests need beyond Go itself, idempotently: the Go modules,
# the Turso CLI (npm package `turso`), whose `--sync-server` is the real
# libSQL server that the sync tests talk to, and Chromium, which the tests of
# the web pages drive headless. The Turso CLI goes into .tools/ (ignored by
# git); tests find it there, or at $CONVLOG_TURSO_BIN. Chromium comes from the
# system's packages (Debian's `chromium`) when none is on PATH; tests find
# chromium, chromium-browser or google-chrome on PATH, or $CONVLOG_CHROMIUM.
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

have_chromium() {
	[[ -n ${CONVLOG_CHROMIUM:-} && -x ${CONVLOG_CHROMIUM:-} ]] && return 0
	local name
	for name in chromium chromium-browser google-chrome google-chrome-stable; do
		command -v "$name" >/dev/null && return 0
	done
	return 1
}

if have_chromium; then
	echo "chromium already installed"
elif command -v apt-get >/dev/null; then
	sudo=
	((EUID == 0)) || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
	have_chromium || { echo "install-test-deps: apt-get installed chromium, but it is not on PATH" >&2; exit 1; }
	echo "installed chromium"
else
	echo "install-test-deps: Chromium is needed for the tests of the web pages; install it, or set CONVLOG_CHROMIUM to a Chrome or Chromium binary" >&2
	exit 1
fi

go mod download
