package stream

import (
	"bytes"

	"github.com/valyala/fastjson"
)

// Formats of saved files.
const (
	FormatStreamJSON = "stream-json" // `claude -p --output-format stream-json` captures, and other agents' streams
	FormatTranscript = "transcript"  // Claude Code's own ~/.claude/projects/…/<session>.jsonl
)

// Detector decides, from a file's first lines, which format it is in, which
// agent wrote it and which agent session it records.
type Detector struct {
	Objects        int // lines that are JSON objects
	Others         int // lines that are not
	transcript     int
	streamJSON     int
	AgentSessionID string
	// Sidechain: the first line of the transcript is a sidechain, as in a
	// Claude Code sub-agent's transcript (agent-<id>.jsonl), whose lines
	// carry the id of the session that started it; SubagentID is the
	// agentId that line names, if any.
	Sidechain  bool
	SubagentID string
	// Agent is the first agent that a line tells of; AgentUnknown if none.
	Agent Agent
	// Rollout: the file is one of Codex's session files, whose first line
	// is a session_meta.
	Rollout bool
	// Chat: the file is a chat Gemini CLI saved (see ChatLines).
	Chat   bool
	parser fastjson.Parser
}

// Line looks at one line.
func (d *Detector) Line(line []byte) {
	if d.Objects+d.Others == 0 {
		line = TrimBOM(line)
	}
	if elems, ok := arrayElements(line); ok {
		// The messages of a run on one line (--output-format json
		// --verbose), as Processor.Line reads them.
		for _, e := range elems {
			d.Line(e)
		}
		return
	}
	v, err := d.parser.ParseBytes(line)
	if err != nil || v.Type() != fastjson.TypeObject {
		d.Others++
		return
	}
	d.Objects++
	typ := str(v, "type")
	a := classify(v, typ)
	olderRollout := typ == "" && olderRolloutMeta(v)
	if a == AgentCodex && (typ == "session_meta" || olderRollout) {
		d.Rollout = true
	}
	if d.Agent == AgentUnknown {
		d.Agent = a
	}
	switch {
	case a == AgentGemini && typ == "" && chatHeader(v):
		// Gemini CLI's saved chat, as ChatLines gives it: its sessionId
		// is no Claude Code transcript's.
		d.streamJSON++
		d.Chat = true
		if d.AgentSessionID == "" {
			d.AgentSessionID = str(v, "sessionId")
		}
	// A file-history-snapshot names no session, but is written in
	// transcripts only: a session opened and left without a prompt has
	// nothing else.
	case v.Exists("parentUuid") || v.Exists("sessionId") || v.Exists("leafUuid") || v.Exists("isSidechain") || typ == "file-history-snapshot":
		if d.transcript++; d.transcript == 1 && v.GetBool("isSidechain") {
			d.Sidechain, d.SubagentID = true, str(v, "agentId")
		}
		if d.AgentSessionID == "" {
			d.AgentSessionID = str(v, "sessionId")
		}
	case v.Exists("session_id") || typ == "result" || typ == "stream_event" || (typ == "system" && str(v, "subtype") == "init"):
		d.streamJSON++
		if d.AgentSessionID == "" {
			d.AgentSessionID = str(v, "session_id")
		}
	case a != AgentUnknown:
		d.streamJSON++
		if d.AgentSessionID == "" {
			switch {
			case typ == "thread.started":
				d.AgentSessionID = str(v, "thread_id")
			case typ == "session_meta":
				d.AgentSessionID = str(v.Get("payload"), "id")
			case v.Exists("sessionID"):
				d.AgentSessionID = str(v, "sessionID")
			case olderRollout:
				d.AgentSessionID = str(v, "id")
			case typ == "":
				d.AgentSessionID = str(v.Get("msg"), "session_id")
			}
		}
	}
}

// Enough says whether more lines would not change the verdict.
func (d *Detector) Enough() bool {
	return d.transcript+d.streamJSON >= 20 ||
		d.Agent > AgentClaude && d.AgentSessionID != ""
}

// Format is the verdict: "" when no line was a JSON object.
func (d *Detector) Format() string {
	switch {
	case d.Objects == 0:
		return ""
	case d.transcript > d.streamJSON:
		return FormatTranscript
	default:
		// Unknown JSON lines are replayed as a stream: every line is stored.
		return FormatStreamJSON
	}
}

// TrimBOM takes the UTF-8 byte order mark off the start of a stream's first
// line. Windows tools put one at the start of a file (Notepad, Windows
// PowerShell's Out-File -Encoding utf8): it marks the file's encoding and
// is no part of its first line, which is JSON only without it.
func TrimBOM(line []byte) []byte {
	return bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
}
