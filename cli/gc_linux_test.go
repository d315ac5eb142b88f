package cli

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
)

// A stream that allocates little must not make tee collect garbage every
// second: each collection stops the world, and a stop of the world waits
// for the logger's thread of idle priority, holding up the pass-through
// (teeGC). 6000 lines of 10 KB, each read back before the next is sent, is
// 60 MB; with Go's smallest goal at GOGC=50 (2 MB) tee collected 6 to 8
// times over it. With 8 MiB of room it collects as its buffers grow, once
// or twice.
func TestTeeCollectsRarely(t *testing.T) {
	started := time.Now()
	rt := testkit.StartTee(t, []string{"GODEBUG=gctrace=1", "CONVLOG_HANDOVER=never"})
	pad := strings.Repeat("lorem ipsum ", 10<<10/12)
	var running time.Duration // how long tee had run, at most, when the first line came back
	for i := range 6000 {
		rt.Send(fmt.Sprintf(`{"type":"assistant","message":{"id":"m%d","content":[{"type":"text","text":"%s"}]}}`, i, pad))
		if i == 0 {
			running = time.Since(started)
		}
	}
	if code := rt.Finish(); code != 0 {
		t.Fatalf("tee exit %d; stderr: %s", code, rt.Stderr)
	}
	// Only collections while lines pass count: those of the start (package
	// initialisation, larger under -race) come before tee sets its GOGC.
	var gcs []string
	for _, l := range strings.Split(rt.Stderr.String(), "\n") {
		var n int
		var at float64
		if _, err := fmt.Sscanf(l, "gc %d @%fs", &n, &at); err == nil && time.Duration(at*float64(time.Second)) > running {
			gcs = append(gcs, l)
		}
	}
	if len(gcs) > 3 {
		t.Fatalf("tee collected garbage %d times over 60 MB of 10 KB lines, want at most 3:\n%s", len(gcs), strings.Join(gcs, "\n"))
	}
	rt.CheckLogged(started)
}
