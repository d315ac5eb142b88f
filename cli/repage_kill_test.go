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
	"strings"
	"testing"

	"github.com/convlog/convlog/internal/testkit"
)

// TestKilledWhileChangingPageSize: convlog tee is killed while it rewrites
// its file with another page size (the VACUUM that compacts a small session
// at the end), which leaves a hot rollback journal beside the file. Every
// command must read that session whole, as sqlite3 would: list, query,
// sync, sql and stats, each on its own copy of the killed file.
func TestKilledWhileChangingPageSize(t *testing.T) {
	var in bytes.Buffer
	// 5 MB: large pages while written, compacted at the end.
	for i := range 5000 {
		fmt.Fprintf(&in, `{"type":"assistant","i":%d,"pad":"%s"}`+"\n", i, strings.Repeat("k", 1000))
	}
	input := in.Bytes()
	killed := t.TempDir()
	var db, journal []byte
	for attempt := 0; db == nil; attempt++ {
		if attempt == 20 {
			t.Fatal("convlog tee was never caught with a rollback journal in 20 runs")
		}
		id := fmt.Sprintf("k%d", attempt)
		path := filepath.Join(killed, id+".db")
		cmd := exec.Command(testkit.Bin, "tee", "--quiet", "--dir", killed, "--session-id", id)
		cmd.Env = testkit.CleanEnv()
		cmd.Stdin = bytes.NewReader(input)
		cmd.Stdout = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
	watch:
		for {
			select {
			case <-done:
				break watch
			default:
			}
			// SQLite writes the journal's magic number once the journal
			// is complete and synced, just before it overwrites the file:
			// from then on the journal is hot.
			if hotJournal(path + "-journal") {
				cmd.Process.Kill()
				<-done
				db, _ = os.ReadFile(path)
				journal, _ = os.ReadFile(path + "-journal")
				if !bytes.HasPrefix(journal, journalMagic) {
					db = nil // it had just committed: try again
				}
				break watch
			}
		}
	}

	// One copy of the killed file per command, each in a folder of its own
	// (the archive of sql and stats lives beside the folder).
	copyOf := func(t *testing.T) string {
		dir := filepath.Join(t.TempDir(), "sessions")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "k.db"), db, 0o600)
		os.WriteFile(filepath.Join(dir, "k.db-journal"), journal, 0o600)
		return dir
	}
	// What the file holds is what SQLite makes of it when it may write, as
	// sqlite3 would: the journal played back. Every line committed before
	// the kill, and nothing else.
	var lines int
	t.Run("every line", func(t *testing.T) {
		path := filepath.Join(copyOf(t), "k.db")
		rw, err := sql.Open("sqlite", "file:"+path+"?mode=rw")
		if err != nil {
			t.Fatal(err)
		}
		defer rw.Close()
		var check string
		testkit.QueryRow(t, rw, `PRAGMA integrity_check`, &check)
		stored := testkit.StoredLines(t, rw)
		testkit.QueryRow(t, rw, `SELECT total_messages FROM sessions`, &lines)
		if check != "ok" || len(stored) != lines || lines == 0 {
			t.Fatalf("integrity %q, %d lines stored, total_messages %d", check, len(stored), lines)
		}
		for i, l := range testkit.SplitLines(input)[:lines] {
			if !bytes.Equal(stored[i], l) {
				t.Fatalf("message %d is not input line %d", i, i)
			}
		}
	})
	t.Run("list", func(t *testing.T) {
		dir := copyOf(t)
		res := runConvlog(t, dir, nil, nil, "list", "--dir", dir, "--json")
		var got []struct {
			Error         any `json:"error"`
			TotalMessages int `json:"total_messages"`
		}
		if err := json.Unmarshal(res.stdout, &got); res.code != 0 || err != nil || len(got) != 1 ||
			got[0].Error != nil || got[0].TotalMessages != lines {
			t.Fatalf("exit %d: %s%s", res.code, res.stdout, res.stderr)
		}
	})
	t.Run("query", func(t *testing.T) {
		dir := copyOf(t)
		res := runConvlog(t, dir, nil, nil, "query", "--dir", dir, "k", "--json")
		var got struct {
			Session struct {
				TotalMessages int `json:"total_messages"`
			} `json:"session"`
		}
		if err := json.Unmarshal(res.stdout, &got); res.code != 0 || err != nil || got.Session.TotalMessages != lines {
			t.Fatalf("exit %d: %s%s", res.code, res.stdout, res.stderr)
		}
	})
	t.Run("sync", func(t *testing.T) {
		dir := copyOf(t)
		target := filepath.Join(t.TempDir(), "target.db")
		res := runConvlog(t, dir, nil, []string{"TURSO_DATABASE_URL=file:" + target, "TURSO_AUTH_TOKEN=x"}, "sync", "--dir", dir, "--all")
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		var n int
		testkit.QueryRow(t, testkit.OpenDB(t, target), `SELECT count(*) FROM messages`, &n)
		if n != lines {
			t.Fatalf("%d of %d messages synced", n, lines)
		}
	})
	for _, cmd := range []string{"sql", "stats"} {
		t.Run(cmd, func(t *testing.T) {
			dir := copyOf(t)
			args := []string{"sql", "--dir", dir, "SELECT count(*) FROM messages"}
			want := fmt.Sprintf("count(*)\n%d\n", lines)
			if cmd == "stats" {
				args, want = []string{"stats", "--dir", dir}, "1 session, started"
			}
			res := runConvlog(t, dir, nil, nil, args...)
			if res.code != 0 || !strings.Contains(string(res.stdout), want) || len(res.stderr) != 0 {
				t.Fatalf("exit %d: %s%s", res.code, res.stdout, res.stderr)
			}
		})
	}
}

// journalMagic begins a rollback journal that SQLite would play back.
var journalMagic = []byte{0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7}

func hotJournal(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, len(journalMagic))
	n, _ := f.ReadAt(b, 0)
	return n == len(b) && bytes.Equal(b, journalMagic)
}
