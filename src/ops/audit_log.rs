//! Reading an organization's audit log: newest first, a page at a time, optionally about
//! one person.

use std::collections::HashMap;

use crate::db::models::{AuditEvent, Cursor, User};
use crate::domain::Email;
use crate::error::AppError;
use crate::state::AppState;

/// Whose events to show.
pub enum PersonFilter {
    Everyone,
    Id(i64),
    Email(Email),
}

/// A page of the log.
pub struct AuditPage {
    /// The person the page is about, when filtered.
    pub person: Option<User>,
    pub events: Vec<AuditEvent>,
    /// The names of the actors and subjects of the page's events (others' ids absent).
    pub names: HashMap<i64, String>,
    /// Whether there are older events than this page's.
    pub has_older: bool,
    /// Whether there are newer events than this page's.
    pub has_newer: bool,
}

/// One page (from `cursor`, `limit` events) of an organization's events; `None` when the filter names
/// no one of this organization (another organization's people are not found, like people
/// who do not exist).
pub async fn page(
    app: &AppState,
    organization_id: i64,
    filter: PersonFilter,
    cursor: Cursor,
    limit: i64,
) -> Result<Option<AuditPage>, AppError> {
    crate::db::run(&app.pool, move |c| {
        let person = match filter {
            PersonFilter::Everyone => None,
            PersonFilter::Id(id) => match User::find_in_organization(c, organization_id, id)? {
                Some(user) => Some(user),
                None => return Ok(None),
            },
            PersonFilter::Email(email) => match User::find_by_email(c, email.as_str())? {
                Some(user) if user.organization_id == organization_id => Some(user),
                _ => return Ok(None),
            },
        };
        let person_id = person.as_ref().map(|p| p.id);
        // One more than the page, to know whether the log goes on that way.
        let mut events = AuditEvent::page(c, organization_id, person_id, cursor, limit + 1)?;
        let more = events.len() as i64 > limit;
        let (has_older, has_newer) = match cursor {
            Cursor::After(_) => {
                // Read upwards: the extra one is the newest, at the front.
                if more {
                    events.remove(0);
                }
                (true, more)
            }
            Cursor::Before(_) => {
                events.truncate(limit as usize);
                (more, true)
            }
            Cursor::Newest => {
                events.truncate(limit as usize);
                (more, false)
            }
        };
        let mut ids: Vec<i64> = events
            .iter()
            .flat_map(|e| [e.actor_id, e.subject_id])
            .flatten()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let names = crate::db::models::People::names(c, organization_id, &ids)?
            .into_iter()
            .collect();
        Ok(Some(AuditPage {
            person,
            events,
            names,
            has_older,
            has_newer,
        }))
    })
    .await
}
