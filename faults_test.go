package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// faultStream is a seeded stream-json input with tool calls, sub-agent
// lines, non-JSON lines and a few big results.
func faultStream(seed uint64, lines int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var b bytes.Buffer
	b.WriteString(`{"type":"system","subtype":"init","session_id":"f","model":"claude-x","cwd":"/w"}` + "\n")
	for i := 0; i < lines; i++ {
		switch r.IntN(10) {
		case 0:
			fmt.Fprintf(&b, "plain text line %d\n", i)
		case 1, 2, 3:
			fmt.Fprintf(&b, `{"type":"assistant","message":{"id":"m%d","content":[{"type":"tool_use","id":"t%d","name":"Bash","input":{"command":"step %d"}}]}}`+"\n", i, i, i)
		case 4, 5, 6:
			size := 100 + r.IntN(4000)
			if r.IntN(50) == 0 {
				size = 300_000
			}
			fmt.Fprintf(&b, `{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t%d","content":"%s"}]},"parent_tool_use_id":null}`+"\n", i-3, strings.Repeat("o", size))
		default:
			fmt.Fprintf(&b, `{"type":"assistant","message":{"id":"m%d","content":[{"type":"text","text":"thinking about %d"}]},"parent_tool_use_id":"t%d"}`+"\n", i, i, i-1)
		}
	}
	return b.Bytes()
}

// TestKillAtRandomPoints kills convlog tee with SIGKILL at 100 seeded moments
// (after a random number of bytes came out) and checks what it leaves: the
// pass-through is a prefix of the input, the file is sound, and its
// messages are the first lines of the input without a gap.
func TestKillAtRandomPoints(t *testing.T) {
	const runs = 100
	r := rand.New(rand.NewPCG(42, 7))
	dir := t.TempDir()
	for run := range runs {
		input := faultStream(uint64(run), 300)
		killAfter := r.IntN(len(input))
		id := fmt.Sprintf("kill-%03d", run)
		cmd := exec.Command(convlogBin, "tee", "--quiet", "--dir", dir, "--session-id", id)
		cmd.Env = cleanEnv()
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			stdin.Write(input) // fails once convlog is killed
			stdin.Close()
		}()
		got := make([]byte, 0, killAfter)
		br := bufio.NewReader(stdout)
		buf := make([]byte, 32<<10)
		for len(got) < killAfter {
			n, err := br.Read(buf[:min(len(buf), killAfter-len(got))])
			got = append(got, buf[:n]...)
			if err != nil {
				break
			}
		}
		cmd.Process.Kill()
		rest, _ := io.ReadAll(br)
		got = append(got, rest...)
		cmd.Wait()

		if !bytes.HasPrefix(input, got) {
			t.Fatalf("run %d: pass-through is not a prefix of the input", run)
		}
		path := filepath.Join(dir, id+".db")
		if _, err := os.Stat(path); err != nil {
			continue // killed before the file was created: nothing to check
		}
		db := openDB(t, path)
		var check string
		queryRow(t, db, `PRAGMA integrity_check`, &check)
		if check != "ok" {
			t.Fatalf("run %d: integrity_check: %s", run, check)
		}
		stored := storedLines(t, db) // checks sequences 0…n-1
		lines := splitLines(input)
		for i, l := range stored {
			if !bytes.Equal(l, lines[i]) {
				t.Fatalf("run %d: message %d differs from input line %d", run, i, i)
			}
		}
		var ended sql.NullInt64
		var total int
		queryRow(t, db, `SELECT ended_at, total_messages FROM sessions`, &ended, &total)
		if ended.Valid || total != len(stored) {
			t.Fatalf("run %d: ended_at %v, total_messages %d of %d stored", run, ended, total, len(stored))
		}
		db.Close()
		if run%10 != 0 {
			continue // reading back every killed file with the binary is slow under -race
		}
		if res := runConvlog(t, dir, nil, nil, "query", "--dir", dir, id, "--json", "--tools"); res.code != 0 {
			t.Fatalf("run %d: query of a killed session: exit %d: %s", run, res.code, res.stderr)
		}
	}
}
