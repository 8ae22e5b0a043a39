//! The tokens that links in emails carry (an invitation, "this wasn't me"): 256 random bits
//! written as 64 hex characters ([`LinkToken`]). Only their SHA-256 is stored: the tokens are
//! too random to guess, so an unkeyed hash suffices, and a copy of the database opens no link.

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::LinkToken;

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

/// What a link's path segment is looked up by: the stored hash of the token it holds, or
/// `None` for text that is not a token, which is refused without asking the database.
pub fn lookup_hash(segment: &str) -> Option<String> {
    LinkToken::parse(segment)
        .ok()
        .map(|token| hash(token.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_well_formed_and_stored_hashed() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert!(LinkToken::parse(&a).is_ok());
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), a);
        assert_eq!(hash(&a), hash(&a));
        assert_eq!(lookup_hash(&a), Some(hash(&a)));
        assert_eq!(lookup_hash(&a.to_uppercase()), None);
        assert_eq!(lookup_hash(&a[1..]), None);
        assert_eq!(lookup_hash("../etc/passwd"), None);
    }

    proptest::proptest! {
        /// The lookup of a link takes any text a client puts in its path: it answers with a
        /// hash exactly for tokens, never panics, and the hash is 64 lower-case hex, so the
        /// database is only ever asked about a value of that one shape.
        #[test]
        fn any_text_is_looked_up_or_refused_cleanly(input in proptest::prelude::any::<String>()) {
            match lookup_hash(&input) {
                Some(stored) => {
                    proptest::prop_assert!(LinkToken::parse(&input).is_ok());
                    proptest::prop_assert_eq!(stored.len(), 64);
                    proptest::prop_assert!(stored.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
                    proptest::prop_assert_eq!(stored, hash(&input));
                }
                None => proptest::prop_assert!(LinkToken::parse(&input).is_err()),
            }
        }

        /// Every token Twofold writes into a link is found again by its lookup.
        #[test]
        fn every_generated_token_is_looked_up(_round in 0..64u8) {
            let token = generate();
            proptest::prop_assert_eq!(lookup_hash(&token), Some(hash(&token)));
        }
    }
}
