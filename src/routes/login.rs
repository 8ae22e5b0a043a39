//! Signing in: `GET/POST /login` (email and password), `GET/POST /login/two-factor` (a code
//! from the app or a recovery code) and `POST /logout`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::Origin;
use crate::auth::csrf::CsrfForm;
use crate::auth::enforcement;
use crate::auth::session::{FlashKind, PendingTwoFactor, SecondFactorUsed, TypedSession};
use crate::db::models::PendingSignIn;
use crate::domain::{Email, OneTimeCode};
use crate::error::AppError;
use crate::http::{json_error, see_other};
use crate::ops::passkeys::{self, PasskeySignIn};
use crate::ops::people;
use crate::ops::sessions;
use crate::ops::sign_in::{self, PasswordStep, TwoFactorStep};
use crate::routes::{Chrome, EmptyForm, render};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

#[derive(Deserialize)]
pub struct SignedOutQuery {
    signed_out: Option<String>,
}

#[derive(Template)]
#[template(path = "login/login.html")]
struct LoginPage {
    chrome: Chrome,
    email: String,
    error: Option<String>,
    notice: Option<&'static str>,
    signup_open: bool,
    /// Passkeys work here (the public URL has a host name).
    passkeys: bool,
}

impl LoginPage {
    fn new(chrome: Chrome, state: &AppState) -> Self {
        Self {
            chrome,
            email: String::new(),
            error: None,
            notice: None,
            signup_open: state.config.signup_open,
            passkeys: state.webauthn.is_some(),
        }
    }
}

/// The answer while the person must choose a new password ("this wasn't me").
const MUST_RESET: &str = "Choose a new password before you sign in: you reported a change you \
                          did not make, and we emailed you a link. No email, or the link \
                          expired? Use \"Forgot your password?\" below.";

/// The one answer for an unknown email and a wrong password.
const WRONG_CREDENTIALS: &str = "Incorrect email or password.";

pub async fn get_login(
    session: TypedSession,
    state: web::Data<AppState>,
    query: web::Query<SignedOutQuery>,
) -> Result<HttpResponse, AppError> {
    if session.user_id().is_some() {
        // The home page checks the session and sends a stale one back here, purged.
        return Ok(see_other("/"));
    }
    let mut page = LoginPage::new(Chrome::anonymous(&session)?, &state);
    if query.signed_out.is_some() {
        page.notice = Some("You have signed out.");
    }
    render(&page, StatusCode::OK)
}

pub async fn post_login(
    origin: Origin,
    session: TypedSession,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let fail = |status: StatusCode, message: String| -> Result<HttpResponse, AppError> {
        let mut page = LoginPage::new(Chrome::anonymous(&session)?, &state);
        page.email = form.email.trim().to_owned();
        page.error = Some(message);
        render(&page, status)
    };
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(message) => return fail(StatusCode::UNPROCESSABLE_ENTITY, message),
    };
    if form.password.is_empty() {
        return fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter your password.".into(),
        );
    }
    let replacing = session.pending_two_factor();
    match sign_in::password_step(&state, email, form.password.clone(), replacing, origin).await? {
        PasswordStep::WrongCredentials => fail(StatusCode::UNAUTHORIZED, WRONG_CREDENTIALS.into()),
        PasswordStep::MustResetPassword => fail(StatusCode::FORBIDDEN, MUST_RESET.into()),
        PasswordStep::SecondFactor(pending) => {
            session.begin_two_factor(pending)?;
            Ok(see_other("/login/two-factor"))
        }
        PasswordStep::SignedIn {
            user_id,
            epoch,
            session: signed,
            setup_started_at,
        } => {
            session.sign_in(user_id, epoch, &signed, SecondFactorUsed::None)?;
            if let Some(started_at) = setup_started_at {
                session.note_setup_started(started_at)?;
                // The enforcement middleware holds them there whatever they open next; this
                // only saves a redirect.
                session.flash(
                    FlashKind::Warning,
                    "Your organization requires two-factor authentication: set it up to continue.",
                )?;
                return Ok(see_other(enforcement::SETUP_PATH));
            }
            Ok(see_other("/"))
        }
    }
}

