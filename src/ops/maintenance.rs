//! Housekeeping: rows whose time is over are deleted in the background, so that the tables
//! every request reads stay the size of what is live.

use std::sync::Arc;
use std::time::Duration;

use crate::db::models::{AttemptCounter, PasskeyCeremony, PasswordReset, PendingSignIn, Session};
use crate::error::AppError;
use crate::state::AppState;

/// How many rows a pruning deleted, by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub attempt_counters: usize,
    pub sessions: usize,
    pub pending_sign_ins: usize,
    pub password_resets: usize,
    pub passkey_ceremonies: usize,
}

/// Deletes what has expired by now: attempt counters whose window and lock are over,
/// sessions past their lifetime, password steps whose code never came, password-reset links
/// past their hour, and passkey challenges never answered.
pub async fn prune(app: &AppState) -> Result<Pruned, AppError> {
    let now = crate::now_unix();
    crate::db::run(&app.pool, move |c| {
        Ok(Pruned {
            attempt_counters: AttemptCounter::prune(c, now)?,
            sessions: Session::prune(c, now)?,
            pending_sign_ins: PendingSignIn::prune(c, now)?,
            password_resets: PasswordReset::prune(c, now)?,
            passkey_ceremonies: PasskeyCeremony::prune(c, now)?,
        })
    })
    .await
}

/// Writes the sessions' latest uses noted by the guard; returns how many.
pub async fn write_activity(app: &AppState) -> Result<usize, AppError> {
    let seen = app.activity.take();
    if seen.is_empty() {
        return Ok(0);
    }
    let n = seen.len();
    crate::db::run(&app.pool, move |c| Ok(Session::note_activity(c, &seen)?)).await?;
    Ok(n)
}

/// Writes the sessions' latest uses every few seconds, off the request path, for as long as
/// the server runs.
pub fn write_activity_in_the_background(app: Arc<AppState>) {
    actix_web::rt::spawn(async move {
        loop {
            actix_web::rt::time::sleep(Duration::from_secs(5)).await;
            if let Err(e) = write_activity(&app).await {
                tracing::warn!(error = %e, "writing sessions' last use failed");
            }
        }
    });
}

/// Prunes every `prune_every_secs`, for as long as the server runs. Each instance does it on
/// a shared database; the deletions are idempotent.
pub fn prune_in_the_background(app: Arc<AppState>) {
    let every = Duration::from_secs(app.config.prune_every_secs.max(1));
    actix_web::rt::spawn(async move {
        loop {
            actix_web::rt::time::sleep(every).await;
            match prune(&app).await {
                Ok(pruned) if pruned != Pruned::default() => {
                    tracing::info!(?pruned, "pruned expired rows");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "pruning expired rows failed"),
            }
        }
    });
}
