use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::ended_sessions;

/// A session ended by signing out, remembered until it would have expired anyway: its cookie
/// may still exist (copied, or kept by a careless browser) and must not work again.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ended_sessions)]
pub struct EndedSession {
    pub session_id: String,
    pub expires_at: i64,
}

impl EndedSession {
    /// Forgets sessions that have expired by `now`: their own times refuse them.
    pub fn prune(conn: &mut DbConn, now: i64) -> QueryResult<usize> {
        crate::db_run!(conn => {
            diesel::delete(ended_sessions::table.filter(ended_sessions::expires_at.le(now)))
                .execute(conn)
        })
    }

    /// Records the session as ended (again is harmless) and forgets sessions that have
    /// expired by `now`, which need no record: their own times refuse them.
    pub fn record(&self, conn: &mut DbConn, now: i64) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::delete(ended_sessions::table.filter(ended_sessions::expires_at.le(now)))
                .execute(conn)?;
            diesel::insert_into(ended_sessions::table)
                .values(self)
                .on_conflict(ended_sessions::session_id)
                .do_nothing()
                .execute(conn)?;
            Ok(())
        })
    }
}
