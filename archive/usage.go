package archive

import (
	"context"
	"database/sql"

	"github.com/convlog/convlog/record"
)

// keepStatsExtras makes the stats index of an archive that lacks it, and
// gives an archive made by an older convlog the usage rows (table
// record.UsageTable) of the sessions that did not get them from their
// files in this update: those whose files are gone.
func keepStatsExtras(ctx context.Context, conn *sql.Conn, st *updateState) error {
	if !st.extras {
		if err := record.CreateStatsExtras(ctx, conn); err != nil {
			return err
		}
	}
	if !st.stale {
		return nil
	}
	rows, err := conn.QueryContext(ctx, "SELECT id FROM sessions")
	if err != nil {
		return err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return record.FillUsage(ctx, conn, ids)
}
