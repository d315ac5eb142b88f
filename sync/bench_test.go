package sync

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/convlog/convlog/internal/testkit"
)

// benchPath writes a finished session of 10,000 messages (lines of about
// 1.5 KB, a tool call every ten lines).
func benchPath(b *testing.B) string {
	b.Helper()
	return testkit.BigSession(b, b.TempDir(), "bench", 10_000, 1500)
}

// BenchmarkSync10k syncs a 10,000-message session to a fresh local server:
// rows/s, and requests per session (schema check and target id included).
func BenchmarkSync10k(b *testing.B) {
	path := benchPath(b)
	var rows, requests, chunks int64
	var bytes int64
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		srv := testkit.StartFile(b, filepath.Join(b.TempDir(), "target.db"))
		opts := Options{Schema: testkit.Schema(b), Full: true}
		b.StartTimer()
		start := time.Now()
		rep, err := Sync(context.Background(), Target{URL: srv.URL, Token: testToken}, []string{path}, opts)
		elapsed += time.Since(start)
		b.StopTimer()
		if err != nil || !rep.Sessions[0].Done {
			b.Fatalf("sync: %v %+v", err, rep.Sessions[0])
		}
		rows += rep.Rows
		requests += int64(rep.Requests)
		chunks += int64(rep.Chunks)
		bytes += rep.Bytes
		srv.Stop()
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(requests)/n, "requests/session")
	b.ReportMetric(float64(chunks)/n, "chunks/session")
	b.ReportMetric(float64(rows)/n, "rows/session")
	b.ReportMetric(float64(bytes)/elapsed.Seconds()/1e6, "MB/s")
}

// BenchmarkSyncOneRowPerRequest is the baseline: the same rows, the same
// upsert statements, but one statement per request, as a naive client
// sends them. It sends the first baselineRows rows of the session and
// reports the rate; requests per session would be one per row.
func BenchmarkSyncOneRowPerRequest(b *testing.B) {
	const baselineRows = 500
	path := benchPath(b)
	var rows int64
	var elapsed time.Duration
	var perSession float64
	for b.Loop() {
		b.StopTimer()
		srv := testkit.StartFile(b, filepath.Join(b.TempDir(), "target.db"))
		s := &syncer{target: Target{URL: srv.URL, Token: testToken}, display: srv.URL, report: &Report{},
			opts: Options{Schema: testkit.Schema(b), RequestTimeout: time.Minute}}
		conn, err := openRemote(s.target)
		if err != nil {
			b.Fatal(err)
		}
		s.conn = conn
		ctx := context.Background()
		if s.info, err = s.prepareTarget(ctx); err != nil {
			b.Fatal(err)
		}
		src, err := s.open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		perSession = float64(src.rep.Todo)
		var batch []*row
		for len(batch) < baselineRows {
			r, err := src.next(ctx)
			if err != nil || r == nil {
				b.Fatalf("read: %v", err)
			}
			batch = append(batch, r)
		}
		b.StartTimer()
		start := time.Now()
		for _, r := range batch {
			st := s.statements([]*row{r})[0]
			if _, err := conn.db.ExecContext(ctx, st.sql, remoteArgs(st.args)...); err != nil {
				b.Fatal(err)
			}
		}
		elapsed += time.Since(start)
		b.StopTimer()
		rows += int64(len(batch))
		src.closeRead()
		conn.close()
		srv.Stop()
		b.StartTimer()
	}
	b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(perSession, "requests/session")
}
