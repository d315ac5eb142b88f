package cli

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/convlog/convlog/internal/testkit"
)

// The GitHub Action cannot meet GitHub here, so these tests play the
// runner's part: they read action.yml, run its shell steps with the
// variables and files a runner provides (GITHUB_OUTPUT, GITHUB_ENV,
// GITHUB_PATH, GITHUB_STEP_SUMMARY, RUNNER_TEMP), record the steps that use
// other actions with their resolved inputs, and check what comes out.

const actionDir = "../scripts/github-action"

type actionStep struct {
	Name  string            `yaml:"name"`
	ID    string            `yaml:"id"`
	If    string            `yaml:"if"`
	Shell string            `yaml:"shell"`
	Run   string            `yaml:"run"`
	Uses  string            `yaml:"uses"`
	Env   map[string]string `yaml:"env"`
	With  map[string]string `yaml:"with"`
}

type actionFile struct {
	Name        string            `yaml:"name"`
	Description string            `yaml:"description"`
	Branding    map[string]string `yaml:"branding"`
	Inputs      map[string]struct {
		Description string  `yaml:"description"`
		Required    bool    `yaml:"required"`
		Default     *string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

func loadAction(t *testing.T) *actionFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(actionDir, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true) // a misspelt key is an error here, as on GitHub
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return &a
}

var (
	interpRe = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)
	termRe   = regexp.MustCompile(`^([a-z][a-z0-9_.-]*)\s*(==|!=)\s*'([^']*)'$`)
	inputRe  = regexp.MustCompile(`\binputs\.([a-z0-9_-]+)`)
)

// actionRun is one use of the action in a job.
type actionRun struct {
	a      *actionFile
	inputs map[string]string
	ref    string                       // github.action_ref
	steps  map[string]map[string]string // step id → outputs
}

// value resolves a context reference: inputs.x, steps.id.outputs.x,
// github.action_ref. Anything else fails the test, so that action.yml cannot
// come to use an expression these tests do not understand.
func (ar *actionRun) value(t *testing.T, ref string) string {
	t.Helper()
	parts := strings.Split(ref, ".")
	switch {
	case len(parts) == 2 && parts[0] == "inputs":
		v, ok := ar.inputs[parts[1]]
		if !ok {
			t.Fatalf("action.yml refers to input %q, which it does not declare", parts[1])
		}
		return v
	case len(parts) == 4 && parts[0] == "steps" && parts[2] == "outputs":
		return ar.steps[parts[1]][parts[3]]
	case ref == "github.action_ref":
		return ar.ref
	}
	t.Fatalf("expression %q: not understood by this test", ref)
	return ""
}

// cond evaluates an if: of the shapes action.yml uses: comparisons of a
// reference with a string, joined by &&.
func (ar *actionRun) cond(t *testing.T, expr string) bool {
	t.Helper()
	if expr == "" {
		return true
	}
	for _, term := range strings.Split(expr, "&&") {
		m := termRe.FindStringSubmatch(strings.TrimSpace(term))
		if m == nil {
			t.Fatalf("if: %q: not understood by this test", expr)
		}
		if (ar.value(t, m[1]) == m[3]) != (m[2] == "==") {
			return false
		}
	}
	return true
}

func (ar *actionRun) interpolate(t *testing.T, s string) string {
	return interpRe.ReplaceAllStringFunc(s, func(m string) string {
		return ar.value(t, interpRe.FindStringSubmatch(m)[1])
	})
}

// usedAction is a step that uses another action, with its resolved inputs.
type usedAction struct {
	uses string
	with map[string]string
}

// stepRun is what one shell step did.
type stepRun struct {
	code            int
	stdout, summary string
	outputs         map[string]string
}

// fakeRunner is a job on a runner, on local files.
type fakeRunner struct {
	t         *testing.T
	workspace string
	temp      string            // RUNNER_TEMP
	jobEnv    map[string]string // the job's env, and what steps add through GITHUB_ENV
	path      []string          // what steps add through GITHUB_PATH, newest first
	used      []usedAction
	n         int
}

func newFakeRunner(t *testing.T) *fakeRunner {
	return &fakeRunner{t: t, workspace: t.TempDir(), temp: t.TempDir(), jobEnv: map[string]string{
		"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_JOB": "agent", "GITHUB_RUN_ID": "4242",
		"GITHUB_REPOSITORY": "owner/repo", "GITHUB_REF": "refs/heads/main", "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
	}}
}

