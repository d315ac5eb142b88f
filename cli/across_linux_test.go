package cli

import (
	"fmt"
	"strings"
	"testing"
)

// TestSQLTableOnTerminal: on a terminal, convlog sql prints an aligned
// table, numbers to the right, long values cut and control characters
// escaped.
func TestSQLTableOnTerminal(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", 100)
	shown := onTerminal(t, nil, "sql", "--dir", dir,
		"SELECT 1 AS n, 'tool' AS name, 2.5 AS avg UNION ALL SELECT 1000, 'a'||char(10)||'b', NULL UNION ALL SELECT 3, '"+long+"', 0.25")
	row := func(n, name, avg string) string {
		return strings.TrimRight(fmt.Sprintf("%4s  %-60s  %4s", n, name, avg), " ") + "\r\n"
	}
	want := row("n", "name", "avg") + row("----", strings.Repeat("-", 60), "----") +
		row("1", "tool", "2.5") + row("1000", `a\nb`, "") + row("3", strings.Repeat("x", 59)+"…", "0.25") + "(3 rows)\r\n"
	if shown != want {
		t.Errorf("got\n%q\nwant\n%q", shown, want)
	}
}
