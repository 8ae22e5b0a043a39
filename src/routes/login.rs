//! Signing in: `GET/POST /login` (email and password), `GET/POST /login/two-factor` (a code
//! from the app or a recovery code) and `POST /logout`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::{Entry, Origin, event};
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{FlashKind, PendingTwoFactor, TypedSession};
use crate::auth::two_factor::{self, CodeCheck};
use crate::auth::{enforcement, sealed, throttle, totp};
use crate::db::models::{EndedSession, Organization, StoredRecoveryCode, User};
use crate::domain::{Email, OneTimeCode};
use crate::email::Email as OutgoingEmail;
use crate::error::AppError;
use crate::notify::{self, Alert};
use crate::routes::{Chrome, EmptyForm, render, see_other};
use crate::startup::AppState;

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
}

impl LoginPage {
    fn new(chrome: Chrome, state: &AppState) -> Self {
        Self {
            chrome,
            email: String::new(),
            error: None,
            notice: None,
            signup_open: state.config.signup_open,
        }
    }
}

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
    req: HttpRequest,
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

    let origin = Origin::of(&req);
    let now = crate::now_unix();
    let limits = state.config.limits;
    let address = origin.address.clone();
    let user = crate::db::run(&state.pool, move |c| {
        let user = User::find_by_email(c, email.as_str())?;
        throttle::check(c, &address, user.as_ref(), now, &limits)?;
        Ok(user)
    })
    .await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let right = state.hasher.verify(form.password.clone(), hash).await?;
    let user = match user {
        Some(user) if right && user.deactivated_at.is_none() => user,
        other => {
            let failed = other.as_ref().map(|u| (u.id, u.organization_id));
            // One transaction: the counted failure and its audit event commit together, so a
            // crash between them cannot leave a failure counted against an account with no
            // record of it in the audit log (or the other way round).
            crate::db::run(&state.pool, move |c| {
                crate::db::write_transaction(c, |c| {
                    throttle::record_failure(
                        c,
                        &origin.address,
                        failed.map(|f| f.0),
                        now,
                        &limits,
                    )?;
                    if let Some((user_id, organization_id)) = failed {
                        origin.record(
                            c,
                            Entry::about(organization_id, user_id, event::SIGN_IN_FAILED)
                                .detail("wrong password"),
                            now,
                        )?;
                    }
                    Ok(())
                })
            })
            .await?;
            return fail(StatusCode::UNAUTHORIZED, WRONG_CREDENTIALS.into());
        }
    };

    if user.has_two_factor() {
        // The failure count is not reset here: only a complete sign-in resets it, or a known
        // password would buy unlimited guesses at the code.
        session.begin_two_factor(PendingTwoFactor {
            user_id: user.id,
            epoch: user.session_epoch,
            expires_at: now + state.config.two_factor_step_secs,
        })?;
        return Ok(see_other("/login/two-factor"));
    }

    let (user_id, organization_id) = (user.id, user.organization_id);
    let app = state.clone();
    // One transaction, like a failure's: the sign-in and its audit event commit together.
    let must_set_up = crate::db::run(&state.pool, move |c| {
        crate::db::write_transaction(c, |c| {
            User::record_sign_in(c, user_id, now)?;
            origin.record(
                c,
                Entry::own(organization_id, user_id, event::SIGN_IN).detail("password"),
                now,
            )?;
            let enforced =
                Organization::find(c, organization_id)?.is_some_and(|o| o.enforce_two_factor);
            if enforced {
                // Straight to the QR code: the setup is started here, as "Turn on 2FA" would.
                let secret = totp::Secret::generate();
                let sealed_secret = sealed::seal(&app.keys.totp_secret, user_id, secret.as_bytes());
                User::start_totp_setup(c, user_id, &sealed_secret, now)?;
            }
            Ok(enforced)
        })
    })
    .await?;
    session.sign_in(user.id, user.session_epoch, false)?;
    if must_set_up {
        // The enforcement middleware holds them there whatever they open next; this only
        // saves a redirect.
        session.flash(
            FlashKind::Warning,
            "Your organization requires two-factor authentication: set it up to continue.",
        )?;
        return Ok(see_other(enforcement::SETUP_PATH));
    }
    Ok(see_other("/"))
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
}

