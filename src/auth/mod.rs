//! Authentication: passwords, TOTP, QR codes, recovery codes, sealed secrets, the typed
//! session, CSRF tokens, attempt limits and the guards that say who may call a handler.

pub mod browser;
pub mod csrf;
pub mod enforcement;
pub mod extractors;
pub mod keys;
pub mod password;
pub mod qr;
pub mod recovery;
pub mod sealed;
pub mod session;
pub mod throttle;
pub mod tokens;
pub mod totp;
pub mod two_factor;
pub mod webauthn;
