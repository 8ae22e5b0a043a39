//! Names people type: a person's name and an organization's name.

/// Trims a name and checks it: `label` names the field in messages ("Your name").
fn parse_name(input: &str, label: &str) -> Result<String, String> {
    let name = input.trim();
    if name.is_empty() {
        return Err(format!("{label} cannot be empty."));
    }
    if name.chars().count() > 100 {
        return Err(format!("{label} must be at most 100 characters."));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("{label} cannot contain control characters."));
    }
    Ok(name.to_owned())
}

/// A person's display name: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// Trims and checks a name.
    pub fn parse(input: &str) -> Result<Self, String> {
        parse_name(input, "Your name").map(Self)
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An organization's name: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationName(String);

impl OrganizationName {
    /// Trims and checks a name.
    pub fn parse(input: &str) -> Result<Self, String> {
        parse_name(input, "The organization's name").map(Self)
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("  Ada  ").expect("valid").as_str(), "Ada");
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
        assert!(PersonName::parse("a\u{0}b").is_err());
        assert!(OrganizationName::parse("Acme <Ltd> & \"Co\"").is_ok());
        let err = OrganizationName::parse(&"x".repeat(101)).expect_err("too long");
        assert!(err.starts_with("The organization's name"), "{err}");
    }

    proptest::proptest! {
        /// Names arrive from forms: any text is accepted or refused without panicking, and an
        /// accepted name is trimmed, 1 to 100 characters, with no control characters. HTML
        /// metacharacters are allowed here: the templates escape them.
        #[test]
        fn any_text_is_parsed_or_refused_cleanly(input in proptest::prelude::any::<String>()) {
            for name in [
                PersonName::parse(&input).map(|n| n.as_str().to_owned()),
                OrganizationName::parse(&input).map(|n| n.as_str().to_owned()),
            ]
            .into_iter()
            .flatten()
            {
                proptest::prop_assert_eq!(name.trim(), name.as_str());
                proptest::prop_assert!((1..=100).contains(&name.chars().count()));
                proptest::prop_assert!(!name.chars().any(char::is_control));
            }
        }
    }
}
