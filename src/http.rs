//! HTTP plumbing shared by the pages, the guards and the middleware: redirects, and where a
//! request came from (its client address, behind trusted proxies, and its browser).

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::http::header::{self, LOCATION};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};

use crate::audit::Origin;
use crate::error::AppError;
use crate::state::AppState;

/// A 303 redirect: after a POST, the browser GETs `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish()
}

/// A JSON refusal for a page's script (the passkey ceremonies' challenges): `{"error": …}`.
pub fn json_error(status: actix_web::http::StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({ "error": message }))
}

/// The address a request came from: the TCP peer, or, when the peer is a trusted reverse
/// proxy, the right-most address in `X-Forwarded-For` that is not itself a trusted proxy.
/// IPv4-mapped IPv6 addresses are written (and matched against the trusted proxies) as the
/// IPv4 addresses they are.
pub fn client_address(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| canonical(a.ip())) else {
        return "unknown".into();
    };
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.config.trusted_proxies.as_slice())
        .unwrap_or_default();
    if !is_trusted(peer, trusted) {
        return peer.to_string();
    }
    let hops = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    forwarded_client(&hops, trusted).unwrap_or_else(|| peer.to_string())
}

/// An IPv4-mapped IPv6 address as IPv4; any other address as it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn is_trusted(ip: IpAddr, trusted: &[IpAddr]) -> bool {
    let ip = canonical(ip);
    trusted.iter().any(|t| canonical(*t) == ip)
}

/// A hop as proxies write it: an address, perhaps with a port (`203.0.113.9:4711`,
/// `[2001:db8::1]:4711`) or in brackets.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .and_then(|h| h.parse().ok())
        })
        .map(canonical)
}

/// Walks `X-Forwarded-For` (its hops, comma-separated) from the right — the hops our proxies
/// appended — to the first that is not a trusted proxy: the client as our proxy saw it.
/// Entries left of it were written by the client and prove nothing. A hop that is no address
/// (a proxy writing `unknown`) is kept as text, its own bucket, rather than dropped: dropping
/// it would count everyone behind the proxy as one client.
fn forwarded_client(hops: &str, trusted: &[IpAddr]) -> Option<String> {
    for hop in hops.rsplit(',').map(str::trim).filter(|h| !h.is_empty()) {
        match parse_hop(hop) {
            Some(ip) if is_trusted(ip, trusted) => continue,
            Some(ip) => return Some(ip.to_string()),
            None => return Some(hop.chars().take(64).collect()),
        }
    }
    None
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
        browser: req
            .extensions()
            .get::<crate::auth::browser::BrowserHash>()
            .map(|b| b.0.clone()),
    }
}

impl FromRequest for Origin {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(origin(req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().expect("ip")).collect()
    }

    #[test]
    fn the_client_is_the_right_most_hop_that_is_not_a_trusted_proxy() {
        let proxies = ips(&["10.0.0.1", "10.0.0.2"]);
        let client = |hops: &str| forwarded_client(hops, &proxies);
        assert_eq!(
            client("1.1.1.1, 203.0.113.9").as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(
            client("1.1.1.1, 203.0.113.9, 10.0.0.2").as_deref(),
            Some("203.0.113.9")
        );
        // A client's forged left entries, even unparsable ones, change nothing.
        assert_eq!(
            client("garbage, 203.0.113.9").as_deref(),
            Some("203.0.113.9")
        );
        // Ports and brackets, as some proxies write them.
        assert_eq!(client("203.0.113.9:4711").as_deref(), Some("203.0.113.9"));
        assert_eq!(client("[2001:db8::7]:4711").as_deref(), Some("2001:db8::7"));
        // A hop that is no address is its own bucket, not the proxy's.
        assert_eq!(client("unknown").as_deref(), Some("unknown"));
        assert_eq!(client("10.0.0.1, 10.0.0.2"), None);
        assert_eq!(client(""), None);
    }

    #[test]
    fn ipv4_mapped_addresses_are_their_ipv4_addresses() {
        let proxies = ips(&["10.0.0.1"]);
        assert!(is_trusted("::ffff:10.0.0.1".parse().expect("ip"), &proxies));
        assert!(is_trusted(
            "10.0.0.1".parse().expect("ip"),
            &ips(&["::ffff:10.0.0.1"])
        ));
        assert_eq!(
            forwarded_client("::ffff:203.0.113.9, ::ffff:10.0.0.1", &proxies).as_deref(),
            Some("203.0.113.9")
        );
    }
}
