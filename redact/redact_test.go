package redact

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The fake secrets below have the right format but are obviously not real:
// vendors' documented examples or runs of EXAMPLE/fake. Each is put together
// from parts so that secret scanners reading this file do not report it.

// fill repeats s up to exactly n bytes.
func fill(s string, n int) string { return strings.Repeat(s, n/len(s)+1)[:n] }

// pemBlock returns a key block of the given label with n bytes of
// deterministic filler as its body, wrapped at 64 columns as PEM is.
func pemBlock(label string, n int) string {
	raw := make([]byte, n)
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	b64 := base64.StdEncoding.EncodeToString(raw)
	var sb strings.Builder
	sb.WriteString("-----" + "BEGIN " + label + "-----\n")
	for len(b64) > 64 {
		sb.WriteString(b64[:64] + "\n")
		b64 = b64[64:]
	}
	sb.WriteString(b64 + "\n-----" + "END " + label + "-----")
	return sb.String()
}

var (
	fakeAnthropic   = "sk-" + "ant-" + "api03-" + fill("EXAMPLEfakeKEY0", 93) + "AA"
	fakeAnthropicOA = "sk-" + "ant-" + "oat01-" + fill("EXAMPLE_fake-0", 95)
	fakeOpenAI      = "sk-" + "proj-" + fill("EXAMPLEfake0key_", 156)
	fakeOpenAIOld   = "sk-" + fill("EXAMPLEfake0", 20) + "T3Blbk" + "FJ" + fill("EXAMPLEfake1", 20)
	fakeGitHub      = "gh" + "p_" + "16C7e42F292c6912E7710c838347Ae178B4a" // GitHub's documented example
	fakeGitHubApp   = "gh" + "s_" + fill("EXAMPLEfake0", 36)
	fakeGitHubPAT   = "github" + "_pat_" + fill("EXAMPLE0FAKE", 22) + "_" + fill("EXAMPLEfake0", 59)
	fakeGitLab      = "gl" + "pat-" + fill("EXAMPLEfake0", 20)
	fakeAWSKeyID    = "AKIA" + "IOSFODNN7EXAMPLE" // AWS's documented example
	fakeAWSTempID   = "ASIA" + "IOSFODNN7EXAMPLE"
	fakeAWSSecret   = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY" // AWS's documented example
	fakeGoogle      = "AI" + "za" + fill("SyEXAMPLEfake0-_", 35)
	fakeSlack       = "xo" + "xb-" + "000000000000-0000000000000-" + fill("EXAMPLEfake0", 24)
	fakeSlackApp    = "xa" + "pp-" + "1-A00000000-0000000000000-" + fill("example0fake", 64)
	fakeSlackHook   = fill("X", 24) // Slack's documented webhook example
	fakeStripe      = "sk" + "_live_" + fill("EXAMPLEfake0", 24)
	fakeStripeTest  = "sk" + "_test_" + "4eC39HqLyjWDarjtT1zdp7dc" // Stripe's documented test key
	fakeStripeHook  = "wh" + "sec_" + fill("EXAMPLEfake0", 32)
	fakeNPM         = "np" + "m_" + fill("EXAMPLEfake0", 36)
	fakeHF          = "h" + "f_" + fill("EXAMPLEfakeTOKEN", 34)
	fakeJWT         = "ey" + "JhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" + // jwt.io's example
		".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ" +
		".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	fakeRSAKey     = pemBlock("RSA PRIVATE KEY", 1190)
	fakeOpenSSHKey = pemBlock("OPENSSH PRIVATE KEY", 400)
	fakePKCS8Key   = pemBlock("PRIVATE KEY", 120)
	fakeBearer     = fill("EXAMPLEfake0token.", 40)
	fakeBasic      = base64.StdEncoding.EncodeToString([]byte("admin:EXAMPLE-fake-password"))
	fakePassword   = "EXAMPLE-fake-pa55"
	fakePass       = "hunter2" + "hunter2"

	// Formats of the rules (rules.go).
	fakeAWSSession    = "IQoJb3JpZ2lu" + "X2VjEXAMPLE" + fill("fakeSessionTokenEXAMPLE0+/", 320)
	fakeSlashPassword = "EXAMPLE/fake#pa55?w0rd"
	fakeGoogleSecret  = "GOC" + "SPX-" + fill("EXAMPLEfake0-_", 28)
	fakeGoogleAccess  = "ya" + "29." + "a0AfB_" + fill("EXAMPLEfake0token-_", 150)
	fakeGitLabTrigger = "gl" + "ptt-" + fill("0123456789abcdef", 40)
	fakeGitLabRunner  = "gl" + "rt-" + fill("EXAMPLEfake0-_", 20)
	fakeNPMLegacy     = "5f0c2b1e-" + "8a7d-4c3e-9b1a-0a1b2c3d4e5f"
	fakeAzureKey      = fill("EXAMPLEfakeAzureKey0+/", 86) + "=="
	fakeSendGrid      = "S" + "G." + fill("EXAMPLEfake0key", 22) + "." + fill("EXAMPLEfake1key-_", 43)
	fakeTwilioKey     = "S" + "K" + fill("9f86d081884c7d659a2feaa0c55ad015", 32)
	fakeTwilioToken   = fill("a3bf4f1b2b0b822cd15d6c15b0f00a08", 32)
	fakeDiscordBot    = "MTIzNDU2Nzg5" + "MDEyMzQ1Njc4" + ".GaBcDe." + fill("EXAMPLEfake0token-_", 38)
	fakeDiscordSecret = fill("EXAMPLEfake0secret_", 32)
	fakePuTTYPrivate  = fill("AAAAIEXAMPLEfakePrivateKey0+/", 64) + "\n" + fill("EXAMPLEfake1PrivateKey+/", 64) + "\n" + fill("EXAMPLEfake2", 20)
	fakePuTTYFile     = "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: eddsa-key-20250101\n" +
		"Public-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEfakePublicKeyEXAMPLEfakePublicKey0\nEXAMPLE0\n" +
		"Private-Lines: 3\n" + fakePuTTYPrivate + "\nPrivate-MAC: " + fill("0123456789abcdef", 64)
	fakeLiteralPassword = "Tr0ub4dor&3-EXAMPLE"
)

