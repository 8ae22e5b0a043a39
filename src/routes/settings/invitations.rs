//! Inviting people: `POST /settings/users/invite` emails a single-use link valid for 7 days;
//! `POST /settings/invitations/{id}/resend` sends a new link (the old one stops working) and
//! `POST /settings/invitations/{id}/revoke` withdraws it. Only the link's hash is stored.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::audit::{Entry, Origin, event};
use crate::auth::csrf::CsrfForm;
use crate::auth::extractors::{Admin, SignedIn};
use crate::auth::session::FlashKind;
use crate::auth::tokens;
use crate::db::DbConn;
use crate::db::models::{Invitation, NewInvitation, User};
use crate::domain::{Email, PersonName, Role};
use crate::error::AppError;
use crate::notify::{self, InvitationEmail};
use crate::routes::settings::users::{InviteForm, Listing, users_page};
use crate::routes::{EmptyForm, see_other};
use crate::startup::AppState;

/// How long an invitation link works.
pub const INVITATION_TTL_SECS: i64 = 7 * 24 * 60 * 60;

#[derive(Deserialize)]
pub struct InviteFields {
    name: String,
    email: String,
    role: String,
}

/// The email for an invitation with a fresh token.
fn invitation_email(
    state: &AppState,
    viewer: &SignedIn,
    token: &str,
    invitation: (&str, &str, Role),
    expires_at: i64,
) -> Result<crate::email::Email, AppError> {
    let (name, email, role) = invitation;
    notify::invitation(&InvitationEmail {
        public_url: &state.config.public_url,
        token,
        name,
        email,
        role: match role {
            Role::Admin => "an admin",
            _ => "a member",
        },
        inviter: &viewer.user.name,
        organization: &viewer.organization.name,
        expires_at,
    })
}

