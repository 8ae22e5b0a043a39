//! A person's own account: creating an organization with its owner.

use crate::audit::{Entry, Origin};
use crate::auth::session::SessionId;
use crate::db::models::{NewOrganization, NewUser, User};
use crate::domain::{Email, Event, OrganizationName, Password, PersonName, Role};
use crate::error::AppError;
use crate::ops::sessions;
use crate::state::AppState;

/// A new organization and its owner, as the sign-up page or the operator asks for them.
pub struct NewOrganizationRequest {
    pub organization: OrganizationName,
    pub owner_name: PersonName,
    pub email: Email,
    pub password: Password,
    /// Whether the owner is signed in by this (the sign-up page), which counts as their
    /// first sign-in; the operator's command only creates the account.
    pub signs_in: bool,
}

/// What creating an organization found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignUp {
    /// Created; `session` is the owner's new session when the request signs them in.
    Created {
        organization_id: i64,
        user_id: i64,
        session: Option<SessionId>,
    },
    /// Someone already has an account with this email.
    EmailTaken,
}

/// Creates an organization and its owner in one transaction, with the audit event.
pub async fn sign_up(
    app: &AppState,
    request: NewOrganizationRequest,
    origin: Origin,
) -> Result<SignUp, AppError> {
    let NewOrganizationRequest {
        organization,
        owner_name,
        email,
        password,
        signs_in,
    } = request;
    let password_hash = app.hasher.hash(password).await?;
    let now = crate::now_unix();
    let lifetime = app.config.sessions;
    crate::db::write(&app.pool, move |c| {
        if User::email_taken(c, email.as_str())? {
            return Ok(SignUp::EmailTaken);
        }
        let organization_id = NewOrganization {
            name: organization.as_str(),
            created_at: now,
        }
        .insert(c)?;
        let user_id = NewUser {
            organization_id,
            email: email.as_str(),
            name: owner_name.as_str(),
            password_hash: &password_hash,
            role: Role::Owner,
            created_at: now,
        }
        .insert(c)?;
        let session = if signs_in {
            User::record_sign_in(c, user_id, now)?;
            Some(sessions::begin(c, user_id, 0, &origin, &lifetime, now)?)
        } else {
            None
        };
        origin.record(
            c,
            Entry::own(organization_id, user_id, Event::OrganizationCreated)
                .detail(organization.as_str()),
            now,
        )?;
        Ok(SignUp::Created {
            organization_id,
            user_id,
            session,
        })
    })
    .await
}
