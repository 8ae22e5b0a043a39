//! How the domain's enums are stored: as their text names, on both backends. Reading a name
//! that is not one of ours is an error (the database's constraints and our writes make it
//! one that cannot happen), never a silent default.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::domain::{Event, Role};

/// Stores `$type` as the text of its `as_str`, read back with `$parse` (which answers an
/// `Option`).
macro_rules! stored_as_text {
    ($type:ty, $what:literal, $parse:expr) => {
        impl<DB> ToSql<Text, DB> for $type
        where
            DB: Backend,
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB> FromSql<Text, DB> for $type
        where
            DB: Backend,
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let stored = String::from_sql(bytes)?;
                let parse: fn(&str) -> Option<$type> = $parse;
                parse(&stored).ok_or_else(|| format!("unknown {} {stored:?}", $what).into())
            }
        }
    };
}

stored_as_text!(Role, "role", |s| Role::parse(s).ok());
stored_as_text!(Event, "audit event", Event::parse);
