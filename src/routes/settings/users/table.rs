//! The people table's model: its columns, the query of a page (search, 2FA filter, page
//! number) parsed at the edge, and the pager.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::db::models::TwoFactorFilter;
use crate::error::AppError;

/// Rows on a page of the table.
pub const PAGE_SIZE: i64 = 50;

/// A column of the people table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Email,
    Role,
    TwoFactor,
    LastSignIn,
    RecoveryCodes,
}

impl Field {
    /// Every column, in the order the table shows them.
    pub const ALL: [Self; 6] = [
        Self::Name,
        Self::Email,
        Self::Role,
        Self::TwoFactor,
        Self::LastSignIn,
        Self::RecoveryCodes,
    ];

    /// The columns of a viewer who has not picked any: the table is about 2FA, so its column
    /// is there from the start (and can be taken away in the picker).
    pub const DEFAULT: [Self; 5] = [
        Self::Name,
        Self::Email,
        Self::Role,
        Self::TwoFactor,
        Self::LastSignIn,
    ];

    /// The form's and the database's name for the column.
    pub fn key(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Email => "email",
            Self::Role => "role",
            Self::TwoFactor => "two_factor",
            Self::LastSignIn => "last_sign_in",
            Self::RecoveryCodes => "recovery_codes",
        }
    }

    /// The column's heading.
    pub fn label(self) -> &'static str {
        match self {
            Self::Name => "Name",
            Self::Email => "Email",
            Self::Role => "Role",
            Self::TwoFactor => "2FA",
            Self::LastSignIn => "Last sign-in (UTC)",
            Self::RecoveryCodes => "Recovery codes left",
        }
    }

    /// The column with this key.
    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.key() == key)
    }

    pub fn is_two_factor(&self) -> bool {
        *self == Self::TwoFactor
    }

    /// The columns a viewer saved (unknown keys, from an older version, are skipped).
    pub fn chosen(stored: Option<&str>) -> Vec<Self> {
        let chosen: Vec<Self> = stored
            .unwrap_or_default()
            .split(',')
            .filter_map(Self::parse)
            .collect();
        if chosen.is_empty() {
            Self::DEFAULT.to_vec()
        } else {
            chosen
        }
    }
}

/// The query of `GET /settings/users`, as sent.
#[derive(Deserialize, Default)]
pub struct UsersQuery {
    pub q: Option<String>,
    pub two_factor: Option<String>,
    pub status: Option<String>,
    pub page: Option<String>,
}

/// Which part of the table to show.
pub struct Listing {
    pub search: String,
    pub filter: TwoFactorFilter,
    /// The deactivated people (`status=deactivated`) instead of the active.
    pub deactivated: bool,
    pub page: i64,
}

impl Default for Listing {
    fn default() -> Self {
        Self {
            search: String::new(),
            filter: TwoFactorFilter::Any,
            deactivated: false,
            page: 1,
        }
    }
}

impl TryFrom<UsersQuery> for Listing {
    type Error = AppError;

    fn try_from(query: UsersQuery) -> Result<Self, AppError> {
        let search = query.q.unwrap_or_default().trim().to_owned();
        if search.chars().count() > 254 || search.chars().any(char::is_control) {
            return Err(AppError::BadRequest(
                "Search for at most 254 characters of a name or an email address.".into(),
            ));
        }
        let filter = match query.two_factor.as_deref().unwrap_or_default() {
            "" => TwoFactorFilter::Any,
            "enabled" => TwoFactorFilter::Enabled,
            "disabled" => TwoFactorFilter::Disabled,
            _ => {
                return Err(AppError::BadRequest(
                    "The 2FA filter is either \"enabled\" or \"disabled\".".into(),
                ));
            }
        };
        let deactivated = match query.status.as_deref().unwrap_or_default() {
            "" | "active" => false,
            "deactivated" => true,
            _ => {
                return Err(AppError::BadRequest(
                    "The status is either \"active\" or \"deactivated\".".into(),
                ));
            }
        };
        let page = match query.page.as_deref().map(str::trim).unwrap_or_default() {
            "" => 1,
            text => text
                .parse::<i64>()
                .ok()
                .filter(|p| (1..=1_000_000).contains(p))
                .ok_or_else(|| AppError::BadRequest("The page is a number from 1 on.".into()))?,
        };
        Ok(Self {
            search,
            filter,
            deactivated,
            page,
        })
    }
}

