//! Enforced 2FA: while a person's organization requires 2FA and they have not turned it on,
//! every route but the setup pages (the app's, and adding a first passkey), sign-out and static
//! files answers with a redirect to the
//! setup page.
//!
//! One middleware decides, from the database's state of this request (the person's 2FA and
//! the organization's setting, loaded with the session check that every signed-in request
//! makes anyway), not from a flag kept in the session: a flag could be stale the moment
//! enforcement or the person's 2FA changes, the database's answer cannot. The allow-list
//! compares the exact path, so a path the router might still map to an allowed handler
//! (`/settings/security/two-factor/setup/`) is refused rather than let through.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;

use crate::auth::extractors::{must_set_up_two_factor, signed_in_person};
use crate::http::see_other;

/// Where a person who must turn on 2FA is sent.
pub const SETUP_PATH: &str = "/settings/security/two-factor/setup";

/// What such a person may still open: turning 2FA on (with the app, or with a first passkey),
/// and signing out.
const ALLOWED: &[(Method, &str)] = &[
    (Method::GET, SETUP_PATH),
    (Method::POST, SETUP_PATH),
    (Method::GET, "/settings/security/two-factor/confirm"),
    (Method::POST, "/settings/security/two-factor/confirm"),
    (Method::GET, "/settings/security/passkeys"),
    (Method::POST, "/settings/security/passkeys/options"),
    (Method::POST, "/settings/security/passkeys"),
    (Method::POST, "/logout"),
];

/// Files anyone may load: they carry no data and the setup page needs them. No dot-segments
/// or escapes, so nothing that merely starts with `/static/` can reach another route.
fn is_static(path: &str) -> bool {
    (path.starts_with("/static/") && !path.contains("..") && !path.contains('%'))
        || path == "/favicon.ico"
}

/// Whether a person who must set up 2FA may make this request.
pub fn allowed_while_setting_up(method: &Method, path: &str) -> bool {
    is_static(path) || ALLOWED.iter().any(|(m, p)| m == method && *p == path)
}

/// The middleware (wrapped inside the session middleware).
pub async fn require_two_factor(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if is_static(req.path()) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    if let Some(person) = signed_in_person(req.request()).await?
        && must_set_up_two_factor(&person.user, &person.organization)
        && !allowed_while_setting_up(req.method(), req.path())
    {
        return Ok(req.into_response(see_other(SETUP_PATH)));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_setup_confirm_sign_out_and_static_files_are_allowed() {
        assert!(allowed_while_setting_up(&Method::GET, SETUP_PATH));
        assert!(allowed_while_setting_up(&Method::POST, "/logout"));
        assert!(allowed_while_setting_up(&Method::GET, "/static/style.css"));
        assert!(!allowed_while_setting_up(&Method::GET, "/logout"));
        assert!(!allowed_while_setting_up(
            &Method::GET,
            "/static/../settings/users"
        ));
        assert!(!allowed_while_setting_up(&Method::GET, "/"));
        assert!(!allowed_while_setting_up(
            &Method::GET,
            "/settings/security"
        ));
        assert!(!allowed_while_setting_up(
            &Method::GET,
            "/settings/security/two-factor/setup/"
        ));
        assert!(!allowed_while_setting_up(
            &Method::POST,
            "/settings/security/two-factor/disable"
        ));
    }
}
