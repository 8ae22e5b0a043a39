//! The emails Twofold sends people: invitations, the notice that 2FA is now required, and
//! security alerts about their own account. A security alert carries a "this wasn't me" link
//! whose token is stored (hashed) in the transaction of the change it reports, so a link
//! exists exactly when the change was made.

use askama::Template;

use crate::audit::Origin;
use crate::auth::tokens;
use crate::db::DbConn;
use crate::db::models::{NewAlertToken, User};
use crate::domain::Event;
use crate::error::AppError;
use crate::format;
use crate::mail::Mail;

/// How long a "this wasn't me" link works.
pub const ALERT_LINK_TTL_SECS: i64 = 14 * 24 * 60 * 60;

/// What happened to a person's account.
#[derive(Debug, Clone)]
pub enum Alert {
    TwoFactorEnabled,
    TwoFactorMoved,
    TwoFactorDisabled,
    /// An operator turned 2FA off from the command line.
    TwoFactorReset,
    RecoveryCodeUsed {
        left: i64,
    },
    /// The owner issued new recovery codes: the email is the only place they are shown.
    CodesIssued {
        by: String,
        codes: Vec<String>,
    },
    /// The person regenerated their recovery codes.
    CodesRegenerated,
    /// So many wrong passwords were tried for the account, from all addresses together, that
    /// password sign-ins to it are paused for a while.
    PasswordGuessing {
        paused_secs: i64,
    },
    /// The person changed their password (signed in).
    PasswordChanged,
    /// A new password was chosen through an emailed link.
    PasswordReset,
    /// A sign-in from a browser this person had not used before.
    NewBrowser {
        browser: String,
    },
    /// The person became the organization's owner.
    OwnershipReceived {
        from: String,
        organization: String,
    },
    /// The person handed the organization's ownership over and is an admin now.
    OwnershipHandedOver {
        to: String,
        organization: String,
    },
    /// An admin or the owner made the deactivated person's account active again.
    Reactivated {
        by: String,
    },
    PasskeyAdded {
        name: String,
    },
    PasskeyRemoved {
        name: String,
    },
    /// A sign-in with a passkey whose signature counter went backwards was refused.
    PasskeyCloned {
        name: String,
    },
}

impl Alert {
    /// The audit event the alert reports.
    fn event(&self) -> Event {
        match self {
            Self::TwoFactorEnabled => Event::TwoFactorEnabled,
            Self::TwoFactorMoved => Event::TwoFactorMoved,
            Self::TwoFactorDisabled => Event::TwoFactorDisabled,
            Self::TwoFactorReset => Event::TwoFactorReset,
            Self::RecoveryCodeUsed { .. } => Event::RecoveryCodeUsed,
            Self::CodesIssued { .. } => Event::RecoveryCodesIssued,
            Self::CodesRegenerated => Event::RecoveryCodesRegenerated,
            Self::PasswordGuessing { .. } => Event::PasswordSignInsPaused,
            Self::PasswordChanged => Event::PasswordChanged,
            Self::PasswordReset => Event::PasswordReset,
            Self::NewBrowser { .. } => Event::SignIn,
            Self::OwnershipReceived { .. } | Self::OwnershipHandedOver { .. } => {
                Event::OwnershipTransferred
            }
            Self::Reactivated { .. } => Event::Reactivated,
            Self::PasskeyAdded { .. } => Event::PasskeyAdded,
            Self::PasskeyRemoved { .. } => Event::PasskeyRemoved,
            Self::PasskeyCloned { .. } => Event::PasskeyRefused,
        }
    }

