//! Turning on 2FA or moving it to a new phone: `POST /settings/security/two-factor/setup`
//! starts with a new secret, `GET …/setup` shows its QR code and key, and
//! `GET/POST …/confirm` takes the password and a code from the app.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::Origin;
use crate::auth::csrf::CsrfForm;
use crate::auth::extractors::SignedIn;
use crate::auth::session::FlashKind;
use crate::auth::{qr, totp};
use crate::domain::TotpCode;
use crate::error::AppError;
use crate::http::see_other;
use crate::ops::two_factor::{self, Confirmation, SetupStart, pending_setup};
use crate::routes::settings::security::{self, RecoveryCodesPage};
use crate::routes::{Chrome, render};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct SetupForm {
    /// Moving 2FA to a new app: the current second factor, asked while none was proved lately.
    #[serde(default)]
    code: Option<String>,
}

pub async fn post_setup(
    origin: Origin,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<SetupForm>,
) -> Result<HttpResponse, AppError> {
    let asked = security::second_factor(&signed_in, &state, form.code);
    match two_factor::start_totp_setup(&state, &signed_in.user, asked, origin).await? {
        SetupStart::Started {
            started_at,
            reauthenticated,
        } => {
            security::note(&signed_in, reauthenticated)?;
            signed_in.session.note_setup_started(started_at)?;
            Ok(see_other("/settings/security/two-factor/setup"))
        }
        SetupStart::Refused(refused) => {
            let errors = security::FormErrors {
                setup: Some(refused.message()),
                ..security::FormErrors::default()
            };
            security::security_page(
                &signed_in,
                &state,
                errors,
                security::refused_status(&refused),
            )
        }
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
    let Some((secret, _)) = pending_setup(
        &state,
        &signed_in.user,
        signed_in.session.setup_started_at(),
        crate::now_unix(),
    )?
    else {
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
    if pending_setup(
        &state,
        &signed_in.user,
        signed_in.session.setup_started_at(),
        crate::now_unix(),
    )?
    .is_none()
    {
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
    origin: Origin,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<HttpResponse, AppError> {
    if pending_setup(
        &state,
        &signed_in.user,
        signed_in.session.setup_started_at(),
        crate::now_unix(),
    )?
    .is_none()
    {
        return setup_not_started(&signed_in);
    }
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
    let (codes, moved) = match two_factor::confirm_totp(
        &state,
        &signed_in.user,
        signed_in.session.setup_started_at(),
        form.password,
        code,
        origin,
    )
    .await?
    {
        Confirmation::Done { codes, moved } => (codes, moved),
        Confirmation::NotStarted => return setup_not_started(&signed_in),
        Confirmation::WrongPassword => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                Some("Incorrect password.".into()),
                None,
            );
        }
        Confirmation::WrongCode(check) => {
            return refuse(StatusCode::UNAUTHORIZED, None, Some(check.message()));
        }
    };
    // The epoch moved on: every session of this person ends, this one right after this page.
    signed_in.session.purge();
    let page = RecoveryCodesPage {
        chrome: Chrome {
            csrf_token: String::new(),
            viewer: None,
            flash: None,
        },
        heading: if moved {
            "Your new authenticator app is set up"
        } else {
            "Two-factor authentication is on"
        },
        codes,
        account: signed_in.user.email.clone(),
        organization: signed_in.organization.name.clone(),
        signed_out: true,
    };
    render(&page, StatusCode::OK)
}
