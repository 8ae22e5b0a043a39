//! A person's own account: creating an organization with its owner, changing the password,
//! and choosing a new one through an emailed link.

use crate::audit::{Entry, Origin};
use crate::auth::session::SessionId;
use crate::auth::throttle::{ResetRequest, SignUpAttempt};
use crate::auth::tokens;
use crate::db::DbConn;
use crate::db::models::{
    KnownBrowser, NewOrganization, NewPasswordReset, NewUser, PasswordReset, Session, User,
};
use crate::domain::{Email, Event, OrganizationName, Password, PersonName, Role};
use crate::error::AppError;
use crate::mail::Mail;
use crate::notify::{self, Alert, ResetReason};
use crate::ops::reauth::{self, ReauthRefused, Reauthenticated, SecondFactor};
use crate::ops::sessions;
use crate::state::AppState;

/// A new organization and its owner, as the sign-up page or the operator asks for them.
pub struct NewOrganizationRequest {
    pub organization: OrganizationName,
    pub owner_name: PersonName,
    pub email: Email,
    pub password: Password,
    /// Whether the owner is signed in by this (the sign-up page), which counts as their
    /// first sign-in; the operator's command only creates the account.
    pub signs_in: bool,
}

/// What creating an organization found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignUp {
    /// Created; `session` is the owner's new session when the request signs them in.
    Created {
        organization_id: i64,
        user_id: i64,
        session: Option<SessionId>,
    },
    /// Someone already has an account with this email.
    EmailTaken,
}

/// Creates an organization and its owner in one transaction, with the audit event.
pub async fn sign_up(
    app: &AppState,
    request: NewOrganizationRequest,
    origin: Origin,
) -> Result<SignUp, AppError> {
    let NewOrganizationRequest {
        organization,
        owner_name,
        email,
        password,
        signs_in,
    } = request;
    // A place in the bcrypt line, then the client address's sign-up budget, both before
    // anything else: refused at either, nothing is created.
    let admission = app.hasher.admit()?;
    let now = crate::now_unix();
    if signs_in {
        // From the sign-up page (the operator's command line is not limited).
        let limits = app.config.limits;
        let attempt = SignUpAttempt::new(&origin.address);
        crate::db::write(&app.pool, move |c| attempt.take(c, &limits, now)).await?;
    }
    let password_hash = app.hasher.hash(&admission, password).await?;
    let lifetime = app.config.sessions;
    crate::db::write(&app.pool, move |c| {
        if User::email_taken(c, email.as_str())? {
            return Ok(SignUp::EmailTaken);
        }
        let organization_id = NewOrganization {
            name: organization.as_str(),
            created_at: now,
        }
        .insert(c)?;
        let user_id = NewUser {
            organization_id,
            email: email.as_str(),
            name: owner_name.as_str(),
            password_hash: &password_hash,
            role: Role::Owner,
            created_at: now,
        }
        .insert(c)?;
        let session = if signs_in {
            User::record_sign_in(c, user_id, now)?;
            // The browser that created the account is one its owner knows.
            if let Some(browser) = &origin.browser {
                KnownBrowser::remember(c, user_id, browser, now)?;
            }
            Some(sessions::begin(c, user_id, 0, &origin, &lifetime, now)?)
        } else {
            None
        };
        origin.record(
            c,
            Entry::own(organization_id, user_id, Event::OrganizationCreated)
                .detail(organization.as_str()),
            now,
        )?;
        Ok(SignUp::Created {
            organization_id,
            user_id,
            session,
        })
    })
    .await
}

/// How long a password-reset link works.
pub const RESET_LINK_TTL_SECS: i64 = 60 * 60;

/// Makes a password-reset link for a person, inside the caller's transaction, and the email
/// that carries it (to be sent after the commit). Only the newest link works: the person's
/// older ones are retired.
pub(crate) fn reset_link(
    conn: &mut DbConn,
    public_url: &str,
    user: &User,
    why: ResetReason,
    now: i64,
) -> Result<Mail, AppError> {
    PasswordReset::spend_all_of(conn, user.id, now)?;
    let token = tokens::generate();
    NewPasswordReset {
        user_id: user.id,
        token_hash: &tokens::hash(&token),
        created_at: now,
        expires_at: now + RESET_LINK_TTL_SECS,
    }
    .insert(conn)?;
    notify::password_reset(public_url, user, &token, why, now + RESET_LINK_TTL_SECS)
}

