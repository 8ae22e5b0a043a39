//! The operations: one function per use case, called by the pages (`crate::routes`) and by
//! the command line (`crate::cli`) alike. An operation takes input already parsed into domain
//! types, checks the rules (`crate::policy`), opens its own transaction, records its audit
//! events inside it, and sends its emails after the commit. It returns what happened as a
//! value; turning that into a page, a redirect or a session change is the caller's job.

pub mod account;
pub mod alerts;
pub mod audit_log;
pub mod invitations;
pub mod maintenance;
pub mod organization;
pub mod passkeys;
pub mod people;
pub mod sessions;
pub mod sign_in;
pub mod two_factor;

pub mod reauth;
