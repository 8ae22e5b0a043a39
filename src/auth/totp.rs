//! Time-based one-time passwords (RFC 6238): SHA-1, six digits, 30-second steps.
//!
//! `totp-lite` computes the HMAC-and-truncate step; the rest is ours: the base32 secret, the
//! ±1-step window for clock drift, refusal of a step already used (replay), the constant-time
//! comparison and the clock-skew hint. Time is always a parameter so tests can pin it.

use data_encoding::BASE32_NOPAD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rand::RngCore;
use subtle::ConstantTimeEq;
use totp_lite::{Sha1, totp_custom};

use crate::domain::TotpCode;

/// Seconds per step.
pub const PERIOD: u64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Steps either side of now that a code may come from (clock drift).
pub const WINDOW: i64 = 1;
/// Steps either side searched, after a failure while confirming a new app, to tell the person
/// their phone's clock is off. Never at sign-in: there it would tell a guesser which future
/// code is right.
pub const SKEW_SEARCH: i64 = 20;

/// A TOTP shared secret: 160 random bits, as RFC 4226 recommends for SHA-1.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    /// A new random secret.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 20];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Wraps secret bytes (as unsealed from the database, or from a test vector).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The raw bytes, for sealing.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret in base32 without padding, as authenticator apps take it.
    pub fn to_base32(&self) -> String {
        BASE32_NOPAD.encode(&self.0)
    }

    /// The base32 secret in groups of four characters, for typing it in by hand.
    pub fn to_base32_grouped(&self) -> String {
        let b32 = self.to_base32();
        b32.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The code for one time step, with `digits` digits.
    pub fn code_at_step(&self, step: u64, digits: u32) -> String {
        totp_custom::<Sha1>(PERIOD, digits, &self.0, step.saturating_mul(PERIOD))
    }
}

/// The time step a Unix time falls in.
pub fn step_at(unix_time: i64) -> i64 {
    unix_time.max(0) / PERIOD as i64
}

/// The outcome of checking a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The code is right for `step`, which is newer than any step used before.
    Accepted { step: i64 },
    /// The code is right but its step was already used: a replay.
    Replayed,
    /// The code is wrong (whatever step far from now it may be right for).
    Wrong,
}

/// Checks `code` against the steps around `now`, refusing steps up to and including
/// `last_step` (the last one accepted for this person). Every candidate step is compared in
/// constant time, whichever matches, so timing does not tell how close a guess came.
pub fn verify(secret: &Secret, code: &TotpCode, now: i64, last_step: i64) -> Verification {
    let current = step_at(now);
    // Two steps of the window can share a code (one chance in a million per pair): the code
    // stands for the first unspent step it matches, and is a replay only when every step it
    // matches was spent.
    let mut accepted: Option<i64> = None;
    let mut spent = false;
    for offset in -WINDOW..=WINDOW {
        let step = current + offset;
        if step < 0 {
            continue;
        }
        let expected = secret.code_at_step(step as u64, DIGITS);
        let equal: bool = expected.as_bytes().ct_eq(code.as_str().as_bytes()).into();
        if equal && step > last_step && accepted.is_none() {
            accepted = Some(step);
        } else if equal {
            spent = true;
        }
    }
    match accepted {
        Some(step) => Verification::Accepted { step },
        None if spent => Verification::Replayed,
        None => Verification::Wrong,
    }
}

/// After a wrong code while confirming a new app: how many minutes away (ahead positive) the
/// code would have been right, within [`SKEW_SEARCH`] steps, so the person can be told their
/// phone's clock is off.
pub fn clock_skew_minutes(secret: &Secret, code: &TotpCode, now: i64) -> Option<i64> {
    let current = step_at(now);
    for distance in (WINDOW + 1)..=SKEW_SEARCH {
        for step in [current - distance, current + distance] {
            if step < 0 {
                continue;
            }
            let expected = secret.code_at_step(step as u64, DIGITS);
            if bool::from(expected.as_bytes().ct_eq(code.as_str().as_bytes())) {
                let seconds = (step - current) * PERIOD as i64;
                let minutes = (seconds as f64 / 60.0).round() as i64;
                return Some(if minutes == 0 {
                    seconds.signum()
                } else {
                    minutes
                });
            }
        }
    }
    None
}

/// Characters left as they are in the otpauth label and issuer: RFC 3986 unreserved, plus `@`.
const LABEL: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