    fn subject(&self) -> &'static str {
        match self {
            Self::TwoFactorEnabled => "Two-factor authentication is on",
            Self::TwoFactorMoved => "Your two-factor authentication moved to a new app",
            Self::TwoFactorDisabled | Self::TwoFactorReset => "Two-factor authentication is off",
            Self::RecoveryCodeUsed { .. } => "A recovery code was used to sign in",
            Self::CodesIssued { .. } => "Your new recovery codes",
            Self::CodesRegenerated => "Your recovery codes were regenerated",
            Self::PasswordGuessing { .. } => "Someone is trying to guess your password",
            Self::PasswordChanged => "Your password was changed",
            Self::PasswordReset => "Your password was reset",
            Self::NewBrowser { .. } => "A sign-in from a new browser",
            Self::OwnershipReceived { .. } => "You are now the owner of your organization",
            Self::OwnershipHandedOver { .. } => {
                "You handed over the ownership of your organization"
            }
            Self::Reactivated { .. } => "Your account is active again",
            Self::PasskeyAdded { .. } => "A passkey was added to your account",
            Self::PasskeyRemoved { .. } => "A passkey was removed from your account",
            Self::PasskeyCloned { .. } => "A sign-in with a copy of your passkey was refused",
        }
    }

    fn what(&self) -> String {
        match self {
            Self::TwoFactorEnabled => {
                "Two-factor authentication was turned on for your Twofold account.".into()
            }
            Self::TwoFactorMoved => "Your Twofold account's two-factor authentication was moved \
                 to a new authenticator app; the old app's codes no longer work."
                .into(),
            Self::TwoFactorDisabled => {
                "Two-factor authentication was turned off for your Twofold account.".into()
            }
            Self::TwoFactorReset => "An operator of this Twofold server turned two-factor \
                 authentication off for your account and deleted your recovery codes."
                .into(),
            Self::RecoveryCodeUsed { left } => format!(
                "One of your recovery codes was used to sign in to your Twofold account. \
                 You have {left} unused recovery code{} left.",
                if *left == 1 { "" } else { "s" }
            ),
            Self::CodesIssued { by, .. } => format!(
                "{by}, the owner of your organization, generated five new recovery codes \
                 for your Twofold account."
            ),
            Self::CodesRegenerated => "Five new recovery codes were generated for your \
                 Twofold account; your previous codes no longer work."
                .into(),
            Self::PasswordGuessing { paused_secs } => format!(
                "Many wrong passwords were tried for your Twofold account, from several \
                 places. To stop the guessing, signing in with a password is paused for {}. \
                 If you have two-factor authentication on, the guesser still needs your \
                 second factor; consider changing your password.",
                crate::format::wait(*paused_secs)
            ),
            Self::PasswordChanged => "The password of your Twofold account was changed, and \
                 every other session of yours was signed out."
                .into(),
            Self::PasswordReset => "A new password was chosen for your Twofold account through \
                 a link we emailed you, and every session of yours was signed out. Your \
                 two-factor authentication is unchanged."
                .into(),
            Self::NewBrowser { browser } => format!(
                "Your Twofold account was signed in from a browser it had not been used in \
                 before: {browser}."
            ),
            Self::OwnershipReceived { from, organization } => format!(
                "{from} handed the ownership of {organization} over to you: you are its owner \
                 now, and {from} is an admin."
            ),
            Self::OwnershipHandedOver { to, organization } => format!(
                "You handed the ownership of {organization} over to {to}, who is its owner now; \
                 you are an admin."
            ),
            Self::Reactivated { by } => format!(
                "{by} made your Twofold account active again: you can sign in as before, with \
                 your password and your two-factor authentication."
            ),
            Self::PasskeyAdded { name } => format!(
                "A passkey named \"{name}\" was added to your Twofold account: it can sign you \
                 in on its own, and stands for your second factor."
            ),
            Self::PasskeyRemoved { name } => format!(
                "The passkey named \"{name}\" was removed from your Twofold account; it no \
                 longer signs you in."
            ),
            Self::PasskeyCloned { name } => format!(
                "A sign-in to your Twofold account with your passkey \"{name}\" was refused: \
                 the passkey's signature counter went backwards, which happens when it was \
                 copied. If you did not try to sign in just now, remove that passkey in \
                 Settings › Passkeys and change your password."
            ),
        }
    }
}

#[derive(Template)]
#[template(path = "email/security_alert.txt")]
struct SecurityAlertText<'a> {
    name: &'a str,
    what: String,
    codes: &'a [String],
    sign_in_link: String,
    when: String,
    address: &'a str,
    browser: &'a str,
    not_me_link: String,
}

/// Prepares a security alert to `user` and stores its "this wasn't me" token. Call it inside
/// the transaction of the change it reports; send the email after the commit.
pub fn security_alert(
    conn: &mut DbConn,
    public_url: &str,
    user: &User,
    alert: &Alert,
    origin: &Origin,
    now: i64,
) -> Result<Mail, AppError> {
    let token = tokens::generate();
    NewAlertToken {
        user_id: user.id,
        token_hash: &tokens::hash(&token),
        event: alert.event(),
        created_at: now,
        expires_at: now + ALERT_LINK_TTL_SECS,
    }
    .insert(conn)?;
    let codes: &[String] = match alert {
        Alert::CodesIssued { codes, .. } => codes,
        _ => &[],
    };
    let body = SecurityAlertText {
        name: &user.name,
        what: alert.what(),
        codes,
        sign_in_link: format!("{public_url}/login"),
        when: format::time(now),
        address: &origin.address,
        browser: &origin.user_agent,
        not_me_link: format!("{public_url}/account/not-me/{token}"),
    }
    .render()?;
    Ok(Mail {
        to_name: user.name.clone(),
        to_address: user.email.clone(),
        subject: alert.subject().into(),
        body,
    })
}

/// Why a password-reset link was sent.
#[derive(Debug, Clone)]
pub enum ResetReason {
    /// The person asked for it on the forgotten-password page.
    Asked,
    /// An admin or the owner sent it from the people table.
    SentBy(String),
    /// An operator sent it from the command line.
    Operator,
    /// The person reported "this wasn't me": a new password is required.
    Required,
}

#[derive(Template)]
#[template(path = "email/password_reset.txt")]
struct PasswordResetText<'a> {
    name: &'a str,
    why: String,
    link: String,
    expires: String,
}

