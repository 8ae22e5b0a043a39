//! Attempt limits. Every password and every code is counted *before* it is checked, in a
//! transaction that commits first (`AttemptCounter::take`), so that however many requests
//! arrive at once, no more than the limit are ever checked in one lock period; the rest get
//! 429 with `Retry-After`, unchecked. A success gives its attempt back.
//!
//! A password counts against three counters:
//! - the email with the client address: 10, then a lock that doubles. Guesses from one
//!   address lock out that address for that account, not the person signing in elsewhere;
//! - the email alone: a ceiling of 100 from all addresses together, whose lock emails the
//!   person;
//! - the client address alone: 100 of anything in 15 minutes, across accounts.
//!
//! Counters of an email are keyed by its SHA-256, whether or not it has an account: an
//! unknown email gets exactly the answers a known one gets, 429s included.
//!
//! A code (at sign-in, in re-authentication, or confirming a new app) counts against the
//! person's account (10, then a doubling lock; whoever reaches the code step has the password
//! already) and the client address.
//!
//! Every attempt takes its counters' rows in one order (the client address, then the
//! account's, then the pair's), and a success releases them in the same order: on PostgreSQL,
//! row locks taken in one order cannot wait for each other in a cycle.
//!
//! Client addresses are counted by network: an IPv6 client by its /64 (one subscriber's
//! allocation), an IPv4-mapped IPv6 address as the IPv4 address it is.

use std::net::{IpAddr, Ipv6Addr};

use crate::config::Limits;
use crate::db::DbConn;
use crate::db::models::{AttemptCounter, Lock, Rule};
use crate::error::AppError;

/// The bucket a client address is counted in: the address itself for IPv4, its /64 for IPv6;
/// text that is no address (a proxy's odd hop) is its own bucket.
pub fn client_bucket(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let network = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{network}/64")
            }
        },
        Err(_) => address.chars().take(100).collect(),
    }
}

fn email_key(email: &str) -> String {
    crate::auth::tokens::hash(email)
}

impl Limits {
    /// Wrong passwords for one account from one address.
    pub fn password_rule(&self) -> Rule {
        Rule {
            max: self.password_attempts,
            window_secs: self.memory_secs,
            lock: Lock::Doubling {
                base_secs: self.lock_secs,
                max_secs: self.lock_max_secs,
            },
        }
    }

    /// Wrong codes for one account.
    pub fn code_rule(&self) -> Rule {
        Rule {
            max: self.code_attempts,
            ..self.password_rule()
        }
    }

    /// The account's ceiling, from all addresses.
    pub fn account_rule(&self) -> Rule {
        Rule {
            max: self.account_attempts,
            window_secs: self.memory_secs,
            lock: Lock::Doubling {
                base_secs: self.account_lock_secs,
                max_secs: self.account_lock_max_secs,
            },
        }
    }

    /// Everything one client address tries.
    pub fn client_rule(&self) -> Rule {
        Rule {
            max: self.client_attempts,
            window_secs: self.client_window_secs,
            lock: Lock::UntilWindowEnds,
        }
    }
}

/// Counts under `key`, or refuses with the wait.
fn take(conn: &mut DbConn, key: &str, rule: &Rule, now: i64) -> Result<i32, AppError> {
    AttemptCounter::take(conn, key, rule, now)?.map_err(AppError::TooManyAttempts)
}

/// A password attempt: an email (known or not) from a client address.
#[derive(Debug, Clone)]
pub struct PasswordAttempt {
    pair: String,
    account: String,
    client: String,
}

/// What counting a password attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// This attempt reached the account's ceiling: the person should be told.
    pub reached_account_ceiling: bool,
}

impl PasswordAttempt {
    /// The counters of a password for `email` (already normalized) from `address`.
    pub fn new(email: &str, address: &str) -> Self {
        let email = email_key(email);
        let client = client_bucket(address);
        Self {
            pair: format!("password:{email}:{client}"),
            account: format!("account:{email}"),
            client: format!("client:{client}"),
        }
    }

    /// Counts the attempt, or refuses it with 429. Run it in a write transaction of its own
    /// that commits before the password is checked; a refusal rolls the transaction back, so
    /// a refused attempt counts nowhere.
    pub fn take(&self, conn: &mut DbConn, limits: &Limits, now: i64) -> Result<Counted, AppError> {
        take(conn, &self.client, &limits.client_rule(), now)?;
        let account = limits.account_rule();
        let reached = take(conn, &self.account, &account, now)? == account.max;
        take(conn, &self.pair, &limits.password_rule(), now)?;
        Ok(Counted {
            reached_account_ceiling: reached,
        })
    }