impl Listing {
    pub fn filter_key(&self) -> &'static str {
        match self.filter {
            TwoFactorFilter::Any => "",
            TwoFactorFilter::Enabled => "enabled",
            TwoFactorFilter::Disabled => "disabled",
        }
    }

    /// The address of another page of this listing.
    pub fn url(&self, page: i64) -> String {
        let mut url = String::from("/settings/users");
        let mut sep = '?';
        if !self.search.is_empty() {
            url.push_str(&format!(
                "{sep}q={}",
                utf8_percent_encode(&self.search, NON_ALPHANUMERIC)
            ));
            sep = '&';
        }
        if self.filter != TwoFactorFilter::Any {
            url.push_str(&format!("{sep}two_factor={}", self.filter_key()));
            sep = '&';
        }
        if self.deactivated {
            url.push_str(&format!("{sep}status=deactivated"));
            sep = '&';
        }
        if page != 1 {
            url.push_str(&format!("{sep}page={page}"));
        }
        url
    }
}

/// A column in the picker, checked if the viewer shows it.
pub struct FieldChoice {
    pub field: Field,
    pub checked: bool,
}

/// A link in the pager; `None` stands for a gap.
pub struct PageLink {
    pub number: Option<i64>,
    pub url: String,
    pub current: bool,
}

/// The pager: the first and last pages, and two either side of the current one.
pub fn pager(listing: &Listing, pages: i64) -> Vec<PageLink> {
    let mut links = Vec::new();
    let mut last_shown = 0;
    for number in 1..=pages {
        let near = (number - listing.page).abs() <= 2;
        if number == 1 || number == pages || near {
            if number > last_shown + 1 {
                links.push(PageLink {
                    number: None,
                    url: String::new(),
                    current: false,
                });
            }
            links.push(PageLink {
                number: Some(number),
                url: listing.url(number),
                current: number == listing.page,
            });
            last_shown = number;
        } else if number > listing.page + 2 {
            // Jump straight to the last page: at 100,000 people there are 2,000 pages.
            if pages > number {
                links.push(PageLink {
                    number: None,
                    url: String::new(),
                    current: false,
                });
                links.push(PageLink {
                    number: Some(pages),
                    url: listing.url(pages),
                    current: pages == listing.page,
                });
            }
            break;
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_columns_include_2fa() {
        assert_eq!(Field::chosen(None), Field::DEFAULT.to_vec());
        assert!(Field::DEFAULT.contains(&Field::TwoFactor));
        assert_eq!(
            Field::chosen(Some("two_factor,name,retired")),
            vec![Field::TwoFactor, Field::Name]
        );
        assert_eq!(Field::chosen(Some("")), Field::DEFAULT.to_vec());
        for field in Field::ALL {
            assert_eq!(Field::parse(field.key()), Some(field));
        }
    }

    #[test]
    fn the_query_is_parsed_or_refused() {
        let parse = |q: Option<&str>, f: Option<&str>, p: Option<&str>| {
            Listing::try_from(UsersQuery {
                q: q.map(Into::into),
                two_factor: f.map(Into::into),
                status: None,
                page: p.map(Into::into),
            })
        };
        let deactivated = Listing::try_from(UsersQuery {
            status: Some("deactivated".into()),
            ..UsersQuery::default()
        })
        .expect("valid");
        assert!(deactivated.deactivated);
        assert_eq!(
            deactivated.url(2),
            "/settings/users?status=deactivated&page=2"
        );
        assert!(
            Listing::try_from(UsersQuery {
                status: Some("gone".into()),
                ..UsersQuery::default()
            })
            .is_err()
        );
        let listing = parse(Some(" Ada "), Some("disabled"), Some("3")).expect("valid");
        assert_eq!(listing.search, "Ada");
        assert_eq!(listing.filter, TwoFactorFilter::Disabled);
        assert_eq!(listing.page, 3);
        assert_eq!(
            listing.url(4),
            "/settings/users?q=Ada&two_factor=disabled&page=4"
        );
        assert!(parse(None, Some("maybe"), None).is_err());
        for page in ["0", "-1", "x", "99999999999999999999"] {
            assert!(parse(None, None, Some(page)).is_err(), "{page}");
        }
        assert_eq!(parse(None, Some(""), Some("")).expect("valid").page, 1);
    }

    #[test]
    fn the_pager_shows_the_ends_and_the_neighbourhood() {
        let listing = Listing {
            page: 10,
            ..Listing::default()
        };
        let numbers: Vec<Option<i64>> = pager(&listing, 2000).iter().map(|l| l.number).collect();
        assert_eq!(
            numbers,
            vec![
                Some(1),
                None,
                Some(8),
                Some(9),
                Some(10),
                Some(11),
                Some(12),
                None,
                Some(2000)
            ]
        );
        let first: Vec<Option<i64>> = pager(&Listing::default(), 3)
            .iter()
            .map(|l| l.number)
            .collect();
        assert_eq!(first, vec![Some(1), Some(2), Some(3)]);
    }
}