/// The email with a link to choose a new password.
pub fn password_reset(
    public_url: &str,
    user: &User,
    token: &str,
    why: ResetReason,
    expires_at: i64,
) -> Result<Mail, AppError> {
    let why = match why {
        ResetReason::Asked => "Someone (we hope you) asked to choose a new password for your \
                               Twofold account."
            .to_owned(),
        ResetReason::SentBy(name) => format!(
            "{name}, who manages your organization's people, sent you this link to choose a \
             new password for your Twofold account."
        ),
        ResetReason::Operator => "An operator of this Twofold server sent you this link to \
                                  choose a new password for your Twofold account."
            .to_owned(),
        ResetReason::Required => "You reported that a change to your Twofold account wasn't \
                                  you: every session of yours is signed out, and you need a new \
                                  password before you can sign in again."
            .to_owned(),
    };
    let body = PasswordResetText {
        name: &user.name,
        why,
        link: format!("{public_url}/password/reset/{token}"),
        expires: format::time(expires_at),
    }
    .render()?;
    Ok(Mail {
        to_name: user.name.clone(),
        to_address: user.email.clone(),
        subject: "Choose a new password".into(),
        body,
    })
}

#[derive(Template)]
#[template(path = "email/owner_not_me.txt")]
struct OwnerNotMeText<'a> {
    owner: &'a str,
    person: &'a str,
    email: &'a str,
    what: &'a str,
    when: String,
    audit_log: String,
}

/// Tells an organization's owner that one of its people reported "this wasn't me".
pub fn owner_told_of_not_me(
    public_url: &str,
    owner: &User,
    person: &User,
    what: Event,
    now: i64,
) -> Result<Mail, AppError> {
    let body = OwnerNotMeText {
        owner: &owner.name,
        person: &person.name,
        email: &person.email,
        what: what.describe(),
        when: format::time(now),
        audit_log: format!("{public_url}/settings/audit-log?person={}", person.id),
    }
    .render()?;
    Ok(Mail {
        to_name: owner.name.clone(),
        to_address: owner.email.clone(),
        subject: format!("{} reported a change they did not make", person.name),
        body,
    })
}

#[derive(Template)]
#[template(path = "email/invitation.txt")]
struct InvitationText<'a> {
    name: &'a str,
    inviter: &'a str,
    organization: &'a str,
    role: &'a str,
    link: String,
    expires: String,
}

/// What an invitation email says.
pub struct InvitationEmail<'a> {
    pub public_url: &'a str,
    pub token: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub role: &'a str,
    pub inviter: &'a str,
    pub organization: &'a str,
    pub expires_at: i64,
}

#[derive(Template)]
#[template(path = "email/invitation_existing_account.txt")]
struct InvitationExistingAccountText<'a> {
    name: &'a str,
    inviter: &'a str,
    organization: &'a str,
    role: &'a str,
    sign_in_link: String,
}

/// The email to an invited address that already has an account (in another organization):
/// it has no link. The inviter's page answers exactly as for any invitation, so that inviting
/// does not tell who has an account; only the address's owner learns of it.
pub fn invitation_to_existing_account(invitation: &InvitationEmail<'_>) -> Result<Mail, AppError> {
    let body = InvitationExistingAccountText {
        name: invitation.name,
        inviter: invitation.inviter,
        organization: invitation.organization,
        role: invitation.role,
        sign_in_link: format!("{}/login", invitation.public_url),
    }
    .render()?;
    Ok(Mail {
        to_name: invitation.name.to_owned(),
        to_address: invitation.email.to_owned(),
        subject: format!("Join {} on Twofold", invitation.organization),
        body,
    })
}

/// The invitation email with its link.
pub fn invitation(invitation: &InvitationEmail<'_>) -> Result<Mail, AppError> {
    let body = InvitationText {
        name: invitation.name,
        inviter: invitation.inviter,
        organization: invitation.organization,
        role: invitation.role,
        link: format!("{}/invitations/{}", invitation.public_url, invitation.token),
        expires: format::time(invitation.expires_at),
    }
    .render()?;
    Ok(Mail {
        to_name: invitation.name.to_owned(),
        to_address: invitation.email.to_owned(),
        subject: format!("Join {} on Twofold", invitation.organization),
        body,
    })
}

#[derive(Template)]
#[template(path = "email/two_factor_required.txt")]
struct TwoFactorRequiredText<'a> {
    name: &'a str,
    organization: &'a str,
    sign_in_link: String,
}

/// The notice that the organization now requires 2FA.
pub fn two_factor_required(
    public_url: &str,
    name: &str,
    email: &str,
    organization: &str,
) -> Result<Mail, AppError> {
    let body = TwoFactorRequiredText {
        name,
        organization,
        sign_in_link: format!("{public_url}/login"),
    }
    .render()?;
    Ok(Mail {
        to_name: name.to_owned(),
        to_address: email.to_owned(),
        subject: format!("{organization} now requires two-factor authentication"),
        body,
    })
}
