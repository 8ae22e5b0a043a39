//! Password hashing with bcrypt. Hashing and verifying are slow on purpose, so they always
//! run on the blocking pool (see [`Hasher`]); a sign-in for an unknown email verifies against
//! a dummy hash of the same cost, so it takes as long as a wrong password.

use std::sync::{Arc, OnceLock};

use actix_web::web;

use crate::domain::Password;
use crate::error::AppError;

/// bcrypt with the deployment's cost.
#[derive(Clone)]
pub struct Hasher {
    cost: u32,
    /// Computed on first need rather than at start-up, which it would slow by one bcrypt.
    dummy_hash: Arc<OnceLock<String>>,
}

impl Hasher {
    /// A hasher for new passwords of this cost.
    pub fn new(cost: u32) -> Self {
        Self {
            cost,
            dummy_hash: Arc::new(OnceLock::new()),
        }
    }

    /// Hashes a new password, off the request threads.
    pub async fn hash(&self, password: Password) -> Result<String, AppError> {
        let cost = self.cost;
        web::block(move || bcrypt::non_truncating_hash(password.expose(), cost))
            .await?
            .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("bcrypt hash")))
    }

    /// Checks `candidate` against `hash` (or, when there is no account, against the dummy
    /// hash, to spend the same time), off the request threads.
    pub async fn verify(&self, candidate: String, hash: Option<String>) -> Result<bool, AppError> {
        let (cost, dummy) = (self.cost, self.dummy_hash.clone());
        let ok = web::block(move || match hash {
            Some(hash) => verify_blocking(&candidate, &hash),
            None => {
                let dummy = dummy.get_or_init(|| {
                    bcrypt::non_truncating_hash("twofold-dummy-password", cost).unwrap_or_default()
                });
                // Same work as a real check; the answer is "no" whatever it says.
                let _ = verify_blocking(&candidate, dummy);
                false
            }
        })
        .await?;
        Ok(ok)
    }
}

/// The synchronous check. Passwords over 72 bytes can never have been set (they are refused
/// at creation), so they simply do not match instead of being truncated.
pub fn verify_blocking(candidate: &str, hash: &str) -> bool {
    bcrypt::non_truncating_verify(candidate, hash).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let hash = bcrypt::non_truncating_hash("correct horse battery", 4).expect("hash");
        assert!(verify_blocking("correct horse battery", &hash));
        assert!(!verify_blocking("correct horse batterY", &hash));
        assert!(!verify_blocking(&"x".repeat(100), &hash));
        assert!(!verify_blocking("anything", "not a bcrypt hash"));
    }
}
