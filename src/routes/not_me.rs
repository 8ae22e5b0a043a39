//! `GET/POST /account/not-me/{token}`: the "this wasn't me" link of a security email. The
//! GET only asks (mail scanners open links), the POST signs that person out on every device
//! and records the report for the organization's admins. The link works once, for 14 days.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::audit::{Entry, Origin, event};
use crate::auth::csrf::CsrfForm;
use crate::auth::session::TypedSession;
use crate::auth::tokens;
use crate::db::models::{AlertToken, User};
use crate::error::AppError;
use crate::routes::invitation::LinkInvalidPage;
use crate::routes::{Chrome, EmptyForm, render};
use crate::startup::AppState;

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

async fn find(state: &AppState, token: &str) -> Result<Option<AlertToken>, AppError> {
    let Some(token_hash) = tokens::lookup_hash(token) else {
        return Ok(None);
    };
    crate::db::run(&state.pool, move |c| {
        Ok(AlertToken::find_by_hash(c, &token_hash)?)
    })
    .await
}

pub async fn get_not_me(
    session: TypedSession,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let Some(alert) = find(&state, &token).await? else {
        return link_unusable(&session, StatusCode::NOT_FOUND);
    };
    if !alert.is_usable(crate::now_unix()) {
        return link_unusable(&session, StatusCode::GONE);
    }
    let page = NotMePage {
        chrome: Chrome::anonymous(&session)?,
        token,
        what: event::describe(&alert.event).to_owned(),
        done: false,
    };
    render(&page, StatusCode::OK)
}

pub async fn post_not_me(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    path: web::Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let Some(alert) = find(&state, &token).await? else {
        return link_unusable(&session, StatusCode::NOT_FOUND);
    };
    let origin = Origin::of(&req);
    let now = crate::now_unix();
    let reported = alert.clone();
    let done = crate::db::run(&state.pool, move |c| {
        crate::db::write_transaction(c, |c| {
            if !AlertToken::spend(c, reported.id, now)? {
                return Ok(false);
            }
            let Some(user) = User::find(c, reported.user_id)? else {
                return Ok(false);
            };
            User::end_all_sessions(c, user.id)?;
            origin.record(
                c,
                Entry::about(user.organization_id, user.id, event::REPORTED_NOT_ME)
                    .detail(event::describe(&reported.event)),
                now,
            )?;
            Ok(true)
        })
    })
    .await?;
    if !done {
        return link_unusable(&session, StatusCode::GONE);
    }
    let page = NotMePage {
        chrome: Chrome::anonymous(&session)?,
        token: String::new(),
        what: event::describe(&alert.event).to_owned(),
        done: true,
    };
    render(&page, StatusCode::OK)
}
