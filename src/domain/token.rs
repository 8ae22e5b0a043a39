//! The token a link in an email carries (an invitation, "this wasn't me"), as it arrives in
//! the link's path.

/// Characters in a link token: 256 random bits written as lower-case hex.
pub const LINK_TOKEN_LEN: usize = 64;

/// The token of an emailed link: exactly 64 lower-case hex characters, as Twofold writes
/// them. Anything else in its place (a truncated, mistyped or forged link, or a probe) is
/// refused here, before the database is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkToken(String);

impl LinkToken {
    /// Accepts the token exactly as written into links: no trimming and no case folding, so
    /// that one link has one spelling.
    pub fn parse(input: &str) -> Result<Self, String> {
        if input.len() == LINK_TOKEN_LEN
            && input
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            Ok(Self(input.to_owned()))
        } else {
            Err("This link is not one Twofold sent: check that it was copied whole.".to_owned())
        }
    }

    /// The token as it appears in the link.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_form_twofold_writes_is_a_token() {
        let token = "0123456789abcdef".repeat(4);
        assert_eq!(LinkToken::parse(&token).expect("valid").as_str(), token);
        for bad in [
            String::new(),
            token[1..].to_owned(),
            format!("{token}0"),
            token.to_uppercase(),
            format!(" {}", &token[1..]),
            format!("{}\n", &token[1..]),
            format!("{}g", &token[1..]),
            "../../etc/passwd".to_owned(),
            format!("{}%2F", &token[3..]),
            // 64 bytes, but not 64 hex characters.
            format!("{}é", &token[2..]),
        ] {
            assert!(LinkToken::parse(&bad).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        /// A link's path is whatever a client sends: any text is a token or a clean refusal,
        /// never a panic, and an accepted token is exactly the text, 64 lower-case hex.
        #[test]
        fn any_text_is_parsed_or_refused_cleanly(input in proptest::prelude::any::<String>()) {
            if let Ok(token) = LinkToken::parse(&input) {
                proptest::prop_assert_eq!(token.as_str(), input.as_str());
                proptest::prop_assert_eq!(token.as_str().len(), LINK_TOKEN_LEN);
                proptest::prop_assert!(token.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
                proptest::prop_assert_eq!(token.as_str().to_lowercase(), token.as_str());
            }
        }

        /// Every string of the right form is a token, and one changed character makes it
        /// refused unless the change keeps that form.
        #[test]
        fn the_right_form_is_accepted_and_a_changed_character_checked(
            token in "[0-9a-f]{64}",
            at in 0usize..64,
            c in proptest::prelude::any::<char>(),
        ) {
            proptest::prop_assert!(LinkToken::parse(&token).is_ok());
            let mut changed = token.clone();
            changed.replace_range(at..=at, &c.to_string());
            let still_hex = matches!(c, '0'..='9' | 'a'..='f');
            proptest::prop_assert_eq!(LinkToken::parse(&changed).is_ok(), still_hex);
        }
    }
}
