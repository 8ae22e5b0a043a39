/// A new password: at least 12 characters and at most 72 bytes, bcrypt's limit. Longer
/// passwords are refused rather than silently truncated, which would make everything past
/// the 72nd byte meaningless.
pub struct Password(String);

/// Why a new password was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Use at least 12 characters.")]
    TooShort,
    #[error("Use at most 72 bytes (about 72 letters, fewer with accents or emoji).")]
    TooLong,
}

impl Password {
    /// Checks a new password's length.
    pub fn parse(input: String) -> Result<Self, PasswordError> {
        if input.chars().count() < 12 || input.trim().is_empty() {
            return Err(PasswordError::TooShort);
        }
        if input.len() > 72 {
            return Err(PasswordError::TooLong);
        }
        Ok(Self(input))
    }

    /// The password, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_between_12_characters_and_72_bytes_are_accepted() {
        assert!(Password::parse("correct horse".into()).is_ok());
        assert!(Password::parse("x".repeat(72)).is_ok());
        assert_eq!(
            Password::parse("short".into()).err(),
            Some(PasswordError::TooShort)
        );
        assert_eq!(
            Password::parse("x".repeat(73)).err(),
            Some(PasswordError::TooLong)
        );
        // 25 four-byte characters: 25 characters, 100 bytes.
        assert_eq!(
            Password::parse("🔑".repeat(25)).err(),
            Some(PasswordError::TooLong)
        );
        assert_eq!(
            Password::parse(" ".repeat(20)).err(),
            Some(PasswordError::TooShort)
        );
    }

    proptest::proptest! {
        /// The rule, stated once more as a property over every string: at least 12
        /// characters, not only spaces, at most 72 bytes; nothing else matters.
        #[test]
        fn any_text_is_accepted_exactly_by_the_rule(input in proptest::prelude::any::<String>()) {
            let expected = input.chars().count() >= 12
                && !input.trim().is_empty()
                && input.len() <= 72;
            proptest::prop_assert_eq!(Password::parse(input).is_ok(), expected);
        }
    }
}
