//! `GET /settings/security`: the person's 2FA status and actions; `POST
//! /settings/security/recovery-codes` (new codes) and `POST
//! /settings/security/two-factor/disable` (turn 2FA off).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::Origin;
use crate::auth::csrf::CsrfForm;
use crate::auth::extractors::SignedIn;
use crate::auth::session::FlashKind;
use crate::domain::TotpCode;
use crate::error::AppError;
use crate::format;
use crate::http::see_other;
use crate::ops::two_factor::{self, Disable, Regeneration};
use crate::routes::{Chrome, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "settings/security.html")]
struct SecurityPage {
    chrome: Chrome,
    section: &'static str,
    two_factor_on: bool,
    enabled_since: String,
    codes_left: i64,
    setup_pending: bool,
    enforced: bool,
    regenerate_error: Option<String>,
    disable_error: Option<String>,
}

/// The page that shows new recovery codes, once.
#[derive(Template)]
#[template(path = "settings/recovery_codes.html")]
pub(super) struct RecoveryCodesPage {
    pub chrome: Chrome,
    pub heading: &'static str,
    pub codes: Vec<String>,
    /// Whose codes they are (the email), and their organization: the downloaded and printed
    /// copies say so.
    pub account: String,
    pub organization: String,
    /// Whether this session was ended (2FA turned on or moved): the page says to sign in again.
    pub signed_out: bool,
}

#[derive(Default)]
struct FormErrors {
    regenerate: Option<String>,
    disable: Option<String>,
}

fn security_page(
    signed_in: &SignedIn,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let codes_left = signed_in.recovery_codes_left;
    let user = &signed_in.user;
    let page = SecurityPage {
        chrome: Chrome::signed_in(signed_in)?,
        section: "security",
        two_factor_on: user.has_two_factor(),
        enabled_since: user.totp_enabled_at.map(format::time).unwrap_or_default(),
        codes_left,
        setup_pending: user.pending_totp_secret.is_some(),
        enforced: signed_in.organization.enforce_two_factor,
        regenerate_error: errors.regenerate,
        disable_error: errors.disable,
    };
    render(&page, status)
}

pub async fn redirect_to_security() -> HttpResponse {
    see_other("/settings/security")
}

pub async fn get_security(signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    security_page(&signed_in, FormErrors::default(), StatusCode::OK)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
}

pub async fn post_recovery_codes(
    origin: Origin,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let codes =
        match two_factor::regenerate_recovery_codes(&state, &signed_in.user, form.password, origin)
            .await?
        {
            Regeneration::Done(codes) => codes,
            Regeneration::NoTwoFactor => {
                return Err(AppError::Unprocessable(
                    "Recovery codes come with two-factor authentication: turn it on first.".into(),
                ));
            }
            Regeneration::WrongPassword => {
                let errors = FormErrors {
                    regenerate: Some("Incorrect password.".into()),
                    ..FormErrors::default()
                };
                return security_page(&signed_in, errors, StatusCode::UNAUTHORIZED);
            }
        };
    let page = RecoveryCodesPage {
        chrome: Chrome::signed_in(&signed_in)?,
        heading: "Your new recovery codes",
        codes,
        account: signed_in.user.email.clone(),
        organization: signed_in.organization.name.clone(),
        signed_out: false,
    };
    render(&page, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct DisableForm {
    password: String,
    code: String,
}

pub async fn post_disable(
    origin: Origin,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<DisableForm>,
) -> Result<HttpResponse, AppError> {
    let refuse = |status: StatusCode, message: String| {
        let errors = FormErrors {
            disable: Some(message),
            ..FormErrors::default()
        };
        security_page(&signed_in, errors, status)
    };
    let code = match TotpCode::parse(&form.code) {
        // Off already, or required: said without asking for a well-formed code first.
        Err(_) if !signed_in.user.has_two_factor() || signed_in.organization.enforce_two_factor => {
            None
        }
        Err(message) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, message),
        Ok(code) => Some(code),
    };
    let outcome = match code {
        Some(code) => {
            two_factor::disable_two_factor(
                &state,
                &signed_in.user,
                &signed_in.organization,
                form.password,
                code,
                origin,
            )
            .await?
        }
        None if !signed_in.user.has_two_factor() => Disable::AlreadyOff,
        None => Disable::Enforced,
    };
    match outcome {
        Disable::Done { epoch } => {
            // Every other session ends at its next request; this one carries on.
            signed_in.session.set_epoch(epoch)?;
            signed_in.session.clear_recovery_note();
            signed_in.session.flash(
                FlashKind::Success,
                "Two-factor authentication is off. You were signed out on all other devices.",
            )?;
            Ok(see_other("/settings/security"))
        }
        Disable::AlreadyOff => {
            signed_in
                .session
                .flash(FlashKind::Info, "Two-factor authentication is already off.")?;
            Ok(see_other("/settings/security"))
        }
        Disable::Enforced => refuse(
            StatusCode::FORBIDDEN,
            "Your organization requires two-factor authentication, so it can't be turned off."
                .into(),
        ),
        Disable::WrongPassword => refuse(StatusCode::UNAUTHORIZED, "Incorrect password.".into()),
        Disable::WrongCode(check) => refuse(StatusCode::UNAUTHORIZED, check.message()),
    }
}
