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
    pub const RECOVERY_CODES_ISSUED: &str = "recovery_codes_issued";
    pub const TWO_FACTOR_RESET: &str = "two_factor_reset";
    pub const ENFORCEMENT_CHANGED: &str = "two_factor_enforcement_changed";
    pub const INVITATION_SENT: &str = "invitation_sent";
    pub const INVITATION_RESENT: &str = "invitation_resent";
    pub const INVITATION_REVOKED: &str = "invitation_revoked";
    pub const INVITATION_ACCEPTED: &str = "invitation_accepted";
    pub const ROLE_CHANGED: &str = "role_changed";
    pub const DEACTIVATED: &str = "person_deactivated";
    pub const REPORTED_NOT_ME: &str = "reported_not_me";

    /// How the audit log shows an event.
    pub fn describe(event: &str) -> &str {
        match event {
            ORGANIZATION_CREATED => "Organization created",
            SIGN_IN => "Signed in",
            SIGN_IN_FAILED => "Sign-in failed",
            TWO_FACTOR_ENABLED => "2FA turned on",
            TWO_FACTOR_MOVED => "2FA moved to a new app",
            TWO_FACTOR_DISABLED => "2FA turned off",
            RECOVERY_CODE_USED => "Recovery code used",
            RECOVERY_CODES_REGENERATED => "Recovery codes regenerated",
            RECOVERY_CODES_ISSUED => "Recovery codes issued by the owner",
            TWO_FACTOR_RESET => "2FA reset by an operator",
            ENFORCEMENT_CHANGED => "2FA enforcement changed",
            INVITATION_SENT => "Invitation sent",
            INVITATION_RESENT => "Invitation resent",
            INVITATION_REVOKED => "Invitation revoked",
            INVITATION_ACCEPTED => "Invitation accepted",
            ROLE_CHANGED => "Role changed",
            DEACTIVATED => "Deactivated",
            REPORTED_NOT_ME => "Reported \"this wasn't me\"",
            other => other,
        }
    }
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

    /// Something one person did to another (or to the organization, with no subject).
    pub fn by(
        organization_id: i64,
        actor_id: i64,
        subject_id: Option<i64>,
        event: &'a str,
    ) -> Self {
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
