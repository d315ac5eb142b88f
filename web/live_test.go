package web

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/convlog/convlog/internal/testkit"
)

// A page and the deltas of its event stream add up to the page of the
// finished session: each new line once, each call again only when its
// result arrives.
func TestTail(t *testing.T) {
	ctx := context.Background()
	s := testkit.NewSession(t, t.TempDir(), "run")
	lines := fixtureLines(t, "session.jsonl")
	for _, l := range lines[:5] {
		s.Line(l)
	}
	s.Commit()
	page := buildFile(t, s.Path)
	tl, err := openTail(ctx, s.Path, "run", page.LastSeq, page.LastCall)
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	items := map[int64]Item{}
	calls := map[string]Call{}
	for _, it := range page.Items {
		items[it.S] = it
	}
	poll := func() *Delta {
		t.Helper()
		d, changed, err := tl.poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !changed && (len(d.Items) > 0 || len(d.Calls) > 0) {
			t.Fatal("a delta with news is not a change")
		}
		for _, it := range d.Items {
			if _, dup := items[it.S]; dup {
				t.Errorf("line %d sent twice", it.S)
			}
			items[it.S] = it
		}
		for _, c := range d.Calls {
			calls[c.ID] = c
		}
		return d
	}
	poll()
	if _, changed, _ := tl.poll(ctx); changed {
		t.Error("a poll with nothing new is a change")
	}
	ids := func(d *Delta) map[string]string {
		m := map[string]string{}
		for _, c := range d.Calls {
			m[c.ID] = c.St
		}
		return m
	}
	s.Line(lines[5]).Commit()
	if d := poll(); len(d.Items) != 1 || d.Items[0].S != 5 || !maps.Equal(ids(d), map[string]string{"toolu_01Bash": "pending"}) || d.Ended {
		t.Errorf("after the tool_use: %+v", d)
	}
	s.Line(lines[6]).Line(lines[7]).Commit()
	if d := poll(); len(d.Items) != 1 || !maps.Equal(ids(d), map[string]string{"toolu_01Glob": "success"}) {
		t.Errorf("after a call and its result: %+v", d)
	}
	s.Line(lines[8]).Commit()
	if d := poll(); len(d.Items) != 0 || !maps.Equal(ids(d), map[string]string{"toolu_01Bash": "error"}) {
		t.Errorf("after the pending call's result: %+v", d)
	}
	for _, l := range lines[9:] {
		s.Line(l)
	}
	s.Finish()
	if d := poll(); !d.Ended || d.Session.Running || d.Session.Outcome != "success" {
		t.Errorf("at the end: %+v", d.Session)
	}
	final := buildFile(t, s.Path)
	var want, got []Item
	want = final.Items
	for _, k := range slices.Sorted(maps.Keys(items)) {
		got = append(got, items[k])
	}
	a, _ := json.Marshal(want)
	b, _ := json.Marshal(got)
	if string(a) != string(b) {
		t.Errorf("items by the deltas:\n%s\nof the finished session:\n%s", b, a)
	}
	for _, c := range final.Calls {
		if g, ok := calls[c.ID]; !ok || g.St != c.St {
			t.Errorf("call %s: %+v by the deltas, %+v at the end", c.ID, g, c)
		}
	}
}
