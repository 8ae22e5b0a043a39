//! `GET/POST /account/not-me/{token}`: the "this wasn't me" link of a security email. The
//! GET only asks (mail scanners open links), the POST signs that person out on every device
//! and records the report for the organization's admins. The link works once, for 14 days.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::audit::Origin;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::TypedSession;
use crate::error::AppError;
use crate::ops::alerts;
use crate::routes::invitation::LinkInvalidPage;
use crate::routes::{Chrome, EmptyForm, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "account/not_me.html")]
struct NotMePage {
    chrome: Chrome,
    token: String,
    what: String,
    done: bool,
}

fn link_unusable(session: &TypedSession, status: StatusCode) -> Result<HttpResponse, AppError> {
    let page = LinkInvalidPage {
        chrome: Chrome::anonymous(session)?,
        heading: "This link doesn't work",
        message: "It may have been used already, or it is more than 14 days old. If you \
                  think someone else is using your account, sign in, change what you can in \
                  Settings › Security, and tell your organization's owner or an admin.",
    };
    render(&page, status)
}

pub async fn get_not_me(
    session: TypedSession,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let Some(alert) = alerts::find(&state, &token).await? else {
        return link_unusable(&session, StatusCode::NOT_FOUND);
    };
    if !alert.is_usable(crate::now_unix()) {
        return link_unusable(&session, StatusCode::GONE);
    }
    let page = NotMePage {
        chrome: Chrome::anonymous(&session)?,
        token,
        what: alert.event.describe().to_owned(),
        done: false,
    };
    render(&page, StatusCode::OK)
}

pub async fn post_not_me(
    origin: Origin,
    session: TypedSession,
    state: web::Data<AppState>,
    path: web::Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let Some(alert) = alerts::find(&state, &token).await? else {
        return link_unusable(&session, StatusCode::NOT_FOUND);
    };
    let done = alerts::report_not_me(&state, &alert, origin).await?;
    if !done {
        return link_unusable(&session, StatusCode::GONE);
    }
    let page = NotMePage {
        chrome: Chrome::anonymous(&session)?,
        token: String::new(),
        what: alert.event.describe().to_owned(),
        done: true,
    };
    render(&page, StatusCode::OK)
}
