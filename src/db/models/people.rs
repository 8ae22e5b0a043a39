//! The organization's people as the admin pages see them: the people table's pages, who
//! enforcing 2FA would sign out, and the changes admins make to a person.

use diesel::dsl::not;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::User;
use crate::db::schema::users;
use crate::domain::Role;

/// Which people the people table lists, by 2FA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwoFactorFilter {
    Any,
    Enabled,
    Disabled,
}

/// One row of the people table: only what it shows.
#[derive(Debug, Clone, Queryable)]
pub struct PersonRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub two_factor: bool,
    pub last_sign_in_at: Option<i64>,
    pub deactivated_at: Option<i64>,
}

diesel::define_sql_function! {
    /// SQL's `lower()`: Unicode-aware on PostgreSQL, ASCII-only on SQLite.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A LIKE pattern for "contains `text`, ignoring case", with a backslash escaping LIKE's wildcards.
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Queries over an organization's people.
pub struct People;

impl People {
    /// One page of an organization's active (or, with `deactivated`, deactivated) people in
    /// name order, and, when `search` (a [`contains_pattern`]) is given or the deactivated
    /// are listed, how many match in all (the organization's counters tell the rest). Each
    /// 2FA filter of the active has its own partial index in name order, so a page reads about
    /// `limit` rows however many people there are.
    #[allow(clippy::too_many_arguments)]
    pub fn page(
        conn: &mut DbConn,
        organization_id: i64,
        deactivated: bool,
        filter: TwoFactorFilter,
        search: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> QueryResult<(Vec<PersonRow>, Option<i64>)> {
        crate::db_run!(conn => {
            let matching = || {
                let mut query = users::table
                    .filter(users::organization_id.eq(organization_id))
                    .into_boxed();
                query = if deactivated {
                    query.filter(users::deactivated_at.is_not_null())
                } else {
                    query.filter(users::deactivated_at.is_null())
                };
                query = match filter {
                    TwoFactorFilter::Any => query,
                    TwoFactorFilter::Enabled => query.filter(users::two_factor),
                    TwoFactorFilter::Disabled => query.filter(not(users::two_factor)),
                };
                if let Some(pattern) = search {
                    query = query.filter(
                        lower(users::name)
                            .like(pattern.to_owned())
                            .escape('\\')
                            .or(users::email.like(pattern.to_owned()).escape('\\')),
                    );
                }
                query
            };
            let rows = matching()
                .order((users::name, users::id))
                .offset(offset)
                .limit(limit)
                .select((
                    users::id,
                    users::name,
                    users::email,
                    users::role,
                    users::two_factor,
                    users::last_sign_in_at,
                    users::deactivated_at,
                ))
                .load(conn)?;
            let total = if search.is_some() || deactivated {
                Some(matching().count().get_result(conn)?)
            } else {
                None
            };
            Ok((rows, total))
        })
    }

    /// The first `limit` active people without 2FA, by name: who enforcing 2FA would sign out.
    pub fn without_two_factor(
        conn: &mut DbConn,
        organization_id: i64,
        limit: i64,
    ) -> QueryResult<Vec<(String, String)>> {
        crate::db_run!(conn => {
            users::table
                .filter(users::organization_id.eq(organization_id))
                .filter(users::deactivated_at.is_null())
                .filter(not(users::two_factor))
                .order((users::name, users::id))
                .limit(limit)
                .select((users::name, users::email))
                .load(conn)
        })
    }

    /// Ends every session of every active person of the organization who has no 2FA, in one
    /// statement; returns who they are (id, name, email), to tell them.
    pub fn end_sessions_without_two_factor(
        conn: &mut DbConn,
        organization_id: i64,
    ) -> QueryResult<Vec<(i64, String, String)>> {
        crate::db_run!(conn => {
            diesel::update(
                users::table.filter(
                    users::organization_id
                        .eq(organization_id)
                        .and(users::deactivated_at.is_null())
                        .and(not(users::two_factor)),
                ),
            )
            .set(users::session_epoch.eq(users::session_epoch + 1))
            .returning((users::id, users::name, users::email))
            .get_results(conn)
        })
    }

    /// Changes a person's role; never an owner's (the row count says whether it changed).
    pub fn set_role(conn: &mut DbConn, id: i64, role: Role) -> QueryResult<bool> {
        crate::db_run!(conn => {
            let n = diesel::update(
                users::table.filter(
                    users::id
                        .eq(id)
                        .and(users::role.ne(Role::Owner)),
                ),
            )
            .set(users::role.eq(role))
            .execute(conn)?;
            Ok(n == 1)
        })
    }

    /// Deactivates a person (never an owner) and ends every session of theirs; returns
    /// whether it changed anything.
    pub fn deactivate(conn: &mut DbConn, id: i64, now: i64) -> QueryResult<bool> {
        crate::db_run!(conn => {
            let n = diesel::update(
                users::table.filter(
                    users::id
                        .eq(id)
                        .and(users::role.ne(Role::Owner))
                        .and(users::deactivated_at.is_null()),
                ),
            )
            .set((
                users::deactivated_at.eq(Some(now)),
                users::session_epoch.eq(users::session_epoch + 1),
            ))
            .execute(conn)?;
            Ok(n == 1)
        })
    }

    /// The organization's active admins by name (id, name, email, whether they have 2FA):
    /// who could become its owner.
    pub fn active_admins(
        conn: &mut DbConn,
        organization_id: i64,
    ) -> QueryResult<Vec<(i64, String, String, bool)>> {
        crate::db_run!(conn => {
            users::table
                .filter(users::organization_id.eq(organization_id))
                .filter(users::role.eq(Role::Admin))
                .filter(users::deactivated_at.is_null())
                .order((users::name, users::id))
                .select((
                    users::id,
                    users::name,
                    users::email,
                    users::two_factor,
                ))
                .load(conn)
        })
    }

    /// Makes a deactivated person active again; their sessions stay ended (the epoch moved on
    /// at deactivation). Returns whether it changed anything.
    pub fn reactivate(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
        crate::db_run!(conn => {
            let n = diesel::update(
                users::table.filter(users::id.eq(id).and(users::deactivated_at.is_not_null())),
            )
            .set(users::deactivated_at.eq(None::<i64>))
            .execute(conn)?;
            Ok(n == 1)
        })
    }

    /// Hands the organization's ownership from `from` to `to`, each change conditional on
    /// the state the rules allowed it in: `from` is still the owner, `to` still an active
    /// admin of the organization with 2FA when `needs_two_factor`. Returns whether both held;
    /// when only the first did, the caller's transaction must roll back.
    pub fn hand_over(
        conn: &mut DbConn,
        organization_id: i64,
        from: i64,
        to: i64,
        needs_two_factor: bool,
    ) -> QueryResult<(bool, bool)> {
        crate::db_run!(conn => {
            let demoted = diesel::update(
                users::table.filter(
                    users::id
                        .eq(from)
                        .and(users::organization_id.eq(organization_id))
                        .and(users::role.eq(Role::Owner)),
                ),
            )
            .set(users::role.eq(Role::Admin))
            .execute(conn)?;
            if demoted != 1 {
                return Ok((false, false));
            }
            let mut target = users::table
                .filter(users::id.eq(to))
                .filter(users::organization_id.eq(organization_id))
                .filter(users::role.eq(Role::Admin))
                .filter(users::deactivated_at.is_null())
                .into_boxed();
            if needs_two_factor {
                target = target.filter(users::two_factor);
            }
            let promoted = diesel::update(users::table)
                .filter(users::id.eq_any(target.select(users::id)))
                .set(users::role.eq(Role::Owner))
                .execute(conn)?;
            Ok((true, promoted == 1))
        })
    }

    /// Saves the people-table columns this person chose.
    pub fn set_people_fields(conn: &mut DbConn, id: i64, fields: &str) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::update(users::table.find(id))
                .set(users::people_fields.eq(Some(fields)))
                .execute(conn)?;
            Ok(())
        })
    }

    /// Everyone in an organization, deactivated or not, in the order they joined.
    pub fn all_in_organization(conn: &mut DbConn, organization_id: i64) -> QueryResult<Vec<User>> {
        crate::db_run!(conn => {
            users::table
                .filter(users::organization_id.eq(organization_id))
                .order(users::id)
                .select(User::as_select())
                .load(conn)
        })
    }

    /// The names of these people of an organization (others' ids find nothing).
    pub fn names(
        conn: &mut DbConn,
        organization_id: i64,
        ids: &[i64],
    ) -> QueryResult<Vec<(i64, String)>> {
        crate::db_run!(conn => {
            users::table
                .filter(users::organization_id.eq(organization_id))
                .filter(users::id.eq_any(ids))
                .select((users::id, users::name))
                .load(conn)
        })
    }
}
