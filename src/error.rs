//! The one error policy.
//!
//! A handler's error becomes a plain page with the right status: 400 and 422 for input we
//! cannot accept, 403 for a missing CSRF token or a page the person may not open, 404 for
//! anything that does not exist *for this person* (another organization's ids included), 429
//! while attempts are limited, and a redirect to the sign-in page when a session has ended.
//! The person never sees an internal cause; `Unexpected` errors log their whole cause chain
//! and show a generic 500 page. Flows with richer outcomes (sign-in, 2FA confirmation) have
//! their own error enums and re-render their form; they fall back on this type for the rest.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

/// An error that ends a request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request cannot be understood (missing or malformed fields, invalid UTF-8).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The request is understood but its values are refused.
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    /// The form's CSRF token is missing or wrong.
    #[error("CSRF token missing or invalid")]
    Csrf,
    /// The person may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Nothing here for this person.
    #[error("not found")]
    NotFound,
    /// Too many failed attempts; try again after the given number of seconds.
    #[error("too many attempts, retry after {0}s")]
    TooManyAttempts(i64),
    /// The bcrypt line is full: try again after the given number of seconds. Nothing was
    /// done.
    #[error("busy, retry after {0}s")]
    Busy(i64),
    /// The request body is larger than any form of ours.
    #[error("request body too large")]
    PayloadTooLarge,
    /// The body is not a form.
    #[error("unsupported content type")]
    UnsupportedMediaType,
    /// The session has ended (or never began): sign in again.
    #[error("sign-in required")]
    SignInRequired,
    /// Anything we did not expect: logged in full, shown as a generic page.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Unexpected(anyhow::Error::new(e).context("database query failed"))
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::Unexpected(anyhow::Error::new(e).context("no database connection available"))
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::Unexpected(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        Self::Unexpected(anyhow::Error::new(e).context("rendering a template failed"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Csrf | Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::SignInRequired => StatusCode::SEE_OTHER,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::SignInRequired = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/login"))
                .finish();
        }
        if let Self::Unexpected(e) = self {
            tracing::error!(error = ?e, "request failed unexpectedly");
        }
        let retry_message;
        let (title, message) = match self {
            Self::BadRequest(m) => ("This request could not be read", m.as_str()),
            Self::Unprocessable(m) => ("This could not be accepted", m.as_str()),
            Self::Csrf => (
                "This form has expired",
                "The form was missing its security token or it no longer matches your session. \
                 Go back, reload the page and try again.",
            ),
            Self::Forbidden(m) => ("You can't open this page", m.as_str()),
            Self::NotFound => ("Page not found", "There is nothing at this address."),
            Self::TooManyAttempts(secs) => {
                retry_message = format!(
                    "Too many failed attempts. Try again in {}.",
                    crate::format::wait(*secs)
                );
                ("Too many attempts", retry_message.as_str())
            }
            Self::Busy(secs) => {
                retry_message = format!(
                    "Twofold is checking too many passwords at once right now. Nothing was \
                     changed: try again in {}.",
                    crate::format::wait(*secs)
                );
                ("Too busy right now", retry_message.as_str())
            }
            Self::PayloadTooLarge => ("Too much data", "The form sent more data than allowed."),
            Self::UnsupportedMediaType => (
                "This request could not be read",
                "Forms must be sent as application/x-www-form-urlencoded.",
            ),
            Self::SignInRequired => ("Sign in required", "Please sign in again."),
            Self::Unexpected(_) => (
                "Something went wrong",
                "Twofold could not finish this request. Nothing was changed; please try again.",
            ),
        };
        let status = self.status_code();
        let page = ErrorPage {
            status: status.as_u16(),
            title,
            message,
        };
        let body = page.render().unwrap_or_else(|_| title.to_owned());
        let mut res = HttpResponse::build(status);
        res.content_type("text/html; charset=utf-8");
        if let Self::TooManyAttempts(secs) | Self::Busy(secs) = self
            && let Ok(v) = HeaderValue::from_str(&(*secs).max(1).to_string())
        {
            res.insert_header((header::RETRY_AFTER, v));
        }
        res.body(body)
    }
}
