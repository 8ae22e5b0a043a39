use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::alert_tokens;
use crate::domain::Event;

/// The token of a "this wasn't me" link sent with a security email; only its SHA-256 hash is
/// kept.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = alert_tokens)]
pub struct AlertToken {
    pub id: i64,
    pub user_id: i64,
    pub token_hash: String,
    pub event: Event,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// A new "this wasn't me" token.
#[derive(Insertable)]
#[diesel(table_name = alert_tokens)]
pub struct NewAlertToken<'a> {
    pub user_id: i64,
    pub token_hash: &'a str,
    pub event: Event,
    pub created_at: i64,
    pub expires_at: i64,
}

impl NewAlertToken<'_> {
    /// Stores the token.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::insert_into(alert_tokens::table)
                .values(self)
                .execute(conn)?;
            Ok(())
        })
    }
}

impl AlertToken {
    /// Whether the link still works at `now`.
    pub fn is_usable(&self, now: i64) -> bool {
        self.used_at.is_none() && self.expires_at > now
    }

    /// The token with this hash.
    pub fn find_by_hash(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<Self>> {
        crate::db_run!(conn => {
            alert_tokens::table
                .filter(alert_tokens::token_hash.eq(token_hash))
                .select(Self::as_select())
                .get_result(conn)
                .optional()
        })
    }

    /// Spends the token if it still works; exactly one of racing uses sees a row changed.
    pub fn spend(conn: &mut DbConn, id: i64, now: i64) -> QueryResult<bool> {
        crate::db_run!(conn => {
            let n = diesel::update(
                alert_tokens::table.filter(
                    alert_tokens::id
                        .eq(id)
                        .and(alert_tokens::used_at.is_null())
                        .and(alert_tokens::expires_at.gt(now)),
                ),
            )
            .set(alert_tokens::used_at.eq(Some(now)))
            .execute(conn)?;
            Ok(n == 1)
        })
    }
}
