//! A person's sessions: begun at each sign-in (in the sign-in's own transaction), listed on
//! their sessions page, ended one by one, all but this one, or by signing out. Ending is a
//! row update, which every instance sees at the session's next request.

use crate::audit::{Entry, Origin};
use crate::auth::session::SessionId;
use crate::config::SessionLifetime;
use crate::db::DbConn;
use crate::db::models::{KnownBrowser, NewSession, Session, User};
use crate::domain::Event;
use crate::error::AppError;
use crate::mail::Mail;
use crate::notify::{self, Alert};
use crate::state::AppState;

/// Begins a session for a person who just signed in, inside the sign-in's transaction;
/// returns its id, for the cookie.
pub fn begin(
    conn: &mut DbConn,
    user_id: i64,
    epoch: i64,
    origin: &Origin,
    lifetime: &SessionLifetime,
    now: i64,
) -> diesel::QueryResult<SessionId> {
    let id = SessionId::generate();
    NewSession {
        id_hash: &id.hash(),
        user_id,
        epoch,
        user_agent: &origin.user_agent,
        client_address: &origin.address,
        created_at: now,
        last_active_at: now,
        expires_at: now + lifetime.absolute_secs,
    }
    .insert(conn)?;
    Ok(id)
}

/// Remembers the browser of a sign-in for the person, inside the sign-in's transaction. When it
/// is new to someone who had signed in before (`user` as it was before this sign-in), returns
/// the email that announces it, to be sent after the commit. A person's very first sign-in
/// announces nothing: there is no browser they know yet.
pub fn note_browser(
    conn: &mut DbConn,
    public_url: &str,
    user: &User,
    origin: &Origin,
    now: i64,
) -> Result<Option<Mail>, AppError> {
    let Some(browser) = &origin.browser else {
        return Ok(None);
    };
    let new = KnownBrowser::remember(conn, user.id, browser, now)?;
    if !new || user.last_sign_in_at.is_none() {
        return Ok(None);
    }
    let alert = Alert::NewBrowser {
        browser: crate::format::browser(&origin.user_agent),
    };
    Ok(Some(notify::security_alert(
        conn, public_url, user, &alert, origin, now,
    )?))
}

/// The most sessions the page lists.
pub const LISTED: i64 = 100;

/// A person's live sessions, newest first.
pub async fn list(app: &AppState, user: &User) -> Result<Vec<Session>, AppError> {
    let (user_id, epoch) = (user.id, user.session_epoch);
    let now = crate::now_unix();
    crate::db::run(&app.pool, move |c| {
        Ok(Session::live_of(c, user_id, epoch, now, LISTED)?)
    })
    .await
}

/// Ends one of the person's sessions (another person's finds nothing); returns whether a live
/// one was ended.
pub async fn revoke(
    app: &AppState,
    user: &User,
    id: i64,
    origin: Origin,
) -> Result<bool, AppError> {
    let (user_id, organization_id) = (user.id, user.organization_id);
    let now = crate::now_unix();
    crate::db::write(&app.pool, move |c| {
        let ended = Session::end_one(c, user_id, id, now)?;
        if ended {
            origin.record(
                c,
                Entry::own(organization_id, user_id, Event::SessionEnded).detail("one session"),
                now,
            )?;
        }
        Ok(ended)
    })
    .await
}

/// Ends every session of the person but `current`; returns how many.
pub async fn revoke_others(
    app: &AppState,
    user: &User,
    current: &SessionId,
    origin: Origin,
) -> Result<usize, AppError> {
    let (user_id, organization_id) = (user.id, user.organization_id);
    let keep = current.hash();
    let now = crate::now_unix();
    crate::db::write(&app.pool, move |c| {
        let ended = Session::end_all_but(c, user_id, Some(&keep), now)?;
        if ended > 0 {
            origin.record(
                c,
                Entry::own(organization_id, user_id, Event::SessionEnded)
                    .detail(&format!("all other sessions ({ended})")),
                now,
            )?;
        }
        Ok(ended)
    })
    .await
}

/// Ends the session being signed out of.
pub async fn sign_out(app: &AppState, current: &SessionId) -> Result<(), AppError> {
    let id_hash = current.hash();
    let now = crate::now_unix();
    crate::db::run(&app.pool, move |c| Ok(Session::end(c, &id_hash, now)?)).await
}
