//! Invitations: an admin invites someone by email (a link that works once, for 7 days, stored
//! only as a hash), resends or revokes it; the invitee accepts it and joins.

use crate::audit::{Entry, Origin};
use crate::auth::tokens;
use crate::db::DbConn;
use crate::db::models::{Invitation, NewInvitation, NewUser, Organization, User};
use crate::domain::{Email, Event, Password, PersonName, Role};
use crate::error::AppError;
use crate::notify::{self, InvitationEmail};
use crate::policy::{self, Actor};
use crate::state::AppState;

/// How long an invitation link works.
pub const INVITATION_TTL_SECS: i64 = 7 * 24 * 60 * 60;

/// Who is invited, as the form gave them.
pub struct InvitationRequest {
    pub name: PersonName,
    pub email: Email,
    pub role: Role,
}

/// What inviting did.
#[derive(Debug)]
pub enum Invite {
    /// Saved; `email_error` says why the email could not be sent, if it could not.
    Sent { email_error: Option<String> },
    /// Refused, with the reason to show beside the email field.
    Refused(&'static str),
}

/// The email for an invitation with a fresh token: its link, or, for an address that has an
/// account elsewhere, no link and word that it cannot be accepted.
fn invitation_email(
    app: &AppState,
    inviter: &User,
    organization: &Organization,
    (token, elsewhere): (&str, bool),
    invitation: (&str, &str, Role),
    expires_at: i64,
) -> Result<crate::mail::Mail, AppError> {
    let (name, email, role) = invitation;
    let write = if elsewhere {
        notify::invitation_to_existing_account
    } else {
        notify::invitation
    };
    write(&InvitationEmail {
        public_url: &app.config.public_url,
        token,
        name,
        email,
        role: match role {
            Role::Admin => "an admin",
            _ => "a member",
        },
        inviter: &inviter.name,
        organization: &organization.name,
        expires_at,
    })
}

/// Sends a mail, returning why it failed instead of failing: the change it reports stands.
async fn send(app: &AppState, mail: crate::mail::Mail) -> Option<String> {
    match app.mailer.send(vec![mail]).await {
        Ok(()) => None,
        Err(e) => {
            tracing::error!(error = ?e, "sending an invitation failed");
            Some(format!("{e:#}"))
        }
    }
}

/// Invites someone to the inviter's organization and emails them the link.
pub async fn invite(
    app: &AppState,
    inviter: &User,
    organization: &Organization,
    request: InvitationRequest,
    origin: Origin,
) -> Result<Invite, AppError> {
    policy::may_invite(Actor::from(inviter), request.role)?;
    let token = tokens::generate();
    let token_hash = tokens::hash(&token);
    let now = crate::now_unix();
    let expires_at = now + INVITATION_TTL_SECS;
    let (organization_id, inviter_id) = (organization.id, inviter.id);
    let (invited_name, invited_email, role) = (
        request.name.as_str().to_owned(),
        request.email.as_str().to_owned(),
        request.role,
    );
    let refused_or_elsewhere =
        crate::db::write(&app.pool, move |c| {
            // Someone of this organization: the admin sees them in the table anyway.
            let existing = User::find_by_email(c, &invited_email)?;
            if existing
                .as_ref()
                .is_some_and(|u| u.organization_id == organization_id)
            {
                return Ok(Err("This person is already in your organization."));
            }
            if Invitation::is_open_for(c, organization_id, &invited_email)? {
                return Ok(Err(
                    "This email already has a pending invitation: resend it below.",
                ));
            }
            let id = NewInvitation {
                organization_id,
                email: &invited_email,
                name: &invited_name,
                role,
                token_hash: &token_hash,
                invited_by: Some(inviter_id),
                created_at: now,
                expires_at,
            }
            .insert(c)?;
            origin.record(
                c,
                Entry::by(organization_id, inviter_id, None, Event::InvitationSent)
                    .detail(&format!("{} as {} (#{id})", invited_email, role.as_str())),
                now,
            )?;
            Ok(Ok(existing.is_some()))
        })
        .await?;
    // An address with an account in another organization is invited like any other (the
    // invitation is listed, can be resent and revoked), so that inviting tells nobody who has
    // an account; only its email differs, and has no link.
    let elsewhere = match refused_or_elsewhere {
        Err(reason) => return Ok(Invite::Refused(reason)),
        Ok(elsewhere) => elsewhere,
    };
    let mail = invitation_email(
        app,
        inviter,
        organization,
        (&token, elsewhere),
        (request.name.as_str(), request.email.as_str(), request.role),
        expires_at,
    )?;
    Ok(Invite::Sent {
        email_error: send(app, mail).await,
    })
}

/// The invitation with this id in this organization: 404 for anyone else's.
pub async fn find_in_organization(
    app: &AppState,
    organization_id: i64,
    id: i64,
) -> Result<Invitation, AppError> {
    crate::db::run(&app.pool, move |c| {
        Ok(Invitation::find_in_organization(c, organization_id, id)?)
    })
    .await?
    .ok_or(AppError::NotFound)
}

fn no_longer_open(invitation: &Invitation) -> AppError {
    AppError::Unprocessable(format!(
        "The invitation to {} was already {}.",
        invitation.email,
        if invitation.accepted_at.is_some() {
            "accepted"
        } else {
            "revoked"
        }
    ))
}

/// Applies `change` to an invitation that is still open (it answers whether it changed the
/// row) and records `event` about it in the same transaction; an invitation accepted or
/// revoked meanwhile is refused and nothing is recorded.
async fn change_open_invitation(
    app: &AppState,
    actor: &User,
    invitation: &Invitation,
    event: Event,
    origin: Origin,
    change: impl FnOnce(&mut DbConn, i64) -> diesel::QueryResult<bool> + Send + 'static,
) -> Result<(), AppError> {
    let (organization_id, actor_id, id) = (actor.organization_id, actor.id, invitation.id);
    let detail = format!("{} (#{id})", invitation.email);
    let now = crate::now_unix();
    let changed = crate::db::write(&app.pool, move |c| {
        let changed = change(c, id)?;
        if changed {
            origin.record(
                c,
                Entry::by(organization_id, actor_id, None, event).detail(&detail),
                now,
            )?;
        }
        Ok(changed)
    })
    .await?;
    if changed {
        Ok(())
    } else {
        Err(no_longer_open(invitation))
    }
}

/// Sends an open invitation again with a new link; the old link stops working. Returns the
/// invitation and why the email failed, if it did.
pub async fn resend(
    app: &AppState,
    actor: &User,
    organization: &Organization,
    id: i64,
    origin: Origin,
) -> Result<(Invitation, Option<String>), AppError> {
    let invitation = find_in_organization(app, organization.id, id).await?;
    policy::may_invite(Actor::from(actor), invitation.role)?;
    let token = tokens::generate();
    let token_hash = tokens::hash(&token);
    let expires_at = crate::now_unix() + INVITATION_TTL_SECS;
    let address = invitation.email.clone();
    let elsewhere = crate::db::run(&app.pool, move |c| Ok(User::email_taken(c, &address)?)).await?;
    change_open_invitation(
        app,
        actor,
        &invitation,
        Event::InvitationResent,
        origin,
        move |c, id| Invitation::renew(c, id, &token_hash, expires_at),
    )
    .await?;
    let mail = invitation_email(
        app,
        actor,
        organization,
        (&token, elsewhere),
        (&invitation.name, &invitation.email, invitation.role),
        expires_at,
    )?;
    let email_error = send(app, mail).await;
    Ok((invitation, email_error))
}

/// Withdraws an open invitation: its link stops working.
pub async fn revoke(
    app: &AppState,
    actor: &User,
    id: i64,
    origin: Origin,
) -> Result<Invitation, AppError> {
    let invitation = find_in_organization(app, actor.organization_id, id).await?;
    let now = crate::now_unix();
    change_open_invitation(
        app,
        actor,
        &invitation,
        Event::InvitationRevoked,
        origin,
        move |c, id| Invitation::revoke(c, id, now),
    )
    .await?;
    Ok(invitation)
}

/// The invitation of a link's token, with its organization, whatever its state; `None` for
/// text that is no token or a token that names nothing.
pub async fn find_by_token(
    app: &AppState,
    token: &str,
) -> Result<Option<(Invitation, Organization)>, AppError> {
    let Some(token_hash) = tokens::lookup_hash(token) else {
        return Ok(None);
    };
    crate::db::run(&app.pool, move |c| {
        let Some(invitation) = Invitation::find_by_token_hash(c, &token_hash)? else {
            return Ok(None);
        };
        Ok(Organization::find(c, invitation.organization_id)?.map(|o| (invitation, o)))
    })
    .await
}

/// What accepting an invitation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceptance {
    Joined,
    /// Used, revoked, replaced or expired meanwhile.
    LinkUnusable,
    /// Someone has an account with this email by now.
    EmailTaken,
}

