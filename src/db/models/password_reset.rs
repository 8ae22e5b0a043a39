//! Links to choose a new password: only the token's SHA-256 is stored; a link works once, for
//! an hour.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::password_resets;

/// A password-reset link.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = password_resets)]
pub struct PasswordReset {
    pub id: i64,
    pub user_id: i64,
    pub token_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// A new password-reset link.
#[derive(Insertable)]
#[diesel(table_name = password_resets)]
pub struct NewPasswordReset<'a> {
    pub user_id: i64,
    pub token_hash: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

impl NewPasswordReset<'_> {
    /// Stores the link.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::insert_into(password_resets::table).values(self).execute(conn)?;
            Ok(())
        })
    }
}

impl PasswordReset {
    /// Whether the link still works at `now`.
    pub fn is_usable(&self, now: i64) -> bool {
        self.used_at.is_none() && self.expires_at > now
    }

    /// The link with this token hash.
    pub fn find_by_hash(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<Self>> {
        crate::db_run!(conn => {
            password_resets::table
                .filter(password_resets::token_hash.eq(token_hash))
                .select(Self::as_select())
                .get_result(conn)
                .optional()
        })
    }

    /// Spends the link if it still works: of racing uses, exactly one sees a row changed.
    pub fn spend(conn: &mut DbConn, id: i64, now: i64) -> QueryResult<bool> {
        crate::db_run!(conn => {
            let n = diesel::update(
                password_resets::table
                    .filter(password_resets::id.eq(id))
                    .filter(password_resets::used_at.is_null())
                    .filter(password_resets::expires_at.gt(now)),
            )
            .set(password_resets::used_at.eq(Some(now)))
            .execute(conn)?;
            Ok(n == 1)
        })
    }

    /// Spends every other open link of a person (a new password makes them moot).
    pub fn spend_all_of(conn: &mut DbConn, user_id: i64, now: i64) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::update(
                password_resets::table
                    .filter(password_resets::user_id.eq(user_id))
                    .filter(password_resets::used_at.is_null()),
            )
            .set(password_resets::used_at.eq(Some(now)))
            .execute(conn)?;
            Ok(())
        })
    }

    /// Forgets links that expired by `now`; returns how many.
    pub fn prune(conn: &mut DbConn, now: i64) -> QueryResult<usize> {
        crate::db_run!(conn => {
            diesel::delete(password_resets::table.filter(password_resets::expires_at.le(now)))
                .execute(conn)
        })
    }
}
