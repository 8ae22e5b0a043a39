use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::audit_events;
use crate::domain::Event;

/// A recorded security event.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: i64,
    pub organization_id: i64,
    pub actor_id: Option<i64>,
    pub subject_id: Option<i64>,
    pub event: Event,
    pub detail: String,
    pub client_address: String,
    pub user_agent: String,
    pub created_at: i64,
}

/// A security event to record.
#[derive(Debug, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent<'a> {
    pub organization_id: i64,
    pub actor_id: Option<i64>,
    pub subject_id: Option<i64>,
    pub event: Event,
    pub detail: &'a str,
    pub client_address: &'a str,
    pub user_agent: &'a str,
    pub created_at: i64,
}

impl NewAuditEvent<'_> {
    /// Records the event.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::insert_into(audit_events::table)
                .values(self)
                .execute(conn)?;
            Ok(())
        })
    }
}

impl AuditEvent {
    /// An organization's events about one person (as actor or subject), newest first.
    pub fn for_subject(
        conn: &mut DbConn,
        organization_id: i64,
        user_id: i64,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        crate::db_run!(conn => {
            audit_events::table
                .filter(audit_events::organization_id.eq(organization_id))
                .filter(
                    audit_events::subject_id
                        .eq(user_id)
                        .or(audit_events::actor_id.eq(user_id)),
                )
                .order(audit_events::id.desc())
                .limit(limit)
                .select(Self::as_select())
                .load(conn)
        })
    }

    /// A page of an organization's events, newest first, optionally only those about one
    /// person (as actor or subject), from a place in the log (`Cursor`): by the index on
    /// (organization, id), however deep the page, never skipping rows with an offset.
    pub fn page(
        conn: &mut DbConn,
        organization_id: i64,
        person: Option<i64>,
        cursor: Cursor,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        crate::db_run!(conn => {
            let mut query = audit_events::table
                .filter(audit_events::organization_id.eq(organization_id))
                .into_boxed();
            if let Some(id) = person {
                query = query.filter(
                    audit_events::subject_id
                        .eq(id)
                        .or(audit_events::actor_id.eq(id)),
                );
            }
            match cursor {
                Cursor::Newest => query.order(audit_events::id.desc()),
                Cursor::Before(id) => query
                    .filter(audit_events::id.lt(id))
                    .order(audit_events::id.desc()),
                // The page just newer than `id`: read upwards, then turned newest first.
                Cursor::After(id) => query
                    .filter(audit_events::id.gt(id))
                    .order(audit_events::id.asc()),
            }
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
            .map(|mut events: Vec<Self>| {
                if matches!(cursor, Cursor::After(_)) {
                    events.reverse();
                }
                events
            })
        })
    }
}

/// Where a page of the log starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// The newest events.
    Newest,
    /// Events older than this id.
    Before(i64),
    /// Events newer than this id (the page before, going back).
    After(i64),
}
