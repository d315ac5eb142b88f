package sync

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"
)

// QueryBatch runs read-only queries on a server in one request, a Hrana
// batch whose every step runs if the one before it succeeded, and returns
// their rows in order. It is for `convlog stats --url`, whose few queries
// would otherwise cost a round trip each, and whose answer the libSQL
// client decodes four times over by reflection (three quarters of that
// command's time on 300 sessions); the answer is read here in one pass.
// Errors are worded as QueryError words the client's.
func QueryBatch(ctx context.Context, t Target, queries []string) ([]Result, error) {
	endpoint, err := pipelineURL(t)
	if err != nil {
		return nil, err
	}
	type stmt struct {
		SQL      string `json:"sql"`
		WantRows bool   `json:"want_rows"`
	}
	type condition struct {
		Type string `json:"type"`
		Step int    `json:"step"`
	}
	type step struct {
		Stmt      stmt       `json:"stmt"`
		Condition *condition `json:"condition,omitempty"`
	}
	steps := make([]step, len(queries))
	for i, q := range queries {
		steps[i].Stmt = stmt{SQL: q, WantRows: true}
		if i > 0 {
			steps[i].Condition = &condition{Type: "ok", Step: i - 1}
		}
	}
	body, err := json.Marshal(map[string]any{"baton": nil, "requests": []any{
		map[string]any{"type": "batch", "batch": map[string]any{"steps": steps}},
	}})
	if err != nil {
		return nil, err
	}
	answer, err := postPipeline(ctx, endpoint, t.Token, body)
	if err != nil {
		return nil, err
	}
	return readBatch(answer, len(queries))
}

// postPipeline sends one Hrana pipeline request and returns the answer of
// a server that took it (HTTP 200); any other status is an error worded as
// the libSQL client words it ("error code 401: …"), which classify reads.
func postPipeline(ctx context.Context, endpoint, token string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var p fastjson.Parser
		msg := strings.TrimSpace(string(answer))
		if v, err := p.ParseBytes(answer); err == nil {
			if m := v.GetStringBytes("error"); m != nil {
				msg = string(m)
			} else if m := v.GetStringBytes("message"); m != nil {
				msg = string(m)
			}
		}
		return nil, fmt.Errorf("error code %d: %s", resp.StatusCode, msg)
	}
	return answer, nil
}

// pipelineURL is where a server takes Hrana pipeline requests: libsql://
// is HTTPS.
func pipelineURL(t Target) (string, error) {
	u, err := url.Parse(t.URL)
	if err != nil || u.Host == "" {
		return "", &Error{Kind: KindBadURL, Err: err, Msg: fmt.Sprintf("%q is not a database URL", redact(t.URL, t.Token))}
	}
	switch strings.ToLower(u.Scheme) {
	case "libsql":
		u.Scheme = "https"
	case "https", "http":
	default:
		return "", &Error{Kind: KindBadURL, Msg: fmt.Sprintf("%s: the URL has scheme %q; use libsql://, https:// or http://", t.Display(), u.Scheme)}
	}
	return u.JoinPath("v2", "pipeline").String(), nil
}

// Result is the answer to one query of a batch.
type Result struct {
	Cols []string
	Rows []Row
}

// Row is one row of a Result: each value nil, int64, float64, string or
// []byte, as database/sql's drivers hand them over. It scans as *sql.Rows
// does, into the types database/sql converts to.
type Row []any

// Scan copies the row's values into dest, one for each column.
func (r Row) Scan(dest ...any) error {
	if len(dest) != len(r) {
		return fmt.Errorf("sql: expected %d destination arguments in Scan, not %d", len(r), len(dest))
	}
	for i, d := range dest {
		if err := convertInto(d, r[i]); err != nil {
			return fmt.Errorf("sql: Scan error on column index %d: %w", i, err)
		}
	}
	return nil
}

