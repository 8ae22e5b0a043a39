//! Asking a signed-in person for their password again before a sensitive change. A wrong
//! password counts against the same limits as at sign-in.

use crate::audit::Origin;
use crate::auth::throttle;
use crate::db::models::User;
use crate::error::AppError;
use crate::state::AppState;

/// Whether `password` is the person's password; refuses with 429 while attempts are limited.
pub async fn confirm_password(
    app: &AppState,
    user: &User,
    origin: &Origin,
    password: String,
) -> Result<bool, AppError> {
    let now = crate::now_unix();
    let limits = app.config.limits;
    let address = origin.address.clone();
    let locked_user = user.clone();
    crate::db::run(&app.pool, move |c| {
        throttle::check(c, &address, Some(&locked_user), now, &limits)
    })
    .await?;
    let right = app
        .hasher
        .verify(password, Some(user.password_hash.clone()))
        .await?;
    if !right {
        record_failure(app, user.id, origin).await?;
    }
    Ok(right)
}

/// Counts a failed password or code of a signed-in person.
pub async fn record_failure(app: &AppState, user_id: i64, origin: &Origin) -> Result<(), AppError> {
    let now = crate::now_unix();
    let limits = app.config.limits;
    let address = origin.address.clone();
    crate::db::run(&app.pool, move |c| {
        throttle::record_failure(c, &address, Some(user_id), now, &limits)
    })
    .await
}
