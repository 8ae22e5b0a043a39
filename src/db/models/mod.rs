//! One module per table: a query struct, an insert struct, and the queries that touch it.

mod alert_token;
mod attempt_counter;
mod audit_event;
mod invitation;
mod known_browser;
mod organization;
mod passkey;
mod password_reset;
mod pending_sign_in;
mod people;
mod recovery_code;
mod session;
mod user;

pub use alert_token::{AlertToken, NewAlertToken};
pub use attempt_counter::{AttemptCounter, Lock, Rule};
pub use audit_event::{AuditEvent, Cursor, NewAuditEvent};
pub use invitation::{Invitation, NewInvitation};
pub use known_browser::KnownBrowser;
pub use organization::{NewOrganization, Organization};
pub use passkey::{NewPasskey, PasskeyCeremony, StoredPasskey, purpose};
pub use password_reset::{NewPasswordReset, PasswordReset};
pub use pending_sign_in::PendingSignIn;
pub use people::{People, PersonRow, TwoFactorFilter, contains_pattern};
pub use recovery_code::StoredRecoveryCode;
pub use session::{NewSession, Session};
pub use user::{NewUser, SessionRow, User};
