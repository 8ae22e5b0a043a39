//! The typed session: named accessors over actix-session's cookie-backed map.
//!
//! The cookie is encrypted and authenticated with a key derived from the deployment's
//! secret, so its contents are trusted as written by us. It cannot be revoked by itself, so
//! it carries the person's session epoch from sign-in time; [`crate::auth::extractors`]
//! compares it with the database on every signed-in request, and bumping the epoch ends every
//! session of that person on every instance at their next request.
//!
//! A signed-in session also carries when it was signed in and when it was last used, and the
//! guard refuses it once idle or old beyond [`SessionLifetime`]: expiry is decided here, on
//! the server, never by the cookie's own expiry, which a browser or a thief may ignore.
//! A signed-in session is also a row on the server (see [`crate::db::models::Session`]),
//! named by the random id in the cookie: the person sees it on their sessions page and may end
//! it, signing out ends it, and the guard refuses a session whose row was ended, so a copy of
//! the cookie is refused too.

use std::future::{Ready, ready};

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::config::SessionLifetime;
use crate::error::AppError;

const USER_ID: &str = "uid";
const EPOCH: &str = "epoch";
const CSRF: &str = "csrf";
const SESSION_ID: &str = "sid";
const PENDING: &str = "pending_2fa";
const FLASH: &str = "flash";
const VIA_RECOVERY: &str = "via_recovery";
const ISSUED_AT: &str = "iat";
const LAST_SEEN: &str = "seen";
const SECOND_FACTOR_AT: &str = "2fa_at";
const SETUP_STARTED: &str = "setup";

/// The state between a right password and a right code, as the cookie holds it: only the
/// random id of a server-side record (`crate::db::models::PendingSignIn`), which says whose
/// step it is and until when, and which the sign-in consumes. A copy of the cookie is worth
/// nothing once the sign-in completed or a new password step replaced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingTwoFactor {
    pub id: String,
}

impl PendingTwoFactor {
    /// A new random id (256 bits).
    pub fn generate() -> Self {
        Self { id: random_token() }
    }

    /// What the server stores of the id: its SHA-256.
    pub fn id_hash(&self) -> String {
        crate::auth::tokens::hash(&self.id)
    }
}

/// A signed-in session's id: random, in the cookie; the server keeps only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionId(String);

impl SessionId {
    /// A new random id (256 bits).
    pub fn generate() -> Self {
        Self(random_token())
    }

    /// What the server stores of it.
    pub fn hash(&self) -> String {
        crate::auth::tokens::hash(&self.0)
    }
}

/// When sessions were last used, noted by the guard (at most once a minute a session) and
/// written to their rows in batches by a background task: a page never waits for that write.
#[derive(Debug, Default)]
pub struct ActivityLog(std::sync::Mutex<Vec<(String, i64)>>);

impl ActivityLog {
    /// Notes that the session with this id hash was used at `at`.
    pub fn note(&self, id_hash: String, at: i64) {
        if let Ok(mut seen) = self.0.lock() {
            seen.push((id_hash, at));
        }
    }

    /// Everything noted since the last call.
    pub fn take(&self) -> Vec<(String, i64)> {
        self.0
            .lock()
            .map(|mut seen| std::mem::take(&mut *seen))
            .unwrap_or_default()
    }
}

/// What a sign-in proved besides the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactorUsed {
    /// Nothing: the person has no 2FA.
    None,
    /// A code from the authenticator app.
    Code,
    /// One of the recovery codes.
    RecoveryCode,
}

/// A one-time message for the next page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    pub kind: FlashKind,
    pub message: String,
}

/// How a flash message is styled.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum FlashKind {
    Success,
    Info,
    Warning,
}

impl FlashKind {
    /// The CSS class suffix.
    pub fn css(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Info => "info",
            Self::Warning => "warning",
        }
    }
}

/// The session of the current request.
pub struct TypedSession(Session);

