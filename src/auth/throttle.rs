//! Limits on failed passwords and codes, per account and per client address. Both counts
//! live in the database, so they hold across restarts, new sessions and every instance that
//! shares the database.

use crate::config::Limits;
use crate::db::DbConn;
use crate::db::models::{ClientFailure, User};
use crate::error::AppError;

/// Refuses the attempt, before any password or code is checked, if the client address or
/// the account is over its limit.
pub fn check(
    conn: &mut DbConn,
    address: &str,
    user: Option<&User>,
    now: i64,
    limits: &Limits,
) -> Result<(), AppError> {
    if let Some(wait) = ClientFailure::blocked_for(conn, address, now, limits)? {
        return Err(AppError::TooManyAttempts(wait));
    }
    if let Some(wait) = user.and_then(|u| u.locked_for(now)) {
        return Err(AppError::TooManyAttempts(wait));
    }
    Ok(())
}

/// Counts a failed password or code against the address and, if known, the account.
pub fn record_failure(
    conn: &mut DbConn,
    address: &str,
    user_id: Option<i64>,
    now: i64,
    limits: &Limits,
) -> Result<(), AppError> {
    ClientFailure::record(conn, address, now, limits)?;
    if let Some(id) = user_id {
        User::record_failure(conn, id, now, limits)?;
    }
    Ok(())
}
