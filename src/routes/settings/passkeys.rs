//! Settings › Passkeys: `GET /settings/security/passkeys` lists the person's passkeys;
//! adding one is a WebAuthn ceremony (`POST …/passkeys/options` answers its challenge as
//! JSON for `static/passkeys.js`, whose answer the form then posts to `POST …/passkeys`);
//! `POST …/passkeys/{id}/rename` and `…/remove`. And re-authentication on its own
//! (`POST /settings/security/reauth`, with a code, or with a passkey through
//! `…/reauth/options` and `…/reauth/passkey`), which notes a second factor in this session and
//! goes back to the page that asked.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::Origin;
use crate::auth::csrf::CsrfForm;
use crate::auth::extractors::SignedIn;
use crate::auth::session::FlashKind;
use crate::db::models::StoredPasskey;
use crate::error::AppError;
use crate::http::{json_error, see_other};
use crate::ops::passkeys::{self, Refusal, Registration, RegistrationStart, Removal};
use crate::ops::reauth::{self, SecondFactor};
use crate::routes::settings::security::{RecoveryCodesPage, reauth_due};
use crate::routes::{Chrome, render};
use crate::state::AppState;

/// A passkey as the list shows it.
struct Row {
    id: i64,
    name: String,
    added: String,
    last_used: Option<String>,
}

#[derive(Template)]
#[template(path = "settings/passkeys.html")]
struct PasskeysPage {
    chrome: Chrome,
    section: &'static str,
    available: bool,
    reauth_due: bool,
    has_passkeys: bool,
    rows: Vec<Row>,
    reauth_error: Option<String>,
    name_error: Option<String>,
}

async fn page(
    signed_in: &SignedIn,
    state: &AppState,
    reauth_error: Option<String>,
    name_error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let stored = passkeys::list(state, signed_in.user.id).await?;
    let rows = stored
        .iter()
        .map(|p: &StoredPasskey| Row {
            id: p.id,
            name: p.name.clone(),
            added: crate::format::time(p.created_at),
            last_used: p.last_used_at.map(crate::format::time),
        })
        .collect();
    let page = PasskeysPage {
        chrome: Chrome::signed_in(signed_in)?,
        section: "passkeys",
        available: state.webauthn.is_some(),
        reauth_due: reauth_due(signed_in, state),
        has_passkeys: !stored.is_empty(),
        rows,
        reauth_error,
        name_error,
    };
    render(&page, status)
}

/// This session's id (every ceremony is bound to it).
fn session_id(signed_in: &SignedIn) -> Result<crate::auth::session::SessionId, AppError> {
    signed_in
        .session
        .signed_in_id()
        .ok_or(AppError::SignInRequired)
}

pub async fn get_passkeys(
    signed_in: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    page(&signed_in, &state, None, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    password: String,
}

pub async fn post_options(
    origin: Origin,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<StartForm>,
) -> Result<HttpResponse, AppError> {
    let current = session_id(&signed_in)?;
    if form.password.is_empty() {
        return Ok(json_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter your password to add a passkey.",
        ));
    }
    let recent = !reauth_due(&signed_in, &state);
    match passkeys::start_registration(
        &state,
        &signed_in.user,
        &current,
        recent,
        form.password,
        &origin,
    )
    .await?
    {
        RegistrationStart::Started(challenge) => Ok(HttpResponse::Ok().json(challenge)),
        RegistrationStart::WrongPassword => {
            Ok(json_error(StatusCode::UNAUTHORIZED, "Incorrect password."))
        }
        RegistrationStart::ReauthDue => Ok(json_error(
            StatusCode::FORBIDDEN,
            "Confirm it's you first (above), then add the passkey.",
        )),
    }
}

#[derive(Deserialize)]
pub struct FinishForm {
    ceremony: String,
    credential: String,
    #[serde(default)]
    name: String,
}

