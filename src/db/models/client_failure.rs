use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::config::Limits;
use crate::db::DbConn;
use crate::db::schema::client_failures;

/// Failed sign-in attempts from one client address, counted in fixed windows.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = client_failures)]
pub struct ClientFailure {
    pub address: String,
    pub window_start: i64,
    pub failures: i32,
}

impl ClientFailure {
    /// Seconds until this address may try again, if it is over its limit.
    pub fn blocked_for(
        conn: &mut DbConn,
        address: &str,
        now: i64,
        limits: &Limits,
    ) -> QueryResult<Option<i64>> {
        crate::db_run!(conn => {
            let row: Option<Self> = client_failures::table
                .find(address)
                .select(Self::as_select())
                .get_result(conn)
                .optional()?;
            Ok(row.and_then(|r| {
                let window_end = r.window_start + limits.client_window_secs;
                (r.failures >= limits.client_failures && window_end > now).then(|| window_end - now)
            }))
        })
    }

    /// Counts one failure: starts a new window when the last one is over, otherwise adds one,
    /// each as a single atomic statement.
    pub fn record(conn: &mut DbConn, address: &str, now: i64, limits: &Limits) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::update(
                client_failures::table.filter(
                    client_failures::address
                        .eq(address)
                        .and(client_failures::window_start.le(now - limits.client_window_secs)),
                ),
            )
            .set((
                client_failures::window_start.eq(now),
                client_failures::failures.eq(0),
            ))
            .execute(conn)?;
            diesel::insert_into(client_failures::table)
                .values(Self {
                    address: address.to_owned(),
                    window_start: now,
                    failures: 1,
                })
                .on_conflict(client_failures::address)
                .do_update()
                .set(
                    client_failures::failures
                        .eq(client_failures::failures + excluded(client_failures::failures)),
                )
                .execute(conn)?;
            Ok(())
        })
    }
}
