//! The state between a right password and a right code: a server-side record, shared by every
//! instance, that the browser's cookie names by a random id. The sign-in it leads to consumes
//! it, and a new password step in the same browser replaces it, so a copy of the cookie can
//! never take another code.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::pending_sign_ins;

/// A password step waiting for its code.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pending_sign_ins)]
pub struct PendingSignIn {
    /// SHA-256 of the id in the cookie: the id itself is never stored.
    pub id_hash: String,
    pub user_id: i64,
    /// The person's session epoch at the password step: signed out everywhere since, the
    /// step no longer holds.
    pub epoch: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

impl PendingSignIn {
    /// Stores the step.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::insert_into(pending_sign_ins::table)
                .values(self)
                .execute(conn)?;
            Ok(())
        })
    }

    /// The step with this id hash, if it has not expired by `now` (nor been consumed).
    pub fn find_live(conn: &mut DbConn, id_hash: &str, now: i64) -> QueryResult<Option<Self>> {
        crate::db_run!(conn => {
            pending_sign_ins::table
                .find(id_hash)
                .filter(pending_sign_ins::expires_at.gt(now))
                .select(Self::as_select())
                .get_result(conn)
                .optional()
        })
    }

    /// Consumes the step, if it is still there and live: of two requests with one step,
    /// exactly one sees a row deleted.
    pub fn consume(conn: &mut DbConn, id_hash: &str, now: i64) -> QueryResult<bool> {
        crate::db_run!(conn => {
            let n = diesel::delete(
                pending_sign_ins::table
                    .find(id_hash)
                    .filter(pending_sign_ins::expires_at.gt(now)),
            )
            .execute(conn)?;
            Ok(n == 1)
        })
    }

    /// Forgets a step (abandoned for a new one).
    pub fn delete(conn: &mut DbConn, id_hash: &str) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::delete(pending_sign_ins::table.find(id_hash)).execute(conn)?;
            Ok(())
        })
    }

    /// Forgets the steps that expired by `now`; returns how many.
    pub fn prune(conn: &mut DbConn, now: i64) -> QueryResult<usize> {
        crate::db_run!(conn => {
            diesel::delete(pending_sign_ins::table.filter(pending_sign_ins::expires_at.le(now)))
                .execute(conn)
        })
    }
}
