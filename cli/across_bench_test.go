package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkAcross times convlog stats and convlog sql over 1,000 sessions,
// imported by the real binary from generated Claude Code transcripts
// (50 MB). Each iteration removes the archive, then times a first run,
// which reads every session file into the archive, and a repeat run, which
// finds every file unchanged and opens none of them.
//
//	go test -run '^$' -bench Across -benchtime 3x ./cli
func BenchmarkAcross(b *testing.B) {
	work := b.TempDir()
	gen := exec.Command("go", "run", "../scripts/gen", "transcripts", "-size", "50MB", "-files", "1000", "-seed", "1", "-out", filepath.Join(work, "t"))
	if out, err := gen.CombinedOutput(); err != nil {
		b.Fatalf("gen: %v\n%s", err, out)
	}
	if res := runConvlog(b, work, nil, nil, "import", "t"); res.code != 0 {
		b.Fatalf("import: exit %d: %s", res.code, res.stderr)
	}
	archive := filepath.Join(work, ".turso", "convlog.db")
	timed := func(args ...string) time.Duration {
		start := time.Now()
		res := runConvlog(b, work, nil, nil, args...)
		d := time.Since(start)
		if res.code != 0 || len(res.stderr) != 0 {
			b.Fatalf("%v: exit %d: %s", args, res.code, res.stderr)
		}
		return d
	}
	fresh := func() {
		for _, s := range []string{"", "-wal", "-shm"} {
			os.Remove(archive + s)
		}
	}
	query := []string{"sql", "SELECT count(*) FROM messages"}
	var firstStats, repeatStats, firstSQL, repeatSQL []time.Duration
	b.ResetTimer()
	for range b.N {
		fresh()
		firstStats = append(firstStats, timed("stats"))
		repeatStats = append(repeatStats, timed("stats"))
		fresh()
		firstSQL = append(firstSQL, timed(query...))
		repeatSQL = append(repeatSQL, timed(query...))
	}
	b.StopTimer()
	b.ReportMetric(median(firstStats).Seconds(), "stats-first-s")
	b.ReportMetric(float64(median(repeatStats).Milliseconds()), "stats-repeat-ms")
	b.ReportMetric(median(firstSQL).Seconds(), "sql-first-s")
	b.ReportMetric(float64(median(repeatSQL).Milliseconds()), "sql-repeat-ms")
	b.Logf("1,000 sessions, medians of %d runs: stats first %v, repeat %v; sql first %v, repeat %v",
		b.N, median(firstStats).Round(time.Millisecond), median(repeatStats).Round(time.Millisecond),
		median(firstSQL).Round(time.Millisecond), median(repeatSQL).Round(time.Millisecond))
}
