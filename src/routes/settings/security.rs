//! `GET /settings/security`: the person's 2FA status and actions; `POST
//! /settings/security/recovery-codes` (new codes) and `POST
//! /settings/security/two-factor/disable` (turn 2FA off).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::{Entry, Origin, event};
use crate::auth::csrf::CsrfForm;
use crate::auth::extractors::SignedIn;
use crate::auth::reauth;
use crate::auth::session::FlashKind;
use crate::auth::two_factor::{self, CodeCheck};
use crate::db::models::{StoredRecoveryCode, User};
use crate::domain::TotpCode;
use crate::error::AppError;
use crate::notify::{self, Alert};
use crate::routes::{Chrome, format_time, render, see_other};
use crate::startup::AppState;

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
        enabled_since: user.totp_enabled_at.map(format_time).unwrap_or_default(),
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
    req: HttpRequest,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    if !signed_in.user.has_two_factor() {
        return Err(AppError::Unprocessable(
            "Recovery codes come with two-factor authentication: turn it on first.".into(),
        ));
    }
    let origin = Origin::of(&req);
    if !reauth::confirm_password(&state, &signed_in.user, &origin, form.password).await? {
        let errors = FormErrors {
            regenerate: Some("Incorrect password.".into()),
            ..FormErrors::default()
        };
        return security_page(&signed_in, errors, StatusCode::UNAUTHORIZED);
    }
    let (user_id, organization_id) = (signed_in.user.id, signed_in.organization.id);
    let app = state.clone();
    let now = crate::now_unix();
    let codes = crate::db::run(&state.pool, move |c| {
        crate::db::write_transaction(c, |c| {
            let codes = two_factor::replace_recovery_codes(c, &app.keys, user_id, now)?;
            origin.record(
                c,
                Entry::own(organization_id, user_id, event::RECOVERY_CODES_REGENERATED),
                now,
            )?;
            Ok(codes)
        })
    })
    .await?;
    let page = RecoveryCodesPage {
        chrome: Chrome::signed_in(&signed_in)?,
        heading: "Your new recovery codes",
        codes,
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
    req: HttpRequest,
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
    if !signed_in.user.has_two_factor() {
        signed_in
            .session
            .flash(FlashKind::Info, "Two-factor authentication is already off.")?;
        return Ok(see_other("/settings/security"));
    }
    if signed_in.organization.enforce_two_factor {
        return refuse(
            StatusCode::FORBIDDEN,
            "Your organization requires two-factor authentication, so it can't be turned off."
                .into(),
        );
    }
    let code = match TotpCode::parse(&form.code) {
        Ok(code) => code,
        Err(message) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, message),
    };
    let origin = Origin::of(&req);
    if !reauth::confirm_password(&state, &signed_in.user, &origin, form.password).await? {
        return refuse(StatusCode::UNAUTHORIZED, "Incorrect password.".into());
    }
    let user = signed_in.user.clone();
    let app = state.clone();
    let now = crate::now_unix();
    let outcome = crate::db::run(&state.pool, move |c| {
        crate::db::write_transaction(c, |c| {
            let check = two_factor::check_totp(c, &app.keys, &user, &code, now)?;
            if check != CodeCheck::Accepted {
                return Ok(Err(check));
            }
            let epoch = User::disable_totp(c, user.id)?;
            StoredRecoveryCode::delete_all(c, user.id)?;
            origin.record(
                c,
                Entry::own(user.organization_id, user.id, event::TWO_FACTOR_DISABLED),
                now,
            )?;
            let email = notify::security_alert(
                c,
                &app.config.public_url,
                &user,
                &Alert::TwoFactorDisabled,
                &origin,
                now,
            )?;
            Ok(Ok((epoch, email)))
        })
    })
    .await?;
    match outcome {
        Ok((epoch, email)) => {
            state.mailer.send_or_log(vec![email]).await;
            // Every other session ends at its next request; this one carries on.
            signed_in.session.set_epoch(epoch)?;
            signed_in.session.clear_recovery_note();
            signed_in.session.flash(
                FlashKind::Success,
                "Two-factor authentication is off. You were signed out on all other devices.",
            )?;
            Ok(see_other("/settings/security"))
        }
        Err(check) => {
            reauth::record_failure(&state, signed_in.user.id, &Origin::of(&req)).await?;
            refuse(StatusCode::UNAUTHORIZED, check.message())
        }
    }
}