/// Who sends a person a link to choose a new password.
#[derive(Debug, Clone, Copy)]
pub enum ResetSender<'a> {
    /// An admin or the owner, from the people table.
    Admin(&'a User),
    /// An operator, from the command line.
    Operator,
}

/// A reset link sent to someone.
#[derive(Debug)]
pub struct ResetSent {
    pub name: String,
    pub email: String,
    /// Why the email could not be sent, if it could not (the link exists all the same).
    pub email_error: Option<String>,
}

/// Sends an active person a link to choose a new password, on someone else's behalf (the
/// caller checked that they may). Counted against the person's mailbox like their own
/// requests, recorded in the audit log; nothing else changes until the link is used.
pub async fn send_password_reset(
    app: &AppState,
    target: &User,
    sender: ResetSender<'_>,
    origin: Origin,
) -> Result<ResetSent, AppError> {
    if target.deactivated_at.is_some() {
        return Err(AppError::Unprocessable(format!(
            "{} is deactivated: reactivate them first.",
            target.name
        )));
    }
    let now = crate::now_unix();
    let limits = app.config.limits;
    let public_url = app.config.public_url.clone();
    let attempt = ResetRequest::sent_to(&target.email);
    let (actor_id, why, detail) = match sender {
        ResetSender::Admin(admin) => (
            Some(admin.id),
            ResetReason::SentBy(admin.name.clone()),
            format!("sent by {}", admin.name),
        ),
        ResetSender::Operator => (None, ResetReason::Operator, "sent by an operator".into()),
    };
    let person = target.clone();
    let mail = crate::db::write(&app.pool, move |c| {
        attempt.take(c, &limits, now)?;
        let mail = reset_link(c, &public_url, &person, why, now)?;
        let entry = match actor_id {
            Some(actor_id) => Entry::by(
                person.organization_id,
                actor_id,
                Some(person.id),
                Event::PasswordResetRequested,
            ),
            None => Entry::about(
                person.organization_id,
                person.id,
                Event::PasswordResetRequested,
            ),
        };
        origin.record(c, entry.detail(&detail), now)?;
        Ok(mail)
    })
    .await?;
    let email_error = match app.mailer.send(vec![mail]).await {
        Ok(()) => None,
        Err(e) => {
            tracing::error!(error = ?e, "sending a password-reset link failed");
            Some(format!("{e:#}"))
        }
    };
    Ok(ResetSent {
        name: target.name.clone(),
        email: target.email.clone(),
        email_error,
    })
}

/// The person with this email, for the operator's commands.
pub async fn find_by_email(app: &AppState, email: Email) -> Result<Option<User>, AppError> {
    crate::db::run(&app.pool, move |c| {
        Ok(User::find_by_email(c, email.as_str())?)
    })
    .await
}

/// What changing the password found.
#[derive(Debug)]
pub enum PasswordChange {
    /// Changed; every other session ended. The caller's session goes on as `session`, a new
    /// identity in the person's new `epoch`.
    Done {
        epoch: i64,
        session: SessionId,
        reauthenticated: Reauthenticated,
    },
    WrongPassword,
    /// The new password is the current one.
    Unchanged,
    Refused(ReauthRefused),
}

/// Changes a signed-in person's password: the current one (counted like a sign-in's), the
/// second factor when due, then the new hash; every other session ends on every instance,
/// this one goes on under a new identity, open reset links stop working, and the person is
/// emailed.
pub async fn change_password(
    app: &AppState,
    user: &User,
    current_session: Option<SessionId>,
    current_password: String,
    new_password: Password,
    second_factor: SecondFactor,
    origin: Origin,
) -> Result<PasswordChange, AppError> {
    // Two fields of the form compared, before anything is checked or counted.
    if current_password == new_password.expose() {
        return Ok(PasswordChange::Unchanged);
    }
    // One place in the bcrypt line for both the check and the new hash, taken first.
    let admission = app.hasher.admit()?;
    if !reauth::confirm_password(app, &admission, user, &origin, current_password).await? {
        return Ok(PasswordChange::WrongPassword);
    }
    let reauthenticated = match reauth::second_factor(app, user, second_factor, &origin).await? {
        Ok(done) => done,
        Err(refused) => return Ok(PasswordChange::Refused(refused)),
    };
    let hash = app.hasher.hash(&admission, new_password).await?;
    let now = crate::now_unix();
    let lifetime = app.config.sessions;
    let public_url = app.config.public_url.clone();
    let user = user.clone();
    let (epoch, session, mail) = crate::db::write(&app.pool, move |c| {
        let epoch = User::set_new_password(c, user.id, &hash)?;
        if let Some(current) = &current_session {
            Session::end(c, &current.hash(), now)?;
        }
        PasswordReset::spend_all_of(c, user.id, now)?;
        let session = sessions::begin(c, user.id, epoch, &origin, &lifetime, now)?;
        origin.record(
            c,
            Entry::own(user.organization_id, user.id, Event::PasswordChanged),
            now,
        )?;
        let mail =
            notify::security_alert(c, &public_url, &user, &Alert::PasswordChanged, &origin, now)?;
        Ok((epoch, session, mail))
    })
    .await?;
    app.mailer.send_or_log(vec![mail]).await;
    Ok(PasswordChange::Done {
        epoch,
        session,
        reauthenticated,
    })
}

