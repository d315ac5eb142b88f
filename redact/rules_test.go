package redact

import (
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode/utf8"
)

// Every rule finds what its own pattern describes. For each rule, strings
// are generated from its pattern until one is what gitleaks would report
// (the pattern matches it, the secret's entropy is above the rule's and
// no allowlist lets it go); it is then put in plain text and in
// stream-json lines, and must be replaced wherever gitleaks would find it
// in the decoded text (a pattern starting with "^" finds nothing in the
// middle of a line).
func TestRulesFindTheirOwn(t *testing.T) {
	r, err := New(nil, WithGeneric(true))
	if err != nil {
		t.Fatal(err)
	}
	for _, rule := range genericRules().rules {
		t.Run(rule.spec.id, func(t *testing.T) {
			context, secret := ruleSample(t, rule)
			c := secretCase{rule.spec.id, kindNames[rule.kind], context, secret}
			re := regexp.MustCompile(rule.spec.regex)
			for _, p := range rulePositions {
				line, decoded := p(context)
				if !strings.Contains(secretOf(rule, re, decoded), secret) {
					continue
				}
				out, n := r.Bytes(nil, []byte(line))
				checkRuleOut(t, r, c, string(out), n)
				if line[0] == '{' && !json.Valid(out) {
					t.Fatalf("invalid JSON after redaction:\n%s", out)
				}
			}
		})
	}
}

// rulePositions put a text where secrets are met: plain text, a tool's
// output, a Bash command, an assistant's words, a JSON document printed by
// a tool. Each returns the line and the decoded text that holds the text.
var rulePositions = []func(text string) (line, decoded string){
	func(text string) (string, string) { return "config:\n" + text + "\nok", "config:\n" + text + "\nok" },
	func(text string) (string, string) {
		out := "$ cat .env\n" + text + "\nPORT=8080\n"
		return toolResultLine(out), out
	},
	func(text string) (string, string) {
		cmd := "cat > .env <<'EOF'\n" + text + "\nEOF"
		return jsLine(map[string]any{"type": "assistant", "message": map[string]any{"content": []any{
			map[string]any{"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": map[string]any{"command": cmd}}}}}), cmd
	},
	func(text string) (string, string) {
		words := "I found this in the config: " + text + " and will rotate it."
		return jsLine(map[string]any{"type": "assistant", "message": map[string]any{"content": []any{
			map[string]any{"type": "text", "text": words}}}}), words
	},
	func(text string) (string, string) {
		doc := jsLine(map[string]any{"env": map[string]any{"TOKEN": text}})
		return toolResultLine(doc), doc
	},
}

// jsLine encodes v as JSON.stringify does, without escaping <, > and &.
func jsLine(v any) string {
	var b strings.Builder
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func toolResultLine(content string) string {
	return jsLine(map[string]any{"type": "user", "message": map[string]any{"role": "user", "content": []any{
		map[string]any{"type": "tool_result", "tool_use_id": "toolu_01", "content": content}}}})
}

// secretOf returns the secret the rule reports first in text, or "".
func secretOf(r *rule, re *regexp.Regexp, text string) string {
	m := re.FindStringSubmatchIndex(text)
	if m == nil {
		return ""
	}
	if gs, ge := r.secretSpan(m); gs >= 0 && ge > gs {
		return text[gs:ge]
	}
	return ""
}

// checkRuleOut checks a redacted text as checkOut does, except that the
// marker may be of any kind: a hand-written format may take the secret
// first.
func checkRuleOut(t *testing.T, r *Redactor, c secretCase, out string, n int) {
	t.Helper()
	rest := markerRE.ReplaceAllString(out, "")
	if n < 1 {
		t.Errorf("n = %d for %q", n, c.context)
	}
	for _, form := range []string{c.secret, jsonEscape(c.secret), jsonEscape(jsonEscape(c.secret))} {
		if strings.Contains(rest, form) {
			t.Errorf("secret %q left in output:\n%s", c.secret, out)
			return
		}
	}
	if again, n2 := r.String(out); again != out || n2 != 0 {
		t.Errorf("second redaction changed the text (n=%d):\n%s\n%s", n2, out, again)
	}
}

// ruleSample returns a text holding a string generated from the rule's
// pattern that gitleaks would report, and its secret.
func ruleSample(t testing.TB, r *rule) (context, secret string) {
	t.Helper()
	context, secret, ok := generateSample(r)
	if !ok {
		t.Fatalf("no string generated from %s is one gitleaks would report", r.spec.regex)
	}
	return context, secret
}

func generateSample(r *rule) (context, secret string, ok bool) {
	tree, err := syntax.Parse(r.spec.regex, syntax.Perl)
	if err != nil {
		return "", "", false
	}
	re := regexp.MustCompile(r.spec.regex)
	r.compile()
	for seed := range uint64(2000) {
		rng := rand.New(rand.NewPCG(seed, 7))
		var sb strings.Builder
		generate(&sb, tree, rng)
		s := sb.String()
		// A rule fires where one of its keywords is: in the match, or
		// said just before it (facebook-access-token).
		context = s
		if !containsKeyword(s, r.spec.keywords) {
			context = r.spec.keywords[0] + " " + s
		}
		m := re.FindStringSubmatchIndex(context)
		if m == nil {
			continue
		}
		gs, ge := r.secretSpan(m)
		if gs < 0 || ge-gs < 6 {
			continue
		}
		secret = context[gs:ge]
		if r.spec.entropy > 0 && entropy([]byte(secret)) <= r.spec.entropy {
			continue
		}
		sc := scanner{src: []byte(context), rs: genericRules()}
		if sc.allowed(r, globalAllow(), m, []byte(secret)) || sc.allowed(r, r.allow, m, []byte(secret)) {
			continue
		}
		return context, secret, true
	}
	return "", "", false
}

func containsKeyword(s string, keywords []string) bool {
	for _, kw := range keywords {
		if strings.Contains(strings.ToLower(s), strings.ToLower(kw)) {
			return true
		}
	}
	return false
}

// generate writes a random string that re matches, as the text around it
// allows: no empty-width assertion is checked.
func generate(sb *strings.Builder, re *syntax.Regexp, rng *rand.Rand) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && c < utf8.RuneSelf && rng.IntN(2) == 0 {
				c = rune(cases(byte(c))[rng.IntN(len(cases(byte(c))))])
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				} else if 'a' <= c && c <= 'z' {
					c -= 'a' - 'A'
				}
			}
			sb.WriteRune(c)
		}
	case syntax.OpCharClass:
		sb.WriteRune(pickRune(re.Rune, rng))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		// Patterns write "." where they mean a dot (xoxe.xoxb-).
		sb.WriteByte('.')
	case syntax.OpCapture:
		generate(sb, re.Sub[0], rng)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			generate(sb, s, rng)
		}
	case syntax.OpAlternate:
		// A branch that writes something: "$" in a terminator would need
		// the text to end there.
		var writing []*syntax.Regexp
		for _, b := range re.Sub {
			if maxLen(b) != 0 {
				writing = append(writing, b)
			}
		}
		if len(writing) == 0 {
			writing = re.Sub
		}
		generate(sb, writing[rng.IntN(len(writing))], rng)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := 0, 2
		switch re.Op {
		case syntax.OpPlus:
			lo, hi = 1, 3
		case syntax.OpQuest:
			hi = 1
		case syntax.OpRepeat:
			lo, hi = re.Min, re.Min+4
			if re.Max >= 0 {
				hi = min(hi, re.Max)
			}
		}
		for range lo + rng.IntN(hi-lo+1) {
			generate(sb, re.Sub[0], rng)
		}
	}
}