pub async fn post_passkey(
    origin: Origin,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<FinishForm>,
) -> Result<HttpResponse, AppError> {
    let current = session_id(&signed_in)?;
    let name = match passkeys::parse_name(&form.name) {
        Ok(name) => name,
        Err(e) => {
            return page(
                &signed_in,
                &state,
                None,
                Some(e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let outcome = passkeys::finish_registration(
        &state,
        &signed_in.user,
        current,
        form.ceremony,
        &form.credential,
        name,
        origin,
    )
    .await?;
    match outcome {
        Registration::Added { name, first: None } => {
            signed_in.session.flash(
                FlashKind::Success,
                format!("Passkey \u{201c}{name}\u{201d} added."),
            )?;
            Ok(see_other("/settings/security/passkeys"))
        }
        Registration::Added {
            first: Some(first), ..
        } => {
            // 2FA is on: every other session ended, this one goes on; the codes are shown once.
            signed_in.session.continue_as(first.epoch, &first.session)?;
            signed_in.session.note_second_factor(crate::now_unix())?;
            let page = RecoveryCodesPage {
                chrome: Chrome::signed_in(&signed_in)?,
                heading: "Two-factor authentication is on, with your passkey",
                codes: first.codes,
                account: signed_in.user.email.clone(),
                organization: signed_in.organization.name.clone(),
                signed_out: false,
            };
            render(&page, StatusCode::OK)
        }
        Registration::Refused(refusal) => {
            page(
                &signed_in,
                &state,
                None,
                Some(refusal.message().into()),
                refusal_status(refusal),
            )
            .await
        }
    }
}

fn refusal_status(refusal: Refusal) -> StatusCode {
    match refusal {
        Refusal::Expired | Refusal::Duplicate => StatusCode::CONFLICT,
        Refusal::Unknown | Refusal::NotRegistered | Refusal::Invalid | Refusal::Cloned => {
            StatusCode::UNAUTHORIZED
        }
    }
}

#[derive(Deserialize)]
pub struct RenameForm {
    name: String,
}

pub async fn post_rename(
    signed_in: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<RenameForm>,
) -> Result<HttpResponse, AppError> {
    let name = match passkeys::parse_name(&form.name) {
        Ok(name) => name,
        Err(e) => {
            return page(
                &signed_in,
                &state,
                None,
                Some(e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    if !passkeys::rename(&state, signed_in.user.id, path.into_inner(), name.clone()).await? {
        return Err(AppError::NotFound);
    }
    signed_in.session.flash(
        FlashKind::Success,
        format!("Passkey renamed \u{201c}{name}\u{201d}."),
    )?;
    Ok(see_other("/settings/security/passkeys"))
}

pub async fn post_remove(
    origin: Origin,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<crate::routes::EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let recent = !reauth_due(&signed_in, &state);
    let outcome = passkeys::remove(
        &state,
        &signed_in.user,
        signed_in.session.signed_in_id(),
        recent,
        path.into_inner(),
        origin,
    )
    .await?;
    match outcome {
        Removal::Removed {
            name,
            two_factor_off: None,
        } => {
            signed_in.session.flash(
                FlashKind::Success,
                format!("Passkey \u{201c}{name}\u{201d} removed."),
            )?;
            Ok(see_other("/settings/security/passkeys"))
        }
        Removal::Removed {
            name,
            two_factor_off: Some(epoch),
        } => {
            signed_in.session.set_epoch(epoch)?;
            signed_in.session.clear_recovery_note();
            signed_in.session.flash(
                FlashKind::Success,
                format!(
                    "Passkey \u{201c}{name}\u{201d} removed. It was your last second factor: \
                     two-factor authentication is off, and you were signed out on all other \
                     devices."
                ),
            )?;
            Ok(see_other("/settings/security/passkeys"))
        }
        Removal::NotFound => Err(AppError::NotFound),
        Removal::Enforced => {
            signed_in.session.flash(
                FlashKind::Warning,
                "Your organization requires two-factor authentication, and this passkey is \
                 your last second factor: add another passkey or the authenticator app first.",
            )?;
            page(&signed_in, &state, None, None, StatusCode::FORBIDDEN).await
        }
        Removal::ReauthDue => {
            page(
                &signed_in,
                &state,
                Some("Confirm it's you first.".into()),
                None,
                StatusCode::FORBIDDEN,
            )
            .await
        }
    }
}

/// Where re-authentication may send the person back to: the pages that ask for it.
fn back_to(back: &str) -> &'static str {
    match back {
        "/settings/security" => "/settings/security",
        "/settings/security/password" => "/settings/security/password",
        "/settings/owner" => "/settings/owner",
        _ => "/settings/security/passkeys",
    }
}

#[derive(Deserialize)]
pub struct ReauthForm {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    back: String,
}

pub async fn post_reauth(
    origin: Origin,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<ReauthForm>,
) -> Result<HttpResponse, AppError> {
    let back = back_to(&form.back);
    match reauth::second_factor(
        &state,
        &signed_in.user,
        SecondFactor::Due(form.code),
        &origin,
    )
    .await?
    {
        Ok(_) => {
            signed_in.session.note_second_factor(crate::now_unix())?;
            Ok(see_other(back))
        }
        Err(refused) => {
            page(
                &signed_in,
                &state,
                Some(refused.message()),
                None,
                crate::routes::settings::security::refused_status(&refused),
            )
            .await
        }
    }
}

pub async fn post_reauth_options(
    signed_in: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(_): CsrfForm<crate::routes::EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let current = session_id(&signed_in)?;
    match passkeys::reauth_challenge(&state, &signed_in.user, &current).await? {
        Some(challenge) => Ok(HttpResponse::Ok().json(challenge)),
        None => Ok(json_error(StatusCode::NOT_FOUND, "You have no passkey.")),
    }
}

#[derive(Deserialize)]
pub struct ReauthPasskeyForm {
    ceremony: String,
    credential: String,
    #[serde(default)]
    back: String,
}

pub async fn post_reauth_passkey(
    origin: Origin,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<ReauthPasskeyForm>,
) -> Result<HttpResponse, AppError> {
    let current = session_id(&signed_in)?;
    let back = back_to(&form.back);
    match passkeys::reauth(
        &state,
        &signed_in.user,
        &current,
        form.ceremony,
        &form.credential,
        origin,
    )
    .await?
    {
        Ok(()) => {
            signed_in.session.note_second_factor(crate::now_unix())?;
            Ok(see_other(back))
        }
        Err(refusal) => {
            page(
                &signed_in,
                &state,
                Some(refusal.message().into()),
                None,
                refusal_status(refusal),
            )
            .await
        }
    }
}
