#!/usr/bin/env bash
# The install step of the convlog GitHub Action (action.yml beside this file).
#
#   install.sh prepare   where the Go caches are, and a key to cache them under
#   install.sh install   go install convlog, put it on PATH for later steps,
#                        and note which session files exist before the agent runs
#
# convlog is built from the action's own files, which the runner fetched at the
# ref in `uses: …@ref`: a tag, a branch or a commit, a fork or a local path
# (`uses: ./…`) all build exactly what was asked for. (github.action_ref, the
# obvious alternative for `go install github.com/convlog/convlog@<ref>`, is not
# promised in composite actions and is often empty there; it only labels the
# build here.) With CONVLOG_ACTION_VERSION set, that module version (a tag,
# `latest`, a commit) is installed from the Go module proxy instead.
#
# Reads RUNNER_TEMP, RUNNER_OS, RUNNER_ARCH; writes GITHUB_OUTPUT, GITHUB_PATH,
# GITHUB_ENV. The job's own GOFLAGS apply to the build.
set -euo pipefail

: "${RUNNER_TEMP:?}" "${GITHUB_OUTPUT:?}"
root=$(cd "$(dirname "$0")/../.." && pwd)
state=$RUNNER_TEMP/convlog-action
version=${CONVLOG_ACTION_VERSION:-}

fail() {
	echo "::error title=convlog::$1"
	exit 1
}

if ! command -v go >/dev/null; then
	fail "Go is needed to install convlog: set the action's go-version input (for example 'stable'), or run actions/setup-go first."
fi
# A go.work above the action's files must not take part in its build.
export GOWORK=off

case ${1:-} in
prepare)
	# Keyed on Go's version and convlog's go.sum: the modules and compiled
	# packages convlog needs, nothing of the job's own.
	sum=$( (sha256sum "$root/go.sum" 2>/dev/null || shasum -a 256 "$root/go.sum") | cut -c1-16)
	prefix="convlog-go-${RUNNER_OS:-os}-${RUNNER_ARCH:-arch}-$(go env GOVERSION)-"
	{
		echo "gomodcache=$(go env GOMODCACHE)"
		echo "gocache=$(go env GOCACHE)"
		echo "cache-prefix=$prefix"
		echo "cache-key=$prefix$sum${version:+-$version}"
	} >>"$GITHUB_OUTPUT"
	;;
install)
	: "${GITHUB_PATH:?}" "${GITHUB_ENV:?}"
	dir=${CONVLOG_ACTION_DIR:-${CONVLOG_DIR:-.turso/sessions}}
	if [[ $dir == *$'\n'* || $dir == *$'\r'* ]]; then
		fail "the dir input holds a line break."
	fi
	bin=$state/bin
	mkdir -p "$bin"
	# -modcacherw: the module cache is left writable, so that a self-hosted
	# runner can clean it up.
	if [[ -n $version ]]; then
		GOBIN=$bin go install -modcacherw -ldflags "-X github.com/convlog/convlog/cli.version=$version" "github.com/convlog/convlog@$version"
	else
		label=${CONVLOG_ACTION_REF:-action}
		(cd "$root" && GOBIN=$bin go install -modcacherw -ldflags "-X github.com/convlog/convlog/cli.version=$label" .)
	fi
	echo "$bin" >>"$GITHUB_PATH"
	{
		echo "CONVLOG_DIR=$dir"
		# The finish step writes each session's summary, also for a session
		# whose logger was killed; tee is not to write a second one.
		echo "CONVLOG_NO_SUMMARY=1"
	} >>"$GITHUB_ENV"
	# The sessions already there (restored from a cache, committed) are not
	# this job's: the finish step leaves them out.
	: >"$state/before"
	if [[ -d $dir ]]; then
		(cd "$dir" && LC_ALL=C find . -maxdepth 1 -name '*.db' -type f | sed 's|^\./||' | sort) >"$state/before"
	fi
	"$bin/convlog" --version
	;;
*)
	fail "install.sh: say prepare or install."
	;;
esac