/// The pending state, if it has not expired.
fn live_pending(session: &TypedSession, now: i64) -> Option<PendingTwoFactor> {
    session.pending_two_factor().filter(|p| p.expires_at > now)
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

pub async fn get_two_factor(session: TypedSession) -> Result<HttpResponse, AppError> {
    if live_pending(&session, crate::now_unix()).is_none() {
        if session.pending_two_factor().is_some() {
            return sign_in_expired(&session);
        }
        return Ok(see_other("/login"));
    }
    let page = TwoFactorPage {
        chrome: Chrome::anonymous(&session)?,
        error: None,
    };
    render(&page, StatusCode::OK)
}

/// What the two-factor step found.
enum TwoFactorOutcome {
    SignedIn {
        user_id: i64,
        epoch: i64,
        via_recovery: bool,
        codes_left: i64,
        /// The security email about the recovery code used, if one was.
        alert: Option<OutgoingEmail>,
    },
    Refused(CodeCheck),
    Expired,
}

/// The two-factor step's reads and writes, run in one write transaction.
fn two_factor_step(
    c: &mut crate::db::DbConn,
    app: &AppState,
    origin: &Origin,
    pending: PendingTwoFactor,
    code: &OneTimeCode,
    now: i64,
    limits: &crate::config::Limits,
) -> Result<TwoFactorOutcome, AppError> {
    let user = match User::find(c, pending.user_id)? {
        Some(u)
            if u.session_epoch == pending.epoch
                && u.deactivated_at.is_none()
                && u.has_two_factor() =>
        {
            u
        }
        _ => return Ok(TwoFactorOutcome::Expired),
    };
    throttle::check(c, &origin.address, Some(&user), now, limits)?;
    let (check, via_recovery) = match code {
        OneTimeCode::Totp(code) => (
            two_factor::check_totp(c, &app.keys, &user, code, now)?,
            false,
        ),
        OneTimeCode::Recovery(code) => (
            two_factor::check_recovery_code(c, &app.keys, user.id, code, now)?,
            true,
        ),
    };
    if check != CodeCheck::Accepted {
        throttle::record_failure(c, &origin.address, Some(user.id), now, limits)?;
        origin.record(
            c,
            Entry::about(user.organization_id, user.id, event::SIGN_IN_FAILED).detail(
                if via_recovery {
                    "wrong recovery code"
                } else {
                    "wrong code"
                },
            ),
            now,
        )?;
        return Ok(TwoFactorOutcome::Refused(check));
    }
    User::record_sign_in(c, user.id, now)?;
    if via_recovery {
        origin.record(
            c,
            Entry::own(user.organization_id, user.id, event::RECOVERY_CODE_USED),
            now,
        )?;
    }
    origin.record(
        c,
        Entry::own(user.organization_id, user.id, event::SIGN_IN).detail(if via_recovery {
            "recovery code"
        } else {
            "authenticator app"
        }),
        now,
    )?;
    let codes_left = StoredRecoveryCode::count_unused(c, user.id)?;
    let alert = if via_recovery {
        Some(notify::security_alert(
            c,
            &app.config.public_url,
            &user,
            &Alert::RecoveryCodeUsed { left: codes_left },
            origin,
            now,
        )?)
    } else {
        None
    };
    Ok(TwoFactorOutcome::SignedIn {
        user_id: user.id,
        epoch: user.session_epoch,
        via_recovery,
        codes_left,
        alert,
    })
}

pub async fn post_two_factor(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<TwoFactorForm>,
) -> Result<HttpResponse, AppError> {
    let now = crate::now_unix();
    let Some(pending) = live_pending(&session, now) else {
        return sign_in_expired(&session);
    };
    let refuse = |status: StatusCode, message: String| -> Result<HttpResponse, AppError> {
        let page = TwoFactorPage {
            chrome: Chrome::anonymous(&session)?,
            error: Some(message),
        };
        render(&page, status)
    };
    let code = match OneTimeCode::parse(&form.code) {
        Ok(code) => code,
        Err(message) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, message),
    };

    let origin = Origin::of(&req);
    let limits = state.config.limits;
    let app = state.clone();
    // One transaction: a spent code (or time step), its sign-in and its audit events commit
    // together or not at all, so a crash between them cannot leave a code used unrecorded.
    let outcome = crate::db::run(&state.pool, move |c| {
        crate::db::write_transaction(c, |c| {
            two_factor_step(c, &app, &origin, pending, &code, now, &limits)
        })
    })
    .await?;

    match outcome {
        TwoFactorOutcome::Expired => sign_in_expired(&session),
        TwoFactorOutcome::Refused(check) => refuse(StatusCode::UNAUTHORIZED, check.message()),
        TwoFactorOutcome::SignedIn {
            user_id,
            epoch,
            via_recovery,
            codes_left,
            alert,
        } => {
            if let Some(email) = alert {
                state.mailer.send_or_log(vec![email]).await;
            }
            session.sign_in(user_id, epoch, via_recovery)?;
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

pub async fn post_logout(
    session: TypedSession,
    state: web::Data<AppState>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    // Removing the cookie is not enough: a copy of it would still be valid. The session's id
    // is recorded as ended first; should that fail, the person is not told they signed out.
    if let Some((session_id, expires_at)) = session.ending(&state.config.sessions) {
        let now = crate::now_unix();
        crate::db::run(&state.pool, move |c| {
            Ok(EndedSession {
                session_id,
                expires_at,
            }
            .record(c, now)?)
        })
        .await?;
    }
    session.purge();
    Ok(see_other("/login?signed_out=1"))
}
