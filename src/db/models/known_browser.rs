//! The browsers a person has signed in from, by the SHA-256 of a long-lived cookie's random
//! id: a sign-in from any other is announced by email.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::known_browsers;

/// Browsers a person has used.
pub struct KnownBrowser;

impl KnownBrowser {
    /// Remembers the browser for the person; returns whether it was new to them.
    pub fn remember(
        conn: &mut DbConn,
        user_id: i64,
        browser_hash: &str,
        now: i64,
    ) -> QueryResult<bool> {
        crate::db_run!(conn => {
            let n = diesel::insert_into(known_browsers::table)
                .values((
                    known_browsers::user_id.eq(user_id),
                    known_browsers::browser_hash.eq(browser_hash),
                    known_browsers::first_seen_at.eq(now),
                ))
                .on_conflict((known_browsers::user_id, known_browsers::browser_hash))
                .do_nothing()
                .execute(conn)?;
            Ok(n == 1)
        })
    }
}
