package record

import (
	"slices"
	"strings"
	"testing"
)

// A schema's tables are learnt from its script when first asked for; a
// script that does not run is an error from ParseSchema, and a panic from
// NewSchema's schema only once its tables are asked for.
func TestSchemaLearntWhenAsked(t *testing.T) {
	s := NewSchema(`CREATE TABLE b (x INTEGER PRIMARY KEY, y TEXT NOT NULL DEFAULT 'v'); CREATE TABLE a (z REAL);`)
	if got := s.Order(); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("order %q, want b, a", got)
	}
	cols := s.Tables()["b"]
	if len(cols) != 2 || !cols[0].PK || cols[1].Name != "y" || !cols[1].NotNull || cols[1].Default.String != "'v'" {
		t.Errorf("columns of b: %+v", cols)
	}

	const bad = `CREATE TABLE (`
	if _, err := ParseSchema(bad); err == nil || !strings.Contains(err.Error(), "schema.sql") {
		t.Errorf("ParseSchema of a bad script: %v", err)
	}
	lazy := NewSchema(bad) // nothing run yet: no panic
	defer func() {
		if recover() == nil {
			t.Error("the tables of a bad script were given without a panic")
		}
	}()
	lazy.Tables()
}
