//! Input parsed into types at the edge: once a value has one of these types it is valid, and
//! deeper code never checks a raw `String` again. The types stored as text (roles, audit
//! events) carry diesel's derive for that; their conversions live in `crate::db::types`.

pub mod code;
mod email;
mod event;
mod name;
mod password;
mod role;
mod token;

pub use code::{OneTimeCode, RecoveryCode, TotpCode};
pub use email::Email;
pub use event::Event;
pub use name::{OrganizationName, PersonName};
pub use password::{Password, PasswordError};
pub use role::Role;
pub use token::{LINK_TOKEN_LEN, LinkToken};
