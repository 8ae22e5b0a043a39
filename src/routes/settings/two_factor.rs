//! Turning on 2FA or moving it to a new phone: `POST /settings/security/two-factor/setup`
//! starts with a new secret, `GET …/setup` shows its QR code and key, and
//! `GET/POST …/confirm` takes the password and a code from the app.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::{Entry, Origin, event};
use crate::auth::csrf::CsrfForm;
use crate::auth::extractors::SignedIn;
use crate::auth::session::FlashKind;
use crate::auth::two_factor::{self, CodeCheck};
use crate::auth::{qr, reauth, sealed, totp};
use crate::db::models::User;
use crate::domain::TotpCode;
use crate::error::AppError;
use crate::notify::{self, Alert};
use crate::routes::settings::security::RecoveryCodesPage;
use crate::routes::{Chrome, EmptyForm, render, see_other};
use crate::startup::AppState;

/// How long a started setup may wait for its confirmation.
const SETUP_TTL_SECS: i64 = 60 * 60;

pub async fn post_setup(
    signed_in: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let secret = totp::Secret::generate();
    let user_id = signed_in.user.id;
    // Only the sealed secret is stored; the plain one lives in this request alone.
    let sealed_secret = sealed::seal(&state.keys.totp_secret, user_id, secret.as_bytes());
    let now = crate::now_unix();
    crate::db::run(&state.pool, move |c| {
        Ok(User::start_totp_setup(c, user_id, &sealed_secret, now)?)
    })
    .await?;
    Ok(see_other("/settings/security/two-factor/setup"))
}

/// The pending setup's secret and start time, if it is still fresh.
fn pending_setup(
    state: &AppState,
    user: &User,
    now: i64,
) -> Result<Option<(totp::Secret, i64)>, AppError> {
    match (&user.pending_totp_secret, user.pending_totp_created_at) {
        (Some(sealed_secret), Some(created)) if created + SETUP_TTL_SECS > now => Ok(Some((
            two_factor::open_secret(&state.keys, user.id, sealed_secret)?,
            created,
        ))),
        _ => Ok(None),
    }
}

#[derive(Template)]
#[template(path = "settings/two_factor_required.html")]
struct RequiredPage {
    chrome: Chrome,
    section: &'static str,
}

fn setup_not_started(signed_in: &SignedIn) -> Result<HttpResponse, AppError> {
    if signed_in.must_set_up_two_factor() {
        // Held on the setup pages by enforcement: Settings › Security is out of reach, so the
        // way to start is offered right here.
        let page = RequiredPage {
            chrome: Chrome::signed_in(signed_in)?,
            section: "security",
        };
        return render(&page, StatusCode::OK);
    }
    signed_in.session.flash(
        FlashKind::Info,
        "Start by choosing \"Turn on 2FA\" or \"Set up a new authenticator app\".",
    )?;
    Ok(see_other("/settings/security"))
}

#[derive(Template)]
#[template(path = "settings/two_factor_setup.html")]
struct SetupPage {
    chrome: Chrome,
    section: &'static str,
    moving: bool,
    qr_svg: String,
    setup_key: String,
    issuer: String,
    email: String,
    required: bool,
}

pub async fn get_setup(
    signed_in: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let Some((secret, _)) = pending_setup(&state, &signed_in.user, crate::now_unix())? else {
        return setup_not_started(&signed_in);
    };
    let uri = totp::otpauth_uri(&state.config.issuer, &signed_in.user.email, &secret);
    let qr_svg = qr::svg(&uri, "QR code to scan with your authenticator app")
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("QR code too long: {e}")))?;
    let page = SetupPage {
        chrome: Chrome::signed_in(&signed_in)?,
        section: "security",
        moving: signed_in.user.has_two_factor(),
        qr_svg,
        setup_key: secret.to_base32_grouped(),
        issuer: state.config.issuer.clone(),
        email: signed_in.user.email.clone(),
        required: signed_in.must_set_up_two_factor(),
    };
    render(&page, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "settings/two_factor_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    section: &'static str,
    moving: bool,
    password_error: Option<String>,
    code_error: Option<String>,
}

