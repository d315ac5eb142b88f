package relay

import (
	"testing"

	"github.com/convlog/convlog/internal/testkit"
)

// Some tests of this package run the real binary, built once, to see its
// pass-through process at work.
func TestMain(m *testing.M) { testkit.Main(m) }
