/// An email address, trimmed and lower-cased, so that one address is one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Accepts `local@domain.tld`: one `@`, no spaces or control characters, at most 254
    /// characters. Deliverability is proven by the invitation email, not by syntax.
    pub fn parse(input: &str) -> Result<Self, String> {
        let email = input.trim().to_lowercase();
        let invalid = || Err("Enter an email address like name@example.com.".to_owned());
        if email.is_empty() || email.len() > 254 {
            return invalid();
        }
        if email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ','))
        {
            return invalid();
        }
        let Some((local, domain)) = email.split_once('@') else {
            return invalid();
        };
        if local.is_empty()
            || local.len() > 64
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return invalid();
        }
        Ok(Self(email))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn an_email_is_trimmed_and_lower_cased() {
        let email = Email::parse("  Ada.Lovelace@Example.COM ").expect("valid");
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "ada lovelace@example.com",
            "ada@example..com",
            "ada@.example.com",
            "<script>@example.com",
            "ada@example.com\n",
        ] {
            // The trailing newline is trimmed; everything else must be refused.
            if bad == "ada@example.com\n" {
                assert!(Email::parse(bad).is_ok());
                continue;
            }
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert!(Email::parse(&format!("a@{}.com", "b".repeat(260))).is_err());
    }

    proptest::proptest! {
        /// Whatever arrives in the email field, parsing answers without panicking, and an
        /// accepted address is already in its stored form.
        #[test]
        fn any_text_is_parsed_or_refused_cleanly(input in proptest::prelude::any::<String>()) {
            if let Ok(email) = Email::parse(&input) {
                let text = email.as_str();
                proptest::prop_assert!(text.len() <= 254);
                proptest::prop_assert_eq!(text.matches('@').count(), 1);
                proptest::prop_assert_eq!(text, text.trim());
                proptest::prop_assert_eq!(text.to_lowercase(), text);
                proptest::prop_assert!(!text.contains(['<', '>', '"', ',']));
                proptest::prop_assert_eq!(Email::parse(text), Ok(email.clone()));
            }
        }

        #[test]
        fn plausible_addresses_are_accepted_in_any_case(
            local in "[A-Za-z0-9._%+-]{1,64}",
            domain in "[A-Za-z0-9-]{1,30}\\.[A-Za-z]{2,10}",
        ) {
            let email = Email::parse(&format!(" {local}@{domain} "));
            let expected = format!("{local}@{domain}").to_lowercase();
            proptest::prop_assert_eq!(email.map(|e| e.as_str().to_owned()), Ok(expected));
        }
    }
}
