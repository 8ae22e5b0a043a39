//! TOTP secrets sealed at rest with AES-256-GCM. The person's id is the associated data, so a
//! sealed secret copied onto another person's row does not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;

const NONCE_LEN: usize = 12;

/// Seals `plaintext` for `user_id`: a random nonce followed by the ciphertext and tag.
pub fn seal(key: &[u8; 32], user_id: i64, plaintext: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let aad = associated_data(user_id);
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .expect("AES-GCM encryption of a short secret cannot fail");
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out
}

/// Opens what [`seal`] produced for the same person, or `None` if it was altered or moved.
pub fn open(key: &[u8; 32], user_id: i64, sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let aad = associated_data(user_id);
    Aes256Gcm::new(key.into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: &aad,
            },
        )
        .ok()
}

fn associated_data(user_id: i64) -> [u8; 24] {
    let mut aad = [0u8; 24];
    aad[..16].copy_from_slice(b"twofold-totp-v1:");
    aad[16..].copy_from_slice(&user_id.to_be_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_owner_and_key() {
        let key = [1u8; 32];
        let sealed = seal(&key, 42, b"secret bytes");
        assert_eq!(
            open(&key, 42, &sealed).as_deref(),
            Some(&b"secret bytes"[..])
        );
        assert_eq!(open(&key, 43, &sealed), None);
        assert_eq!(open(&[2u8; 32], 42, &sealed), None);
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(open(&key, 42, &tampered), None);
        assert_eq!(open(&key, 42, &sealed[..5]), None);
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let key = [1u8; 32];
        assert_ne!(seal(&key, 1, b"x"), seal(&key, 1, b"x"));
    }
}