pub async fn get_confirm(
    signed_in: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if pending_setup(&state, &signed_in.user, crate::now_unix())?.is_none() {
        return setup_not_started(&signed_in);
    }
    let page = ConfirmPage {
        chrome: Chrome::signed_in(&signed_in)?,
        section: "security",
        moving: signed_in.user.has_two_factor(),
        password_error: None,
        code_error: None,
    };
    render(&page, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    password: String,
    code: String,
}

pub async fn post_confirm(
    req: HttpRequest,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<HttpResponse, AppError> {
    let now = crate::now_unix();
    let Some((secret, pending_created_at)) = pending_setup(&state, &signed_in.user, now)? else {
        return setup_not_started(&signed_in);
    };
    let moving = signed_in.user.has_two_factor();
    let refuse =
        |status: StatusCode, password_error: Option<String>, code_error: Option<String>| {
            let page = ConfirmPage {
                chrome: Chrome::signed_in(&signed_in)?,
                section: "security",
                moving,
                password_error,
                code_error,
            };
            render(&page, status)
        };
    let code = match TotpCode::parse(&form.code) {
        Ok(code) => code,
        Err(message) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, None, Some(message)),
    };
    let origin = Origin::of(&req);
    if !reauth::confirm_password(&state, &signed_in.user, &origin, form.password).await? {
        return refuse(
            StatusCode::UNAUTHORIZED,
            Some("Incorrect password.".into()),
            None,
        );
    }
    // The code proves the app holds the new secret. Its step is not checked against the old
    // secret's last step: they are different secrets. It becomes the new last step.
    let step = match totp::verify(&secret, &code, now, -1) {
        totp::Verification::Accepted { step } => step,
        other => {
            reauth::record_failure(&state, signed_in.user.id, &origin).await?;
            let check = match other {
                totp::Verification::ClockSkew { minutes } => CodeCheck::ClockSkew(minutes),
                _ => CodeCheck::Wrong,
            };
            return refuse(StatusCode::UNAUTHORIZED, None, Some(check.message()));
        }
    };

    let user = signed_in.user.clone();
    let app = state.clone();
    let public_url = state.config.public_url.clone();
    let outcome = crate::db::run(&state.pool, move |c| {
        crate::db::write_transaction(c, |c| {
            // Conditional on the setup being the one checked above: of two racing
            // confirmations, one wins and the other finds nothing to confirm.
            if !User::confirm_totp(c, &user, pending_created_at, step, now)? {
                return Ok(None);
            }
            let codes = two_factor::replace_recovery_codes(c, &app.keys, user.id, now)?;
            let what = if moving {
                event::TWO_FACTOR_MOVED
            } else {
                event::TWO_FACTOR_ENABLED
            };
            origin.record(c, Entry::own(user.organization_id, user.id, what), now)?;
            let alert = if moving {
                Alert::TwoFactorMoved
            } else {
                Alert::TwoFactorEnabled
            };
            let email = notify::security_alert(c, &public_url, &user, &alert, &origin, now)?;
            Ok(Some((codes, email)))
        })
    })
    .await?;
    let Some((codes, email)) = outcome else {
        return setup_not_started(&signed_in);
    };
    state.mailer.send_or_log(vec![email]).await;
    // The epoch moved on: every session of this person ends, this one right after this page.
    signed_in.session.purge();
    let page = RecoveryCodesPage {
        chrome: Chrome {
            csrf_token: String::new(),
            viewer: None,
            flash: None,
        },
        heading: if moving {
            "Your new authenticator app is set up"
        } else {
            "Two-factor authentication is on"
        },
        codes,
        signed_out: true,
    };
    render(&page, StatusCode::OK)
}