func (r *fakeRunner) environ(step map[string]string, files map[string]string) []string {
	env := map[string]string{}
	for _, kv := range testkit.CleanEnv() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "RUNNER_") || strings.HasPrefix(k, "CONVLOG_") {
			continue // the test's own, if it runs in a real job
		}
		env[k] = v
	}
	for _, m := range []map[string]string{r.jobEnv, step, files} {
		for k, v := range m {
			env[k] = v
		}
	}
	env["RUNNER_TEMP"] = r.temp
	env["GITHUB_WORKSPACE"] = r.workspace
	// The system's PATH without any convlog on it, so that the steps run
	// the binaries the test means.
	path := slices.Clone(r.path)
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(dir, "convlog")); err != nil {
			path = append(path, dir)
		}
	}
	env["PATH"] = strings.Join(path, string(os.PathListSeparator))
	list := make([]string, 0, len(env))
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	return list
}

// parseFileCommand reads a GITHUB_OUTPUT or GITHUB_ENV file: NAME=value
// lines, and NAME<<DELIMITER blocks for values with line breaks.
func parseFileCommand(t *testing.T, b []byte) map[string]string {
	t.Helper()
	vals := map[string]string{}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if l == "" {
			continue
		}
		if k, delim, ok := strings.Cut(l, "<<"); ok && !strings.Contains(k, "=") {
			var val []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				val = append(val, lines[i])
			}
			vals[k] = strings.Join(val, "\n")
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("bad file command line %q", l)
		}
		vals[k] = v
	}
	return vals
}

