package sync

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/convlog/convlog/internal/testkit"
)

// TestQueryBatch: the rows of every query of a batch, every kind of value
// as the libSQL client reads it (floats to the last bit), scanned into what
// database/sql would scan them into; a failing step is the batch's error.
func TestQueryBatch(t *testing.T) {
	t.Parallel()
	srv := testkit.Start(t)
	target := Target{URL: srv.URL, Token: testToken}
	queries := []string{
		"SELECT 1, -9007199254740993, 0.1 + 0.2, 1e300 * 10, 'é ''q''', x'00ff', NULL",
		"SELECT 2 UNION ALL SELECT 3",
		"SELECT 'empty' WHERE 0",
	}
	res, err := QueryBatch(t.Context(), target, queries)
	if err != nil {
		t.Fatal(err)
	}
	client := srv.DB()
	for i, q := range queries {
		var want [][]any
		rows, err := client.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for j := range vals {
				ptrs[j] = &vals[j]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			want = append(want, vals)
		}
		rows.Close()
		var got [][]any
		for _, r := range res[i].Rows {
			got = append(got, []any(r))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("query %d:\n got %#v\nwant %#v", i, got, want)
		}
	}
	// (As doubles, not as Go's exact constants.)
	a, b := 0.1, 0.2
	if f := res[0].Rows[0][2].(float64); math.Float64bits(f) != math.Float64bits(a+b) {
		t.Errorf("0.1 + 0.2 read as %v", f)
	}

	var (
		n    int64
		s    string
		null sql.NullString
		fl   sql.NullFloat64
	)
	if err := res[0].Rows[0].Scan(&n, new(any), &fl, new(any), &s, new(any), &null); err != nil || n != 1 || s != "é 'q'" || null.Valid || fl.Float64 != a+b {
		t.Errorf("scan: %v %d %q %v %v", err, n, s, null, fl)
	}
	if err := res[0].Rows[0].Scan(&n); err == nil {
		t.Error("a scan into too few values did not fail")
	}

	_, err = QueryBatch(t.Context(), target, []string{"SELECT 1", "SELECT * FROM nope", "SELECT 2"})
	if err == nil || !strings.Contains(err.Error(), "no such table: nope") {
		t.Errorf("a failing step: %v", err)
	}
	_, err = QueryBatch(t.Context(), Target{URL: srv.URL + "/nowhere/", Token: testToken}, []string{"SELECT 1"})
	if e := QueryError(err, target, 0); e == nil {
		t.Errorf("a wrong path answered")
	}
}

// FuzzReadBatch: a server's answer, whatever it holds, gives rows or an
// error, never a panic; rows hold only the value kinds of database/sql.
func FuzzReadBatch(f *testing.F) {
	f.Add([]byte(`{"baton":null,"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[{"cols":[{"name":"a"}],"rows":[[{"type":"integer","value":"5"},{"type":"float","value":0.5},{"type":"text","value":"x"},{"type":"blob","base64":"AP8"},{"type":"null"}]]}],"step_errors":[null]}}}]}`), 1)
	f.Add([]byte(`{"results":[{"type":"error","error":{"message":"boom"}}]}`), 1)
	f.Add([]byte(`{"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[null],"step_errors":[{"message":"no such table"}]}}}]}`), 2)
	f.Fuzz(func(t *testing.T, answer []byte, n int) {
		if n < 0 || n > 8 {
			return
		}
		res, err := readBatch(answer, n)
		if err != nil {
			return
		}
		for _, r := range res {
			for _, row := range r.Rows {
				for _, v := range row {
					switch v.(type) {
					case nil, int64, float64, string, []byte:
					default:
						t.Fatalf("a value of type %T", v)
					}
				}
			}
		}
	})
}

// FuzzHranaValue: text and blobs written into a request read back, with
// encoding/json, as the same value.
func FuzzHranaValue(f *testing.F) {
	f.Add("plain", []byte{0, 255})
	f.Add("quotes \" and \\ and \n\r\t\x00\x1f, 😀, \u2028", []byte{})
	f.Fuzz(func(t *testing.T, s string, blob []byte) {
		if !utf8.ValidString(s) {
			return
		}
		for _, v := range []any{s, blob, int64(len(s)) - 7, float64(len(blob)) / 3, nil} {
			b, err := appendHranaValue(nil, v)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Type   string          `json:"type"`
				Value  json.RawMessage `json:"value"`
				Base64 string          `json:"base64"`
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%q: %v", b, err)
			}
			switch v := v.(type) {
			case string:
				var back string
				if json.Unmarshal(got.Value, &back) != nil || back != v || got.Type != "text" {
					t.Fatalf("%q came back as %q (%s)", v, back, got.Type)
				}
			case []byte:
				back, err := base64.RawStdEncoding.DecodeString(got.Base64)
				if err != nil || !bytes.Equal(back, v) || got.Type != "blob" {
					t.Fatalf("%x came back as %x (%v)", v, back, err)
				}
			case int64:
				var back string
				if json.Unmarshal(got.Value, &back) != nil || back != strconv.FormatInt(v, 10) {
					t.Fatalf("%d came back as %s", v, got.Value)
				}
			case float64:
				var back float64
				if json.Unmarshal(got.Value, &back) != nil || back != v {
					t.Fatalf("%v came back as %s", v, got.Value)
				}
			case nil:
				if got.Type != "null" {
					t.Fatalf("nil came back as %s", b)
				}
			}
		}
	})
}