// secretCase is a secret as it appears in text (context) and the part of
// it that must not be stored (secret).
type secretCase struct {
	name, kind, context, secret string
}

var secretCases = []secretCase{
	{"anthropic", "anthropic", fakeAnthropic, fakeAnthropic},
	{"anthropic oauth", "anthropic", fakeAnthropicOA, fakeAnthropicOA},
	{"openai project", "openai", fakeOpenAI, fakeOpenAI},
	{"openai legacy", "openai", fakeOpenAIOld, fakeOpenAIOld},
	{"github classic", "github", fakeGitHub, fakeGitHub},
	{"github app", "github", fakeGitHubApp, fakeGitHubApp},
	{"github fine-grained", "github", fakeGitHubPAT, fakeGitHubPAT},
	{"gitlab", "gitlab", fakeGitLab, fakeGitLab},
	{"aws key id", "aws", fakeAWSKeyID, fakeAWSKeyID},
	{"aws temporary key id", "aws", fakeAWSTempID, fakeAWSTempID},
	{"aws secret env", "aws", "AWS_SECRET_ACCESS_KEY=" + fakeAWSSecret, fakeAWSSecret},
	{"aws secret ini", "aws", "aws_secret_access_key = " + fakeAWSSecret, fakeAWSSecret},
	{"aws secret json", "aws", `{"UserName": "ci", "SecretAccessKey": "` + fakeAWSSecret + `"}`, fakeAWSSecret},
	{"aws secret yaml", "aws", "aws_secret_key: '" + fakeAWSSecret + "'", fakeAWSSecret},
	{"google", "google", fakeGoogle, fakeGoogle},
	{"slack bot", "slack", fakeSlack, fakeSlack},
	{"slack app", "slack", fakeSlackApp, fakeSlackApp},
	{"slack webhook", "slack", "https://hooks.slack.com/services/" + "T00000000/B00000000/" + fakeSlackHook, fakeSlackHook},
	{"stripe live", "stripe", fakeStripe, fakeStripe},
	{"stripe test", "stripe", fakeStripeTest, fakeStripeTest},
	{"stripe webhook", "stripe", fakeStripeHook, fakeStripeHook},
	{"npm", "npm", fakeNPM, fakeNPM},
	{"huggingface", "huggingface", fakeHF, fakeHF},
	{"jwt", "jwt", fakeJWT, fakeJWT},
	{"rsa key", "private-key", fakeRSAKey, fakeRSAKey},
	{"openssh key", "private-key", fakeOpenSSHKey, fakeOpenSSHKey},
	{"pkcs8 key", "private-key", fakePKCS8Key, fakePKCS8Key},
	{"bearer", "bearer", "Authorization: Bearer " + fakeBearer, fakeBearer},
	{"bearer curl", "bearer", `curl -H "authorization: bearer ` + fakeBearer + `" https://api.example.com`, fakeBearer},
	{"basic", "basic", "Authorization: Basic " + fakeBasic, fakeBasic},
	{"url password", "url-password", "postgres://app:" + fakePassword + "@db.internal:5432/shop", fakePassword},
	{"url password short", "url-password", "postgres://user:" + "pass@host", "pass"},
	{"url password with @", "url-password", "redis://:" + "p@" + fakePassword + "@cache:6379/0", "p@" + fakePassword},
	{"custom", "custom", "ticket CORP-" + fill("0123456789abcdef", 24), "CORP-" + fill("0123456789abcdef", 24)},

	// Missed before the rules: one case per secret the issue listed.
	{"aws session token env", "aws", "AWS_SESSION_TOKEN=" + fakeAWSSession, fakeAWSSession},
	{"aws session token ini", "aws", "aws_session_token = " + fakeAWSSession, fakeAWSSession},
	{"aws session token json", "aws", `{"Credentials": {"SessionToken": "` + fakeAWSSession + `", "Expiration": "2025-01-01T00:00:00Z"}}`, fakeAWSSession},
	{"terraform secret_key", "aws", `provider "aws" {` + "\n" + `  secret_key = "` + fakeAWSSecret + `"` + "\n}", fakeAWSSecret},
	{"url password with slash and hash", "url-password", "postgres://app:" + fakeSlashPassword + "@db.internal:5432/shop", fakeSlashPassword},
	{"jdbc password", "password", "jdbc:postgresql://db.internal:5432/shop?user=app&password=" + fakePassword + "&ssl=true", fakePassword},
	{"jdbc sqlserver password", "password", "jdbc:sqlserver://db:1433;databaseName=shop;user=app;password=" + fakePassword + ";encrypt=true", fakePassword},
	{"go dsn password", "url-password", `sql.Open("mysql", "app:` + fakePassword + `@tcp(db.internal:3306)/shop?parseTime=true")`, fakePassword},
	{"google oauth client secret", "google", `{"installed":{"client_id":"1234-abc.apps.googleusercontent.com","client_secret":"` + fakeGoogleSecret + `"}}`, fakeGoogleSecret},
	{"google oauth access token", "google", "curl -H 'Authorization: OAuth " + fakeGoogleAccess + "' https://www.googleapis.com/drive/v3/files", fakeGoogleAccess},
	{"gitlab pipeline trigger token", "gitlab", "curl -X POST -F token=" + fakeGitLabTrigger + " -F ref=main https://gitlab.example.com/api/v4/projects/1/trigger/pipeline", fakeGitLabTrigger},
	{"gitlab runner token", "gitlab", "gitlab-runner register --token " + fakeGitLabRunner, fakeGitLabRunner},
	{"npm legacy token npmrc", "npm", "//npm.example.com/:_authToken=" + fakeNPMLegacy, fakeNPMLegacy},
	{"npm legacy token env", "npm", "NPM_TOKEN=" + fakeNPMLegacy, fakeNPMLegacy},
	{"azure storage key", "azure", "DefaultEndpointsProtocol=https;AccountName=shopfiles;AccountKey=" + fakeAzureKey + ";EndpointSuffix=core.windows.net", fakeAzureKey},
	{"sendgrid", "sendgrid", "SENDGRID_API_KEY=" + fakeSendGrid, fakeSendGrid},
	{"twilio api key", "twilio", "client = Client('" + fakeTwilioKey + "', secret)", fakeTwilioKey},
	{"twilio auth token", "twilio", "TWILIO_AUTH_TOKEN=" + fakeTwilioToken, fakeTwilioToken},
	{"discord bot token", "discord", "DISCORD_BOT_TOKEN=" + fakeDiscordBot, fakeDiscordBot},
	{"discord client secret", "discord", `discord_client_secret = "` + fakeDiscordSecret + `"`, fakeDiscordSecret},
	{"putty private key", "private-key", fakePuTTYFile, fakePuTTYPrivate},
	{"password json", "password", `{"username": "deploy", "password": "` + fakeLiteralPassword + `"}`, fakeLiteralPassword},
	{"password env", "password", "DB_PASSWORD=" + fakeLiteralPassword, fakeLiteralPassword},
}