func convertInto(dest, v any) error {
	switch d := dest.(type) {
	case sql.Scanner:
		return d.Scan(v)
	case *any:
		*d = v
		return nil
	case *string:
		switch v := v.(type) {
		case string:
			*d = v
			return nil
		case []byte:
			*d = string(v)
			return nil
		case int64:
			*d = strconv.FormatInt(v, 10)
			return nil
		case float64:
			*d = strconv.FormatFloat(v, 'g', -1, 64)
			return nil
		}
	case *int64:
		switch v := v.(type) {
		case int64:
			*d = v
			return nil
		case string:
			n, err := strconv.ParseInt(v, 10, 64)
			*d = n
			return err
		}
	case *float64:
		switch v := v.(type) {
		case float64:
			*d = v
			return nil
		case int64:
			*d = float64(v)
			return nil
		}
	}
	return fmt.Errorf("cannot scan %T into %T", v, dest)
}

// readBatch reads a pipeline response holding one batch of n steps.
func readBatch(answer []byte, n int) ([]Result, error) {
	var p fastjson.Parser
	v, err := p.ParseBytes(answer)
	if err != nil {
		return nil, fmt.Errorf("the server's answer is not JSON: %w", err)
	}
	results := v.GetArray("results")
	if len(results) != 1 {
		return nil, errors.New("the server's answer holds no result")
	}
	r := results[0]
	if string(r.GetStringBytes("type")) == "error" {
		return nil, errors.New(string(r.GetStringBytes("error", "message")))
	}
	batch := r.Get("response", "result")
	if string(r.GetStringBytes("response", "type")) != "batch" || batch == nil {
		return nil, errors.New("the server's answer is not a batch result")
	}
	for _, e := range batch.GetArray("step_errors") {
		if e != nil && e.Type() == fastjson.TypeObject {
			return nil, errors.New(string(e.GetStringBytes("message")))
		}
	}
	steps := batch.GetArray("step_results")
	if len(steps) < n {
		return nil, fmt.Errorf("the server answered %d of %d queries", len(steps), n)
	}
	out := make([]Result, n)
	for i := range n {
		s := steps[i]
		if s == nil || s.Type() != fastjson.TypeObject {
			return nil, fmt.Errorf("query %d of %d was not run", i+1, n)
		}
		for _, c := range s.GetArray("cols") {
			out[i].Cols = append(out[i].Cols, string(c.GetStringBytes("name")))
		}
		for _, row := range s.GetArray("rows") {
			vals := row.GetArray()
			rr := make(Row, len(vals))
			for j, x := range vals {
				if rr[j], err = hranaValue(x); err != nil {
					return nil, fmt.Errorf("query %d, column %d: %w", i+1, j+1, err)
				}
			}
			out[i].Rows = append(out[i].Rows, rr)
		}
	}
	return out, nil
}

// hranaValue is one value of a Hrana row: {"type":"integer","value":"5"},
// {"type":"float","value":0.5}, {"type":"text","value":"…"},
// {"type":"blob","base64":"…"} or {"type":"null"}.
func hranaValue(x *fastjson.Value) (any, error) {
	switch t := string(x.GetStringBytes("type")); t {
	case "null":
		return nil, nil
	case "integer":
		return strconv.ParseInt(string(x.GetStringBytes("value")), 10, 64)
	case "float":
		// The number as the server wrote it, read exactly: fastjson's own
		// reading of floats is not always the nearest double.
		f := x.Get("value")
		if f == nil {
			return nil, errors.New("a float without a value")
		}
		return strconv.ParseFloat(string(f.MarshalTo(nil)), 64)
	case "text":
		return string(x.GetStringBytes("value")), nil
	case "blob":
		// Without padding, as servers write it; with it, as some may.
		return base64.RawStdEncoding.DecodeString(strings.TrimRight(string(x.GetStringBytes("base64")), "="))
	default:
		return nil, fmt.Errorf("a value of type %q", t)
	}
}

