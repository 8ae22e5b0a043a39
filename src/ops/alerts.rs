//! "This wasn't me": the link in every security email. Using it signs the person out on
//! every device, requires a new password at their next sign-in (the link to choose one is
//! emailed at once), tells the organization's owner, and records the report; it works once.

use crate::audit::{Entry, Origin};
use crate::auth::tokens;
use crate::db::models::{AlertToken, Session, User};
use crate::domain::Event;
use crate::error::AppError;
use crate::notify::{self, ResetReason};
use crate::ops::account;
use crate::state::AppState;

/// The alert a link's token names, whatever its state; `None` for text that is no token or
/// a token that names nothing.
pub async fn find(app: &AppState, token: &str) -> Result<Option<AlertToken>, AppError> {
    let Some(token_hash) = tokens::lookup_hash(token) else {
        return Ok(None);
    };
    crate::db::run(&app.pool, move |c| {
        Ok(AlertToken::find_by_hash(c, &token_hash)?)
    })
    .await
}

/// Spends the link and contains the damage: every session of the person ends, their next
/// password sign-in waits for a new password (they are emailed a link at once), and their
/// organization's owner is told. `false` when the link was used or expired meanwhile (or its
/// person is gone).
pub async fn report_not_me(
    app: &AppState,
    alert: &AlertToken,
    origin: Origin,
) -> Result<bool, AppError> {
    let now = crate::now_unix();
    let reported = alert.clone();
    let public_url = app.config.public_url.clone();
    let mails = crate::db::write(&app.pool, move |c| {
        if !AlertToken::spend(c, reported.id, now)? {
            return Ok(None);
        }
        let Some(user) = User::find(c, reported.user_id)? else {
            return Ok(None);
        };
        User::contain(c, user.id)?;
        Session::end_all_but(c, user.id, None, now)?;
        let mut mails = vec![account::reset_link(
            c,
            &public_url,
            &user,
            ResetReason::Required,
            now,
        )?];
        if let Some(owner) = User::owner_of(c, user.organization_id)?
            && owner.id != user.id
        {
            mails.push(notify::owner_told_of_not_me(
                &public_url,
                &owner,
                &user,
                reported.event,
                now,
            )?);
        }
        origin.record(
            c,
            Entry::about(user.organization_id, user.id, Event::ReportedNotMe)
                .detail(reported.event.describe()),
            now,
        )?;
        Ok(Some(mails))
    })
    .await?;
    match mails {
        None => Ok(false),
        Some(mails) => {
            app.mailer.send_or_log(mails).await;
            Ok(true)
        }
    }
}
