package cli

import (
	"strings"
	"testing"

	"github.com/convlog/convlog/internal/testkit"
)

// TURSO_AUTH_TOKEN reaches the server from every command that talks to it
// (tee's sync at the end, sync, sql --url, stats --url): behind a proxy that
// answers 401 to any other token, as Turso Cloud does, they all work with
// the right token and all fail, without printing it, with a wrong one.
func TestTokenReachesTheServer(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	proxy := srv.Proxy(t)
	proxy.RequireToken(plantedToken)
	work := t.TempDir()
	right := creds(proxy.URL)
	wrong := []string{"TURSO_DATABASE_URL=" + proxy.URL, "TURSO_AUTH_TOKEN=not-" + plantedToken}

	if _, res := teeSession(t, work, agentStream(2), wrong); res.code != 0 || !strings.Contains(string(res.stderr), "rejected the token") {
		t.Errorf("tee with a wrong token: exit %d: %s", res.code, res.stderr)
	} else {
		noToken(t, res)
	}
	if _, res := teeSession(t, work, agentStream(2), right); res.code != 0 || !strings.Contains(string(res.stderr), "Synced ") {
		t.Errorf("tee with the right token: exit %d: %s", res.code, res.stderr)
	}
	for _, args := range [][]string{
		{"sync", "--all"},
		{"sql", "--url", proxy.URL, "SELECT count(*) FROM sessions"},
		{"stats", "--url", proxy.URL, "--json"},
	} {
		res := runConvlog(t, work, nil, wrong, args...)
		if res.code != 1 || !strings.Contains(string(res.stderr), "rejected the token") {
			t.Errorf("%v with a wrong token: exit %d: %s", args, res.code, res.stderr)
		}
		noToken(t, res)
		if res := runConvlog(t, work, nil, right, args...); res.code != 0 {
			t.Errorf("%v with the right token: exit %d: %s", args, res.code, res.stderr)
		}
	}
	if n := countOn(t, srv, "SELECT count(*) FROM sessions"); n != 2 {
		t.Errorf("%d sessions on the server, want 2", n)
	}
}
