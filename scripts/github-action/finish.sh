#!/usr/bin/env bash
# The finish step of the convlog GitHub Action (action.yml beside this file),
# run after the agent step with `if: always()`:
#
#   - appends a Markdown summary of each session this job logged to the job
#     summary (a session whose logger was killed included, marked incomplete);
#   - syncs those sessions to TURSO_DATABASE_URL when asked;
#   - writes each session's page (convlog html) beside its file, for the
#     artifact, and says so in the job summary;
#   - tells the upload step what to upload, through GITHUB_OUTPUT.
#
# Only a misconfiguration fails the step: a session that cannot be summarised
# or synced is a warning, so that a problem with the log never hides the
# agent's own outcome. The database URL and token are read from the
# environment by convlog and never printed.
set -uo pipefail

: "${RUNNER_TEMP:?}" "${GITHUB_OUTPUT:?}" "${GITHUB_STEP_SUMMARY:?}"
dir=${CONVLOG_ACTION_DIR:-${CONVLOG_DIR:-.turso/sessions}}
summary=${CONVLOG_ACTION_SUMMARY:-true}
sync=${CONVLOG_ACTION_SYNC:-auto}
upload=${CONVLOG_ACTION_UPLOAD:-true}
artifact=${CONVLOG_ACTION_ARTIFACT:-}
state=$RUNNER_TEMP/convlog-action

# annotate prints a workflow command; its message is escaped as the runner
# expects, so that a line break cannot end it early.
annotate() {
	local msg=$2
	msg=${msg//'%'/%25}
	msg=${msg//$'\r'/%0D}
	msg=${msg//$'\n'/%0A}
	echo "::$1 title=convlog::$msg"
}
fail() {
	annotate error "$1"
	exit 1
}

for input in summary:"$summary" upload:"$upload"; do
	case ${input#*:} in
	true | false) ;;
	*) fail "the ${input%%:*} input is '${input#*:}'; use true or false." ;;
	esac
done
case $sync in
true | false | auto) ;;
*) fail "the sync input is '$sync'; use auto, true or false." ;;
esac
for v in "$dir" "$artifact"; do
	if [[ $v == *$'\n'* || $v == *$'\r'* ]]; then
		fail "the dir and artifact-name inputs cannot hold line breaks."
	fi
done
if ! command -v convlog >/dev/null; then
	fail "convlog is not on PATH: use this action with step: install before the agent step."
fi

# This job's sessions: the files in the folder that were not there when the
# install step ran (all of them when it did not run here), oldest first by
# their last change (session ids are random: their order says nothing).
sessions=()
if [[ -d $dir ]]; then
	while IFS= read -r name; do
		if [[ ! -f $dir/$name ]] || { [[ -f $state/before ]] && grep -qxF -- "$name" "$state/before"; }; then
			continue
		fi
		sessions+=("${name%.db}")
	done < <(cd "$dir" && LC_ALL=C ls -1tr -- *.db 2>/dev/null)
fi
echo "convlog: ${#sessions[@]} session(s) of this job in $dir"

if [[ $summary == true ]]; then
	md=$state/summary.md
	mkdir -p "$state"
	if ((${#sessions[@]} == 0)); then
		printf '### convlog\n\nNo session was logged in this job.\n' >"$md"
		[[ -s $GITHUB_STEP_SUMMARY ]] && echo >>"$GITHUB_STEP_SUMMARY"
		cat "$md" >>"$GITHUB_STEP_SUMMARY"
	fi
	# (The ${a[@]+…} form: bash 3.2, macOS's, calls an empty array unbound.)
	for id in ${sessions[@]+"${sessions[@]}"}; do
		# Rendered to a file first: a session that cannot be read adds
		# nothing half-written to the summary.
		if convlog query "$id" --dir "$dir" --markdown >"$md"; then
			[[ -s $GITHUB_STEP_SUMMARY ]] && echo >>"$GITHUB_STEP_SUMMARY"
			cat "$md" >>"$GITHUB_STEP_SUMMARY"
		else
			annotate warning "session $id could not be summarised; see the log above."
		fi
	done
fi

if [[ $sync == auto && -n ${TURSO_DATABASE_URL:-} ]]; then
	sync=true
fi
if [[ $sync == true ]]; then
	if [[ -z ${TURSO_DATABASE_URL:-} ]]; then
		annotate warning "sync is true but TURSO_DATABASE_URL is not set: set it and TURSO_AUTH_TOKEN from secrets in the env of the job or of this step."
	elif ((${#sessions[@]} > 0)); then
		if ! convlog sync --dir "$dir" "${sessions[@]}"; then
			annotate warning "the sessions could not all be synced; they are kept in the folder and the artifact, and running convlog sync again completes the sync."
		fi
	fi
fi

if [[ $upload == true ]] && ((${#sessions[@]} > 0)); then
	# Artifact names must be unique in a run: the job's first session id
	# makes it so, in a matrix too.
	name=${artifact:-convlog-sessions-${GITHUB_JOB:-job}-${sessions[0]}}
	# Each session's page goes beside its file, into the artifact: one
	# HTML file that opens offline, from the downloaded folder.
	pages=0
	for id in "${sessions[@]}"; do
		if convlog html "$id" --dir "$dir" -q -o "$dir/$id.html"; then
			pages=$((pages + 1))
		else
			annotate warning "the page of session $id could not be written; see the log above."
		fi
	done
	if [[ $summary == true ]] && ((pages > 0)); then
		[[ -s $GITHUB_STEP_SUMMARY ]] && echo >>"$GITHUB_STEP_SUMMARY"
		note="📄 The artifact \`${name//\`/}\` holds each session's page, \`<session id>.html\` beside its file:"
		note+=" the timeline of its tool calls and the whole conversation, to open in a browser (it needs no network)."
		printf '%s\n' "$note" >>"$GITHUB_STEP_SUMMARY"
	fi
	{
		echo "upload=true"
		echo "path=$dir"
		echo "artifact-name=$name"
	} >>"$GITHUB_OUTPUT"
else
	echo "upload=false" >>"$GITHUB_OUTPUT"
fi
exit 0
