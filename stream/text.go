package stream

import (
	"github.com/valyala/fastjson"
)

// Agent is the agent whose lines are being read now: the one in Facts
// until the stream turns into another agent's (two runs in one file).
func (p *Processor) Agent() Agent { return p.agent }

// text fills m.Text with the assistant's text in the line, as each agent
// writes it: Claude Code's and Cursor's text blocks (joined by newlines),
// Gemini CLI's assistant message (a chunk of a longer one where delta is
// set), Codex's agent_message item, opencode's text part. msg is the
// line's message object for Claude Code and Cursor. Only called when
// Processor.Texts is set.
func (p *Processor) text(v, msg *fastjson.Value, m *Message) {
	switch p.agent {
	case AgentGemini:
		switch {
		case m.Type == "message" && m.Subtype == "assistant":
			m.Text = v.GetStringBytes("content")
			m.TextDelta = v.GetBool("delta")
		case m.Type == "gemini" && chatMessage(v, m.Type):
			m.Text = v.GetStringBytes("content")
		}
	case AgentCodex:
		switch {
		case m.Type == "item.completed" && m.Subtype == "agent_message":
			m.Text = v.GetStringBytes("item", "text")
		case m.Type == "agent_message" && p.codex.legacy:
			m.Text = v.GetStringBytes("msg", "message")
		}
	case AgentOpencode:
		if m.Type == "text" {
			m.Text = v.GetStringBytes("part", "text")
		}
	default:
		if m.Type != "assistant" || msg == nil {
			return
		}
		c := msg.Get("content")
		if c == nil {
			return
		}
		if c.Type() == fastjson.TypeString {
			m.Text = c.GetStringBytes()
			return
		}
		p.textBuf = p.textBuf[:0]
		n := 0
		for _, b := range c.GetArray() {
			if str(b, "type") != "text" {
				continue
			}
			if n > 0 {
				p.textBuf = append(p.textBuf, '\n')
			}
			p.textBuf = append(p.textBuf, b.GetStringBytes("text")...)
			n++
		}
		if n > 0 {
			m.Text = p.textBuf
		}
	}
}
