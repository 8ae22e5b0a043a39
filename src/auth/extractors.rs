//! Guards as extractors: a handler's signature says who may call it. [`SignedIn`] runs only
//! for a signed-in person whose session is still valid; [`Admin`] also needs the admin or
//! owner role, and [`Owner`] the owner role; anyone else gets 403.
//!
//! The session is checked against the database once per request, by whichever asks first
//! (the 2FA enforcement middleware, or a guard), and the answer is kept in the request's
//! extensions for the rest of it. On SQLite, a request thread remembers the answers it read
//! and gives one again while the database has committed nothing since it was read (by any
//! connection of any process: [`crate::db::committed`]), which is the answer the statement
//! would give: the check still holds the session to the committed state at every request.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::auth::session::TypedSession;
use crate::db::committed::Remembered;
use crate::db::models::{Organization, SessionRow, User};
use crate::domain::Role;
use crate::error::AppError;
use crate::state::AppState;

/// A signed-in person, their organization and their session.
pub struct SignedIn {
    pub user: User,
    pub organization: Organization,
    /// Unused recovery codes, counted with the session check (as of the request's start).
    pub recovery_codes_left: i64,
    pub session: TypedSession,
}

impl SignedIn {
    /// Whether the organization requires 2FA and this person has not turned it on yet: then
    /// only the setup pages and sign-out are open to them.
    pub fn must_set_up_two_factor(&self) -> bool {
        must_set_up_two_factor(&self.user, &self.organization)
    }
}

/// Whether the organization requires 2FA of this person, who has none.
pub fn must_set_up_two_factor(user: &User, organization: &Organization) -> bool {
    organization.enforce_two_factor && !user.has_two_factor()
}

/// The person a request's session names, as the database has them at the request's start.
#[derive(Clone)]
pub struct SessionPerson {
    pub user: User,
    pub organization: Organization,
    pub recovery_codes_left: i64,
}

/// The database's answer about this request's session, kept for the rest of the request.
#[derive(Clone)]
struct Checked(Option<Box<SessionPerson>>);

/// The signed-in person of this request, their organization and their count of unused
/// recovery codes, if the session names one whose session epoch still matches and who is not
/// deactivated. A session that no longer holds is purged. Asks the database at most once per
/// request.
pub async fn signed_in_person(req: &HttpRequest) -> Result<Option<SessionPerson>, AppError> {
    if let Some(Checked(found)) = req.extensions().get::<Checked>() {
        return Ok(found.clone().map(|b| *b));
    }
    let session = TypedSession::of(req);
    let found = match (session.user_id(), session.epoch()) {
        (Some(user_id), Some(epoch)) => {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("no app state")))?;
            // Idle and absolute lifetimes are checked here, on the server, for every request.
            match session.live_id(crate::now_unix(), &state.config.sessions)? {
                None => {
                    session.forget_sign_in()?;
                    None
                }
                Some((session_id, noted)) => {
                    let now = crate::now_unix();
                    let session_hash = session_id.hash();
                    if noted {
                        state.activity.note(session_hash.clone(), now);
                    }
                    let found = session_row(&state, user_id, session_hash, now).await?;
                    match found {
                        // The epoch check is what makes "signed out on all devices" real with
                        // cookie sessions: any session from before the last bump is refused
                        // here (as is a signed-out session, which the query does not find).
                        Some(row)
                            if row.user.session_epoch == epoch
                                && row.user.deactivated_at.is_none() =>
                        {
                            Some(SessionPerson {
                                user: row.user,
                                organization: row.organization,
                                recovery_codes_left: row.recovery_codes_left,
                            })
                        }
                        _ => {
                            session.forget_sign_in()?;
                            None
                        }
                    }
                }
            }
        }
        _ => None,
    };
    req.extensions_mut()
        .insert(Checked(found.clone().map(Box::new)));
    Ok(found)
}

thread_local! {
    /// The live sessions' rows this request thread read, by session hash.
    static SESSION_ROWS: std::cell::RefCell<Remembered<SessionRow>> =
        std::cell::RefCell::new(Remembered::default());
}

/// The live session `session_hash` of person `user_id` as the database has it now: the row
/// this thread read while nothing has been committed since, else the database's answer.
async fn session_row(
    state: &AppState,
    user_id: i64,
    session_hash: String,
    now: i64,
) -> Result<Option<SessionRow>, AppError> {
    let before = crate::db::committed_now(&state.pool);
    if let Some(at) = before {
        let known = SESSION_ROWS.with_borrow(|rows| {
            rows.get(at, &session_hash)
                .filter(|row| row.user.id == user_id && row.expires_at > now)
                .cloned()
        });
        if known.is_some() {
            return Ok(known);
        }
    }
    let key = session_hash.clone();
    let found = crate::db::read_here(&state.pool, move |c| {
        Ok(User::find_for_session(c, user_id, &session_hash, now)?)
    })
    .await?;
    // Remembered only if nothing was committed while it was read: it is then the answer for
    // the state `before` names.
    if let (Some(at), Some(row)) = (before, &found)
        && crate::db::committed_now(&state.pool) == Some(at)
    {
        SESSION_ROWS.with_borrow_mut(|rows| rows.remember(at, key, row.clone()));
    }
    Ok(found)
}

impl FromRequest for SignedIn {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match signed_in_person(&req).await? {
                Some(person) => Ok(Self {
                    user: person.user,
                    organization: person.organization,
                    recovery_codes_left: person.recovery_codes_left,
                    session: TypedSession::of(&req),
                }),
                None => Err(AppError::SignInRequired),
            }
        })
    }
}

/// A signed-in admin or owner.
pub struct Admin(pub SignedIn);

/// A signed-in owner.
pub struct Owner(pub SignedIn);

impl Deref for Admin {
    type Target = SignedIn;
    fn deref(&self) -> &SignedIn {
        &self.0
    }
}

impl Deref for Owner {
    type Target = SignedIn;
    fn deref(&self) -> &SignedIn {
        &self.0
    }
}

/// A signed-in person with at least `role`, or 403.
async fn with_role(req: HttpRequest, role: Role, refusal: &str) -> Result<SignedIn, AppError> {
    let signed_in = SignedIn::from_request(&req, &mut Payload::None).await?;
    if signed_in.user.role >= role {
        Ok(signed_in)
    } else {
        Err(AppError::Forbidden(refusal.to_owned()))
    }
}

impl FromRequest for Admin {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            with_role(
                req,
                Role::Admin,
                "Only your organization's admins and owner can open this page.",
            )
            .await
            .map(Self)
        })
    }
}

impl FromRequest for Owner {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            with_role(
                req,
                Role::Owner,
                "Only your organization's owner can do this.",
            )
            .await
            .map(Self)
        })
    }
}