    /// The password was right: its own counters start again; the address's gets the attempt
    /// back (its other attempts, perhaps at other accounts, still count).
    pub fn succeeded(&self, conn: &mut DbConn) -> Result<(), AppError> {
        // In the order `take` locks the rows, so that on PostgreSQL a success and a racing
        // attempt never wait for each other in a cycle.
        AttemptCounter::refund(conn, &self.client)?;
        AttemptCounter::reset(conn, &self.account)?;
        AttemptCounter::reset(conn, &self.pair)?;
        Ok(())
    }
}

/// A code attempt (an app's code or a recovery code) for a person, from a client address.
#[derive(Debug, Clone)]
pub struct CodeAttempt {
    account: String,
    client: String,
}

impl CodeAttempt {
    /// The counters of a code for the person `user_id` from `address`.
    pub fn new(user_id: i64, address: &str) -> Self {
        Self {
            account: format!("code:{user_id}"),
            client: format!("client:{}", client_bucket(address)),
        }
    }

    /// Counts the attempt, or refuses it with 429; as [`PasswordAttempt::take`].
    pub fn take(&self, conn: &mut DbConn, limits: &Limits, now: i64) -> Result<(), AppError> {
        take(conn, &self.client, &limits.client_rule(), now)?;
        take(conn, &self.account, &limits.code_rule(), now)?;
        Ok(())
    }

    /// The code was right.
    pub fn succeeded(&self, conn: &mut DbConn) -> Result<(), AppError> {
        // In the order `take` locks the rows (see `PasswordAttempt::succeeded`).
        AttemptCounter::refund(conn, &self.client)?;
        AttemptCounter::reset(conn, &self.account)?;
        Ok(())
    }
}

/// A sign-up from the sign-up page: limited per client address, so that one client cannot
/// create organizations (and spend bcrypt) without end.
#[derive(Debug, Clone)]
pub struct SignUpAttempt {
    client: String,
}

impl SignUpAttempt {
    pub fn new(address: &str) -> Self {
        Self {
            client: format!("signup-client:{}", client_bucket(address)),
        }
    }

    /// Counts the sign-up, or refuses it with 429.
    pub fn take(&self, conn: &mut DbConn, limits: &Limits, now: i64) -> Result<(), AppError> {
        let rule = Rule {
            max: limits.signups_per_address,
            window_secs: limits.signup_window_secs,
            lock: Lock::UntilWindowEnds,
        };
        take(conn, &self.client, &rule, now)?;
        Ok(())
    }
}

/// A request for a password-reset link: limited per email (so that nobody's mailbox is
/// flooded) and per client address, whether or not the email has an account.
#[derive(Debug, Clone)]
pub struct ResetRequest {
    email: String,
    client: Option<String>,
}

impl ResetRequest {
    /// The counters of a request for `email` (normalized) from `address`.
    pub fn new(email: &str, address: &str) -> Self {
        Self {
            email: format!("reset:{}", email_key(email)),
            client: Some(format!("reset-client:{}", client_bucket(address))),
        }
    }

    /// The counter of a link sent to `email` by someone else (an admin, an operator): only
    /// the person's mailbox is protected, as their own requests count there too.
    pub fn sent_to(email: &str) -> Self {
        Self {
            email: format!("reset:{}", email_key(email)),
            client: None,
        }
    }

    /// Counts the request, or refuses it with 429.
    pub fn take(&self, conn: &mut DbConn, limits: &Limits, now: i64) -> Result<(), AppError> {
        let rule = |max| Rule {
            max,
            window_secs: limits.reset_window_secs,
            lock: Lock::UntilWindowEnds,
        };
        if let Some(client) = &self.client {
            take(conn, client, &rule(limits.reset_requests_per_address), now)?;
        }
        take(
            conn,
            &self.email,
            &rule(limits.reset_requests_per_email),
            now,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(client_bucket("203.0.113.9"), "203.0.113.9");
        assert_eq!(
            client_bucket("2001:db8:1:2:aaaa:bbbb:cccc:dddd"),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            client_bucket("2001:db8:1:2::1"),
            client_bucket("2001:db8:1:2:ffff::9")
        );
        assert_ne!(
            client_bucket("2001:db8:1:2::1"),
            client_bucket("2001:db8:1:3::1")
        );
        assert_eq!(client_bucket("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(client_bucket("unknown"), "unknown");
    }

    #[test]
    fn an_unknown_email_has_counters_shaped_like_a_known_ones() {
        let known = PasswordAttempt::new("ada@example.com", "203.0.113.9");
        let unknown = PasswordAttempt::new("nobody@example.com", "203.0.113.9");
        assert_ne!(known.pair, unknown.pair);
        assert_eq!(known.pair.len(), unknown.pair.len());
        assert_eq!(known.client, unknown.client);
        assert!(
            !known.pair.contains("ada"),
            "the email's text is not stored"
        );
    }
}
