//! Limits on failed passwords and codes, per account and per client address. Both counts
//! live in the database, so they hold across restarts, new sessions and every instance that
//! shares the database.

use std::net::IpAddr;

use actix_web::{HttpRequest, web};

use crate::config::Limits;
use crate::db::DbConn;
use crate::db::models::{ClientFailure, User};
use crate::error::AppError;
use crate::startup::AppState;

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

/// Refuses the attempt, before any password or code is checked, if the client address or
/// the account is over its limit.
pub fn check(
    conn: &mut DbConn,
    address: &str,
    user: Option<&User>,
    now: i64,
    limits: &Limits,
) -> Result<(), AppError> {
    if let Some(wait) = ClientFailure::blocked_for(conn, address, now, limits)? {
        return Err(AppError::TooManyAttempts(wait));
    }
    if let Some(wait) = user.and_then(|u| u.locked_for(now)) {
        return Err(AppError::TooManyAttempts(wait));
    }
    Ok(())
}

/// Counts a failed password or code against the address and, if known, the account.
pub fn record_failure(
    conn: &mut DbConn,
    address: &str,
    user_id: Option<i64>,
    now: i64,
    limits: &Limits,
) -> Result<(), AppError> {
    ClientFailure::record(conn, address, now, limits)?;
    if let Some(id) = user_id {
        User::record_failure(conn, id, now, limits)?;
    }
    Ok(())
}