impl FromRequest for TypedSession {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(req.get_session())))
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl TypedSession {
    /// Wraps the session of a request.
    pub fn of(req: &HttpRequest) -> Self {
        Self(req.get_session())
    }

    fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        // A value we cannot read (an older format) counts as absent.
        self.0.get(key).ok().flatten()
    }

    fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<(), AppError> {
        self.0
            .insert(key, value)
            .map_err(|e| AppError::Unexpected(anyhow::anyhow!("session insert: {e}")))
    }

    /// The CSRF token for this session, created on first use.
    pub fn csrf_token(&self) -> Result<String, AppError> {
        if let Some(token) = self.get::<String>(CSRF) {
            return Ok(token);
        }
        let token = random_token();
        self.insert(CSRF, &token)?;
        Ok(token)
    }

    /// The CSRF token if the session has one (never creates one).
    pub fn existing_csrf_token(&self) -> Option<String> {
        self.get(CSRF)
    }

    /// The signed-in person's id.
    pub fn user_id(&self) -> Option<i64> {
        self.get(USER_ID)
    }

    /// The session epoch recorded at sign-in.
    pub fn epoch(&self) -> Option<i64> {
        self.get(EPOCH)
    }

    /// Whether this session was signed in with a recovery code.
    pub fn signed_in_with_recovery_code(&self) -> bool {
        self.get(VIA_RECOVERY).unwrap_or(false)
    }

    /// Gives the session a new identity: a new cookie, a new session id and CSRF token, and
    /// nothing of the previous sign-in state. Done at each sign-in step.
    pub fn renew(&self) -> Result<(), AppError> {
        let flash: Option<Flash> = self.get(FLASH);
        self.0.clear();
        self.0.renew();
        self.insert(SESSION_ID, random_token())?;
        self.insert(CSRF, random_token())?;
        if let Some(flash) = flash {
            self.insert(FLASH, flash)?;
        }
        Ok(())
    }

    /// After a right password for a person with 2FA: only the pending state, under a new id.
    pub fn begin_two_factor(&self, pending: PendingTwoFactor) -> Result<(), AppError> {
        self.renew()?;
        self.insert(PENDING, pending)
    }

    /// The pending two-factor state, if any (the server's record says whether it still holds).
    pub fn pending_two_factor(&self) -> Option<PendingTwoFactor> {
        self.get(PENDING)
    }

    /// Signs the person in, under a new session identity whose lifetime starts now: `signed`
    /// is the server's record of it (its id, made by the sign-in's operation with the row
    /// that lets it hold). `second_factor` says the sign-in proved one (a code, a recovery
    /// code): it counts as a recent re-authentication.
    pub fn sign_in(
        &self,
        user_id: i64,
        epoch: i64,
        signed: &SessionId,
        second_factor: SecondFactorUsed,
    ) -> Result<(), AppError> {
        self.renew()?;
        self.insert(SESSION_ID, &signed.0)?;
        let now = crate::now_unix();
        self.insert(USER_ID, user_id)?;
        self.insert(EPOCH, epoch)?;
        self.insert(ISSUED_AT, now)?;
        self.insert(LAST_SEEN, now)?;
        match second_factor {
            SecondFactorUsed::None => {}
            SecondFactorUsed::Code => self.insert(SECOND_FACTOR_AT, now)?,
            SecondFactorUsed::RecoveryCode => {
                self.insert(SECOND_FACTOR_AT, now)?;
                self.insert(VIA_RECOVERY, true)?;
            }
        }
        Ok(())
    }

    /// Notes that this session started the person's 2FA setup at `started_at` (the pending
    /// secret's time): only this session may show its QR code and confirm it.
    pub fn note_setup_started(&self, started_at: i64) -> Result<(), AppError> {
        self.insert(SETUP_STARTED, started_at)
    }

    /// When this session started the person's 2FA setup, if it did.
    pub fn setup_started_at(&self) -> Option<i64> {
        self.get(SETUP_STARTED)
    }

    /// Notes that this session just proved a second factor (re-authentication).
    pub fn note_second_factor(&self, now: i64) -> Result<(), AppError> {
        self.insert(SECOND_FACTOR_AT, now)
    }

    /// Whether this session proved a second factor within the last `secs` seconds (never,
    /// when `secs` is 0: then every sensitive action asks).
    pub fn second_factor_within(&self, secs: i64, now: i64) -> bool {
        secs > 0
            && self
                .get::<i64>(SECOND_FACTOR_AT)
                .is_some_and(|at| at <= now && now - at < secs)
    }

    /// This session's id while it is within `lifetime` at `now` (used within the idle timeout,
    /// and signed in for less than the absolute lifetime), and whether this request noted its
    /// use; `None` once it has ended, or for a session without these times. Notes `now` as the
    /// latest use at most once a minute (a thirtieth of the idle timeout when that is
    /// shorter), so that not every response rewrites the cookie (nor the session's row): the
    /// recorded use is then up to that much early, which only ever shortens the idle time
    /// allowed, never lengthens it.
    pub fn live_id(
        &self,
        now: i64,
        lifetime: &SessionLifetime,
    ) -> Result<Option<(SessionId, bool)>, AppError> {
        let (Some(id), Some(issued_at), Some(last_seen)) = (
            self.get::<String>(SESSION_ID),
            self.get::<i64>(ISSUED_AT),
            self.get::<i64>(LAST_SEEN),
        ) else {
            return Ok(None);
        };
        let idle = now.saturating_sub(last_seen);
        let age = now.saturating_sub(issued_at);
        if idle >= lifetime.idle_secs || age >= lifetime.absolute_secs {
            return Ok(None);
        }
        let noted = idle >= (lifetime.idle_secs / 30).clamp(1, 60);
        if noted {
            self.insert(LAST_SEEN, now)?;
        }
        Ok(Some((SessionId(id), noted)))
    }

    /// The signed-in session's id, if this is one (for signing out, or ending the others).
    pub fn signed_in_id(&self) -> Option<SessionId> {
        self.user_id()?;
        self.get::<String>(SESSION_ID).map(SessionId)
    }

    /// Goes on under a new identity in the person's new epoch (after changing the password:
    /// every other session ended, this one continues): a new cookie, session id and CSRF
    /// token, the sign-in's notes kept, its lifetime starting again.
    pub fn continue_as(&self, epoch: i64, signed: &SessionId) -> Result<(), AppError> {
        let user_id = self.user_id();
        let second_factor_at: Option<i64> = self.get(SECOND_FACTOR_AT);
        let via_recovery = self.signed_in_with_recovery_code();
        self.renew()?;
        let now = crate::now_unix();
        if let Some(user_id) = user_id {
            self.insert(USER_ID, user_id)?;
        }
        self.insert(SESSION_ID, &signed.0)?;
        self.insert(EPOCH, epoch)?;
        self.insert(ISSUED_AT, now)?;
        self.insert(LAST_SEEN, now)?;
        if let Some(at) = second_factor_at {
            self.insert(SECOND_FACTOR_AT, at)?;
        }
        if via_recovery {
            self.insert(VIA_RECOVERY, true)?;
        }
        Ok(())
    }

    /// Keeps this session valid after the person's epoch moved on (other devices signed out).
    pub fn set_epoch(&self, epoch: i64) -> Result<(), AppError> {
        self.insert(EPOCH, epoch)
    }

    /// Forgets the recovery-code sign-in note (after a new authenticator app is set up).
    pub fn clear_recovery_note(&self) {
        self.0.remove(VIA_RECOVERY);
    }

    /// Forgets a sign-in that no longer holds (ended on another device, expired, the person
    /// deactivated): the browser keeps a session of no one under a new identity, so that the
    /// page answered now (the sign-in form, say) carries a CSRF token its post will find.
    /// Purging instead would drop whatever the page stores, and the form would "expire".
    pub fn forget_sign_in(&self) -> Result<(), AppError> {
        self.renew()
    }

    /// Ends this session: the cookie is removed.
    pub fn purge(&self) {
        self.0.purge();
    }

    /// Leaves a message for the next page.
    pub fn flash(&self, kind: FlashKind, message: impl Into<String>) -> Result<(), AppError> {
        self.insert(
            FLASH,
            Flash {
                kind,
                message: message.into(),
            },
        )
    }

    /// Takes the message left for this page, if any.
    pub fn take_flash(&self) -> Option<Flash> {
        let flash = self.get(FLASH);
        if flash.is_some() {
            self.0.remove(FLASH);
        }
        flash
    }
}
