//! Checking a person's second factor against the database: a TOTP code (whose time step is
//! then spent) or a recovery code (which is then spent). Both spend atomically.

use crate::auth::keys::Keys;
use crate::auth::{recovery, sealed, totp};
use crate::db::DbConn;
use crate::db::models::{StoredRecoveryCode, User};
use crate::domain::{RecoveryCode, TotpCode};
use crate::error::AppError;

/// The outcome of a code check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right, and now spent.
    Accepted,
    /// Right, but its time step was already used.
    Replayed,
    /// Wrong now, but right about this many minutes away: said only while confirming a new
    /// app, never at sign-in.
    ClockSkew(i64),
    /// Wrong.
    Wrong,
}

impl CodeCheck {
    /// What to tell the person about a refused code.
    pub fn message(self) -> String {
        match self {
            Self::Accepted => String::new(),
            Self::Replayed => {
                "That code was already used. Wait for the next code from your app.".into()
            }
            Self::ClockSkew(minutes) => format!(
                "That code didn't match. Your phone's clock looks off by about {} minute{} \
                 ({}): set it to update automatically, then try the new code.",
                minutes.abs(),
                if minutes.abs() == 1 { "" } else { "s" },
                if minutes > 0 { "ahead" } else { "behind" }
            ),
            Self::Wrong => {
                "That code didn't match. Check your authenticator app and try again.".into()
            }
        }
    }
}

/// Opens a sealed TOTP secret of `user_id`.
pub fn open_secret(
    keys: &Keys,
    user_id: i64,
    sealed_secret: &[u8],
) -> Result<totp::Secret, AppError> {
    sealed::open(&keys.totp_secret, user_id, sealed_secret)
        .map(totp::Secret::from_bytes)
        .ok_or_else(|| {
            AppError::Unexpected(anyhow::anyhow!(
                "the TOTP secret of user {user_id} does not open with this deployment's key"
            ))
        })
}

/// Checks a TOTP code against the person's active secret and spends its time step.
pub fn check_totp(
    conn: &mut DbConn,
    keys: &Keys,
    user: &User,
    code: &TotpCode,
    now: i64,
) -> Result<CodeCheck, AppError> {
    let Some(sealed_secret) = &user.totp_secret else {
        return Ok(CodeCheck::Wrong);
    };
    let secret = open_secret(keys, user.id, sealed_secret)?;
    Ok(
        match totp::verify(&secret, code, now, user.totp_last_step) {
            totp::Verification::Accepted { step } => {
                if User::advance_totp_step(conn, user.id, step)? {
                    CodeCheck::Accepted
                } else {
                    // Another request spent this step (or a later one) first.
                    CodeCheck::Replayed
                }
            }
            totp::Verification::Replayed => CodeCheck::Replayed,
            totp::Verification::Wrong => CodeCheck::Wrong,
        },
    )
}

/// Checks a recovery code and spends it.
pub fn check_recovery_code(
    conn: &mut DbConn,
    keys: &Keys,
    user_id: i64,
    code: &RecoveryCode,
    now: i64,
) -> Result<CodeCheck, AppError> {
    let hash = recovery::hash(&keys.recovery_code, code);
    Ok(if StoredRecoveryCode::spend(conn, user_id, &hash, now)? {
        CodeCheck::Accepted
    } else {
        CodeCheck::Wrong
    })
}

/// Generates five new recovery codes for a person, replacing all earlier ones, and returns
/// them as shown to people. Call inside the transaction of the change they belong to.
pub fn replace_recovery_codes(
    conn: &mut DbConn,
    keys: &Keys,
    user_id: i64,
    now: i64,
) -> Result<Vec<String>, AppError> {
    let codes = recovery::generate();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| recovery::hash(&keys.recovery_code, c))
        .collect();
    StoredRecoveryCode::replace_all(conn, user_id, &hashes, now)?;
    Ok(codes.iter().map(RecoveryCode::display).collect())
}