// customPatterns are the user patterns every test Redactor has.
var customPatterns = []string{`CORP-[0-9a-f]{24}`, `(?i)passwd=(\S{8,})`}

func newRedactor(t testing.TB) *Redactor {
	t.Helper()
	r, err := New(customPatterns)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var markerRE = regexp.MustCompile(`\[REDACTED:[a-z-]+\]`)

func marker(kind string) string { return "[REDACTED:" + kind + "]" }

// jsonEscape returns s as it reads inside a JSON string.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// checkOut checks a redacted text: no form of the secret is left, the
// marker is there, and redacting again changes nothing.
func checkOut(t *testing.T, r *Redactor, c secretCase, out string, n int) {
	t.Helper()
	if n < 1 {
		t.Errorf("n = %d, want at least 1", n)
	}
	// A short secret ("pass") may be part of a marker's name.
	rest := markerRE.ReplaceAllString(out, "")
	for _, form := range []string{c.secret, jsonEscape(c.secret), jsonEscape(jsonEscape(c.secret))} {
		if strings.Contains(rest, form) {
			t.Errorf("secret left in output:\n%s", out)
		}
	}
	if !strings.Contains(out, marker(c.kind)) {
		t.Errorf("no %s in output:\n%s", marker(c.kind), out)
	}
	if again, n2 := r.String(out); again != out || n2 != 0 {
		t.Errorf("second redaction changed the text (n=%d):\n%s\n%s", n2, out, again)
	}
}

// Secrets in a message's or a tool's plain text.
func TestPlainText(t *testing.T) {
	r := newRedactor(t)
	for _, c := range secretCases {
		t.Run(c.name, func(t *testing.T) {
			for _, text := range []string{
				c.context,
				"Here it is: " + c.context + "\nDone.",
				"$ cat .env\nDEBUG=1\n" + c.context + "\n\tindented " + c.context + " twice\n",
				"(" + c.context + ")",
			} {
				out, n := r.String(text)
				checkOut(t, r, c, out, n)
				want := strings.ReplaceAll(text, c.secret, marker(c.kind))
				if out != want {
					t.Errorf("\n got %q\nwant %q", out, want)
				}
				bout, bn := r.Bytes([]byte("prefix:"), []byte(text))
				if string(bout) != "prefix:"+out || bn != n {
					t.Errorf("Bytes = %q, %d; String = %q, %d", bout, bn, out, n)
				}
			}
		})
	}
}

// Stream-json lines as the agent writes them, with the secret in an
// assistant's text, a tool_use's input, a tool_result's content and the
// result's copy in tool_use_result, and in a JSON document printed by a tool
// (so escaped twice in the line).
func streamLines(text string) []string {
	enc := func(v any) string {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false) // as JSON.stringify writes it
		if err := e.Encode(v); err != nil {
			panic(err)
		}
		return strings.TrimSuffix(b.String(), "\n")
	}
	type obj = map[string]any
	usage := obj{"input_tokens": 4, "cache_creation_input_tokens": 6120, "cache_read_input_tokens": 11873, "output_tokens": 141}
	assistant := func(content ...obj) string {
		return enc(obj{"type": "assistant", "message": obj{
			"model": "claude-sonnet-4-5-20250929", "id": "msg_01HkT9w2cLqVn8YpZr4mA1Bx", "type": "message",
			"role": "assistant", "content": content, "stop_reason": nil, "usage": usage},
			"parent_tool_use_id": nil, "session_id": "5f0c2b1e-8a7d-4c3e-9b1a-2d4e6f8a0c11",
			"uuid": "1c2d3e4f-5061-4728-9a3b-4c5d6e7f8091"})
	}
	user := func(content any, stdout string) string {
		return enc(obj{"type": "user", "message": obj{"role": "user", "content": []obj{{
			"tool_use_id": "toolu_01Bq7sXk2VfJ9mNc3LpR8tYw", "type": "tool_result", "content": content, "is_error": false}}},
			"parent_tool_use_id": nil, "session_id": "5f0c2b1e-8a7d-4c3e-9b1a-2d4e6f8a0c11",
			"uuid":            "4f506172-8394-4a5b-8d6e-7f8091021324",
			"tool_use_result": obj{"stdout": stdout, "stderr": "", "interrupted": false, "isImage": false}})
	}
	doc := enc(obj{"name": "deploy", "env": obj{"TOKEN": text, "REGION": "eu-west-1"}, "note": "line1\nline2 \"quoted\""})
	return []string{
		assistant(obj{"type": "text", "text": "I found this in the config — " + text + " — and will rotate it. 🔑"}),
		assistant(obj{"type": "tool_use", "id": "toolu_01Bq7sXk2VfJ9mNc3LpR8tYw", "name": "Bash",
			"input": obj{"command": "export TOKEN='" + text + "' && ./deploy.sh", "description": "Deploy"}}),
		user("$ cat .env\nDEBUG=1\n"+text+"\nPORT=8080\n", "DEBUG=1\n"+text+"\n"),
		user([]obj{{"type": "text", "text": "config:\n" + text}}, ""),
		user(doc, doc),
		enc(obj{"type": "result", "subtype": "success", "is_error": false, "result": "Done; the leaked value was " + text,
			"session_id": "5f0c2b1e-8a7d-4c3e-9b1a-2d4e6f8a0c11", "total_cost_usd": 0.0123}),
	}
}

