package stream

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/convlog/convlog/internal/agentcorpus"
)

// TestAgentStreams replays every agent stream (the fixtures and the shared
// corpus's captures) and checks what the Processor found against what the
// lines show, worked out apart from the Processor (agentcorpus).
func TestAgentStreams(t *testing.T) {
	files := agentcorpus.Files()
	if len(files) < 14 {
		t.Fatalf("only %d agent streams found", len(files))
	}
	for _, path := range files {
		name, _ := filepath.Rel(filepath.Dir(filepath.Dir(path)), path)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := agentcorpus.Parse(data)
			r := &recorder{}
			p := NewProcessor(r)
			var fr Framer
			var lines [][]byte
			i := int64(0)
			line := func(l []byte) {
				i++
				lines = append(lines, bytes.Clone(l))
				p.Line(l, 1_700_000_000_000+i*1000)
			}
			fr.Feed(data, line)
			fr.Flush(line)
			checkAgainst(t, p, r, want, lines)
		})
	}
}

func checkAgainst(t *testing.T, p *Processor, r *recorder, want *agentcorpus.Expect, lines [][]byte) {
	t.Helper()
	f := p.Totals()
	if len(r.msgs) != want.Lines || len(lines) != want.Lines {
		t.Fatalf("%d messages from %d lines, want %d", len(r.msgs), len(lines), want.Lines)
	}
	for i, m := range r.msgs {
		if !bytes.Equal(m.Raw, lines[i]) || m.Seq != int64(i) {
			t.Fatalf("message %d: %q, want %q", i, m.Raw, lines[i])
		}
	}
	got := map[string]agentcorpus.Call{}
	for _, u := range r.uses {
		if _, dup := got[u.ID]; dup {
			t.Errorf("tool call %s reported twice", u.ID)
		}
		got[u.ID] = agentcorpus.Call{Name: u.Name, Status: "pending", DurationMS: -1}
	}
	for _, res := range r.results {
		c, ok := got[res.ID]
		if !ok || c.Status != "pending" {
			t.Errorf("result for %s: call %+v", res.ID, c)
			continue
		}
		c.Status, c.DurationMS = "success", res.DurationMS
		if res.IsError {
			c.Status = "error"
		}
		got[res.ID] = c
	}
	if len(got) != len(want.Calls) {
		t.Errorf("%d tool calls %v, want %d %v", len(got), got, len(want.Calls), want.Calls)
	}
	for id, w := range want.Calls {
		if got[id] != w {
			t.Errorf("tool call %s: %+v, want %+v", id, got[id], w)
		}
	}
	if f.Agent.String() != want.Agent {
		t.Errorf("agent %q, want %q", f.Agent, want.Agent)
	}
	if f.AgentSessionID != want.SessionID {
		t.Errorf("session id %q, want %q", f.AgentSessionID, want.SessionID)
	}
	if f.Model() != want.Model {
		t.Errorf("model %q, want %q", f.Model(), want.Model)
	}
	switch {
	case want.ResultType == "" && f.IsError != -1, want.ResultType != "" && f.IsError == -1:
		t.Errorf("result %q is_error %d, want %q", f.ResultType, f.IsError, want.ResultType)
	case f.ResultType != want.ResultType || f.ResultSubtype != want.ResultSubtype || (f.IsError == 1) != want.IsError:
		t.Errorf("result %q/%q is_error %d, want %q/%q %v", f.ResultType, f.ResultSubtype, f.IsError, want.ResultType, want.ResultSubtype, want.IsError)
	}
	if want.Tokens == nil {
		if f.HasTokens {
			t.Errorf("tokens %+v where the stream reports none", f.Tokens)
		}
	} else if tk := (agentcorpus.Tokens{Input: f.Tokens.Input, Output: f.Tokens.Output, CacheRead: f.Tokens.CacheRead, CacheWrite: f.Tokens.CacheCreation}); !f.HasTokens || tk != *want.Tokens {
		t.Errorf("tokens %+v (%v), want %+v", tk, f.HasTokens, *want.Tokens)
	}
	if want.Cost == nil {
		if f.HasCost {
			t.Errorf("cost %v where the stream reports none", f.CostUSD)
		}
	} else if !f.HasCost || f.CostUSD != *want.Cost {
		t.Errorf("cost %v (%v), want %v", f.CostUSD, f.HasCost, *want.Cost)
	}
}
