package cli

import (
	"fmt"
	"regexp"

	"github.com/convlog/convlog/redact"
)

// RedactFlags are the redaction options of the commands that store lines.
type RedactFlags struct {
	NoRedact bool `name:"no-redact" help:"Store lines as they are, secrets included (by default API keys, tokens and private keys are replaced with [REDACTED:<kind>] in the stored copy; the pass-through is never changed)."`
	// sep:"none": kong splits a slice flag's value on commas by default,
	// which cut 'tok_[a-z0-9]{8,12}' into two patterns that match nothing.
	RedactPattern []string `name:"redact-pattern" sep:"none" placeholder:"REGEX" help:"Also redact what this Go regular expression matches (repeatable; with a group, only the group)."`
}

// redactor builds the Redactor for these flags; nil means redaction is off.
// The sync token, when set, is always one of the secrets: convlog must never
// be the place where it lands on disk, even if the agent printed it.
func (f *RedactFlags) redactor(env *Env) (*redact.Redactor, error) {
	if f.NoRedact {
		return nil, nil
	}
	for _, p := range f.RedactPattern {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, &exitError{Code: 2, Err: fmt.Errorf("--redact-pattern %q is not a Go regular expression: %v", p, err)}
		}
		if re.MatchString("") {
			return nil, &exitError{Code: 2, Err: fmt.Errorf("--redact-pattern %q matches the empty string, so it cannot tell a secret from anything else; write one that matches the secret itself", p)}
		}
	}
	patterns := append([]string(nil), f.RedactPattern...)
	if tok := env.Getenv("TURSO_AUTH_TOKEN"); len(tok) >= 8 {
		patterns = append(patterns, regexp.QuoteMeta(tok))
	}
	r, err := redact.New(patterns)
	if err != nil {
		return nil, &exitError{Code: 2, Err: fmt.Errorf("--redact-pattern: %w", err)}
	}
	return r, nil
}
