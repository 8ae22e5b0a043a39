//! The actions on a person in the people table: `POST /settings/users/{id}/role`,
//! `…/deactivate`, `…/reactivate`, `…/password-reset`, and the owner's `…/recovery-codes`. Each asks the same `policy` rule the
//! table asked before showing its button, through its operation.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::audit::Origin;
use crate::auth::csrf::CsrfForm;
use crate::auth::extractors::{Admin, Owner};
use crate::auth::session::FlashKind;
use crate::domain::Role;
use crate::error::AppError;
use crate::http::see_other;
use crate::ops::people::{self, Deactivation, Reactivation, RoleChange};
use crate::routes::EmptyForm;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

pub async fn post_role(
    origin: Origin,
    admin: Admin,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let target_id = path.into_inner();
    // Someone else's id is 404 before anything about the form is said.
    people::find_person(&state, admin.organization.id, target_id).await?;
    let role = Role::parse(&form.role).map_err(AppError::Unprocessable)?;
    let (kind, message) =
        match people::change_role(&state, &admin.user, target_id, role, origin).await? {
            RoleChange::Changed { name, role } => (
                FlashKind::Success,
                format!("{name} is now {}.", role.label()),
            ),
            RoleChange::Unchanged { name, role } => (
                FlashKind::Info,
                format!("{name} is already {}.", role.label()),
            ),
        };
    admin.session.flash(kind, message)?;
    Ok(see_other("/settings/users"))
}

pub async fn post_deactivate(
    origin: Origin,
    admin: Admin,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let message = match people::deactivate(&state, &admin.user, path.into_inner(), origin).await? {
        Deactivation::Done { name } => {
            format!("{name} is deactivated and was signed out everywhere.")
        }
        Deactivation::AlreadyDeactivated { name } => format!("{name} was already deactivated."),
    };
    admin.session.flash(FlashKind::Success, message)?;
    Ok(see_other("/settings/users"))
}

pub async fn post_reactivate(
    origin: Origin,
    admin: Admin,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let (kind, message) =
        match people::reactivate(&state, &admin.user, path.into_inner(), origin).await? {
            Reactivation::Done { name } => (
                FlashKind::Success,
                format!(
                    "{name} is active again and was emailed: they sign in with their password \
                     and their two-factor authentication, as before."
                ),
            ),
            Reactivation::AlreadyActive { name } => {
                (FlashKind::Info, format!("{name} is already active."))
            }
        };
    admin.session.flash(kind, message)?;
    Ok(see_other("/settings/users?status=deactivated"))
}

pub async fn post_password_reset(
    origin: Origin,
    admin: Admin,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let sent = people::send_password_reset(&state, &admin.user, path.into_inner(), origin).await?;
    match sent.email_error {
        None => admin.session.flash(
            FlashKind::Success,
            format!(
                "{} ({}) was emailed a link to choose a new password. Their password works \
                 until they use it.",
                sent.name, sent.email
            ),
        )?,
        Some(_) => admin.session.flash(
            FlashKind::Warning,
            format!(
                "The email with a link to choose a new password could not be sent to {}. Try \
                 again once email works.",
                sent.name
            ),
        )?,
    }
    Ok(see_other("/settings/users"))
}

pub async fn post_recovery_codes(
    origin: Origin,
    owner: Owner,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let issued =
        people::issue_recovery_codes(&state, &owner.user, path.into_inner(), origin).await?;
    match issued.email_error {
        None => owner.session.flash(
            FlashKind::Success,
            format!(
                "Five new recovery codes were emailed to {} ({}). Their old codes no longer \
                 work and they were signed out everywhere.",
                issued.name, issued.email
            ),
        )?,
        Some(_) => owner.session.flash(
            FlashKind::Warning,
            format!(
                "New recovery codes were made for {}, but the email could not be sent. Try \
                 again once email works; their old codes no longer work.",
                issued.name
            ),
        )?,
    }
    Ok(see_other("/settings/users"))
}