/// Accepts an invitation: the invitee joins with their chosen name and password. Of two
/// uses of one link, exactly one joins.
pub async fn accept(
    app: &AppState,
    invitation: &Invitation,
    name: PersonName,
    password: Password,
    origin: Origin,
) -> Result<Acceptance, AppError> {
    let admission = app.hasher.admit()?;
    let password_hash = app.hasher.hash(&admission, password).await?;
    let now = crate::now_unix();
    let accepted = invitation.clone();
    crate::db::write(&app.pool, move |c| {
        // Checked first, so that the link stays usable if the person's email is taken.
        if User::email_taken(c, &accepted.email)? {
            return Ok(Acceptance::EmailTaken);
        }
        // The conditional update decides: of two uses of one link, one joins.
        if !Invitation::accept(c, accepted.id, now)? {
            return Ok(Acceptance::LinkUnusable);
        }
        let user_id = NewUser {
            organization_id: accepted.organization_id,
            email: &accepted.email,
            name: name.as_str(),
            password_hash: &password_hash,
            role: accepted.role,
            created_at: now,
        }
        .insert(c)?;
        origin.record(
            c,
            Entry::by(
                accepted.organization_id,
                user_id,
                Some(user_id),
                Event::InvitationAccepted,
            )
            .detail(&format!("as {} (#{})", accepted.role.as_str(), accepted.id)),
            now,
        )?;
        Ok(Acceptance::Joined)
    })
    .await
}
