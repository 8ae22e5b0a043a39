//! Passkeys: adding, renaming and removing them, and their ceremonies as a second factor, as a
//! sign-in on their own and as a re-authentication.
//!
//! Every ceremony is two requests: a challenge (its state stored server-side, short-lived,
//! under the SHA-256 of a random id the browser holds) and the browser's answer, which takes
//! the state as it reads it, so that an answer counts once, on any instance. The checks of
//! the answer (origin, challenge, signature, user verification) are webauthn-rs's; the
//! signature counter is checked here too, against the latest stored value.

use serde_json::Value;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Uuid, WebauthnError,
};

use crate::audit::{Entry, Origin};
use crate::auth::session::{PendingTwoFactor, SessionId};
use crate::auth::throttle::CodeAttempt;
use crate::auth::tokens;
use crate::auth::two_factor;
use crate::auth::webauthn::{CEREMONY_SECS, credential_key};
use crate::db::DbConn;
use crate::db::models::{
    NewPasskey, Organization, PasskeyCeremony, PendingSignIn, Session, StoredPasskey,
    StoredRecoveryCode, User, purpose,
};
use crate::domain::Event;
use crate::error::AppError;
use crate::mail::Mail;
use crate::notify::{self, Alert};
use crate::ops::reauth;
use crate::ops::sessions;
use crate::ops::sign_in::TwoFactorStep;
use crate::state::AppState;

/// The longest name a passkey can have.
pub const NAME_MAX_CHARS: usize = 64;

/// A ceremony's challenge for the browser: the id it sends back, and the options for
/// `navigator.credentials`.
#[derive(Debug, serde::Serialize)]
pub struct Challenge {
    pub ceremony: String,
    pub options: Value,
}

/// Why a passkey's answer was refused; each says what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The challenge expired, was answered already, or belongs to another session.
    Expired,
    /// Not a passkey of this person.
    Unknown,
    /// Signing in with a passkey alone: not a passkey of anyone here (any more).
    NotRegistered,
    /// The browser's answer did not check out.
    Invalid,
    /// The signature counter went backwards: a copy of the passkey.
    Cloned,
    /// This passkey is registered already.
    Duplicate,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Self::Expired => "That passkey prompt expired. Try again.",
            Self::Unknown => {
                "That passkey is not one of this account's. Try another, or use \
                              your password."
            }
            Self::NotRegistered => {
                "That passkey is not registered here (it may have been \
                                    removed). Sign in with your email and password."
            }
            Self::Invalid => "That passkey could not be checked. Try again.",
            Self::Cloned => {
                "That passkey was refused: it looks like a copy of the one you \
                             added. We emailed you about it."
            }
            Self::Duplicate => "That passkey is added already.",
        }
    }
}

fn internal(what: String) -> AppError {
    AppError::Unexpected(anyhow::anyhow!(what))
}

/// The relying party, or 404 where passkeys are off (a public URL without a host name).
fn relying_party(app: &AppState) -> Result<&webauthn_rs::Webauthn, AppError> {
    app.webauthn.as_deref().ok_or(AppError::NotFound)
}

