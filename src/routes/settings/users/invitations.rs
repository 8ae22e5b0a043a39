//! Inviting people from the people table: `POST /settings/users/invite` emails a single-use
//! link valid for 7 days; `POST /settings/invitations/{id}/resend` sends a new link (the old
//! one stops working) and `POST /settings/invitations/{id}/revoke` withdraws it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::audit::Origin;
use crate::auth::csrf::CsrfForm;
use crate::auth::extractors::{Admin, SignedIn};
use crate::auth::session::FlashKind;
use crate::domain::{Email, PersonName, Role};
use crate::error::AppError;
use crate::http::see_other;
use crate::ops::invitations::{self, InvitationRequest, Invite};
use crate::policy::{self, Actor, Refusal};
use crate::routes::EmptyForm;
use crate::routes::settings::users::{InviteForm, Listing, users_page};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct InviteFields {
    name: String,
    email: String,
    role: String,
}

pub async fn post_invite(
    origin: Origin,
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
        // The rule the operation applies, asked here to show its answer beside the field.
        Ok(role) => match policy::may_invite(Actor::from(&admin.user), role) {
            Ok(()) => Some(role),
            Err(Refusal::Forbidden(message) | Refusal::Unprocessable(message)) => {
                errors.role_error = Some(message);
                None
            }
        },
        Err(message) => {
            errors.role_error = Some(message);
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
    let address = email.as_str().to_owned();
    let request = InvitationRequest { name, email, role };
    match invitations::invite(&state, &admin.user, &admin.organization, request, origin).await? {
        Invite::Refused(reason) => {
            errors.email_error = Some(reason.into());
            users_page(
                &admin,
                &state,
                Listing::default(),
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Invite::Sent { email_error } => {
            sent_or_not(&admin, email_error.is_none(), &address)?;
            Ok(see_other("/settings/users"))
        }
    }
}

/// Tells the admin whether the invitation email went out.
fn sent_or_not(admin: &SignedIn, sent: bool, email: &str) -> Result<(), AppError> {
    if sent {
        admin.session.flash(
            FlashKind::Success,
            format!("Invitation sent to {email}. The link works once, for 7 days."),
        )
    } else {
        admin.session.flash(
            FlashKind::Warning,
            format!(
                "The invitation to {email} is saved, but the email could not be sent. \
                 Resend it once email works."
            ),
        )
    }
}

pub async fn post_resend(
    origin: Origin,
    admin: Admin,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let (invitation, email_error) = invitations::resend(
        &state,
        &admin.user,
        &admin.organization,
        path.into_inner(),
        origin,
    )
    .await?;
    sent_or_not(&admin, email_error.is_none(), &invitation.email)?;
    Ok(see_other("/settings/users"))
}

pub async fn post_revoke(
    origin: Origin,
    admin: Admin,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let invitation = invitations::revoke(&state, &admin.user, path.into_inner(), origin).await?;
    admin.session.flash(
        FlashKind::Success,
        format!(
            "The invitation to {} is revoked: its link no longer works.",
            invitation.email
        ),
    )?;
    Ok(see_other("/settings/users"))
}
