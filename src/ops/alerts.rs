//! "This wasn't me": the link in every security email. Using it signs the person out on
//! every device and records the report for the organization's admins; it works once.

use crate::audit::{Entry, Origin};
use crate::auth::tokens;
use crate::db::models::{AlertToken, User};
use crate::domain::Event;
use crate::error::AppError;
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

/// Spends the link and signs its person out everywhere; `false` when the link was used or
/// expired meanwhile (or its person is gone).
pub async fn report_not_me(
    app: &AppState,
    alert: &AlertToken,
    origin: Origin,
) -> Result<bool, AppError> {
    let now = crate::now_unix();
    let reported = alert.clone();
    crate::db::write(&app.pool, move |c| {
        if !AlertToken::spend(c, reported.id, now)? {
            return Ok(false);
        }
        let Some(user) = User::find(c, reported.user_id)? else {
            return Ok(false);
        };
        User::end_all_sessions(c, user.id)?;
        origin.record(
            c,
            Entry::about(user.organization_id, user.id, Event::ReportedNotMe)
                .detail(reported.event.describe()),
            now,
        )?;
        Ok(true)
    })
    .await
}
