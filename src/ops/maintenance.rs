//! Housekeeping: rows whose time is over are deleted in the background, so that the tables
//! every request reads stay the size of what is live.

use std::sync::Arc;
use std::time::Duration;

use crate::db::models::{AttemptCounter, EndedSession, PendingSignIn};
use crate::error::AppError;
use crate::state::AppState;

/// How many rows a pruning deleted, by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub attempt_counters: usize,
    pub ended_sessions: usize,
    pub pending_sign_ins: usize,
}

/// Deletes what has expired by now: attempt counters whose window and lock are over,
/// signed-out sessions past their lifetime, and password steps whose code never came.
pub async fn prune(app: &AppState) -> Result<Pruned, AppError> {
    let now = crate::now_unix();
    crate::db::run(&app.pool, move |c| {
        Ok(Pruned {
            attempt_counters: AttemptCounter::prune(c, now)?,
            ended_sessions: EndedSession::prune(c, now)?,
            pending_sign_ins: PendingSignIn::prune(c, now)?,
        })
    })
    .await
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
