package live

import (
	"strconv"
	"strings"

	"github.com/valyala/fastjson"
)

// digestKeys are the input fields that say, on their own, what a tool call
// does, in the order they are looked for: a command before anything else,
// then the file a tool reads or edits, a pattern before the folder it is
// searched in, a URL before the prompt about it. The names cover every
// agent's tools (Claude Code's file_path, opencode's filePath, Gemini CLI's
// absolute_path, Cursor's globPattern, …).
var digestKeys = []string{
	"command", "cmd",
	"file_path", "filePath", "absolute_path", "notebook_path", "target_file",
	"pattern", "globPattern", "query", "url",
	"path", "dir_path", "directory", "targetDirectory",
	"description", "prompt", "skill", "plan",
}

// pathKeys are the digest keys whose value is a path, shown relative to
// the session's working folder when it lies under it.
var pathKeys = map[string]bool{
	"file_path": true, "filePath": true, "absolute_path": true, "notebook_path": true, "target_file": true,
	"path": true, "dir_path": true, "directory": true, "targetDirectory": true,
}

// inputDigest is what a person reads of a tool call's input: the command
// of a shell, the path of a read or an edit, the pattern of a search; else
// its plain fields as key=value. It is not cut and may hold newlines.
func inputDigest(p *fastjson.Parser, input []byte, cwd string) string {
	if len(input) == 0 {
		return ""
	}
	v, err := p.ParseBytes(input)
	if err != nil {
		return string(input)
	}
	switch v.Type() {
	case fastjson.TypeString:
		return string(v.GetStringBytes())
	case fastjson.TypeObject:
	case fastjson.TypeNull:
		return ""
	default:
		return string(input)
	}
	if c := v.Get("changes"); c != nil {
		if d := changesDigest(c, cwd); d != "" {
			return d
		}
	}
	if todos := v.GetArray("todos"); todos != nil {
		return todosDigest(todos)
	}
	for _, k := range digestKeys {
		f := v.Get(k)
		if f == nil {
			continue
		}
		var s string
		switch f.Type() {
		case fastjson.TypeString:
			s = string(f.GetStringBytes())
		case fastjson.TypeArray:
			s = joinStrings(f, " ")
		}
		if s == "" {
			continue
		}
		if pathKeys[k] {
			return relPath(s, cwd)
		}
		if k == "command" || k == "cmd" {
			return unwrapShell(s)
		}
		return s
	}
	if paths := v.GetArray("paths"); len(paths) > 0 {
		parts := make([]string, 0, len(paths))
		for _, p := range paths {
			parts = append(parts, relPath(string(p.GetStringBytes()), cwd))
		}
		return strings.Join(parts, ", ")
	}
	return fieldsDigest(v.GetObject())
}

// changesDigest is a file change of Codex: [{path, kind}], or before 0.44
// {path: {kind: …}}.
func changesDigest(c *fastjson.Value, cwd string) string {
	var parts []string
	switch c.Type() {
	case fastjson.TypeArray:
		for _, ch := range c.GetArray() {
			parts = append(parts, strings.TrimSpace(string(ch.GetStringBytes("kind"))+" "+relPath(string(ch.GetStringBytes("path")), cwd)))
		}
	case fastjson.TypeObject:
		c.GetObject().Visit(func(k []byte, ch *fastjson.Value) {
			kind := ""
			if o := ch.GetObject(); o != nil {
				o.Visit(func(kk []byte, _ *fastjson.Value) {
					if kind == "" {
						kind = string(kk)
					}
				})
			}
			parts = append(parts, strings.TrimSpace(kind+" "+relPath(string(k), cwd)))
		})
	}
	return strings.Join(parts, ", ")
}

// todosDigest is a to-do list (Claude Code's TodoWrite): how many items,
// how many done, and the one under way.
func todosDigest(todos []*fastjson.Value) string {
	done, now := 0, ""
	for _, t := range todos {
		switch string(t.GetStringBytes("status")) {
		case "completed":
			done++
		case "in_progress":
			if now == "" {
				now = string(t.GetStringBytes("content"))
			}
		}
	}
	s := strconv.Itoa(len(todos)) + " todos, " + strconv.Itoa(done) + " done"
	if now != "" {
		s += ", now: " + now
	}
	return s
}

// fieldsDigest is an input of no known shape (an MCP tool's arguments) as
// its plain fields, key=value.
func fieldsDigest(o *fastjson.Object) string {
	if o == nil {
		return ""
	}
	var parts []string
	o.Visit(func(k []byte, f *fastjson.Value) {
		var s string
		switch f.Type() {
		case fastjson.TypeString:
			if s = string(f.GetStringBytes()); s == "" {
				return
			}
		case fastjson.TypeNumber, fastjson.TypeTrue, fastjson.TypeFalse:
			s = f.String()
		default:
			return
		}
		parts = append(parts, string(k)+"="+s)
	})
	return strings.Join(parts, " ")
}

func joinStrings(a *fastjson.Value, sep string) string {
	var parts []string
	for _, e := range a.GetArray() {
		if e.Type() == fastjson.TypeString {
			parts = append(parts, string(e.GetStringBytes()))
		}
	}
	return strings.Join(parts, sep)
}

// relPath shows a path under the working folder relative to it, as the
// person who started the agent there would name it.
func relPath(p, cwd string) string {
	cwd = strings.TrimSuffix(cwd, "/")
	if cwd != "" && strings.HasPrefix(p, cwd+"/") && len(p) > len(cwd)+1 {
		return p[len(cwd)+1:]
	}
	return p
}

// unwrapShell shows the command inside `bash -lc '…'`, which is how Codex
// runs every command, when it has no quote of its own to undo.
func unwrapShell(s string) string {
	for _, sh := range []string{"/bin/bash -lc ", "bash -lc ", "/bin/zsh -lc ", "zsh -lc ", "/bin/sh -c ", "sh -c "} {
		rest, ok := strings.CutPrefix(s, sh)
		if !ok {
			continue
		}
		switch {
		case len(rest) >= 2 && rest[0] == '\'' && rest[len(rest)-1] == '\'' && !strings.Contains(rest[1:len(rest)-1], "'"):
			return rest[1 : len(rest)-1]
		case rest != "" && !strings.ContainsAny(rest, " '\"\\"):
			return rest
		}
	}
	return s
}