#[derive(Deserialize)]
pub struct TwoFactorForm {
    code: String,
}

#[derive(Template)]
#[template(path = "login/two_factor.html")]
struct TwoFactorPage {
    chrome: Chrome,
    error: Option<String>,
    /// The person can use a passkey instead of a code.
    passkeys: bool,
    /// The person has the authenticator app (else only recovery codes are typed).
    app: bool,
    /// The organization's owner (name, email): the one to ask for new recovery codes.
    owner: Option<(String, String)>,
}

impl TwoFactorPage {
    async fn new(
        session: &TypedSession,
        state: &AppState,
        pending: &PendingSignIn,
        error: Option<String>,
    ) -> Result<Self, AppError> {
        let owner = people::owner_for(state, pending.user_id).await?;
        let user_id = pending.user_id;
        let (app, passkeys) = crate::db::run(&state.pool, move |c| {
            Ok(crate::db::models::User::find(c, user_id)?
                .map_or((true, false), |u| (u.has_app(), u.passkey_count > 0)))
        })
        .await?;
        Ok(Self {
            chrome: Chrome::anonymous(session)?,
            error,
            passkeys: passkeys && state.webauthn.is_some(),
            app,
            owner: owner.map(|o| (o.name, o.email)),
        })
    }
}

/// The browser's pending step and its server-side record, if it still holds (not expired,
/// not consumed by a sign-in, not replaced by a newer password step).
async fn live_pending(
    session: &TypedSession,
    state: &AppState,
) -> Result<Option<(PendingTwoFactor, PendingSignIn)>, AppError> {
    let Some(pending) = session.pending_two_factor() else {
        return Ok(None);
    };
    Ok(sign_in::find_pending(state, &pending)
        .await?
        .map(|record| (pending, record)))
}

#[derive(Template)]
#[template(path = "login/expired.html")]
struct ExpiredPage {
    chrome: Chrome,
}

/// The answer when the two-factor step has no live pending state: a clear page that links
/// back to the start, and no session left over.
fn sign_in_expired(session: &TypedSession) -> Result<HttpResponse, AppError> {
    session.purge();
    let chrome = Chrome {
        csrf_token: String::new(),
        viewer: None,
        flash: None,
    };
    render(&ExpiredPage { chrome }, StatusCode::UNAUTHORIZED)
}

pub async fn get_two_factor(
    session: TypedSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let Some((_, record)) = live_pending(&session, &state).await? else {
        if session.pending_two_factor().is_some() {
            return sign_in_expired(&session);
        }
        return Ok(see_other("/login"));
    };
    let page = TwoFactorPage::new(&session, &state, &record, None).await?;
    render(&page, StatusCode::OK)
}

pub async fn post_two_factor(
    origin: Origin,
    session: TypedSession,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<TwoFactorForm>,
) -> Result<HttpResponse, AppError> {
    let Some((pending, record)) = live_pending(&session, &state).await? else {
        return sign_in_expired(&session);
    };
    let refuse = async |status: StatusCode, message: String| {
        let page = TwoFactorPage::new(&session, &state, &record, Some(message)).await?;
        render(&page, status)
    };
    let code = match OneTimeCode::parse(&form.code) {
        Ok(code) => code,
        Err(message) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, message).await,
    };
    let outcome = sign_in::two_factor_step(&state, pending, record.clone(), code, origin).await?;
    two_factor_answer(&session, &state, &record, outcome).await
}