/// A stored credential as webauthn-rs uses it.
fn open(stored: &StoredPasskey) -> Result<Passkey, AppError> {
    serde_json::from_str(&stored.credential)
        .map_err(|e| internal(format!("stored passkey {}: {e}", stored.id)))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, AppError> {
    serde_json::to_string(value).map_err(|e| internal(format!("passkey state: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, AppError> {
    serde_json::from_str(text).map_err(|e| internal(format!("passkey state: {e}")))
}

/// Stores a ceremony's state; returns the id the browser holds.
fn store_ceremony(
    conn: &mut DbConn,
    purpose: &str,
    user_id: Option<i64>,
    bound_to: Option<String>,
    state: String,
    now: i64,
) -> Result<String, AppError> {
    let id = tokens::generate();
    PasskeyCeremony {
        id_hash: tokens::hash(&id),
        purpose: purpose.to_owned(),
        user_id,
        bound_to,
        state,
        expires_at: now + CEREMONY_SECS,
    }
    .insert(conn)?;
    Ok(id)
}

/// Takes a ceremony of `purpose` for this answer, if it is live and belongs to `user_id` and
/// `bound_to` (when given).
fn take_ceremony(
    conn: &mut DbConn,
    ceremony: &str,
    purpose: &str,
    user_id: Option<i64>,
    bound_to: Option<&str>,
    now: i64,
) -> Result<Option<PasskeyCeremony>, AppError> {
    let Some(id_hash) = tokens::lookup_hash(ceremony) else {
        return Ok(None);
    };
    Ok(PasskeyCeremony::take(
        conn, &id_hash, purpose, user_id, bound_to, now,
    )?)
}

/// Options for `navigator.credentials.get` from webauthn-rs's (for a button, not the
/// browser's autofill: no conditional mediation).
fn request_options(rcr: &impl serde::Serialize) -> Result<Value, AppError> {
    let mut options =
        serde_json::to_value(rcr).map_err(|e| internal(format!("passkey options: {e}")))?;
    if let Some(map) = options.as_object_mut() {
        map.remove("mediation");
    }
    Ok(options)
}

/// What starting to add a passkey found.
#[derive(Debug)]
pub enum RegistrationStart {
    Started(Challenge),
    WrongPassword,
    /// The person has 2FA and this session has not proved it lately.
    ReauthDue,
}

/// Starts adding a passkey: the password (counted as at sign-in) and, with 2FA on, a second
/// factor this session proved lately. The passkey is asked to be discoverable (so it can sign
/// in alone) and to verify the user.
pub async fn start_registration(
    app: &AppState,
    user: &User,
    session: &SessionId,
    reauth_recent: bool,
    password: String,
    origin: &Origin,
) -> Result<RegistrationStart, AppError> {
    relying_party(app)?;
    if user.has_two_factor() && !reauth_recent {
        return Ok(RegistrationStart::ReauthDue);
    }
    if !reauth::confirm_password(app, &app.hasher.admit()?, user, origin, password).await? {
        return Ok(RegistrationStart::WrongPassword);
    }
    let now = crate::now_unix();
    let rp = app.webauthn.clone().ok_or(AppError::NotFound)?;
    let user = user.clone();
    let bound_to = session.hash();
    let challenge = crate::db::write(&app.pool, move |c| {
        let handle = User::passkey_handle(c, user.id)?;
        let handle =
            Uuid::parse_str(&handle).map_err(|e| internal(format!("passkey handle: {e}")))?;
        let mut exclude = Vec::new();
        for stored in StoredPasskey::of_user(c, user.id)? {
            exclude.push(open(&stored)?.cred_id().clone());
        }
        let (ccr, state) = rp
            .start_passkey_registration(handle, &user.email, &user.name, Some(exclude))
            .map_err(|e| internal(format!("passkey registration: {e}")))?;
        let mut options =
            serde_json::to_value(&ccr).map_err(|e| internal(format!("passkey options: {e}")))?;
        // A discoverable credential where the authenticator can keep one: it signs in alone.
        if let Some(selection) = options
            .pointer_mut("/publicKey/authenticatorSelection")
            .and_then(Value::as_object_mut)
        {
            selection.insert("residentKey".into(), "preferred".into());
        }
        let ceremony = store_ceremony(
            c,
            purpose::REGISTER,
            Some(user.id),
            Some(bound_to),
            to_json::<PasskeyRegistration>(&state)?,
            now,
        )?;
        Ok(Challenge { ceremony, options })
    })
    .await?;
    Ok(RegistrationStart::Started(challenge))
}

/// What adding a passkey did.
#[derive(Debug)]
pub enum Registration {
    /// Added. When it was the person's first 2FA method, 2FA is on now: `first` holds the
    /// new recovery codes (shown once) and the session this browser goes on with (every other
    /// session ended).
    Added {
        name: String,
        first: Option<FirstMethod>,
    },
    Refused(Refusal),
}

/// 2FA turned on by a first passkey.
#[derive(Debug)]
pub struct FirstMethod {
    pub codes: Vec<String>,
    pub epoch: i64,
    pub session: SessionId,
}

/// Finishes adding a passkey with the browser's answer.
pub async fn finish_registration(
    app: &AppState,
    user: &User,
    current: SessionId,
    ceremony: String,
    credential: &str,
    name: String,
    origin: Origin,
) -> Result<Registration, AppError> {
    relying_party(app)?;
    let Ok(answer) = serde_json::from_str::<RegisterPublicKeyCredential>(credential) else {
        return Ok(Registration::Refused(Refusal::Invalid));
    };
    let now = crate::now_unix();
    let rp = app.webauthn.clone().ok_or(AppError::NotFound)?;
    let keys = app.keys.clone();
    let lifetime = app.config.sessions;
    let public_url = app.config.public_url.clone();
    let user_id = user.id;
    let (outcome, mails) = crate::db::write(&app.pool, move |c| {
        let bound_to = current.hash();
        let Some(taken) = take_ceremony(
            c,
            &ceremony,
            purpose::REGISTER,
            Some(user_id),
            Some(&bound_to),
            now,
        )?
        else {
            return Ok((Registration::Refused(Refusal::Expired), Vec::new()));
        };
        let state: PasskeyRegistration = from_json(&taken.state)?;
        let passkey = match rp.finish_passkey_registration(&answer, &state) {
            Ok(passkey) => passkey,
            Err(e) => {
                tracing::info!("passkey registration refused: {e}");
                return Ok((Registration::Refused(Refusal::Invalid), Vec::new()));
            }
        };
        let Some(user) = User::find(c, user_id)? else {
            return Ok((Registration::Refused(Refusal::Expired), Vec::new()));
        };
        let first = !user.has_two_factor();
        let stored = NewPasskey {
            user_id,
            credential_id: &credential_key(passkey.cred_id()),
            name: &name,
            credential: &to_json(&passkey)?,
            sign_count: 0,
            created_at: now,
        }
        .insert(c)?;
        if stored.is_none() {
            return Ok((Registration::Refused(Refusal::Duplicate), Vec::new()));
        }
        let first = if first {
            // 2FA is on: five recovery codes, and every other session ends.
            let codes = two_factor::replace_recovery_codes(c, &keys, user_id, now)?;
            let epoch = User::end_all_sessions(c, user_id)?;
            Session::end(c, &current.hash(), now)?;
            let session = sessions::begin(c, user_id, epoch, &origin, &lifetime, now)?;
            origin.record(
                c,
                Entry::own(user.organization_id, user_id, Event::TwoFactorEnabled)
                    .detail("with a passkey"),
                now,
            )?;
            Some(FirstMethod {
                codes,
                epoch,
                session,
            })
        } else {
            None
        };
        origin.record(
            c,
            Entry::own(user.organization_id, user_id, Event::PasskeyAdded).detail(&name),
            now,
        )?;
        let mail = notify::security_alert(
            c,
            &public_url,
            &user,
            &Alert::PasskeyAdded { name: name.clone() },
            &origin,
            now,
        )?;
        Ok((Registration::Added { name, first }, vec![mail]))
    })
    .await?;
    if !mails.is_empty() {
        app.mailer.send_or_log(mails).await;
    }
    Ok(outcome)
}

/// The person's passkeys, oldest first.
pub async fn list(app: &AppState, user_id: i64) -> Result<Vec<StoredPasskey>, AppError> {
    crate::db::run(&app.pool, move |c| Ok(StoredPasskey::of_user(c, user_id)?)).await
}

/// Renames one of the person's passkeys; whether it was theirs.
pub async fn rename(app: &AppState, user_id: i64, id: i64, name: String) -> Result<bool, AppError> {
    crate::db::write(&app.pool, move |c| {
        Ok(StoredPasskey::rename(c, user_id, id, &name)?)
    })
    .await
}

/// What removing a passkey did.
#[derive(Debug)]
pub enum Removal {
    /// Removed; `two_factor_off` with the new epoch when it was the person's last method
    /// (their recovery codes are gone too, every other session ended).
    Removed {
        name: String,
        two_factor_off: Option<i64>,
    },
    NotFound,
    /// It is the last method and the organization requires 2FA.
    Enforced,
    ReauthDue,
}

/// Removes one of the person's passkeys (with a second factor this session proved lately).
/// The last method going is 2FA turned off: refused while the organization requires it.
pub async fn remove(
    app: &AppState,
    user: &User,
    current: Option<SessionId>,
    reauth_recent: bool,
    id: i64,
    origin: Origin,
) -> Result<Removal, AppError> {
    if !reauth_recent {
        return Ok(Removal::ReauthDue);
    }
    let now = crate::now_unix();
    let public_url = app.config.public_url.clone();
    let user_id = user.id;
    let (outcome, mails) = crate::db::write(&app.pool, move |c| {
        let Some(user) = User::find(c, user_id)? else {
            return Ok((Removal::NotFound, Vec::new()));
        };
        let last = !user.has_app() && user.passkey_count <= 1;
        if last
            && Organization::find(c, user.organization_id)?.is_some_and(|o| o.enforce_two_factor)
        {
            return Ok((Removal::Enforced, Vec::new()));
        }
        let Some(name) = StoredPasskey::remove(c, user_id, id)? else {
            return Ok((Removal::NotFound, Vec::new()));
        };
        let mut mails = Vec::new();
        let two_factor_off = if last {
            let epoch = User::end_all_sessions(c, user_id)?;
            if let Some(current) = &current {
                Session::move_to_epoch(c, &current.hash(), epoch)?;
            }
            StoredRecoveryCode::delete_all(c, user_id)?;
            origin.record(
                c,
                Entry::own(user.organization_id, user_id, Event::TwoFactorDisabled)
                    .detail("its last passkey removed"),
                now,
            )?;
            mails.push(notify::security_alert(
                c,
                &public_url,
                &user,
                &Alert::TwoFactorDisabled,
                &origin,
                now,
            )?);
            Some(epoch)
        } else {
            None
        };
        origin.record(
            c,
            Entry::own(user.organization_id, user_id, Event::PasskeyRemoved).detail(&name),
            now,
        )?;
        mails.push(notify::security_alert(
            c,
            &public_url,
            &user,
            &Alert::PasskeyRemoved { name: name.clone() },
            &origin,
            now,
        )?);
        Ok((
            Removal::Removed {
                name,
                two_factor_off,
            },
            mails,
        ))
    })
    .await?;
    if !mails.is_empty() {
        app.mailer.send_or_log(mails).await;
    }
    Ok(outcome)
}

/// A challenge for the passkeys of `user_id`, bound to `bound_to`; `None` when they have
/// none.
async fn challenge_for(
    app: &AppState,
    user_id: i64,
    ceremony_purpose: &'static str,
    bound_to: String,
) -> Result<Option<Challenge>, AppError> {
    let rp = app.webauthn.clone().ok_or(AppError::NotFound)?;
    let now = crate::now_unix();
    crate::db::write(&app.pool, move |c| {
        let mut passkeys = Vec::new();
        for stored in StoredPasskey::of_user(c, user_id)? {
            passkeys.push(open(&stored)?);
        }
        if passkeys.is_empty() {
            return Ok(None);
        }
        let (rcr, state) = rp
            .start_passkey_authentication(&passkeys)
            .map_err(|e| internal(format!("passkey authentication: {e}")))?;
        let options = request_options(&rcr)?;
        let ceremony = store_ceremony(
            c,
            ceremony_purpose,
            Some(user_id),
            Some(bound_to),
            to_json::<PasskeyAuthentication>(&state)?,
            now,
        )?;
        Ok(Some(Challenge { ceremony, options }))
    })
    .await
}

/// A passkey's answer checked against its latest stored state and recorded as a use, in the
/// caller's transaction. On a counter gone backwards the refusal is recorded and the person
/// emailed (`Err` holds that email).
fn check_and_record(
    conn: &mut DbConn,
    public_url: &str,
    user: &User,
    stored: &StoredPasskey,
    verified: Result<webauthn_rs::prelude::AuthenticationResult, WebauthnError>,
    origin: &Origin,
    now: i64,
) -> Result<Result<(), (Refusal, Option<Mail>)>, AppError> {
    let result = match verified {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            return cloned(conn, public_url, user, stored, origin, now);
        }
        Err(e) => {
            tracing::info!("passkey answer refused: {e}");
            return Ok(Err((Refusal::Invalid, None)));
        }
    };
    let counter = i64::from(result.counter());
    // Against the latest use, not the state at the challenge: two challenges may be open.
    if (counter > 0 || stored.sign_count > 0) && counter <= stored.sign_count {
        return cloned(conn, public_url, user, stored, origin, now);
    }
    let mut passkey = open(stored)?;
    passkey.update_credential(&result);
    if !StoredPasskey::record_use(
        conn,
        stored.id,
        stored.sign_count,
        counter,
        &to_json(&passkey)?,
        now,
    )? {
        // Another answer of this passkey was recorded meanwhile with this counter.
        return cloned(conn, public_url, user, stored, origin, now);
    }
    origin.record(
        conn,
        Entry::own(user.organization_id, user.id, Event::PasskeyUsed).detail(&stored.name),
        now,
    )?;
    Ok(Ok(()))
}

fn cloned(
    conn: &mut DbConn,
    public_url: &str,
    user: &User,
    stored: &StoredPasskey,
    origin: &Origin,
    now: i64,
) -> Result<Result<(), (Refusal, Option<Mail>)>, AppError> {
    origin.record(
        conn,
        Entry::about(user.organization_id, user.id, Event::PasskeyRefused).detail(&stored.name),
        now,
    )?;
    let mail = notify::security_alert(
        conn,
        public_url,
        user,
        &Alert::PasskeyCloned {
            name: stored.name.clone(),
        },
        origin,
        now,
    )?;
    Ok(Err((Refusal::Cloned, Some(mail))))
}

/// A challenge for the second factor of a pending sign-in; `None` when the person has no
/// passkey.
pub async fn second_factor_challenge(
    app: &AppState,
    pending: &PendingTwoFactor,
    record: &PendingSignIn,
) -> Result<Option<Challenge>, AppError> {
    challenge_for(
        app,
        record.user_id,
        purpose::SECOND_FACTOR,
        pending.id_hash(),
    )
    .await
}

/// The two-factor step with a passkey instead of a code: counted like a code, and consuming
/// the pending step like one.
pub async fn second_factor_step(
    app: &AppState,
    pending: PendingTwoFactor,
    record: PendingSignIn,
    ceremony: String,
    credential: &str,
    origin: Origin,
) -> Result<TwoFactorStep, AppError> {
    let rp = app.webauthn.clone().ok_or(AppError::NotFound)?;
    let Ok(answer) = serde_json::from_str::<PublicKeyCredential>(credential) else {
        return Ok(TwoFactorStep::PasskeyRefused(Refusal::Invalid));
    };
    let now = crate::now_unix();
    let limits = app.config.limits;
    let attempt = CodeAttempt::new(record.user_id, &origin.address);
    let counting = attempt.clone();
    crate::db::write(&app.pool, move |c| counting.take(c, &limits, now)).await?;
    let public_url = app.config.public_url.clone();
    let lifetime = app.config.sessions;
    let id_hash = pending.id_hash();
    let (outcome, mails) = crate::db::write(&app.pool, move |c| {
        let Some(taken) = take_ceremony(
            c,
            &ceremony,
            purpose::SECOND_FACTOR,
            Some(record.user_id),
            Some(&id_hash),
            now,
        )?
        else {
            return Ok((TwoFactorStep::PasskeyRefused(Refusal::Expired), Vec::new()));
        };
        let user = match User::find(c, record.user_id)? {
            Some(u)
                if u.session_epoch == record.epoch
                    && u.deactivated_at.is_none()
                    && u.has_two_factor() =>
            {
                u
            }
            _ => return Ok((TwoFactorStep::Expired, Vec::new())),
        };
        let key = credential_key(answer.get_credential_id());
        let stored = match StoredPasskey::by_credential_id(c, &key)? {
            Some(stored) if stored.user_id == user.id => stored,
            _ => return Ok((TwoFactorStep::PasskeyRefused(Refusal::Unknown), Vec::new())),
        };
        let state: PasskeyAuthentication = from_json(&taken.state)?;
        let verified = rp.finish_passkey_authentication(&answer, &state);
        if let Err((refusal, mail)) =
            check_and_record(c, &public_url, &user, &stored, verified, &origin, now)?
        {
            return Ok((
                TwoFactorStep::PasskeyRefused(refusal),
                mail.into_iter().collect(),
            ));
        }
        if !PendingSignIn::consume(c, &id_hash, now)? {
            return Err(AppError::SignInRequired);
        }
        let (session, mails) = signed_in(c, &public_url, &user, &origin, &lifetime, now)?;
        attempt.succeeded(c)?;
        Ok((
            TwoFactorStep::SignedIn {
                user_id: user.id,
                epoch: user.session_epoch,
                session,
                via_recovery: false,
                codes_left: 0,
            },
            mails,
        ))
    })
    .await
    .or_else(|e| match e {
        AppError::SignInRequired => Ok((TwoFactorStep::Expired, Vec::new())),
        other => Err(other),
    })?;
    if !mails.is_empty() {
        app.mailer.send_or_log(mails).await;
    }
    Ok(outcome)
}

/// A sign-in that a passkey completed: recorded, with its session and its audit event; the
/// new-browser email if this browser is new to the person.
fn signed_in(
    c: &mut DbConn,
    public_url: &str,
    user: &User,
    origin: &Origin,
    lifetime: &crate::config::SessionLifetime,
    now: i64,
) -> Result<(SessionId, Vec<Mail>), AppError> {
    User::record_sign_in(c, user.id, now)?;
    let session = sessions::begin(c, user.id, user.session_epoch, origin, lifetime, now)?;
    let mails = sessions::note_browser(c, public_url, user, origin, now)?
        .into_iter()
        .collect();
    origin.record(
        c,
        Entry::own(user.organization_id, user.id, Event::SignIn).detail("passkey"),
        now,
    )?;
    Ok((session, mails))
}

/// A challenge for signing in with a passkey alone (a discoverable credential).
pub async fn sign_in_challenge(app: &AppState) -> Result<Challenge, AppError> {
    let rp = app.webauthn.clone().ok_or(AppError::NotFound)?;
    let now = crate::now_unix();
    crate::db::write(&app.pool, move |c| {
        let (rcr, state) = rp
            .start_discoverable_authentication()
            .map_err(|e| internal(format!("passkey authentication: {e}")))?;
        let options = request_options(&rcr)?;
        let ceremony = store_ceremony(
            c,
            purpose::SIGN_IN,
            None,
            None,
            to_json::<DiscoverableAuthentication>(&state)?,
            now,
        )?;
        Ok(Challenge { ceremony, options })
    })
    .await
}

/// What a passkey sign-in found.
#[derive(Debug)]
pub enum PasskeySignIn {
    SignedIn {
        user_id: i64,
        epoch: i64,
        session: SessionId,
    },
    /// The person reported "this wasn't me": a new password first.
    MustResetPassword,
    Refused(Refusal),
}

/// Signs in with a passkey alone: it stands for both the password and the second factor
/// (it proved possession and user verification). Counted like a code for the person, and
/// refused for a deactivated account like a password.
pub async fn sign_in(
    app: &AppState,
    ceremony: String,
    credential: &str,
    origin: Origin,
) -> Result<PasskeySignIn, AppError> {
    let rp = app.webauthn.clone().ok_or(AppError::NotFound)?;
    let Ok(answer) = serde_json::from_str::<PublicKeyCredential>(credential) else {
        return Ok(PasskeySignIn::Refused(Refusal::Invalid));
    };
    let Ok((handle, _)) = rp.identify_discoverable_authentication(&answer) else {
        return Ok(PasskeySignIn::Refused(Refusal::NotRegistered));
    };
    let handle = handle.to_string();
    let now = crate::now_unix();
    let found = handle.clone();
    let Some(user) = crate::db::run(&app.pool, move |c| {
        Ok(User::find_by_passkey_handle(c, &found)?)
    })
    .await?
    else {
        return Ok(PasskeySignIn::Refused(Refusal::NotRegistered));
    };
    let limits = app.config.limits;
    let attempt = CodeAttempt::new(user.id, &origin.address);
    let counting = attempt.clone();
    crate::db::write(&app.pool, move |c| counting.take(c, &limits, now)).await?;
    let public_url = app.config.public_url.clone();
    let lifetime = app.config.sessions;
    let user_id = user.id;
    let (outcome, mails) = crate::db::write(&app.pool, move |c| {
        let Some(taken) = take_ceremony(c, &ceremony, purpose::SIGN_IN, None, None, now)? else {
            return Ok((PasskeySignIn::Refused(Refusal::Expired), Vec::new()));
        };
        let user = match User::find(c, user_id)? {
            Some(u) if u.deactivated_at.is_none() => u,
            _ => return Ok((PasskeySignIn::Refused(Refusal::NotRegistered), Vec::new())),
        };
        let key = credential_key(answer.get_credential_id());
        let stored = match StoredPasskey::by_credential_id(c, &key)? {
            Some(stored) if stored.user_id == user.id => stored,
            _ => return Ok((PasskeySignIn::Refused(Refusal::NotRegistered), Vec::new())),
        };
        let state: DiscoverableAuthentication = from_json(&taken.state)?;
        let passkey = open(&stored)?;
        let verified = rp.finish_discoverable_authentication_v2(&answer, state, &passkey);
        if let Err((refusal, mail)) =
            check_and_record(c, &public_url, &user, &stored, verified, &origin, now)?
        {
            return Ok((PasskeySignIn::Refused(refusal), mail.into_iter().collect()));
        }
        if user.must_reset_password {
            attempt.succeeded(c)?;
            return Ok((PasskeySignIn::MustResetPassword, Vec::new()));
        }
        let (session, mails) = signed_in(c, &public_url, &user, &origin, &lifetime, now)?;
        attempt.succeeded(c)?;
        Ok((
            PasskeySignIn::SignedIn {
                user_id: user.id,
                epoch: user.session_epoch,
                session,
            },
            mails,
        ))
    })
    .await?;
    if !mails.is_empty() {
        app.mailer.send_or_log(mails).await;
    }
    Ok(outcome)
}

/// A challenge for proving the second factor again with a passkey; `None` without one.
pub async fn reauth_challenge(
    app: &AppState,
    user: &User,
    session: &SessionId,
) -> Result<Option<Challenge>, AppError> {
    challenge_for(app, user.id, purpose::REAUTH, session.hash()).await
}

/// Proves the second factor again with a passkey (counted like a code); the caller's session
/// notes it.
pub async fn reauth(
    app: &AppState,
    user: &User,
    session: &SessionId,
    ceremony: String,
    credential: &str,
    origin: Origin,
) -> Result<Result<(), Refusal>, AppError> {
    let rp = app.webauthn.clone().ok_or(AppError::NotFound)?;
    let Ok(answer) = serde_json::from_str::<PublicKeyCredential>(credential) else {
        return Ok(Err(Refusal::Invalid));
    };
    let now = crate::now_unix();
    let limits = app.config.limits;
    let attempt = CodeAttempt::new(user.id, &origin.address);
    let counting = attempt.clone();
    crate::db::write(&app.pool, move |c| counting.take(c, &limits, now)).await?;
    let public_url = app.config.public_url.clone();
    let bound_to = session.hash();
    let user = user.clone();
    let (outcome, mails) = crate::db::write(&app.pool, move |c| {
        let Some(taken) = take_ceremony(
            c,
            &ceremony,
            purpose::REAUTH,
            Some(user.id),
            Some(&bound_to),
            now,
        )?
        else {
            return Ok((Err(Refusal::Expired), Vec::new()));
        };
        let key = credential_key(answer.get_credential_id());
        let stored = match StoredPasskey::by_credential_id(c, &key)? {
            Some(stored) if stored.user_id == user.id => stored,
            _ => return Ok((Err(Refusal::Unknown), Vec::new())),
        };
        let state: PasskeyAuthentication = from_json(&taken.state)?;
        let verified = rp.finish_passkey_authentication(&answer, &state);
        if let Err((refusal, mail)) =
            check_and_record(c, &public_url, &user, &stored, verified, &origin, now)?
        {
            return Ok((Err(refusal), mail.into_iter().collect()));
        }
        attempt.succeeded(c)?;
        Ok((Ok(()), Vec::new()))
    })
    .await?;
    if !mails.is_empty() {
        app.mailer.send_or_log(mails).await;
    }
    Ok(outcome)
}

/// A passkey's name as the person typed it: trimmed, at most [`NAME_MAX_CHARS`], no control
/// characters; "Passkey" when left empty.
pub fn parse_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.chars().any(char::is_control) {
        return Err("Use letters, digits and punctuation in the name.".into());
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(format!("Keep the name to {NAME_MAX_CHARS} characters."));
    }
    Ok(if name.is_empty() {
        "Passkey".into()
    } else {
        name.to_owned()
    })
}
