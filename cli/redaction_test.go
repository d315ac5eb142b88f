package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convlog/convlog/internal/testkit"
)

// Secrets in their real formats, built by concatenation so that no scanner
// takes this file for a leak.
var (
	secretAnthropic = "sk-" + "ant-" + "api03-" + strings.Repeat("EXAMPLEfakeKEY0", 7)[:93] + "AA"
	secretGitHub    = "gh" + "p_" + strings.Repeat("EXAMPLEfake0", 3)[:36]
	secretAWS       = "AKIA" + "IOSFODNN7EXAMPLE"
	secretPrivKey   = "-----" + "BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDEXAMPLEfakeKEYbodyEXAMPLEfakeKEYbodyEXAMPLEfakeKEY\n-----" + "END OPENSSH PRIVATE KEY-----"
	secretCustom    = "corp-" + "internal-7f3a9c2e1b"
	plantedSyncTok  = "tok-" + "planted-4b9e1d7a2c8f"
	// Found by the rules of gitleaks' configuration and convlog's own.
	secretSendGrid = "S" + "G." + strings.Repeat("EXAMPLEfake0key", 2)[:22] + "." + strings.Repeat("EXAMPLEfake1key-_", 3)[:43]
	secretPassword = "Tr0ub4dor-3-" + "EXAMPLE"
)

// secretStream carries each secret in a different place: message text, a
// tool input, a tool output (string and block list), an error, and a line
// that is not JSON.
func secretStream() []byte {
	enc := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	lines := []string{
		`{"type":"system","subtype":"init","session_id":"s","model":"claude-x","cwd":"/w"}`,
		`{"type":"assistant","message":{"id":"m1","content":[{"type":"text","text":` + enc("I will use the key "+secretAnthropic) + `},` +
			`{"type":"tool_use","id":"t1","name":"Bash","input":{"command":` + enc("GITHUB_TOKEN="+secretGitHub+" gh pr list") + `}}]}}`,
		`{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":` + enc("aws_access_key_id = "+secretAWS+"\n"+secretPrivKey+"\nSENDGRID_API_KEY="+secretSendGrid+"\nDB_PASSWORD="+secretPassword+"\n") + `}]}}`,
		`{"type":"assistant","message":{"id":"m2","content":[{"type":"tool_use","id":"t2","name":"Read","input":{"file_path":".env"}}]}}`,
		`{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t2","is_error":true,"content":[{"type":"text","text":` + enc("denied: "+secretCustom+" and "+plantedSyncTok) + `}]}]}}`,
		`not json, but a key: ` + secretGitHub,
		`{"type":"result","subtype":"success","is_error":false,"result":"done","total_cost_usd":0.1}`,
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

var allSecrets = []string{secretAnthropic, secretGitHub, secretAWS, "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ", secretCustom, plantedSyncTok, secretSendGrid, secretPassword}

// TestRedaction: secrets never reach the session file (checked on its raw
// bytes, so no column escapes), the pass-through is untouched, and the count
// is in the session. --no-redact stores them.
func TestRedaction(t *testing.T) {
	in := secretStream()
	env := []string{"TURSO_AUTH_TOKEN=" + plantedSyncTok}
	res, path := teeRun(t, in, env, "--no-sync", "--redact-pattern", `corp-internal-[0-9a-f]+`)
	if res.code != 0 || !bytes.Equal(res.stdout, in) {
		t.Fatalf("exit %d, pass-through equal %v: %s", res.code, bytes.Equal(res.stdout, in), res.stderr)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range allSecrets {
		if bytes.Contains(file, []byte(s)) {
			t.Errorf("the session file holds %q", s[:12])
		}
	}
	db := testkit.OpenDB(t, path)
	var redactions int
	testkit.QueryRow(t, db, `SELECT redactions FROM sessions`, &redactions)
	if redactions < 6 {
		t.Errorf("%d redactions counted", redactions)
	}
	var input, output, errText, text string
	testkit.QueryRow(t, db, `SELECT tool_input FROM tool_calls WHERE id='t1'`, &input)
	testkit.QueryRow(t, db, `SELECT tool_output FROM tool_calls WHERE id='t1'`, &output)
	testkit.QueryRow(t, db, `SELECT error FROM tool_calls WHERE id='t2'`, &errText)
	testkit.QueryRow(t, db, `SELECT json_extract(raw_message, '$.message.content[0].text') FROM messages WHERE sequence=1`, &text)
	for _, c := range []struct{ got, want string }{
		{input, "[REDACTED:github]"}, {output, "[REDACTED:aws]"}, {output, "[REDACTED:private-key]"},
		{output, "[REDACTED:sendgrid]"}, {output, "[REDACTED:password]"},
		{errText, "[REDACTED:custom]"}, {text, "[REDACTED:anthropic]"},
	} {
		if !strings.Contains(c.got, c.want) {
			t.Errorf("%q lacks %s", c.got, c.want)
		}
	}
	// Every stored JSON line is still JSON.
	var bad int
	testkit.QueryRow(t, db, `SELECT count(*) FROM messages WHERE type != 'error' AND NOT json_valid(raw_message)`, &bad)
	if bad != 0 {
		t.Errorf("%d stored lines are no longer JSON", bad)
	}

	res, path = teeRun(t, in, nil, "--no-redact")
	file, _ = os.ReadFile(path)
	if res.code != 0 || !bytes.Contains(file, []byte(secretAnthropic)) {
		t.Fatalf("--no-redact: exit %d, secret stored %v", res.code, bytes.Contains(file, []byte(secretAnthropic)))
	}

	res, _ = teeRun(t, in, nil, "--redact-pattern", "(unclosed")
	if res.code != 2 || !bytes.Contains(res.stderr, []byte("convlog: --redact-pattern")) || !bytes.Contains(res.stderr, []byte("(unclosed")) {
		t.Fatalf("bad pattern: exit %d: %s", res.code, res.stderr)
	}
}

func TestImportRedacts(t *testing.T) {
	work := t.TempDir()
	src := filepath.Join(work, "capture.jsonl")
	os.WriteFile(src, secretStream(), 0o644)
	res := runConvlog(t, work, nil, nil, "import", "--dir", "s", src)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, f := range sessionFiles(t, filepath.Join(work, "s")) {
		file, _ := os.ReadFile(f)
		if bytes.Contains(file, []byte(secretGitHub)) || bytes.Contains(file, []byte(secretAWS)) {
			t.Fatalf("an imported session holds a secret")
		}
	}
}