// pickRune picks a rune of a class, a printable ASCII one when there is.
func pickRune(ranges []rune, rng *rand.Rand) rune {
	var printable []rune
	for i := 0; i+1 < len(ranges); i += 2 {
		for c := max(ranges[i], '!'); c <= ranges[i+1] && c <= '~'; c++ {
			printable = append(printable, c)
		}
	}
	if len(printable) > 0 {
		return printable[rng.IntN(len(printable))]
	}
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i] <= ' ' && ' ' <= ranges[i+1] {
			return ' '
		}
	}
	return ranges[0]
}

// Generic assignments (api_key=…, SECRET_KEY=…) are replaced only with
// WithGeneric: gitleaks' generic-api-key, which also takes random-looking
// values of code that are not secrets. Passwords assigned a literal are
// replaced either way.
func TestGeneric(t *testing.T) {
	apiKey := fill("a8F3k2J9d8S7f6G5h4J3x1", 32)
	secretKey := fill("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd", 50)
	cases := []secretCase{
		{"api_key env", "generic", "api_key=" + apiKey, apiKey},
		{"api key json", "generic", `{"name": "billing", "api_key": "` + apiKey + `"}`, apiKey},
		{"api key yaml", "generic", "stripe:\n  apiKey: " + apiKey + "\n", apiKey},
		{"django secret key", "generic", "SECRET_KEY=" + secretKey, secretKey},
	}
	off := newRedactor(t)
	on, err := New(customPatterns, WithGeneric(true))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if out, n := off.String(c.context); n != 0 {
				t.Errorf("replaced without WithGeneric: %s", out)
			}
			for _, text := range []string{c.context, "$ cat .env\n" + c.context + "\nPORT=8080\n"} {
				out, n := on.String(text)
				checkOut(t, on, c, out, n)
			}
			for i, line := range streamLines(c.context) {
				out, n := on.Bytes(nil, []byte(line))
				checkOut(t, on, c, string(out), n)
				if !json.Valid(out) {
					t.Fatalf("line %d: invalid JSON after redaction:\n%s", i, out)
				}
			}
		})
	}
	// What generic-api-key's allowlists keep: code and placeholders.
	for _, s := range []string{
		"api_key = os.environ['API_KEY']",
		"token: ${{ secrets.DEPLOY_TOKEN }}",
		`apiKey: "YOUR_API_KEY_HERE"`,
		"auth_token = request.headers.get('Authorization')",
		`const accessKey = "accessibility-settings"`,
		`"input_tokens":4,"cache_creation_input_tokens":6120,"output_tokens":141`,
	} {
		if out, n := on.String(s); n != 0 || out != s {
			t.Errorf("changed (n=%d):\n %q\n %q", n, s, out)
		}
	}
}

// The rules read untrusted text in new ways (keywords, windows, JSON
// escapes): whatever the text, redaction keeps its invariants (see
// checkRedact), with every rule on.
func FuzzRules(f *testing.F) {
	for _, r := range genericRules().rules {
		if context, _, ok := generateSample(r); ok {
			f.Add([]byte(context))
			for _, p := range rulePositions {
				line, _ := p(context)
				f.Add([]byte(line))
			}
		}
	}
	for _, c := range secretCases {
		f.Add([]byte(c.context))
	}
	r, err := New(customPatterns, WithGeneric(true))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		once := mustJSON(map[string]any{"text": string(in), "n": 1})
		for _, in := range [][]byte{in, once} {
			checkRedact(t, r, in)
		}
	})
}