// mapStrings replaces every string in a decoded JSON value, keys too, with
// f(s), to compare what redaction changed.
func mapStrings(v any, f func(string) string) any {
	switch v := v.(type) {
	case string:
		return f(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = mapStrings(x, f)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[f(k)] = mapStrings(x, f)
		}
		return out
	}
	return v
}

func TestStreamJSON(t *testing.T) {
	r := newRedactor(t)
	for _, c := range secretCases {
		t.Run(c.name, func(t *testing.T) {
			for i, line := range streamLines(c.context) {
				out, n := r.Bytes(nil, []byte(line))
				checkOut(t, r, c, string(out), n)
				if !json.Valid(out) {
					t.Fatalf("line %d: invalid JSON after redaction:\n%s", i, out)
				}
				var before, after any
				json.Unmarshal([]byte(line), &before)
				json.Unmarshal(out, &after)
				// Decoded, each string is the original with the secret
				// replaced, in whichever form it had there: raw, or escaped
				// once more inside a printed JSON document.
				want := mapStrings(before, func(s string) string {
					if esc := jsonEscape(c.secret); esc != c.secret {
						s = strings.ReplaceAll(s, esc, marker(c.kind))
					}
					return strings.ReplaceAll(s, c.secret, marker(c.kind))
				})
				if !reflect.DeepEqual(after, want) {
					t.Errorf("line %d: decoded\n%v\nwant\n%v", i, after, want)
				}
			}
		})
	}
}

