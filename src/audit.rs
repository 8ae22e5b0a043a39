//! The security events an organization's admins can review: who did what to whom, when, from
//! which address and browser.

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::auth::throttle::client_address;
use crate::db::DbConn;
use crate::db::models::NewAuditEvent;

/// The kinds of event, as stored.
pub mod event {
    pub const ORGANIZATION_CREATED: &str = "organization_created";
    pub const SIGN_IN: &str = "sign_in";
    pub const SIGN_IN_FAILED: &str = "sign_in_failed";
    pub const TWO_FACTOR_ENABLED: &str = "two_factor_enabled";
    pub const TWO_FACTOR_MOVED: &str = "two_factor_moved";
    pub const TWO_FACTOR_DISABLED: &str = "two_factor_disabled";
    pub const RECOVERY_CODE_USED: &str = "recovery_code_used";
    pub const RECOVERY_CODES_REGENERATED: &str = "recovery_codes_regenerated";
}

/// Where a request came from, for the events it records.
#[derive(Debug, Clone)]
pub struct Origin {
    pub address: String,
    pub user_agent: String,
}

impl Origin {
    /// The client address and (shortened) browser of a request.
    pub fn of(req: &HttpRequest) -> Self {
        let user_agent = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        Self {
            address: client_address(req),
            user_agent,
        }
    }

    /// Records an event.
    pub fn record(&self, conn: &mut DbConn, entry: Entry<'_>, now: i64) -> diesel::QueryResult<()> {
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
    pub event: &'a str,
    pub detail: &'a str,
}

impl<'a> Entry<'a> {
    /// Something a person did to their own account.
    pub fn own(organization_id: i64, user_id: i64, event: &'a str) -> Self {
        Self {
            organization_id,
            actor_id: Some(user_id),
            subject_id: Some(user_id),
            event,
            detail: "",
        }
    }

    /// Something that happened to an account with no signed-in actor (a failed sign-in).
    pub fn about(organization_id: i64, user_id: i64, event: &'a str) -> Self {
        Self {
            actor_id: None,
            ..Self::own(organization_id, user_id, event)
        }
    }

    /// Adds a detail.
    pub fn detail(self, detail: &'a str) -> Self {
        Self { detail, ..self }
    }
}
