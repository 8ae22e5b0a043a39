//! Asking a signed-in person for their password again before a sensitive change. A wrong
//! password counts against the same limits as at sign-in.

use crate::audit::Origin;
use crate::auth::throttle;
use crate::db::models::User;
use crate::error::AppError;
use crate::startup::AppState;

/// Whether `password` is the person's password; refuses with 429 while attempts are limited.
pub async fn confirm_password(
    state: &AppState,
    user: &User,
    origin: &Origin,
    password: String,
) -> Result<bool, AppError> {
    let now = crate::now_unix();
    let limits = state.config.limits;
    let address = origin.address.clone();
    let locked_user = user.clone();
    crate::db::run(&state.pool, move |c| {
        throttle::check(c, &address, Some(&locked_user), now, &limits)
    })
    .await?;
    let right = state
        .hasher
        .verify(password, Some(user.password_hash.clone()))
        .await?;
    if !right {
        record_failure(state, user.id, origin).await?;
    }
    Ok(right)
}

/// Counts a failed password or code of a signed-in person.
pub async fn record_failure(
    state: &AppState,
    user_id: i64,
    origin: &Origin,
) -> Result<(), AppError> {
    let now = crate::now_unix();
    let limits = state.config.limits;
    let address = origin.address.clone();
    crate::db::run(&state.pool, move |c| {
        throttle::record_failure(c, &address, Some(user_id), now, &limits)
    })
    .await
}
