//! The tokens that links in emails carry (an invitation, "this wasn't me"): 256 random bits
//! written as 64 hex characters. Only their SHA-256 is stored: the tokens are too random to
//! guess, so an unkeyed hash suffices, and a copy of the database opens no link.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new random token, as it goes into a link.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The stored form of a token: hex SHA-256.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `text` has the form of a token (64 lower-case hex characters): anything else is
/// refused before the database is asked.
pub fn is_well_formed(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_well_formed_and_stored_hashed() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert!(is_well_formed(&a));
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), a);
        assert_eq!(hash(&a), hash(&a));
        assert!(!is_well_formed(&a.to_uppercase()));
        assert!(!is_well_formed(&a[1..]));
        assert!(!is_well_formed("../etc/passwd"));
    }
}
