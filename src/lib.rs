//! Twofold: email-and-password sign-in with TOTP two-factor authentication and single-use
//! recovery codes for an organization's workspace, with the pages its owner and admins use to
//! see and enforce 2FA for everyone.

pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod format;
pub mod http;
pub mod mail;
pub mod notify;
pub mod ops;
pub mod policy;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;

/// The current time as Unix seconds: the one clock the request handlers read.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
