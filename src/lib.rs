//! Twofold: email-and-password sign-in with TOTP two-factor authentication and single-use
//! recovery codes for an organization's workspace, with the pages its owner and admins use to
//! see and enforce 2FA for everyone.

pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod email;
pub mod error;
pub mod notify;
pub mod routes;
pub mod startup;
pub mod telemetry;

/// The current time as Unix seconds: the one clock the request handlers read.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
