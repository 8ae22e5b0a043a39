//! HTTP plumbing shared by the pages, the guards and the middleware: redirects, and where a
//! request came from (its client address, behind trusted proxies, and its browser).

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::http::header::{self, LOCATION};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};

use crate::audit::Origin;
use crate::error::AppError;
use crate::state::AppState;

/// A 303 redirect: after a POST, the browser GETs `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish()
}

/// The address a request came from: the TCP peer, or, when the peer is a trusted reverse
/// proxy, the nearest address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_address(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.config.trusted_proxies.as_slice())
        .unwrap_or_default();
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    forwarded_client(req, trusted).unwrap_or(peer).to_string()
}

/// Walks `X-Forwarded-For` from the right (the hops our proxies appended) to the first
/// address that is not a trusted proxy. Entries left of it were written by the client and
/// prove nothing.
fn forwarded_client(req: &HttpRequest, trusted: &[IpAddr]) -> Option<IpAddr> {
    let hops: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|hop| hop.trim().parse::<IpAddr>())
        .collect::<Result<_, _>>()
        .ok()?;
    hops.into_iter().rev().find(|ip| !trusted.contains(ip))
}

/// The client address and (shortened) browser of a request, for the limits and the audit
/// events it leads to. As an extractor, a handler that records anything says so in its
/// signature.
pub fn origin(req: &HttpRequest) -> Origin {
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    Origin {
        address: client_address(req),
        user_agent,
    }
}

impl FromRequest for Origin {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(origin(req)))
    }
}
