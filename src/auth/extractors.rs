//! Guards as extractors: a handler that takes [`SignedIn`] runs only for a signed-in person
//! whose session is still valid.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::auth::session::TypedSession;
use crate::db::models::{Organization, User};
use crate::error::AppError;
use crate::startup::AppState;

/// A signed-in person, their organization and their session.
pub struct SignedIn {
    pub user: User,
    pub organization: Organization,
    pub session: TypedSession,
}

impl FromRequest for SignedIn {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = TypedSession::of(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state =
                state.ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("no app state")))?;
            let (Some(user_id), Some(epoch)) = (session.user_id(), session.epoch()) else {
                return Err(AppError::SignInRequired);
            };
            // Idle and absolute lifetimes are checked here, on the server, for every request.
            let Some(session_id) = session.live_id(crate::now_unix(), &state.config.sessions)?
            else {
                session.purge();
                return Err(AppError::SignInRequired);
            };
            let found = crate::db::run(&state.pool, move |c| {
                Ok(User::find_for_session(c, user_id, &session_id)?)
            })
            .await?;
            match found {
                // The epoch check is what makes "signed out on all devices" real with cookie
                // sessions: any session from before the last bump is refused here (as is a
                // signed-out session, which the query does not find).
                Some((user, organization))
                    if user.session_epoch == epoch && user.deactivated_at.is_none() =>
                {
                    Ok(Self {
                        user,
                        organization,
                        session,
                    })
                }
                _ => {
                    session.purge();
                    Err(AppError::SignInRequired)
                }
            }
        })
    }
}
