//! Recovery codes: generated from the OS's random source, stored only as keyed hashes.
//!
//! A code has 50 random bits, so a keyed HMAC-SHA256 (not bcrypt) is the right store: it
//! lets a code be found and spent by one conditional `UPDATE … WHERE code_hash = ? AND
//! used_at IS NULL`, whose row count decides, so two requests racing with one code cannot
//! both win. Guessing is bounded by the attempt limits, and without the deployment's key a
//! stolen database gives nothing to test guesses against offline. The lookup compares hashes
//! of the input, never the code itself, so its timing tells nothing about a stored code.

use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

use crate::domain::RecoveryCode;
use crate::domain::code::{RECOVERY_ALPHABET, RECOVERY_LEN};

/// How many codes a person holds.
pub const COUNT: usize = 5;

/// Five new random codes.
pub fn generate() -> Vec<RecoveryCode> {
    let mut rng = rand::rng();
    (0..COUNT)
        .map(|_| {
            let code: String = (0..RECOVERY_LEN)
                .map(|_| RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())] as char)
                .collect();
            RecoveryCode::from_canonical(code)
        })
        .collect()
}

/// The stored form of a code: hex HMAC-SHA256 of its canonical characters.
pub fn hash(key: &[u8; 32], code: &RecoveryCode) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(code.canonical().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_distinct_codes_of_ten_characters_are_generated() {
        let codes = generate();
        assert_eq!(codes.len(), 5);
        let mut canon: Vec<_> = codes.iter().map(|c| c.canonical().to_owned()).collect();
        canon.sort();
        canon.dedup();
        assert_eq!(canon.len(), 5);
        for code in &codes {
            assert_eq!(code.canonical().len(), 10);
            let shown = code.display();
            assert_eq!(shown.len(), 11);
            assert_eq!(
                RecoveryCode::parse(&shown.to_uppercase()).as_ref(),
                Ok(code)
            );
        }
    }

    #[test]
    fn the_hash_depends_on_the_key_and_ignores_formatting() {
        let a = RecoveryCode::parse("abcde-12345").expect("valid");
        let b = RecoveryCode::parse("ABCDE 12345").expect("valid");
        assert_eq!(hash(&[1; 32], &a), hash(&[1; 32], &b));
        assert_ne!(hash(&[1; 32], &a), hash(&[2; 32], &a));
        assert_eq!(hash(&[1; 32], &a).len(), 64);
    }
}
