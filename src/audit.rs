//! The security events an organization's admins can review: who did what to whom, when, from
//! which address and browser. Operations record them inside the transaction of the change
//! they describe, so an event exists exactly when its change does.

use crate::db::DbConn;
use crate::db::models::NewAuditEvent;
use crate::domain::Event;

/// Where a request came from, for the events it records and the limits it counts against.
/// The web side reads it from the request (`crate::http`); the command line names itself.
#[derive(Debug, Clone)]
pub struct Origin {
    pub address: String,
    pub user_agent: String,
    /// The SHA-256 of the browser's id cookie (see `auth::browser`), on form posts from a
    /// browser; `None` on the command line.
    pub browser: Option<String>,
}

impl Origin {
    /// The origin of an operator's command.
    pub fn command_line(command: &str) -> Self {
        Self {
            address: "command line".into(),
            user_agent: format!("twofold {command}"),
            browser: None,
        }
    }

    /// Records an event.
    pub fn record(&self, conn: &mut DbConn, entry: Entry<'_>, now: i64) -> diesel::QueryResult<()> {
        // The event is written inside the transaction of the change it records, after (most
        // of) that change: a crash here must leave the change undone.
        #[cfg(feature = "test-hooks")]
        crate::db::fault_point(&format!("before-audit:{}", entry.event.as_str()));
        NewAuditEvent {
            organization_id: entry.organization_id,
            actor_id: entry.actor_id,
            subject_id: entry.subject_id,
            event: entry.event,
            detail: entry.detail,
            client_address: &self.address,
            user_agent: &self.user_agent,
            created_at: now,
        }
        .insert(conn)
    }
}

/// Who did what to whom, in which organization.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub organization_id: i64,
    pub actor_id: Option<i64>,
    pub subject_id: Option<i64>,
    pub event: Event,
    pub detail: &'a str,
}

impl<'a> Entry<'a> {
    /// Something a person did to their own account.
    pub fn own(organization_id: i64, user_id: i64, event: Event) -> Self {
        Self {
            organization_id,
            actor_id: Some(user_id),
            subject_id: Some(user_id),
            event,
            detail: "",
        }
    }

    /// Something that happened to an account with no signed-in actor (a failed sign-in).
    pub fn about(organization_id: i64, user_id: i64, event: Event) -> Self {
        Self {
            actor_id: None,
            ..Self::own(organization_id, user_id, event)
        }
    }

    /// Something one person did to another (or to the organization, with no subject).
    pub fn by(organization_id: i64, actor_id: i64, subject_id: Option<i64>, event: Event) -> Self {
        Self {
            organization_id,
            actor_id: Some(actor_id),
            subject_id,
            event,
            detail: "",
        }
    }

    /// Adds a detail.
    pub fn detail(self, detail: &'a str) -> Self {
        Self { detail, ..self }
    }
}
