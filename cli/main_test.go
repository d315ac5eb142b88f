package cli

import (
	"testing"

	"github.com/convlog/convlog/internal/testkit"
)

// The end-to-end tests of this package run the real binary, built once.
func TestMain(m *testing.M) { testkit.Main(m) }

// result is what one run of the binary did.
type result struct {
	stdout, stderr []byte
	code           int
}

// runConvlog runs the binary in dir with stdin and extra environment
// variables (KEY=VALUE), and waits for it.
func runConvlog(t testing.TB, dir string, stdin []byte, env []string, args ...string) result {
	t.Helper()
	r := testkit.Run(t, dir, stdin, env, args...)
	return result{r.Stdout, r.Stderr, r.Code}
}