/// The provisioning URI that authenticator apps read from the QR code.
pub fn otpauth_uri(issuer: &str, email: &str, secret: &Secret) -> String {
    let issuer = utf8_percent_encode(issuer, LABEL).to_string();
    let email = utf8_percent_encode(email, LABEL).to_string();
    format!(
        "otpauth://totp/{issuer}:{email}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={PERIOD}",
        secret.to_base32()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_secret() -> Secret {
        Secret::from_bytes(b"12345678901234567890".to_vec())
    }

    fn code(s: &str) -> TotpCode {
        TotpCode::parse(s).expect("six digits")
    }

    #[test]
    fn a_code_shared_by_a_spent_step_and_a_fresh_one_is_accepted_for_the_fresh_one() {
        // With the RFC secret, steps 153567 and 153569 have the same six digits.
        let secret = rfc_secret();
        let shared = secret.code_at_step(153_569, DIGITS);
        assert_eq!(secret.code_at_step(153_567, DIGITS), shared);
        let now = 153_568 * PERIOD as i64;
        assert_eq!(
            verify(&secret, &code(&shared), now, 153_567),
            Verification::Accepted { step: 153_569 }
        );
        assert_eq!(
            verify(&secret, &code(&shared), now, -1),
            Verification::Accepted { step: 153_567 }
        );
        assert_eq!(
            verify(&secret, &code(&shared), now, 153_569),
            Verification::Replayed
        );
    }

    #[test]
    fn rfc_6238_appendix_b_sha1_vectors() {
        let secret = rfc_secret();
        for (time, expected) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(
                secret.code_at_step(time / PERIOD, 8),
                expected,
                "T = {time}"
            );
        }
    }

    #[test]
    fn rfc_4226_appendix_d_hotp_values() {
        let secret = rfc_secret();
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, value) in expected.iter().enumerate() {
            assert_eq!(
                secret.code_at_step(counter as u64, 6),
                *value,
                "count {counter}"
            );
        }
    }

    #[test]
    fn a_code_from_the_previous_or_next_step_is_accepted() {
        let secret = rfc_secret();
        let now = 1_234_567_890;
        let current = step_at(now);
        for offset in [-1, 0, 1] {
            let c = code(&secret.code_at_step((current + offset) as u64, 6));
            assert_eq!(
                verify(&secret, &c, now, 0),
                Verification::Accepted {
                    step: current + offset
                }
            );
        }
    }

    #[test]
    fn a_used_step_is_never_accepted_again() {
        let secret = rfc_secret();
        let now = 1_234_567_890;
        let current = step_at(now);
        let c = code(&secret.code_at_step(current as u64, 6));
        assert_eq!(verify(&secret, &c, now, current), Verification::Replayed);
        let older = code(&secret.code_at_step((current - 1) as u64, 6));
        assert_eq!(
            verify(&secret, &older, now, current),
            Verification::Replayed
        );
    }

    #[test]
    fn a_code_minutes_away_is_wrong_and_only_the_skew_search_tells_how_far() {
        let secret = rfc_secret();
        let now = 1_234_567_890;
        let current = step_at(now);
        let ahead = code(&secret.code_at_step((current + 10) as u64, 6));
        assert_eq!(verify(&secret, &ahead, now, 0), Verification::Wrong);
        assert_eq!(clock_skew_minutes(&secret, &ahead, now), Some(5));
        let behind = code(&secret.code_at_step((current - 6) as u64, 6));
        assert_eq!(verify(&secret, &behind, now, 0), Verification::Wrong);
        assert_eq!(clock_skew_minutes(&secret, &behind, now), Some(-3));
        let far = code(&secret.code_at_step((current + 100) as u64, 6));
        assert_eq!(verify(&secret, &far, now, 0), Verification::Wrong);
        assert_eq!(clock_skew_minutes(&secret, &far, now), None);
    }

    #[test]
    fn the_uri_has_the_documented_form() {
        let secret = rfc_secret();
        assert_eq!(
            otpauth_uri("Twofold", "ada@example.com", &secret),
            "otpauth://totp/Twofold:ada@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Twofold&algorithm=SHA1&digits=6&period=30"
        );
        assert!(
            otpauth_uri("Acme Corp", "a+b@x.io", &secret)
                .starts_with("otpauth://totp/Acme%20Corp:a%2Bb@x.io?secret=")
        );
    }

    #[test]
    fn a_new_secret_has_160_bits_and_groups_of_four() {
        let secret = Secret::generate();
        assert_eq!(secret.as_bytes().len(), 20);
        assert_eq!(secret.to_base32().len(), 32);
        assert_ne!(secret, Secret::generate());
        let grouped = secret.to_base32_grouped();
        assert_eq!(grouped.split(' ').count(), 8);
        assert!(grouped.split(' ').all(|g| g.len() == 4));
    }
}
