//! A forgotten password: `GET/POST /password/forgot` asks for a link (the same answer whether
//! or not the address has an account), `GET/POST /password/reset/{token}` sets a new password
//! through it. Nobody is signed in by it, and 2FA stays as it is.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::Origin;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{FlashKind, TypedSession};
use crate::domain::{Email, Password};
use crate::error::AppError;
use crate::http::see_other;
use crate::ops::account::{self, Reset};
use crate::routes::invitation::LinkInvalidPage;
use crate::routes::{Chrome, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "account/forgot.html")]
struct ForgotPage {
    chrome: Chrome,
    email: String,
    error: Option<String>,
    sent: bool,
}

pub async fn get_forgot(session: TypedSession) -> Result<HttpResponse, AppError> {
    let page = ForgotPage {
        chrome: Chrome::anonymous(&session)?,
        email: String::new(),
        error: None,
        sent: false,
    };
    render(&page, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct ForgotForm {
    email: String,
}

pub async fn post_forgot(
    origin: Origin,
    session: TypedSession,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> Result<HttpResponse, AppError> {
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(message) => {
            let page = ForgotPage {
                chrome: Chrome::anonymous(&session)?,
                email: form.email.trim().to_owned(),
                error: Some(message),
                sent: false,
            };
            return render(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let shown = email.as_str().to_owned();
    account::request_password_reset(&state, email, origin).await?;
    // The same page whether or not the address has an account.
    let page = ForgotPage {
        chrome: Chrome::anonymous(&session)?,
        email: shown,
        error: None,
        sent: true,
    };
    render(&page, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "account/reset.html")]
struct ResetPage {
    chrome: Chrome,
    token: String,
    error: Option<String>,
}

fn link_unusable(session: &TypedSession, status: StatusCode) -> Result<HttpResponse, AppError> {
    let page = LinkInvalidPage {
        chrome: Chrome::anonymous(session)?,
        heading: "This link doesn't work",
        message: "Links to choose a new password work once, for an hour, and only the newest \
                  one works. Ask for a new link on the sign-in page (\"Forgot your \
                  password?\").",
    };
    render(&page, status)
}

pub async fn get_reset(
    session: TypedSession,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let Some(reset) = account::find_reset(&state, &token).await? else {
        return link_unusable(&session, StatusCode::NOT_FOUND);
    };
    if !reset.is_usable(crate::now_unix()) {
        return link_unusable(&session, StatusCode::GONE);
    }
    let page = ResetPage {
        chrome: Chrome::anonymous(&session)?,
        token,
        error: None,
    };
    render(&page, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct ResetForm {
    new_password: String,
}

pub async fn post_reset(
    origin: Origin,
    session: TypedSession,
    state: web::Data<AppState>,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let Some(reset) = account::find_reset(&state, &token).await? else {
        return link_unusable(&session, StatusCode::NOT_FOUND);
    };
    if !reset.is_usable(crate::now_unix()) {
        return link_unusable(&session, StatusCode::GONE);
    }
    let password = match Password::parse(form.new_password) {
        Ok(password) => password,
        Err(e) => {
            let page = ResetPage {
                chrome: Chrome::anonymous(&session)?,
                token,
                error: Some(e.to_string()),
            };
            return render(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    match account::reset_password(&state, &reset, password, origin).await? {
        Reset::LinkUnusable => link_unusable(&session, StatusCode::GONE),
        Reset::Done => {
            // Whoever was signed in in this browser is signed out like every other session.
            session.renew()?;
            session.flash(
                FlashKind::Success,
                "Your new password is set, and you were signed out everywhere. Sign in with it.",
            )?;
            Ok(see_other("/login"))
        }
    }
}
