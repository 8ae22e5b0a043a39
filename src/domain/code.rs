//! The codes a person types: six-digit TOTP codes and recovery codes.

/// The alphabet of recovery codes: Crockford's base32, lower-case (no i, l, o or u), so
/// every character carries 5 bits and none is easily mistaken for another.
pub const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Characters in a recovery code: 10 × 5 bits = 50 random bits.
pub const RECOVERY_LEN: usize = 10;

/// Six digits from an authenticator app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpCode(String);

impl TotpCode {
    /// Accepts six digits, with spaces or dashes between them as some apps show them.
    pub fn parse(input: &str) -> Result<Self, String> {
        let digits: String = input
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\u{a0}'))
            .collect();
        if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(digits))
        } else {
            Err("Enter the 6-digit code from your authenticator app.".to_owned())
        }
    }

    /// The six digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A recovery code in canonical form: ten lower-case characters of [`RECOVERY_ALPHABET`].
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl RecoveryCode {
    /// Accepts a code ignoring case, spaces and dashes; like Crockford's base32, reads
    /// `i` and `l` as `1` and `o` as `0`, the usual misreadings of a printed code.
    pub fn parse(input: &str) -> Result<Self, String> {
        let mut code = String::with_capacity(RECOVERY_LEN);
        for c in input.chars() {
            let c = match c.to_ascii_lowercase() {
                ' ' | '-' | '\u{a0}' => continue,
                'i' | 'l' => '1',
                'o' => '0',
                c => c,
            };
            if !c.is_ascii()
                || !RECOVERY_ALPHABET.contains(&(c as u8))
                || code.len() == RECOVERY_LEN
            {
                return Err(Self::message());
            }
            code.push(c);
        }
        if code.len() == RECOVERY_LEN {
            Ok(Self(code))
        } else {
            Err(Self::message())
        }
    }

    /// Builds a code from canonical characters (used by the generator).
    pub(crate) fn from_canonical(code: String) -> Self {
        debug_assert!(code.len() == RECOVERY_LEN);
        Self(code)
    }

    fn message() -> String {
        "Enter a recovery code like abcde-12345.".to_owned()
    }

    /// The canonical ten characters, as hashed for storage.
    pub fn canonical(&self) -> &str {
        &self.0
    }

    /// The code as shown to people: `xxxxx-xxxxx`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..5], &self.0[5..])
    }
}

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(…)")
    }
}

/// What the two-factor sign-in step accepts: a TOTP code or a recovery code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OneTimeCode {
    Totp(TotpCode),
    Recovery(RecoveryCode),
}

impl OneTimeCode {
    /// Reads six digits as a TOTP code and anything else as a recovery code.
    pub fn parse(input: &str) -> Result<Self, String> {
        if let Ok(code) = TotpCode::parse(input) {
            return Ok(Self::Totp(code));
        }
        RecoveryCode::parse(input).map(Self::Recovery).map_err(|_| {
            "Enter the 6-digit code from your authenticator app, or one of your recovery codes."
                .to_owned()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_totp_code_is_six_digits() {
        assert_eq!(TotpCode::parse("123456").expect("ok").as_str(), "123456");
        assert_eq!(TotpCode::parse(" 123 456 ").expect("ok").as_str(), "123456");
        for bad in ["12345", "1234567", "12345a", "", "１２３４５６", "12 34 5"] {
            assert!(TotpCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_recovery_code_ignores_case_spaces_and_dashes() {
        let code = RecoveryCode::parse("ABCDE-12345").expect("ok");
        assert_eq!(code.canonical(), "abcde12345");
        assert_eq!(code.display(), "abcde-12345");
        assert_eq!(
            RecoveryCode::parse(" abc de 123-45 ")
                .expect("ok")
                .canonical(),
            "abcde12345"
        );
        assert_eq!(
            RecoveryCode::parse("OIL00-abcde").expect("ok").canonical(),
            "01100abcde"
        );
        for bad in [
            "abcde-1234",
            "abcde-123456",
            "abcdu-12345",
            "abcde_12345",
            "ábcde-12345",
        ] {
            assert!(RecoveryCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_two_factor_field_takes_either_kind_of_code() {
        assert!(matches!(
            OneTimeCode::parse("123456"),
            Ok(OneTimeCode::Totp(_))
        ));
        assert!(matches!(
            OneTimeCode::parse("abcde-12345"),
            Ok(OneTimeCode::Recovery(_))
        ));
        assert!(OneTimeCode::parse("12345").is_err());
        assert!(OneTimeCode::parse("letters").is_err());
    }

    use proptest::prelude::*;

    /// Spaces, dashes and no-break spaces, as people and apps put between characters.
    fn separators() -> impl Strategy<Value = Vec<&'static str>> {
        proptest::collection::vec(
            prop_oneof![Just(""), Just(" "), Just("-"), Just("\u{a0}")],
            11,
        )
    }

    fn interleave(chars: &str, separators: &[&str]) -> String {
        let mut out = separators[0].to_owned();
        for (c, sep) in chars.chars().zip(&separators[1..]) {
            out.push(c);
            out.push_str(sep);
        }
        out
    }

    proptest! {
        /// Whatever is typed in a code field, each parser answers without panicking, and what
        /// it accepts is in canonical form.
        #[test]
        fn any_text_is_parsed_or_refused_cleanly(input in any::<String>()) {
            if let Ok(code) = TotpCode::parse(&input) {
                prop_assert_eq!(code.as_str().len(), 6);
                prop_assert!(code.as_str().bytes().all(|b| b.is_ascii_digit()));
            }
            if let Ok(code) = RecoveryCode::parse(&input) {
                prop_assert_eq!(code.canonical().len(), RECOVERY_LEN);
                prop_assert!(code.canonical().bytes().all(|b| RECOVERY_ALPHABET.contains(&b)));
                prop_assert_eq!(RecoveryCode::parse(&code.display()), Ok(code.clone()));
            }
            match OneTimeCode::parse(&input) {
                Ok(OneTimeCode::Totp(code)) => prop_assert_eq!(TotpCode::parse(&input), Ok(code)),
                Ok(OneTimeCode::Recovery(code)) => {
                    prop_assert!(TotpCode::parse(&input).is_err());
                    prop_assert_eq!(RecoveryCode::parse(&input), Ok(code));
                }
                Err(_) => {
                    prop_assert!(TotpCode::parse(&input).is_err());
                    prop_assert!(RecoveryCode::parse(&input).is_err());
                }
            }
        }

        #[test]
        fn six_digits_are_read_through_any_separators(digits in "[0-9]{6}", seps in separators()) {
            let typed = interleave(&digits, &seps);
            prop_assert_eq!(TotpCode::parse(&typed).map(|c| c.as_str().to_owned()), Ok(digits));
        }

        #[test]
        fn a_recovery_code_is_read_in_any_case_through_any_separators(
            code in "[0-9abcdefghjkmnpqrstvwxyz]{10}",
            seps in separators(),
            upper in any::<bool>(),
        ) {
            let shown = if upper { code.to_uppercase() } else { code.clone() };
            let typed = interleave(&shown, &seps);
            let parsed = RecoveryCode::parse(&typed);
            prop_assert_eq!(parsed.as_ref().map(RecoveryCode::canonical), Ok(code.as_str()));
        }

        #[test]
        fn too_many_or_too_few_characters_are_refused(code in "[0-9abcdefghjkmnpqrstvwxyz]{0,40}") {
            prop_assert_eq!(RecoveryCode::parse(&code).is_ok(), code.len() == RECOVERY_LEN);
        }
    }
}
