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
                .first(conn)
                .optional()
        })
    }
}
