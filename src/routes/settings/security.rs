//! `GET /settings/security`: the person's 2FA status and actions; `POST
//! /settings/security/recovery-codes` (new codes) and `POST
//! /settings/security/two-factor/disable` (turn 2FA off). Both, and moving 2FA to a new app,
//! ask for the second factor again when this session has not proved it lately.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::Origin;
use crate::auth::csrf::CsrfForm;
use crate::auth::extractors::SignedIn;
use crate::auth::session::FlashKind;
use crate::error::AppError;
use crate::format;
use crate::http::see_other;
use crate::ops::reauth::{ReauthRefused, Reauthenticated, SecondFactor};
use crate::ops::two_factor::{self, Disable, Regeneration};
use crate::routes::{Chrome, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "settings/security.html")]
struct SecurityPage {
    chrome: Chrome,
    section: &'static str,
    two_factor_on: bool,
    /// The person has the authenticator app (2FA may be on with passkeys alone).
    app: bool,
    passkey_count: i64,
    enabled_since: String,
    codes_left: i64,
    setup_pending: bool,
    enforced: bool,
    /// Whether the sensitive forms ask for a code (no second factor proved lately).
    reauth_due: bool,
    errors: FormErrors,
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

/// The error shown beside a form of the page, if any.
#[derive(Default)]
pub(super) struct FormErrors {
    pub setup: Option<String>,
    pub regenerate: Option<String>,
    pub disable: Option<String>,
}

/// Whether this session must prove the second factor again before a sensitive change.
pub(super) fn reauth_due(signed_in: &SignedIn, state: &AppState) -> bool {
    signed_in.user.has_two_factor()
        && !signed_in
            .session
            .second_factor_within(state.config.reauth_secs, crate::now_unix())
}

/// What a sensitive form brought for the second factor: nothing is asked while this session
/// proved one lately.
pub(super) fn second_factor(
    signed_in: &SignedIn,
    state: &AppState,
    code: Option<String>,
) -> SecondFactor {
    if reauth_due(signed_in, state) {
        SecondFactor::Due(code)
    } else {
        SecondFactor::Recent
    }
}

/// Notes a second factor just proved, so the next sensitive change within the window does
/// not ask again.
pub(super) fn note(signed_in: &SignedIn, done: Reauthenticated) -> Result<(), AppError> {
    if done == Reauthenticated::JustProved {
        signed_in.session.note_second_factor(crate::now_unix())?;
    }
    Ok(())
}

/// The status of a refused second factor: asked for, malformed, or wrong.
pub(super) fn refused_status(refused: &ReauthRefused) -> StatusCode {
    match refused {
        ReauthRefused::CodeNeeded | ReauthRefused::Wrong(_) => StatusCode::UNAUTHORIZED,
        ReauthRefused::Malformed(_) => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

pub(super) fn security_page(
    signed_in: &SignedIn,
    state: &AppState,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let codes_left = signed_in.recovery_codes_left;
    let user = &signed_in.user;
    let page = SecurityPage {
        chrome: Chrome::signed_in(signed_in)?,
        section: "security",
        two_factor_on: user.has_two_factor(),
        app: user.has_app(),
        passkey_count: user.passkey_count,
        enabled_since: user.totp_enabled_at.map(format::time).unwrap_or_default(),
        codes_left,
        // Only the session that started a setup may continue it.
        setup_pending: user.pending_totp_secret.is_some()
            && signed_in.session.setup_started_at() == user.pending_totp_created_at,
        enforced: signed_in.organization.enforce_two_factor,
        reauth_due: reauth_due(signed_in, state),
        errors,
    };
    render(&page, status)
}

pub async fn redirect_to_security() -> HttpResponse {
    see_other("/settings/security")
}

pub async fn get_security(
    signed_in: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    security_page(&signed_in, &state, FormErrors::default(), StatusCode::OK)
}

#[derive(Deserialize)]
pub struct RegenerateForm {
    password: String,
    /// Asked while no second factor was proved lately.
    #[serde(default)]
    code: Option<String>,
}

pub async fn post_recovery_codes(
    origin: Origin,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<RegenerateForm>,
) -> Result<HttpResponse, AppError> {
    let asked = second_factor(&signed_in, &state, form.code);
    let refuse = |status: StatusCode, message: String| {
        let errors = FormErrors {
            regenerate: Some(message),
            ..FormErrors::default()
        };
        security_page(&signed_in, &state, errors, status)
    };
    let codes = match two_factor::regenerate_recovery_codes(
        &state,
        &signed_in.user,
        form.password,
        asked,
        origin,
    )
    .await?
    {
        Regeneration::Done {
            codes,
            reauthenticated,
        } => {
            note(&signed_in, reauthenticated)?;
            codes
        }
        Regeneration::NoTwoFactor => {
            return Err(AppError::Unprocessable(
                "Recovery codes come with two-factor authentication: turn it on first.".into(),
            ));
        }
        Regeneration::WrongPassword => {
            return refuse(StatusCode::UNAUTHORIZED, "Incorrect password.".into());
        }
        Regeneration::Refused(refused) => {
            return refuse(refused_status(&refused), refused.message());
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
    /// Asked while no second factor was proved lately.
    #[serde(default)]
    code: Option<String>,
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
        security_page(&signed_in, &state, errors, status)
    };
    let asked = second_factor(&signed_in, &state, form.code);
    let outcome = two_factor::disable_two_factor(
        &state,
        &signed_in.user,
        &signed_in.organization,
        signed_in.session.signed_in_id(),
        form.password,
        asked,
        origin,
    )
    .await?;
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
        Disable::Refused(refused) => refuse(refused_status(&refused), refused.message()),
    }
}
