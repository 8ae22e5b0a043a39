//! Every key Twofold uses, derived from the deployment's one secret key with HKDF-SHA256,
//! each under its own label, so that no two purposes ever share key material.

use actix_web::cookie::Key;
use hkdf::Hkdf;
use sha2::Sha256;

use crate::config::SecretKey;

/// The derived keys.
#[derive(Clone)]
pub struct Keys {
    /// Signs and encrypts the session cookie (`actix_web::cookie::Key` needs 64 bytes).
    pub cookie: Key,
    /// AES-256-GCM key sealing TOTP secrets at rest.
    pub totp_secret: [u8; 32],
    /// HMAC-SHA256 key under which recovery codes are stored.
    pub recovery_code: [u8; 32],
}

impl Keys {
    /// Derives all keys from the deployment's secret key.
    pub fn derive(secret: &SecretKey) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(b"twofold"), &secret.0);
        let mut cookie = [0u8; 64];
        let mut totp_secret = [0u8; 32];
        let mut recovery_code = [0u8; 32];
        // `expand` fails only for outputs over 255 * 32 bytes; these are far below.
        for (label, out) in [
            (&b"twofold/cookie/v1"[..], &mut cookie[..]),
            (b"twofold/totp-secret/v1", &mut totp_secret[..]),
            (b"twofold/recovery-code/v1", &mut recovery_code[..]),
        ] {
            hk.expand(label, out)
                .expect("HKDF output lengths are fixed and valid");
        }
        Self {
            cookie: Key::from(&cookie),
            totp_secret,
            recovery_code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_purpose_gets_its_own_key_and_the_derivation_is_stable() {
        let secret = SecretKey([7u8; 64]);
        let a = Keys::derive(&secret);
        let b = Keys::derive(&secret);
        assert_eq!(a.totp_secret, b.totp_secret);
        assert_eq!(a.cookie.master(), b.cookie.master());
        assert_ne!(a.totp_secret, a.recovery_code);
        assert_ne!(&a.cookie.master()[..32], &a.totp_secret[..]);
        let other = Keys::derive(&SecretKey([8u8; 64]));
        assert_ne!(a.totp_secret, other.totp_secret);
    }
}
