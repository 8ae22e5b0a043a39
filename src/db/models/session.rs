//! Signed-in sessions as the server keeps them: one row a session, named in the cookie by a
//! random id (only its SHA-256 is stored). A session holds while its row is not ended, has not
//! expired and carries the person's current epoch; ending one is a row update, which every
//! instance sees at the session's next request.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::sessions;

/// A signed-in session.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: i64,
    pub id_hash: String,
    pub user_id: i64,
    pub epoch: i64,
    pub user_agent: String,
    pub client_address: String,
    pub created_at: i64,
    pub last_active_at: i64,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
}

/// A new session.
#[derive(Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub user_id: i64,
    pub epoch: i64,
    pub user_agent: &'a str,
    pub client_address: &'a str,
    pub created_at: i64,
    pub last_active_at: i64,
    pub expires_at: i64,
}

impl NewSession<'_> {
    /// Records the session.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::insert_into(sessions::table).values(self).execute(conn)?;
            Ok(())
        })
    }
}

impl Session {
    /// A person's live sessions at `now` (not ended, not expired, of their current epoch),
    /// newest first, at most `limit`.
    pub fn live_of(
        conn: &mut DbConn,
        user_id: i64,
        epoch: i64,
        now: i64,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        crate::db_run!(conn => {
            sessions::table
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::epoch.eq(epoch))
                .filter(sessions::ended_at.is_null())
                .filter(sessions::expires_at.gt(now))
                .order(sessions::id.desc())
                .limit(limit)
                .select(Self::as_select())
                .load(conn)
        })
    }

    /// Ends one session of a person's (another person's id finds nothing); returns whether a
    /// live session was ended.
    pub fn end_one(conn: &mut DbConn, user_id: i64, id: i64, now: i64) -> QueryResult<bool> {
        crate::db_run!(conn => {
            let n = diesel::update(
                sessions::table
                    .filter(sessions::id.eq(id))
                    .filter(sessions::user_id.eq(user_id))
                    .filter(sessions::ended_at.is_null()),
            )
            .set(sessions::ended_at.eq(Some(now)))
            .execute(conn)?;
            Ok(n == 1)
        })
    }

    /// Ends the session with this id hash (signing out).
    pub fn end(conn: &mut DbConn, id_hash: &str, now: i64) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::update(
                sessions::table
                    .filter(sessions::id_hash.eq(id_hash))
                    .filter(sessions::ended_at.is_null()),
            )
            .set(sessions::ended_at.eq(Some(now)))
            .execute(conn)?;
            Ok(())
        })
    }

    /// Ends every session of a person but `keep` (an id hash), if given; returns how many.
    pub fn end_all_but(
        conn: &mut DbConn,
        user_id: i64,
        keep: Option<&str>,
        now: i64,
    ) -> QueryResult<usize> {
        crate::db_run!(conn => {
            let mut query = diesel::update(sessions::table)
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::ended_at.is_null())
                .into_boxed();
            if let Some(keep) = keep {
                query = query.filter(sessions::id_hash.ne(keep));
            }
            query.set(sessions::ended_at.eq(Some(now))).execute(conn)
        })
    }

    /// Carries a session into the person's new epoch (they turned 2FA off or changed their
    /// password here: every other session ended, this one goes on).
    pub fn move_to_epoch(conn: &mut DbConn, id_hash: &str, epoch: i64) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::update(sessions::table.filter(sessions::id_hash.eq(id_hash)))
                .set(sessions::epoch.eq(epoch))
                .execute(conn)?;
            Ok(())
        })
    }

    /// Notes when sessions were last used (written in batches, off the request path).
    pub fn note_activity(conn: &mut DbConn, seen: &[(String, i64)]) -> QueryResult<()> {
        crate::db_run!(conn => {
            for (id_hash, at) in seen {
                diesel::update(
                    sessions::table
                        .filter(sessions::id_hash.eq(id_hash))
                        .filter(sessions::last_active_at.lt(*at)),
                )
                .set(sessions::last_active_at.eq(*at))
                .execute(conn)?;
            }
            Ok(())
        })
    }

    /// Forgets sessions that expired by `now`; returns how many.
    pub fn prune(conn: &mut DbConn, now: i64) -> QueryResult<usize> {
        crate::db_run!(conn => {
            diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)
        })
    }
}
