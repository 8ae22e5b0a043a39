//! Settings › Sessions: `GET /settings/security/sessions`, where the person is signed in (one
//! row a session: browser and system, client address, when it signed in, when it was last
//! used, the current one marked); `POST …/sessions/{id}/revoke` ends one, `POST
//! …/sessions/revoke-others` every other.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::audit::Origin;
use crate::auth::csrf::CsrfForm;
use crate::auth::extractors::SignedIn;
use crate::auth::session::FlashKind;
use crate::error::AppError;
use crate::format;
use crate::http::see_other;
use crate::ops::sessions;
use crate::routes::{Chrome, EmptyForm, render};
use crate::state::AppState;

/// One session as the page shows it.
pub struct SessionRow {
    id: i64,
    browser: String,
    address: String,
    signed_in: String,
    last_active: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "settings/sessions.html")]
struct SessionsPage {
    chrome: Chrome,
    section: &'static str,
    rows: Vec<SessionRow>,
    others: usize,
}

pub async fn get_sessions(
    signed_in: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let current = signed_in.session.signed_in_id().map(|id| id.hash());
    let live = sessions::list(&state, &signed_in.user).await?;
    let rows: Vec<SessionRow> = live
        .into_iter()
        .map(|s| {
            let current = current.as_deref() == Some(s.id_hash.as_str());
            SessionRow {
                id: s.id,
                browser: format::browser(&s.user_agent),
                address: s.client_address,
                signed_in: format::time(s.created_at),
                last_active: if current {
                    "Now".to_owned()
                } else {
                    format::time(s.last_active_at)
                },
                current,
            }
        })
        .collect();
    let others = rows.iter().filter(|r| !r.current).count();
    let page = SessionsPage {
        chrome: Chrome::signed_in(&signed_in)?,
        section: "sessions",
        rows,
        others,
    };
    render(&page, StatusCode::OK)
}

pub async fn post_revoke(
    origin: Origin,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let current = signed_in.session.signed_in_id().map(|id| id.hash());
    // Ending the session in use is signing out, which has its own button.
    let own = sessions::list(&state, &signed_in.user)
        .await?
        .into_iter()
        .any(|s| s.id == id && current.as_deref() == Some(s.id_hash.as_str()));
    if own {
        return Err(AppError::Unprocessable(
            "This is the session you are using: sign out instead.".into(),
        ));
    }
    if !sessions::revoke(&state, &signed_in.user, id, origin).await? {
        return Err(AppError::NotFound);
    }
    signed_in
        .session
        .flash(FlashKind::Success, "That session is signed out.")?;
    Ok(see_other("/settings/security/sessions"))
}

pub async fn post_revoke_others(
    origin: Origin,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let Some(current) = signed_in.session.signed_in_id() else {
        return Err(AppError::SignInRequired);
    };
    let ended = sessions::revoke_others(&state, &signed_in.user, &current, origin).await?;
    signed_in.session.flash(
        FlashKind::Success,
        match ended {
            0 => "You had no other sessions.".to_owned(),
            1 => "Your 1 other session is signed out.".to_owned(),
            n => format!("Your {n} other sessions are signed out."),
        },
    )?;
    Ok(see_other("/settings/security/sessions"))
}