/// Asks for a link to choose a new password. Limited per client address and per email (an
/// unknown email counted like a known one); whatever the address, the caller answers the same.
/// An active account gets the link by email, sent after the answer so that a known address
/// takes no longer than an unknown one.
pub async fn request_password_reset(
    app: &AppState,
    email: Email,
    origin: Origin,
) -> Result<(), AppError> {
    let now = crate::now_unix();
    let limits = app.config.limits;
    let public_url = app.config.public_url.clone();
    let attempt = ResetRequest::new(email.as_str(), &origin.address);
    let mail = crate::db::write(&app.pool, move |c| {
        attempt.take(c, &limits, now)?;
        let Some(user) = User::find_by_email(c, email.as_str())? else {
            return Ok(None);
        };
        if user.deactivated_at.is_some() {
            return Ok(None);
        }
        let mail = reset_link(c, &public_url, &user, ResetReason::Asked, now)?;
        origin.record(
            c,
            Entry::about(user.organization_id, user.id, Event::PasswordResetRequested)
                .detail("from the sign-in page"),
            now,
        )?;
        Ok(Some(mail))
    })
    .await?;
    if let Some(mail) = mail {
        let mailer = app.mailer.clone();
        actix_web::rt::spawn(async move { mailer.send_or_log(vec![mail]).await });
    }
    Ok(())
}

/// The reset link a token names, whatever its state; `None` for text that is no token or a
/// token that names nothing.
pub async fn find_reset(app: &AppState, token: &str) -> Result<Option<PasswordReset>, AppError> {
    let Some(token_hash) = tokens::lookup_hash(token) else {
        return Ok(None);
    };
    crate::db::run(&app.pool, move |c| {
        Ok(PasswordReset::find_by_hash(c, &token_hash)?)
    })
    .await
}

/// What using a reset link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reset {
    /// The password is set; every session ended. Nobody is signed in, and 2FA is as it was.
    Done,
    /// Used, replaced or expired meanwhile.
    LinkUnusable,
}

/// Sets a new password through an emailed link: the link is spent (once), every session of
/// the person ends, their other links stop working, and they are emailed. It never signs
/// anyone in and never touches 2FA: the next sign-in still asks for the second factor, so a
/// mailbox alone is not the account.
pub async fn reset_password(
    app: &AppState,
    reset: &PasswordReset,
    new_password: Password,
    origin: Origin,
) -> Result<Reset, AppError> {
    let admission = app.hasher.admit()?;
    let hash = app.hasher.hash(&admission, new_password).await?;
    let now = crate::now_unix();
    let public_url = app.config.public_url.clone();
    let reset = reset.clone();
    let mail = crate::db::write(&app.pool, move |c| {
        if !PasswordReset::spend(c, reset.id, now)? {
            return Ok(None);
        }
        let Some(user) = User::find(c, reset.user_id)? else {
            return Ok(None);
        };
        User::set_new_password(c, user.id, &hash)?;
        PasswordReset::spend_all_of(c, user.id, now)?;
        origin.record(
            c,
            Entry::about(user.organization_id, user.id, Event::PasswordReset),
            now,
        )?;
        Ok(Some(notify::security_alert(
            c,
            &public_url,
            &user,
            &Alert::PasswordReset,
            &origin,
            now,
        )?))
    })
    .await?;
    match mail {
        None => Ok(Reset::LinkUnusable),
        Some(mail) => {
            app.mailer.send_or_log(vec![mail]).await;
            Ok(Reset::Done)
        }
    }
}