pub async fn post_invite(
    req: HttpRequest,
    admin: Admin,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<InviteFields>,
) -> Result<HttpResponse, AppError> {
    let mut errors = InviteForm {
        name: form.name.clone(),
        email: form.email.clone(),
        role: form.role.clone(),
        ..InviteForm::default()
    };
    let name = PersonName::parse(&form.name)
        .map_err(|e| errors.name_error = Some(e.replace("Your name", "The name")))
        .ok();
    let email = Email::parse(&form.email)
        .map_err(|e| errors.email_error = Some(e))
        .ok();
    let role = match Role::parse(&form.role) {
        Ok(Role::Member) => Some(Role::Member),
        Ok(Role::Admin) if admin.user.role() == Role::Owner => Some(Role::Admin),
        Ok(Role::Admin) => {
            errors.role_error = Some("Only the owner can invite admins.".into());
            None
        }
        Ok(Role::Owner) | Err(_) => {
            errors.role_error = Some("Choose a role: member or admin.".into());
            None
        }
    };
    let (Some(name), Some(email), Some(role)) = (name, email, role) else {
        return users_page(
            &admin,
            &state,
            Listing::default(),
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };

    let token = tokens::generate();
    let token_hash = tokens::hash(&token);
    let now = crate::now_unix();
    let expires_at = now + INVITATION_TTL_SECS;
    let origin = Origin::of(&req);
    let (organization_id, inviter_id) = (admin.organization.id, admin.user.id);
    let (invited_name, invited_email) = (name.clone(), email.clone());
    let refused = crate::db::run(&state.pool, move |c| {
        crate::db::write_transaction(c, |c| {
            if User::email_taken(c, invited_email.as_str())? {
                return Ok(Some("Someone with this email already has an account."));
            }
            if Invitation::is_open_for(c, organization_id, invited_email.as_str())? {
                return Ok(Some(
                    "This email already has a pending invitation: resend it below.",
                ));
            }
            let id = NewInvitation {
                organization_id,
                email: invited_email.as_str(),
                name: invited_name.as_str(),
                role: role.as_str(),
                token_hash: &token_hash,
                invited_by: Some(inviter_id),
                created_at: now,
                expires_at,
            }
            .insert(c)?;
            origin.record(
                c,
                Entry::by(organization_id, inviter_id, None, event::INVITATION_SENT)
                    .detail(&format!("{} as {} (#{id})", invited_email, role.as_str())),
                now,
            )?;
            Ok(None)
        })
    })
    .await?;
    if let Some(message) = refused {
        errors.email_error = Some(message.into());
        return users_page(
            &admin,
            &state,
            Listing::default(),
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let message = invitation_email(
        &state,
        &admin,
        &token,
        (name.as_str(), email.as_str(), role),
        expires_at,
    )?;
    sent_or_not(&admin, &state, message, email.as_str()).await?;
    Ok(see_other("/settings/users"))
}

/// Sends an invitation email and tells the admin how it went.
async fn sent_or_not(
    admin: &SignedIn,
    state: &AppState,
    message: crate::email::Email,
    email: &str,
) -> Result<(), AppError> {
    match state.mailer.send(vec![message]).await {
        Ok(()) => admin.session.flash(
            FlashKind::Success,
            format!("Invitation sent to {email}. The link works once, for 7 days."),
        ),
        Err(e) => {
            tracing::error!(error = ?e, "sending an invitation failed");
            admin.session.flash(
                FlashKind::Warning,
                format!(
                    "The invitation to {email} is saved, but the email could not be sent. \
                     Resend it once email works."
                ),
            )
        }
    }
}

/// The invitation with this id in the viewer's organization: 404 for anyone else's.
async fn invitation(state: &AppState, viewer: &SignedIn, id: i64) -> Result<Invitation, AppError> {
    let organization_id = viewer.organization.id;
    crate::db::run(&state.pool, move |c| {
        Ok(Invitation::find_in_organization(c, organization_id, id)?)
    })
    .await?
    .ok_or(AppError::NotFound)
}

fn no_longer_open(invitation: &Invitation) -> AppError {
    AppError::Unprocessable(format!(
        "The invitation to {} was already {}.",
        invitation.email,
        if invitation.accepted_at.is_some() {
            "accepted"
        } else {
            "revoked"
        }
    ))
}

/// Applies `change` to an invitation that is still open (it answers whether it changed the
/// row) and records `event` about it in the same transaction; an invitation accepted or
/// revoked meanwhile is refused and nothing is recorded.
async fn change_open_invitation(
    req: &HttpRequest,
    admin: &Admin,
    state: &AppState,
    invitation: &Invitation,
    event: &'static str,
    change: impl FnOnce(&mut DbConn, i64) -> diesel::QueryResult<bool> + Send + 'static,
) -> Result<(), AppError> {
    let origin = Origin::of(req);
    let (organization_id, actor_id, id) = (admin.organization.id, admin.user.id, invitation.id);
    let detail = format!("{} (#{id})", invitation.email);
    let now = crate::now_unix();
    let changed = crate::db::run(&state.pool, move |c| {
        crate::db::write_transaction(c, |c| {
            let changed = change(c, id)?;
            if changed {
                origin.record(
                    c,
                    Entry::by(organization_id, actor_id, None, event).detail(&detail),
                    now,
                )?;
            }
            Ok(changed)
        })
    })
    .await?;
    if changed {
        Ok(())
    } else {
        Err(no_longer_open(invitation))
    }
}

pub async fn post_resend(
    req: HttpRequest,
    admin: Admin,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let invitation = invitation(&state, &admin, path.into_inner()).await?;
    let role = Role::parse(&invitation.role).unwrap_or(Role::Member);
    if role == Role::Admin && admin.user.role() != Role::Owner {
        return Err(AppError::Forbidden(
            "Only the owner can invite admins.".into(),
        ));
    }
    let token = tokens::generate();
    let token_hash = tokens::hash(&token);
    let now = crate::now_unix();
    let expires_at = now + INVITATION_TTL_SECS;
    // A new token: the link of the earlier email stops working.
    change_open_invitation(
        &req,
        &admin,
        &state,
        &invitation,
        event::INVITATION_RESENT,
        move |c, id| Invitation::renew(c, id, &token_hash, expires_at),
    )
    .await?;
    let message = invitation_email(
        &state,
        &admin,
        &token,
        (&invitation.name, &invitation.email, role),
        expires_at,
    )?;
    sent_or_not(&admin, &state, message, &invitation.email).await?;
    Ok(see_other("/settings/users"))
}

pub async fn post_revoke(
    req: HttpRequest,
    admin: Admin,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let invitation = invitation(&state, &admin, path.into_inner()).await?;
    let now = crate::now_unix();
    change_open_invitation(
        &req,
        &admin,
        &state,
        &invitation,
        event::INVITATION_REVOKED,
        move |c, id| Invitation::revoke(c, id, now),
    )
    .await?;
    admin.session.flash(
        FlashKind::Success,
        format!(
            "The invitation to {} is revoked: its link no longer works.",
            invitation.email
        ),
    )?;
    Ok(see_other("/settings/users"))
}
