//! The browser a request comes from, for the "sign-in from a new browser" email: a long-lived
//! cookie holds a random id (256 bits, as a link token), given to a browser the first time it
//! posts a form. The server keeps only its SHA-256, per person who signed in with it
//! (`known_browsers`); the id alone opens nothing.

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;

use crate::auth::tokens;
use crate::state::AppState;

/// The cookie's name over plain HTTP (development).
pub const BROWSER_COOKIE: &str = "twofold_browser";
/// The cookie's name behind an `https://` public URL (see the session cookie's).
pub const SECURE_BROWSER_COOKIE: &str = "__Host-twofold_browser";
/// How long a browser is remembered without signing in: 400 days, the longest browsers keep
/// a cookie.
const LIFETIME_DAYS: i64 = 400;

/// The stored form of the request's browser id, for the sign-in it leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserHash(pub String);

/// Gives every form post a browser id: the cookie's, or a new one (set on the answer), so that
/// the sign-in it may lead to knows which browser it is.
pub async fn remember_browser(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() != Method::POST {
        return next.call(req).await;
    }
    let secure = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.config.secure_cookies());
    let name = if secure {
        SECURE_BROWSER_COOKIE
    } else {
        BROWSER_COOKIE
    };
    let known = req
        .cookie(name)
        .and_then(|c| tokens::lookup_hash(c.value()));
    let (hash, new_id) = match known {
        Some(hash) => (hash, None),
        None => {
            let id = tokens::generate();
            (tokens::hash(&id), Some(id))
        }
    };
    req.extensions_mut().insert(BrowserHash(hash));
    let mut res = next.call(req).await?;
    if let Some(id) = new_id {
        let cookie = Cookie::build(name, id)
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .max_age(Duration::days(LIFETIME_DAYS))
            .finish();
        res.response_mut().add_cookie(&cookie)?;
    }
    Ok(res)
}