/// The answer to a two-factor step, with a code or a passkey.
async fn two_factor_answer(
    session: &TypedSession,
    state: &AppState,
    record: &PendingSignIn,
    outcome: TwoFactorStep,
) -> Result<HttpResponse, AppError> {
    let refuse = async |status: StatusCode, message: String| {
        let page = TwoFactorPage::new(session, state, record, Some(message)).await?;
        render(&page, status)
    };
    match outcome {
        TwoFactorStep::Expired => sign_in_expired(session),
        TwoFactorStep::Refused(check) => refuse(StatusCode::UNAUTHORIZED, check.message()).await,
        TwoFactorStep::PasskeyRefused(refusal) => {
            refuse(StatusCode::UNAUTHORIZED, refusal.message().into()).await
        }
        TwoFactorStep::SignedIn {
            user_id,
            epoch,
            session: signed,
            via_recovery,
            codes_left,
        } => {
            let used = if via_recovery {
                SecondFactorUsed::RecoveryCode
            } else {
                SecondFactorUsed::Code
            };
            session.sign_in(user_id, epoch, &signed, used)?;
            if via_recovery {
                session.flash(
                    FlashKind::Warning,
                    format!(
                        "You signed in with a recovery code; {codes_left} unused {} left.",
                        if codes_left == 1 {
                            "code is"
                        } else {
                            "codes are"
                        }
                    ),
                )?;
            }
            Ok(see_other("/"))
        }
    }
}

/// A passkey's answer, as the page's script posts it.
#[derive(Deserialize)]
pub struct PasskeyForm {
    ceremony: String,
    credential: String,
}

/// The challenge of a two-factor step with a passkey (JSON).
pub async fn post_two_factor_passkey_options(
    session: TypedSession,
    state: web::Data<AppState>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let Some((pending, record)) = live_pending(&session, &state).await? else {
        return Ok(json_error(
            StatusCode::UNAUTHORIZED,
            "Your sign-in expired. Start again with your email and password.",
        ));
    };
    match passkeys::second_factor_challenge(&state, &pending, &record).await? {
        Some(challenge) => Ok(HttpResponse::Ok().json(challenge)),
        None => Ok(json_error(StatusCode::NOT_FOUND, "You have no passkey.")),
    }
}

/// The two-factor step with a passkey.
pub async fn post_two_factor_passkey(
    origin: Origin,
    session: TypedSession,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<PasskeyForm>,
) -> Result<HttpResponse, AppError> {
    let Some((pending, record)) = live_pending(&session, &state).await? else {
        return sign_in_expired(&session);
    };
    let outcome = passkeys::second_factor_step(
        &state,
        pending,
        record.clone(),
        form.ceremony,
        &form.credential,
        origin,
    )
    .await?;
    two_factor_answer(&session, &state, &record, outcome).await
}

/// The challenge of a sign-in with a passkey alone (JSON).
pub async fn post_passkey_options(
    state: web::Data<AppState>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(passkeys::sign_in_challenge(&state).await?))
}

/// A sign-in with a passkey alone: it stands for the password and the second factor.
pub async fn post_passkey(
    origin: Origin,
    session: TypedSession,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<PasskeyForm>,
) -> Result<HttpResponse, AppError> {
    let fail = |status: StatusCode, message: &str| -> Result<HttpResponse, AppError> {
        let mut page = LoginPage::new(Chrome::anonymous(&session)?, &state);
        page.error = Some(message.to_owned());
        render(&page, status)
    };
    match passkeys::sign_in(&state, form.ceremony, &form.credential, origin).await? {
        PasskeySignIn::SignedIn {
            user_id,
            epoch,
            session: signed,
        } => {
            session.sign_in(user_id, epoch, &signed, SecondFactorUsed::Code)?;
            Ok(see_other("/"))
        }
        PasskeySignIn::MustResetPassword => fail(StatusCode::FORBIDDEN, MUST_RESET),
        PasskeySignIn::Refused(refusal) => fail(StatusCode::UNAUTHORIZED, refusal.message()),
    }
}

pub async fn post_logout(
    session: TypedSession,
    state: web::Data<AppState>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    // Removing the cookie is not enough: a copy of it would still be valid. The session's id
    // is recorded as ended first; should that fail, the person is not told they signed out.
    if let Some(current) = session.signed_in_id() {
        sessions::sign_out(&state, &current).await?;
    }
    session.purge();
    Ok(see_other("/login?signed_out=1"))
}