// run runs a shell step as the runner runs `shell: bash`, then applies what
// it wrote to GITHUB_ENV and GITHUB_PATH to the steps after it.
func (r *fakeRunner) run(script string, env map[string]string) stepRun {
	r.t.Helper()
	r.n++
	files := map[string]string{}
	for _, k := range []string{"GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH"} {
		files[k] = filepath.Join(r.temp, "_runner_file_commands", fmt.Sprintf("%s_%d", strings.ToLower(k), r.n))
	}
	os.MkdirAll(filepath.Join(r.temp, "_runner_file_commands"), 0o755)
	for _, f := range files {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
	cmd.Dir = r.workspace
	cmd.Env = r.environ(env, files)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	res := stepRun{stdout: out.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatal(err)
	}
	read := func(k string) []byte {
		b, err := os.ReadFile(files[k])
		if err != nil {
			r.t.Fatal(err)
		}
		return b
	}
	res.outputs = parseFileCommand(r.t, read("GITHUB_OUTPUT"))
	res.summary = string(read("GITHUB_STEP_SUMMARY"))
	for k, v := range parseFileCommand(r.t, read("GITHUB_ENV")) {
		r.jobEnv[k] = v
	}
	for _, p := range strings.Split(strings.TrimSpace(string(read("GITHUB_PATH"))), "\n") {
		if p != "" {
			r.path = append([]string{p}, r.path...)
		}
	}
	return res
}

// use runs the action's steps as a `uses:` of it with these inputs does:
// each if: evaluated, shell steps run, other actions recorded. It stops at
// the first failing step, as a composite action does. The results are the
// shell steps', in order.
func (r *fakeRunner) use(a *actionFile, with map[string]string, ref string) []stepRun {
	r.t.Helper()
	ar := &actionRun{a: a, inputs: map[string]string{}, ref: ref, steps: map[string]map[string]string{}}
	for name, in := range a.Inputs {
		if in.Default != nil {
			ar.inputs[name] = *in.Default
		}
	}
	for k, v := range with {
		if _, ok := a.Inputs[k]; !ok {
			r.t.Fatalf("no input %q in action.yml", k)
		}
		ar.inputs[k] = v
	}
	path, err := filepath.Abs(actionDir)
	if err != nil {
		r.t.Fatal(err)
	}
	var runs []stepRun
	for _, st := range a.Runs.Steps {
		if !ar.cond(r.t, st.If) {
			continue
		}
		if st.Uses != "" {
			u := usedAction{uses: st.Uses, with: map[string]string{}}
			for k, v := range st.With {
				u.with[k] = ar.interpolate(r.t, v)
			}
			r.used = append(r.used, u)
			continue
		}
		env := map[string]string{"GITHUB_ACTION_PATH": path}
		for k, v := range st.Env {
			env[k] = ar.interpolate(r.t, v)
		}
		res := r.run(st.Run, env)
		runs = append(runs, res)
		if st.ID != "" {
			ar.steps[st.ID] = res.outputs
		}
		if res.code != 0 {
			break
		}
	}
	return runs
}

func (r *fakeRunner) lastUse(uses string) map[string]string {
	r.t.Helper()
	for i := len(r.used) - 1; i >= 0; i-- {
		if strings.HasPrefix(r.used[i].uses, uses+"@") {
			return r.used[i].with
		}
	}
	r.t.Fatalf("%s was not used; used: %v", uses, r.used)
	return nil
}

func lastRun(t *testing.T, runs []stepRun) stepRun {
	t.Helper()
	if len(runs) == 0 {
		t.Fatal("no shell step ran")
	}
	return runs[len(runs)-1]
}

// TestGitHubActionFile checks action.yml and the example workflow as GitHub
// reads them.
func TestGitHubActionFile(t *testing.T) {
	a := loadAction(t)
	if a.Name == "" || a.Description == "" || a.Runs.Using != "composite" {
		t.Fatalf("name %q, description %q, using %q", a.Name, a.Description, a.Runs.Using)
	}
	wantInputs := map[string]string{"step": "install", "dir": "", "summary": "true", "sync": "auto", "upload": "true",
		"artifact-name": "", "go-version": "", "version": ""}
	for name, def := range wantInputs {
		in, ok := a.Inputs[name]
		if !ok || in.Default == nil || *in.Default != def || in.Required || in.Description == "" {
			t.Errorf("input %s: %+v, want default %q and a description", name, in, def)
		}
	}
	for name := range a.Inputs {
		if _, ok := wantInputs[name]; !ok {
			t.Errorf("input %s is not checked here", name)
		}
		// Credentials are never inputs: inputs are printed in the log.
		if regexp.MustCompile(`(?i)token|secret|turso|url|password`).MatchString(name) {
			t.Errorf("input %s looks like a credential", name)
		}
	}

	scriptVars := regexp.MustCompile(`\bCONVLOG_ACTION_[A-Z_]+\b`)
	setFor := map[string]map[string]bool{} // script → variables its steps set
	for _, st := range a.Runs.Steps {
		all := st.If + st.Run
		for _, v := range st.Env {
			all += v
		}
		for _, v := range st.With {
			all += v
		}
		for _, m := range inputRe.FindAllStringSubmatch(all, -1) {
			if _, ok := a.Inputs[m[1]]; !ok {
				t.Errorf("step %q refers to undeclared input %s", st.Name, m[1])
			}
		}
		if st.Name == "" {
			t.Errorf("a step without a name: %+v", st)
		}
		if st.Uses != "" {
			if !regexp.MustCompile(`^actions/[a-z-]+@v\d+$`).MatchString(st.Uses) || st.Run != "" {
				t.Errorf("step %q uses %q: want an actions/… action at a major version", st.Name, st.Uses)
			}
			continue
		}
		if st.Shell != "bash" {
			t.Errorf("step %q: shell %q, want bash", st.Name, st.Shell)
		}
		// No expression is spliced into a script, where a value could
		// run as shell code; values come in through env.
		if strings.Contains(st.Run, "${{") {
			t.Errorf("step %q splices an expression into its script: %s", st.Name, st.Run)
		}
		if m := regexp.MustCompile(`\$GITHUB_ACTION_PATH/([a-z-]+\.sh)`).FindStringSubmatch(st.Run); m != nil {
			script := filepath.Join(actionDir, m[1])
			fi, err := os.Stat(script)
			if err != nil || fi.Mode()&0o111 == 0 {
				t.Errorf("step %q runs %s, which is not an executable file (%v)", st.Name, script, err)
				continue
			}
			if setFor[script] == nil {
				setFor[script] = map[string]bool{}
			}
			for k := range st.Env {
				setFor[script][k] = true
			}
		}
	}
	// Every CONVLOG_ACTION_ variable a script reads is set by a step that
	// runs it: a misspelt name would silently fall back to a default.
	for script, set := range setFor {
		src, _ := os.ReadFile(script)
		for _, v := range scriptVars.FindAllString(string(src), -1) {
			if !set[v] {
				t.Errorf("%s reads %s, which no step that runs it sets", script, v)
			}
		}
	}
	upload := findStep(t, a.Runs.Steps, "actions/upload-artifact")
	if upload.With["include-hidden-files"] != "true" || !strings.Contains(upload.With["path"], "steps.finish.outputs.path") ||
		!strings.Contains(upload.If, "steps.finish.outputs.upload == 'true'") {
		t.Errorf("upload step: %+v", upload)
	}
	cache := findStep(t, a.Runs.Steps, "actions/cache")
	if !strings.Contains(cache.With["path"], "steps.prepare.outputs.gomodcache") || !strings.Contains(cache.With["key"], "steps.prepare.outputs.cache-key") {
		t.Errorf("cache step: %+v", cache)
	}
	if out := a.Outputs["artifact-name"]; !strings.Contains(out.Value, "steps.finish.outputs.artifact-name") {
		t.Errorf("output artifact-name: %+v", out)
	}

	// Which steps run for which inputs.
	plan := func(with map[string]string) []string {
		ar := &actionRun{a: a, inputs: map[string]string{}, steps: map[string]map[string]string{"finish": {"upload": "true"}}}
		for name, in := range a.Inputs {
			ar.inputs[name] = *in.Default
		}
		for k, v := range with {
			ar.inputs[k] = v
		}
		var names []string
		for _, st := range a.Runs.Steps {
			if ar.cond(t, st.If) {
				names = append(names, st.Name)
			}
		}
		return names
	}
	for _, c := range []struct {
		with map[string]string
		want []string
	}{
		{nil, []string{"Locate the Go caches", "Cache the Go modules and build", "Install convlog"}},
		{map[string]string{"go-version": "stable"}, []string{"Set up Go", "Locate the Go caches", "Cache the Go modules and build", "Install convlog"}},
		{map[string]string{"step": "finish"}, []string{"Summarise and sync the sessions, write their pages", "Upload the sessions"}},
		{map[string]string{"step": "bogus"}, []string{"Check the step input"}},
	} {
		if got := plan(c.with); !slices.Equal(got, c.want) {
			t.Errorf("with %v the steps are %q, want %q", c.with, got, c.want)
		}
	}

	checkExampleWorkflow(t)
}

func findStep(t *testing.T, steps []actionStep, uses string) actionStep {
	t.Helper()
	for _, st := range steps {
		if strings.HasPrefix(st.Uses, uses+"@") {
			return st
		}
	}
	t.Fatalf("no step uses %s", uses)
	return actionStep{}
}

// checkExampleWorkflow: the example uses the action before and after the
// agent step, pipes the agent into convlog tee --progress under pipefail,
// and takes credentials from secrets only.
func checkExampleWorkflow(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(actionDir, "example-workflow.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Env   map[string]string `yaml:"env"`
			Steps []actionStep      `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatalf("example workflow: %v", err)
	}
	if len(wf.Jobs) != 1 {
		t.Fatalf("%d jobs", len(wf.Jobs))
	}
	for _, job := range wf.Jobs {
		var uses []actionStep
		agent := -1
		for i, st := range job.Steps {
			if strings.HasPrefix(st.Uses, "convlog/convlog/scripts/github-action@") {
				uses = append(uses, st)
			}
			if strings.Contains(st.Run, "convlog tee") {
				agent = i
				if st.Shell != "bash" || !strings.Contains(st.Run, "set -o pipefail") ||
					!strings.Contains(st.Run, "--output-format stream-json --verbose | convlog tee --progress > /dev/null") {
					t.Errorf("agent step: %+v", st)
				}
			}
			if strings.Contains(st.Run, "${{") {
				t.Errorf("step %q splices an expression into its script", st.Name)
			}
		}
		if len(uses) != 2 || uses[0].With["step"] != "" || uses[1].With["step"] != "finish" || uses[1].If != "always()" || agent < 0 {
			t.Errorf("uses of the action: %+v, agent step %d", uses, agent)
		}
		for _, k := range []string{"TURSO_DATABASE_URL", "TURSO_AUTH_TOKEN"} {
			if job.Env[k] != "${{ secrets."+k+" }}" {
				t.Errorf("job env %s = %q, want it from secrets", k, job.Env[k])
			}
		}
	}
}

// TestGitHubAction runs a whole job: the action's install step (a real go
// install of this tree), agent steps as the example workflow has them (one
// failing, one whose logger is killed), and the finish step with a sync to
// a local archive file.
func TestGitHubAction(t *testing.T) {
	a := loadAction(t)
	r := newFakeRunner(t)
	// The build reuses the packages compiled for the tests (the same flags)
	// and may not reach the network.
	r.jobEnv["GOFLAGS"] = "-buildvcs=false"
	if testkit.Race {
		r.jobEnv["GOFLAGS"] += " -race"
	}
	r.jobEnv["GOPROXY"], r.jobEnv["GOTOOLCHAIN"] = "off", "local"
	r.jobEnv["TURSO_AUTH_TOKEN"] = "token-that-must-not-show"
	sessions := filepath.Join(r.workspace, ".turso", "sessions")
	fixture, err := filepath.Abs(filepath.Join("testdata", "query", "session.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	input, _ := os.ReadFile(fixture)

	// A session already in the workspace (restored, committed) is not this
	// job's.
	if res := runConvlog(t, r.workspace, input, nil, "tee", "-q", "--session-id", "0-earlier"); res.code != 0 {
		t.Fatalf("earlier session: %s", res.stderr)
	}

	// Install.
	install := lastRun(t, r.use(a, nil, "v0.0.0-test"))
	if install.code != 0 {
		t.Fatalf("install: exit %d\n%s", install.code, install.stdout)
	}
	bin := filepath.Join(r.temp, "convlog-action", "bin")
	if len(r.path) != 1 || r.path[0] != bin || !strings.Contains(install.stdout, "v0.0.0-test") {
		t.Fatalf("PATH additions %q; output:\n%s", r.path, install.stdout)
	}
	if r.jobEnv["CONVLOG_DIR"] != ".turso/sessions" || r.jobEnv["CONVLOG_NO_SUMMARY"] != "1" {
		t.Errorf("job env after install: %v", r.jobEnv)
	}
	cache := r.lastUse("actions/cache")
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cache["path"], strings.TrimSpace(string(modcache))+"\n") || !strings.HasPrefix(cache["key"], cache["restore-keys"]) ||
		!strings.HasPrefix(cache["key"], "convlog-go-Linux-X64-go1.") {
		t.Errorf("cache: %v", cache)
	}

	// The agent steps. tee writes no summary of its own: the finish step
	// does. With pipefail the agent's failure fails the step; without it
	// convlog's exit status 0 would hide it.
	// --progress, as in the example, tells the session in the job log.
	agent := map[string]string{"FIXTURE": fixture}
	if res := r.run(`set -o pipefail; cat "$FIXTURE" | convlog tee --progress > /dev/null`, agent); res.code != 0 || res.summary != "" ||
		!strings.Contains(res.stdout, "::group::Turn 1: ▸ Bash  go test ./parser/") ||
		!strings.Contains(res.stdout, "::warning title=Bash failed::✗ Bash  go test ./parser/") || !strings.Contains(res.stdout, "■ success  6 turns") {
		t.Errorf("agent step: exit %d, summary %q\n%s", res.code, res.summary, res.stdout)
	}
	if res := r.run(`set -o pipefail; { cat "$FIXTURE"; exit 3; } | convlog tee > /dev/null`, agent); res.code != 3 {
		t.Errorf("failing agent under pipefail: exit %d, want 3\n%s", res.code, res.stdout)
	}
	if res := r.run(`set +o pipefail; { cat "$FIXTURE"; exit 3; } | convlog tee > /dev/null`, agent); res.code != 0 {
		t.Errorf("failing agent without pipefail: exit %d, want 0 (convlog's)", res.code)
	}
	killed := exec.Command(filepath.Join(bin, "convlog"), "tee", "--session-id", "z-killed")
	killed.Dir, killed.Env = r.workspace, r.environ(nil, nil)
	stdin, err := killed.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	killed.Stdout, killed.Stderr = io.Discard, io.Discard
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	stdin.Write(bytes.Join(fixtureLines(t, "session.jsonl")[:8], []byte("\n")))
	stdin.Write([]byte("\n"))
	pollSession(t, filepath.Join(sessions, "z-killed.db"), messagesAtLeast(8))
	killed.Process.Kill()
	killed.Wait()

	// Finish, with a sync to a local archive.
	archive := filepath.Join(t.TempDir(), "archive.db")
	r.jobEnv["TURSO_DATABASE_URL"] = "file:" + archive
	finish := lastRun(t, r.use(a, map[string]string{"step": "finish"}, "v0.0.0-test"))
	if finish.code != 0 {
		t.Fatalf("finish: exit %d\n%s", finish.code, finish.stdout)
	}
	// The job's sessions in the order they started (list is newest first).
	var listed []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(runConvlog(t, r.workspace, nil, nil, "list", "--json").stdout, &listed); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range slices.Backward(listed) {
		if e.ID != "0-earlier" {
			ids = append(ids, e.ID)
		}
	}
	if len(ids) != 4 || ids[3] != "z-killed" {
		t.Fatalf("sessions of the job: %q", ids)
	}
	var want []string
	for _, id := range ids {
		res := runConvlog(t, r.workspace, nil, nil, "query", id, "--markdown")
		want = append(want, string(res.stdout))
	}
	// The summary ends by saying where the pages are.
	want = append(want, "📄 The artifact `convlog-sessions-agent-"+ids[0]+"` holds each session's page, `<session id>.html` beside its file:"+
		" the timeline of its tool calls and the whole conversation, to open in a browser (it needs no network).\n")
	if finish.summary != strings.Join(want, "\n") {
		t.Errorf("job summary:\n%s\nwant:\n%s", finish.summary, strings.Join(want, "\n"))
	}
	if !strings.Contains(finish.summary, "### ⚠️ convlog session `z-killed`") || strings.Contains(finish.summary, "0-earlier") {
		t.Errorf("job summary:\n%s", finish.summary)
	}
	// Each session of the job has its page beside its file, the killed one
	// too; the earlier session has none.
	for _, id := range ids {
		page, err := os.ReadFile(filepath.Join(sessions, id+".html"))
		if err != nil || !bytes.Contains(page, []byte(`{"session":{"id":"`+id+`"`)) {
			t.Errorf("page of %s: %v", id, err)
		}
	}
	if _, err := os.Stat(filepath.Join(sessions, "0-earlier.html")); err == nil {
		t.Error("a session of an earlier job got a page")
	}
	up := r.lastUse("actions/upload-artifact")
	if up["path"] != ".turso/sessions" || up["name"] != "convlog-sessions-agent-"+ids[0] || up["include-hidden-files"] != "true" {
		t.Errorf("upload: %v", up)
	}
	db, err := sql.Open("sqlite", "file:"+archive+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var synced []string
	rows, err := db.Query(`SELECT id FROM sessions ORDER BY id`)
	if err != nil {
		t.Fatalf("archive: %v\nfinish output:\n%s", err, finish.stdout)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		synced = append(synced, id)
	}
	rows.Close()
	if !slices.Equal(synced, slices.Sorted(slices.Values(ids))) {
		t.Errorf("synced %q, want %q", synced, ids)
	}
	for _, out := range []string{install.stdout, finish.stdout} {
		if strings.Contains(out, "token-that-must-not-show") {
			t.Errorf("the token is in the log:\n%s", out)
		}
	}
}

// TestGitHubActionFinishEdges: no session, inputs out of range, a sync
// asked for without credentials, and an unknown step.
func TestGitHubActionFinishEdges(t *testing.T) {
	a := loadAction(t)
	r := newFakeRunner(t)
	r.path = []string{filepath.Dir(testkit.Bin)}

	res := lastRun(t, r.use(a, map[string]string{"step": "finish", "sync": "true"}, ""))
	if res.code != 0 || res.summary != "### convlog\n\nNo session was logged in this job.\n" || res.outputs["upload"] != "false" ||
		!strings.Contains(res.stdout, "::warning title=convlog::sync is true but TURSO_DATABASE_URL is not set") {
		t.Errorf("no sessions: exit %d, summary %q, outputs %v\n%s", res.code, res.summary, res.outputs, res.stdout)
	}
	for _, c := range []struct {
		with map[string]string
		want string
	}{
		{map[string]string{"step": "finish", "summary": "yes"}, "::error title=convlog::the summary input is 'yes'; use true or false."},
		{map[string]string{"step": "finish", "sync": "always"}, "::error title=convlog::the sync input is 'always'"},
		{map[string]string{"step": "finish", "dir": "a\nb"}, "::error title=convlog::the dir and artifact-name inputs cannot hold line breaks."},
		{map[string]string{"step": "bogus"}, "::error title=convlog::the step input must be install or finish."},
	} {
		res := lastRun(t, r.use(a, c.with, ""))
		if res.code != 1 || !strings.Contains(res.stdout, c.want) {
			t.Errorf("with %q: exit %d\n%s", c.with, res.code, res.stdout)
		}
	}

	// Without convlog on PATH, finish says how to get it.
	r.path = nil
	res = lastRun(t, r.use(a, map[string]string{"step": "finish"}, ""))
	if res.code != 1 || !strings.Contains(res.stdout, "convlog is not on PATH") {
		t.Errorf("without convlog: exit %d\n%s", res.code, res.stdout)
	}
}