// execBatch runs statements on a server as one atomic request: BEGIN, the
// statements, COMMIT, each step run if the one before it succeeded, and a
// ROLLBACK if the COMMIT did not, as the libSQL client sends a script of
// several statements. It is what carries the rows of a sync: the client
// would first split the script it was given back into statements with a
// full SQL lexer and marshal every value by reflection, more than half of
// a sync's time on the client's side. The request is written here
// directly, the statements as they are.
func execBatch(ctx context.Context, t Target, stmts []stmt) error {
	endpoint, err := pipelineURL(t)
	if err != nil {
		return err
	}
	size := 256
	for _, s := range stmts {
		size += len(s.sql) + 64
		for _, a := range s.args {
			if v, ok := a.(string); ok {
				size += len(v) + 40
			} else if v, ok := a.([]byte); ok {
				size += len(v)*4/3 + 40
			} else {
				size += 48
			}
		}
	}
	b := make([]byte, 0, size)
	b = append(b, `{"baton":null,"requests":[{"type":"batch","batch":{"steps":[`...)
	step := 0
	add := func(sql string, args []any) error {
		if step > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"stmt":{"sql":`...)
		b = appendJSONString(b, sql)
		if len(args) > 0 {
			b = append(b, `,"args":[`...)
			for i, a := range args {
				if i > 0 {
					b = append(b, ',')
				}
				var err error
				if b, err = appendHranaValue(b, a); err != nil {
					return err
				}
			}
			b = append(b, ']')
		}
		b = append(b, `,"want_rows":false}`...)
		if step > 0 {
			b = append(b, `,"condition":{"type":"ok","step":`...)
			b = strconv.AppendInt(b, int64(step-1), 10)
			b = append(b, '}')
		}
		b = append(b, '}')
		step++
		return nil
	}
	if err := add("BEGIN", nil); err != nil {
		return err
	}
	for _, s := range stmts {
		if err := add(s.sql, remoteArgs(s.args)); err != nil {
			return err
		}
	}
	if err := add("COMMIT", nil); err != nil {
		return err
	}
	b = append(b, `,{"stmt":{"sql":"ROLLBACK","want_rows":false},"condition":{"type":"not","cond":{"type":"ok","step":`...)
	b = strconv.AppendInt(b, int64(step-1), 10)
	b = append(b, `}}}]}}]}`...)
	answer, err := postPipeline(ctx, endpoint, t.Token, b)
	if err != nil {
		return err
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(answer)
	if err != nil {
		return fmt.Errorf("the server's answer is not JSON: %w", err)
	}
	results := v.GetArray("results")
	if len(results) != 1 {
		return errors.New("the server's answer holds no result")
	}
	r := results[0]
	if string(r.GetStringBytes("type")) == "error" {
		return errors.New(string(r.GetStringBytes("error", "message")))
	}
	batch := r.Get("response", "result")
	if string(r.GetStringBytes("response", "type")) != "batch" || batch == nil {
		return errors.New("the server's answer is not a batch result")
	}
	for _, e := range batch.GetArray("step_errors") {
		if e != nil && e.Type() == fastjson.TypeObject {
			return errors.New(string(e.GetStringBytes("message")))
		}
	}
	// The COMMIT's own result says the chunk is on the server.
	if steps := batch.GetArray("step_results"); len(steps) < step || steps[step-1] == nil || steps[step-1].Type() != fastjson.TypeObject {
		return errors.New("the server did not commit the request")
	}
	return nil
}

// appendHranaValue appends v as a Hrana value. Text must be valid UTF-8
// (remoteArgs sends other text as a blob).
func appendHranaValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, `{"type":"null"}`...), nil
	case int64:
		b = append(b, `{"type":"integer","value":"`...)
		b = strconv.AppendInt(b, v, 10)
		return append(b, `"}`...), nil
	case int:
		return appendHranaValue(b, int64(v))
	case bool:
		if v {
			return appendHranaValue(b, int64(1))
		}
		return appendHranaValue(b, int64(0))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("json: unsupported value: %v", v)
		}
		b = append(b, `{"type":"float","value":`...)
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
		return append(b, '}'), nil
	case string:
		b = append(b, `{"type":"text","value":`...)
		b = appendJSONString(b, v)
		return append(b, '}'), nil
	case []byte:
		b = append(b, `{"type":"blob","base64":"`...)
		b = base64.RawStdEncoding.AppendEncode(b, v)
		return append(b, `"}`...), nil
	}
	return nil, fmt.Errorf("cannot send a value of type %T", v)
}

// appendJSONString appends s as a JSON string; s is valid UTF-8.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
