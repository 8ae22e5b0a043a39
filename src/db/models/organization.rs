use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::organizations;

/// A workspace: every person belongs to exactly one.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: i64,
    pub name: String,
    pub enforce_two_factor: bool,
    pub created_at: i64,
    /// Active (not deactivated) people, kept by a trigger on `users`.
    pub people_count: i64,
    /// Active people with 2FA on, kept by the same trigger.
    pub two_factor_count: i64,
}

/// A new organization.
#[derive(Insertable)]
#[diesel(table_name = organizations)]
pub struct NewOrganization<'a> {
    pub name: &'a str,
    pub created_at: i64,
}

impl NewOrganization<'_> {
    /// Inserts the organization and returns its id.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<i64> {
        crate::db_run!(conn => {
            diesel::insert_into(organizations::table)
                .values(self)
                .returning(organizations::id)
                .get_result(conn)
        })
    }
}

impl Organization {
    /// The organization with this id.
    pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Self>> {
        crate::db_run!(conn => {
            organizations::table
                .find(id)
                .select(Self::as_select())
                .get_result(conn)
                .optional()
        })
    }

    /// The organization with exactly this name, or all of them when several share it.
    pub fn find_by_name(conn: &mut DbConn, name: &str) -> QueryResult<Vec<Self>> {
        crate::db_run!(conn => {
            organizations::table
                .filter(organizations::name.eq(name))
                .order(organizations::id)
                .select(Self::as_select())
                .load(conn)
        })
    }

    /// Every organization, oldest first.
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        crate::db_run!(conn => {
            organizations::table
                .order(organizations::id)
                .select(Self::as_select())
                .load(conn)
        })
    }

    /// Turns enforcement of 2FA on or off; returns whether it changed (the row count decides,
    /// so of two admins racing to switch it, one records the change).
    pub fn set_enforcement(conn: &mut DbConn, id: i64, on: bool) -> QueryResult<bool> {
        crate::db_run!(conn => {
            let n = diesel::update(
                organizations::table.filter(
                    organizations::id
                        .eq(id)
                        .and(organizations::enforce_two_factor.eq(!on)),
                ),
            )
            .set(organizations::enforce_two_factor.eq(on))
            .execute(conn)?;
            Ok(n == 1)
        })
    }
}
