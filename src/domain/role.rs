/// A person's role in their organization, in increasing order of power. Stored as the text
/// of [`Role::as_str`] (the database's own CHECK constraint lists the same three names).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, diesel::AsExpression, diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    /// The role as stored and as sent by forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }

    /// The role as shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Member => "Member",
            Self::Admin => "Admin",
            Self::Owner => "Owner",
        }
    }

    /// Parses the stored or submitted form.
    pub fn parse(input: &str) -> Result<Self, String> {
        match input {
            "member" => Ok(Self::Member),
            "admin" => Ok(Self::Admin),
            "owner" => Ok(Self::Owner),
            _ => Err("Choose a role: member or admin.".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn roles_are_ordered_by_power_and_round_trip() {
        assert!(Role::Member < Role::Admin && Role::Admin < Role::Owner);
        for role in [Role::Member, Role::Admin, Role::Owner] {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("root").is_err());
    }

    proptest::proptest! {
        #[test]
        fn only_the_three_stored_names_are_roles(input in proptest::prelude::any::<String>()) {
            let known = matches!(input.as_str(), "member" | "admin" | "owner");
            proptest::prop_assert_eq!(Role::parse(&input).is_ok(), known);
        }
    }
}