// A tool's input is stored as its JSON; so is a secret right after an
// escape sequence, where the letter before it is not a word.
func TestToolInputEscapes(t *testing.T) {
	r := newRedactor(t)
	for _, c := range secretCases {
		for _, in := range []string{
			`{"command":"printf 'a\n` + jsonEscape(c.context) + `\n'"}`,
			`{"content":"x\t` + jsonEscape(c.context) + `\"}\\"}`,
			`{"content":"\u00e9` + jsonEscape(c.context) + `\u00e9"}`,
			`{"content":"\\` + jsonEscape(c.context) + `\\"}`,
			`[` + string(mustJSON(c.context)) + `,"` + jsonEscape(c.context) + `"]`,
		} {
			out, n := r.Bytes(nil, []byte(in))
			checkOut(t, r, c, string(out), n)
			if !json.Valid(out) {
				t.Errorf("%s: invalid JSON after redaction:\n%s\n%s", c.name, in, out)
			}
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Ordinary text that looks a little like a secret is left alone.
func TestOrdinaryText(t *testing.T) {
	r := newRedactor(t)
	for _, s := range []string{
		"commit 3f1c9a7e2b4d6f8a0c1e3b5d7f9a1c3e5b7d9f1a (HEAD -> main, origin/main)",
		"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"5f0c2b1e-8a7d-4c3e-9b1a-2d4e6f8a0c11 0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d",
		`"id":"toolu_01Bq7sXk2VfJ9mNc3LpR8tYw","msg":"msg_01HkT9w2cLqVn8YpZr4mA1Bx","req":"req_011CUDk3dPzV6Ytn2RxGxQo1"`,
		`"signature":"EpUBCkYIBxgCKkB3c2lnbmF0dXJlLWZpeHR1cmU="`,
		`const cacheKey = "a9f3e1c7b5d2f4e6a8c0b2d4f6e8a0c2"; var X9fQ2mZ7pL4kR8sT1vW3yB6nD0hJ5gC = 1`,
		"task-runner disk-usage risk-free ask-ant-colony whisk-it sk-SK sk-learn",
		"sk-learn-pipeline-settings-for-model-training-and-evaluation",
		"Anthropic keys start with sk-ant-api03-... and OpenAI keys with sk-proj-YOUR-KEY-HERE.",
		"GitHub tokens look like ghp_xxxx; set GH_TOKEN=ghp_your_token_here",
		"Use a Bearer token. Authorization: Bearer $TOKEN or Bearer <token> or Bearer ${GITHUB_TOKEN}",
		"Authorization: Bearer YOUR_ACCESS_TOKEN_HERE; Bearer authentication; bearer tokens",
		"Basic auth is the simplest scheme. A basic example. BASIC is a language.",
		"https://example.com:8443/path?q=1#frag git@github.com:org/repo.git ssh://git@github.com/org/repo",
		"mailto:someone@example.com dev@example.com @decorator npm i @scope/pkg@1.2.3",
		"postgres://user:" + "${DB_PASSWORD}@localhost/db postgres://user@localhost/db https://user:" + "****@host postgres://u:" + "$PW@h",
		"AKIA is the prefix of access key ids; AKIA" + "IOSFODNN7EXAMPLEX is one byte too long",
		"aws_secret_access_key = <your secret>; AWS_SECRET_ACCESS_KEY is not set; SecretAccessKey: ${SECRET}",
		"aws_access_key_id = none; aws_session_token = ",
		pemBlock("PUBLIC KEY", 270),
		pemBlock("CERTIFICATE", 900),
		`if strings.HasPrefix(s, "-----` + `BEGIN RSA PRIVATE KEY-----") {`,
		"-----" + "BEGIN PRIVATE KEY-----\n...\n-----" + "END PRIVATE KEY-----",
		`"eyJhbGciOiJIUzI1NiJ9" is base64 for {"alg":"HS256"}; file eyJzdWIi.json`,
		`C:\Users\dev\npm_cache\hf_home\gh_cli`,
		"#3f1c9a rgb(1,2,3) 0xdeadbeefcafebabe 1e+10 -1.5 [REDACTED:github] [REDACTED:nosuchkind]",
		"xoxb- is the bot token prefix; xoxp-user-token; https://hooks.slack.com/services/T000/B000/short",
		"AIza is the prefix of Google API keys",
		// Near the rules' keywords, but not secrets.
		`if err := s.store.Get(ctx, req.ID); err != nil { return s.cache.Del(k) } // os.Getenv("HOME")`,
		"def test_user_login(self): next_token = ctx.ext_id; msg.Content = sg.Add(1); task.SKIP; ASKED; SKU-1234",
		`password=${DB_PASSWORD} "password": "<your password>" ?password={password} user:${PW}@tcp(db:3306)/x`,
		`DB_PASSWORD=$SECRET "password": "changeme" password = 'SetPassword' self.password = password`,
		"jdbc:postgresql://db:5432/shop?user=app&password=&ssl=true Server=db;Password=;Database=x",
		"Private-Lines: 14 and Public-Lines: 6; AccountKey=<key>; GOCSPX-xxxx; ya29.xxxx; SG.xxxx; glptt-; glrt-",
		"https://registry.example.com:8443/@scope/pkg http://localhost:3000/users/@me https://example.com/path?email=a@b.com",
		"const token = getToken(req); const apiKey = process.env.API_KEY; secret_key: ${{ secrets.AWS_SECRET }}",
		"5f0c2b1e-8a7d-4c3e-9b1a-2d4e6f8a0c11 npm ERR! code E404 npm WARN deprecated; NPM_TOKEN=${NPM_TOKEN}",
		"Azure storage account shopfiles, Discord bot ready, Twilio SMS sent; twilio_account_sid = ACxxxxxxxx",
		"",
	} {
		if out, n := r.String(s); n != 0 || out != s {
			t.Errorf("changed (n=%d):\n %q\n %q", n, s, out)
		}
	}
}

// Base64 image data is long and random but never a secret.
func TestImageData(t *testing.T) {
	r := newRedactor(t)
	line := imageLine(1 << 20)
	if out, n := r.Bytes(nil, line); n != 0 || !bytes.Equal(out, line) {
		t.Errorf("image data changed: n = %d", n)
	}
}

// imageLine returns a tool_result line holding an image of size random
// bytes, as a screenshot tool returns it.
func imageLine(size int) []byte {
	raw := make([]byte, size)
	rng := rand.New(rand.NewPCG(7, uint64(size)))
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	return mustJSON(map[string]any{"type": "user", "message": map[string]any{"role": "user", "content": []any{
		map[string]any{"type": "tool_result", "tool_use_id": "toolu_01Cz4Hn6TqWe1RkD5sMb9uXa", "content": []any{
			map[string]any{"type": "image", "source": map[string]any{"type": "base64", "media_type": "image/png",
				"data": base64.StdEncoding.EncodeToString(raw)}}}}}}})
}

// Realistic stream-json and transcript lines without secrets pass unchanged.
func TestCleanFixture(t *testing.T) {
	r := newRedactor(t)
	for i, line := range fixtureLines(t) {
		if out, n := r.Bytes(nil, line); n != 0 || !bytes.Equal(out, line) {
			t.Errorf("line %d changed (n=%d):\n%s", i+1, n, diffAt(line, out))
		}
	}
}

// Each secret put into a line of the fixture, in its longest string, is
// replaced and nothing else changes.
func TestFixtureWithSecrets(t *testing.T) {
	r := newRedactor(t)
	for i, line := range fixtureLines(t) {
		if i%4 != 0 {
			continue // a sample keeps the test quick
		}
		var v any
		if json.Unmarshal(line, &v) != nil {
			continue
		}
		longest := ""
		mapStrings(v, func(s string) string {
			if len(s) > len(longest) {
				longest = s
			}
			return s
		})
		k := len(longest) / 2
		if j := strings.IndexByte(longest[k:], '\n'); j >= 0 {
			k += j
		} else {
			k = len(longest)
		}
		for _, c := range secretCases {
			withSecret := mapStrings(v, func(s string) string {
				if s != longest {
					return s
				}
				return s[:k] + "\n" + c.context + "\n" + s[k:]
			})
			in := mustJSON(withSecret)
			out, n := r.Bytes(nil, in)
			if n == 0 || !json.Valid(out) {
				t.Errorf("line %d, %s: n = %d, valid JSON %v", i+1, c.name, n, json.Valid(out))
				continue
			}
			var got any
			json.Unmarshal(out, &got)
			redacted := strings.ReplaceAll(c.context, c.secret, marker(c.kind))
			want := mapStrings(withSecret, func(s string) string {
				return strings.ReplaceAll(s, c.context, redacted)
			})
			if !reflect.DeepEqual(got, want) {
				t.Errorf("line %d, %s: decoded line differs:\n%s", i+1, c.name, diffAt(mustJSON(want), out))
			}
		}
	}
}

func fixtureLines(t testing.TB) [][]byte {
	f, err := os.Open("testdata/clean.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	br := bufio.NewReader(f)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			lines = append(lines, bytes.TrimSuffix(line, []byte("\n")))
		}
		if err != nil {
			return lines
		}
	}
}

func diffAt(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-60)
	return string(a[lo:min(len(a), i+60)]) + "\n" + string(b[lo:min(len(b), i+60)])
}

func TestCustomPatterns(t *testing.T) {
	r := newRedactor(t)
	for _, c := range []struct{ in, want string }{
		// A capturing group names what to replace; the rest is context.
		{"passwd=" + fakePass + " next", "passwd=" + marker("custom") + " next"},
		// In a JSON document only the parts of a match inside strings are
		// replaced, so the structure stays.
		{`{"cmd":"login passwd=` + fakePass + `"}`, `{"cmd":"login passwd=` + marker("custom") + `"}`},
		{`{"cmd":"passwd=` + fakePass + `","n":1}`, `{"cmd":"passwd=` + marker("custom") + `","n":1}`},
		// The same secret elsewhere in the text goes too.
		{"passwd=" + fakePass + " and again " + fakePass, "passwd=" + marker("custom") + " and again " + marker("custom")},
	} {
		out, n := r.String(c.in)
		if out != c.want || n == 0 {
			t.Errorf("%q:\n got %q (n=%d)\nwant %q", c.in, out, n, c.want)
		}
	}

	// A match across JSON structure keeps only its parts inside strings.
	r2, err := New([]string{`"password":\s*"[^"]*"`, `\b\d{16}\b`})
	if err != nil {
		t.Fatal(err)
	}
	in := `{"user":"ann","password": "` + fakePass + `","card":4111111111111111,"note":"card 4111111111111111"}`
	out, _ := r2.String(in)
	if !json.Valid([]byte(out)) || strings.Contains(out, fakePass) || strings.Contains(out, `"card 4111111111111111"`) {
		t.Errorf("got %s", out)
	}
	if again, n := r2.String(out); again != out || n != 0 {
		t.Errorf("second redaction: %s (n=%d)", again, n)
	}
	// The same match in plain text is replaced whole.
	if out, _ := r2.String(`password: "password": "x"`); out != `password: `+marker("custom") {
		t.Errorf("plain text: %s", out)
	}
}

func TestNewError(t *testing.T) {
	_, err := New([]string{`ok[0-9]+`, `bad(`})
	if err == nil || !strings.Contains(err.Error(), "bad(") {
		t.Fatalf("err = %v, want one naming the pattern", err)
	}
}

func TestNil(t *testing.T) {
	var r *Redactor
	src := "token " + fakeGitHub
	if out, n := r.String(src); out != src || n != 0 {
		t.Errorf("nil Redactor changed text")
	}
	if out, n := r.Bytes([]byte("x"), []byte(src)); string(out) != "x"+src || n != 0 {
		t.Errorf("nil Redactor changed text")
	}
}

func TestKinds(t *testing.T) {
	kinds := Kinds()
	for _, c := range secretCases {
		if !slices.Contains(kinds, c.kind) {
			t.Errorf("Kinds() lacks %q", c.kind)
		}
	}
}

// Several secrets in one line, side by side or nested, all go.
func TestManySecrets(t *testing.T) {
	r := newRedactor(t)
	var sb strings.Builder
	for _, c := range secretCases {
		sb.WriteString(c.context + "\n" + c.context + " ")
	}
	sb.WriteString("https://x-access-token:" + fakeGitHubApp + "@github.com/org/repo.git ")
	sb.WriteString("Authorization: Bearer " + fakeAnthropic + " " + fakeAWSKeyID + fakeGitHub)
	text := sb.String()
	for _, in := range []string{text, string(mustJSON(map[string]string{"stdout": text}))} {
		out, n := r.String(in)
		if n < 2*len(secretCases) {
			t.Errorf("n = %d, want at least %d", n, 2*len(secretCases))
		}
		for _, c := range secretCases {
			if len(c.secret) >= minPropagate && strings.Contains(out, c.secret) {
				t.Errorf("%s left:\n%s", c.name, out)
			}
		}
		if again, n2 := r.String(out); again != out || n2 != 0 {
			t.Errorf("second redaction changed the text")
		}
		if in[0] == '{' && !json.Valid([]byte(out)) {
			t.Errorf("invalid JSON:\n%s", out)
		}
	}
}

// Text built to make the checks rescan what they have read stays linear:
// each case takes about as long as ordinary text dense with anchors, where
// rescanning up to a token's length at each anchor would take a hundred
// times as long.
func TestLinearTime(t *testing.T) {
	r, _ := New(nil)
	// A quadratic cost shows at a quarter of the size too: under the race
	// detector, whose slowdown is the same for every input, that keeps the
	// test to about 15 s instead of 47.
	size := 256 << 10
	if raceDetector {
		size = 64 << 10
	}
	rep := func(s string) []byte { return []byte(strings.Repeat(s, size/len(s)+1)[:size]) }
	measure := func(in []byte) time.Duration {
		best := time.Duration(1<<63 - 1)
		for range 3 {
			start := time.Now()
			r.Bytes(nil, in)
			best = min(best, time.Since(start))
		}
		return best
	}
	base := measure(rep("a-b_c@d I J K B b sk- gh_ eyJ "))
	var distinct strings.Builder
	for i := 0; distinct.Len() < size; i++ {
		distinct.WriteString("gh" + "p_" + fill("EXAMPLEfake0", 30) + fmt.Sprintf("%06d ", i))
	}
	for name, in := range map[string][]byte{
		"at":            rep("@"),
		"url":           rep("http://a:" + "b@"),
		"authority":     append([]byte("x://"), rep("a@")...),
		"jwt":           rep("eyJ-"),
		"jwt parts":     rep("eyJabcdefghijkl.eyJabcdefgh."),
		"openai":        rep("-sk-a1B2c3D4"),
		"anthropic":     rep("sk-ant-"),
		"key headers":   rep("-----" + "BEGIN PRIVATE KEY----- "),
		"key body":      append([]byte("-----"+"BEGIN PRIVATE KEY-----"), rep("QUJD")...),
		"backslashes":   append(rep(`\`), fakeGitHub...),
		"escapes":       rep(`\u00e9-`),
		"bearer":        rep("Bearer "),
		"aws names":     rep("aws_secret_access_key=aws_secret_access_key="),
		"slack webhook": rep("hooks.slack.com/services/T0000/B"),
		"same secret":   rep(fakeGitHub + " "),
		"many secrets":  []byte(distinct.String()),
		"dashes":        rep("-"),
		"underscores":   rep("_key"),
		"json":          []byte(`{"a":"` + string(rep(`\"`+fakeAWSKeyID)) + `"}`),
		// The rules' keywords, where nothing follows them.
		"rule keywords": rep("twilio glptt- sg.x s.x ext_ Bot M npm_token=1 facebook "),
	} {
		if d := measure(in); d > 50*base+20*time.Millisecond {
			t.Errorf("%s: %v for %d bytes, ordinary text %v", name, d, len(in), base)
		}
	}
	// A rule's pattern running at each of many keywords, and gitleaks'
	// allowlists checking each of many findings, cost more than ordinary
	// text by far: there, sixteen times the text must take about sixteen
	// times as long, not 256 (the margin is for a busy machine).
	generic, _ := New(nil, WithGeneric(true))
	for name, c := range map[string]struct {
		r *Redactor
		s string
	}{
		"rule tokens":      {r, fakeSendGrid + " "},
		"rule windows":     {r, "facebook 123456789012345|"},
		"passwords":        {r, `password = "` + fakeLiteralPassword + `" `},
		"long rule runs":   {r, "ops_eyJ" + fill("QUJD", 300) + " "},
		"generic keywords": {generic, "token key api auth secret access "},
		"generic values":   {generic, "api_key=" + fill("a8F3k2J9d8S7f6G5h4J3x1", 32) + " "},
		"generic near":     {generic, "token=aaaaaaaaa "},
	} {
		r = c.r
		small := measure([]byte(strings.Repeat(c.s, size/16/len(c.s)+1)[:size/16]))
		if d := measure(rep(c.s)); d > 64*small+20*time.Millisecond {
			t.Errorf("%s: %v for %d bytes, %v for a sixteenth", name, d, size, small)
		}
	}
}

// A line with nothing to replace costs no allocation.
func TestNoAllocs(t *testing.T) {
	r, _ := New(nil)
	line := benchLine(5000, "")
	buf := make([]byte, 0, 2*len(line))
	if a := testing.AllocsPerRun(100, func() { r.Bytes(buf[:0], line) }); a != 0 {
		t.Errorf("%v allocations", a)
	}
	s := string(line)
	if a := testing.AllocsPerRun(100, func() { r.String(s) }); a != 0 {
		t.Errorf("String: %v allocations", a)
	}
}

func FuzzRedact(f *testing.F) {
	for _, c := range secretCases {
		f.Add([]byte(c.context))
		for _, l := range streamLines(c.context) {
			f.Add([]byte(l))
		}
	}
	for i, l := range fixtureLines(f) {
		if i%10 == 0 {
			f.Add(l)
		}
	}
	f.Add([]byte(`{"a":"\u00e9` + fakeGitHub + `\\\"` + fakeAWSKeyID + `"}`))
	r := newRedactor(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		// The input as it is, and as the text of a JSON string, once and
		// twice encoded, as a tool's output sits in a stream-json line.
		once := mustJSON(map[string]any{"text": string(in), "n": 1})
		twice := mustJSON([]string{string(once)})
		for _, in := range [][]byte{in, once, twice} {
			checkRedact(t, r, in)
		}
	})
}

func checkRedact(t *testing.T, r *Redactor, in []byte) {
	var replaced [][]byte
	out, n := r.appendRedacted(nil, in, func(_ kind, s []byte) {
		replaced = append(replaced, bytes.Clone(s))
	})
	if n == 0 {
		if !bytes.Equal(out, in) {
			t.Fatalf("n = 0 but the text changed:\n%q\n%q", in, out)
		}
		return
	}
	// Shorter secrets are replaced where found, not everywhere (see
	// minPropagate).
	for _, s := range replaced {
		if len(s) >= minPropagate && bytes.Contains(out, s) {
			t.Fatalf("replaced %q, still in output %q", s, out)
		}
	}
	if json.Valid(in) && !json.Valid(out) {
		t.Fatalf("valid JSON made invalid:\n%q\n%q", in, out)
	}
	if utf8.Valid(in) && !utf8.Valid(out) {
		t.Fatalf("valid UTF-8 made invalid:\n%q\n%q", in, out)
	}
	if again, n2 := r.Bytes(nil, out); n2 != 0 || !bytes.Equal(again, out) {
		t.Fatalf("not idempotent:\n%q\n%q\n%q", in, out, again)
	}
}

// benchLine returns a stream-json tool_result line of about size bytes,
// like a tool's output with code, paths, ids and prose, with secret (if
// any) in the middle.
func benchLine(size int, secret string) []byte {
	const chunk = "internal/api/handler.go:42:\tif err := s.store.Get(ctx, req.ID); err != nil {\n" +
		"--- FAIL: TestCheckout/empty_cart (0.01s)\n    cart_test.go:88: got 1099, want 1100\n" +
		"commit 3f1c9a7e2b4d6f8a0c1e3b5d7f9a1c3e5b7d9f1a Author: Dev <dev@example.com>\n" +
		"The handler reads the session token from the request, checks it against the store and " +
		"returns 401 when it is missing or expired. See https://example.com/docs/auth#tokens.\n" +
		"const [profile, setProfile] = useState(null); // 5f0c2b1e-8a7d-4c3e-9b1a-2d4e6f8a0c11\n"
	var body strings.Builder
	for body.Len() < size-600 {
		body.WriteString(chunk)
		if secret != "" && body.Len() > size/2 {
			body.WriteString("TOKEN=" + secret + "\n")
			secret = ""
		}
	}
	return mustJSON(map[string]any{"type": "user", "message": map[string]any{"role": "user", "content": []any{
		map[string]any{"tool_use_id": "toolu_01Bq7sXk2VfJ9mNc3LpR8tYw", "type": "tool_result",
			"content": body.String(), "is_error": false}}},
		"parent_tool_use_id": nil, "session_id": "5f0c2b1e-8a7d-4c3e-9b1a-2d4e6f8a0c11",
		"uuid": "4f506172-8394-4a5b-8d6e-7f8091021324"})
}

func BenchmarkBytes(b *testing.B) {
	plain, _ := New(nil)
	withLiteral, _ := New([]string{`CORP-[0-9a-f]{24}`})
	withFolded, _ := New([]string{`(?i)passwd=(\S{8,})`})
	var fixture []byte
	for _, l := range fixtureLines(b) {
		fixture = append(append(fixture, l...), '\n')
	}
	for _, bc := range []struct {
		name string
		r    *Redactor
		line []byte
	}{
		{"clean-5KB", plain, benchLine(5000, "")},
		{"one-secret-5KB", plain, benchLine(5000, fakeGitHub)},
		{"one-key-block-5KB", plain, benchLine(5000, fakeRSAKey)},
		{"clean-fixture", plain, fixture},
		{"image-1MB", plain, imageLine(1 << 20)},
		// A user pattern with a literal prefix is found with a fast search;
		// one without (here, case folded) runs the regexp machine on every
		// byte.
		{"clean-5KB-custom-literal", withLiteral, benchLine(5000, "")},
		{"clean-5KB-custom-folded", withFolded, benchLine(5000, "")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 2*len(bc.line))
			b.SetBytes(int64(len(bc.line)))
			for b.Loop() {
				buf, _ = bc.r.Bytes(buf[:0], bc.line)
			}
		})
	}
}
