package main

import (
	"bytes"
	"testing"

	"github.com/convlog/convlog/stream"
)

// collect is a stream.Sink that counts what convlog would log.
type collect struct {
	msgs, uses, results, errors int
}

func (c *collect) Message(*stream.Message) { c.msgs++ }
func (c *collect) ToolUse(*stream.ToolUse) { c.uses++ }
func (c *collect) ToolResult(r *stream.ToolResult) {
	c.results++
	if r.IsError {
		c.errors++
	}
}

// Each agent's generated stream is valid JSON lines of the requested size,
// is read by convlog as that agent's, and has calls that all complete,
// some with errors.
func TestAgentStreams(t *testing.T) {
	want := map[string]string{"gemini": "gemini-cli", "codex": "codex", "cursor": "cursor", "opencode": "opencode"}
	for _, name := range agentNames {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := runAgent([]string{"-agent", name, "-size", "4MB", "-seed", "3"}, &buf); err != nil {
				t.Fatal(err)
			}
			data := buf.Bytes()
			if n := len(data); n < 4e6 || n > 6e6 {
				t.Errorf("%d bytes for 4MB", n)
			}
			lines, _ := splitLines(t, name, data)
			var again bytes.Buffer
			runAgent([]string{"-agent", name, "-size", "4MB", "-seed", "3"}, &again)
			if !bytes.Equal(again.Bytes(), data) {
				t.Error("the same seed gave other bytes")
			}
			c := &collect{}
			p := stream.NewProcessor(c)
			var fr stream.Framer
			fr.Feed(data, func(l []byte) { p.Line(l, 1) })
			f := p.Totals()
			if f.Agent.String() != want[name] || c.msgs != len(lines) {
				t.Fatalf("agent %q, %d messages for %d lines", f.Agent, c.msgs, len(lines))
			}
			if c.uses < 50 || c.results != c.uses || c.errors == 0 || c.errors == c.uses {
				t.Errorf("%d calls, %d results, %d errors", c.uses, c.results, c.errors)
			}
			if !f.HasTokens || f.Tokens.Output == 0 || f.IsError != 0 || f.AgentSessionID == "" {
				t.Errorf("facts %+v", f)
			}
		})
	}
}
