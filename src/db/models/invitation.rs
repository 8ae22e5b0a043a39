use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::invitations;
use crate::domain::Role;

/// An invitation to join an organization. Only the SHA-256 hash of its link's token is kept.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: i64,
    pub organization_id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub token_hash: String,
    pub invited_by: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A new invitation.
#[derive(Insertable)]
#[diesel(table_name = invitations)]
pub struct NewInvitation<'a> {
    pub organization_id: i64,
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub token_hash: &'a str,
    pub invited_by: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl NewInvitation<'_> {
    /// Inserts the invitation and returns its id.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<i64> {
        crate::db_run!(conn => {
            diesel::insert_into(invitations::table)
                .values(self)
                .returning(invitations::id)
                .get_result(conn)
        })
    }
}

impl Invitation {
    /// Whether the link still works at `now`.
    pub fn is_usable(&self, now: i64) -> bool {
        self.accepted_at.is_none() && self.revoked_at.is_none() && self.expires_at > now
    }

    /// The invitation whose token has this hash.
    pub fn find_by_token_hash(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<Self>> {
        crate::db_run!(conn => {
            invitations::table
                .filter(invitations::token_hash.eq(token_hash))
                .select(Self::as_select())
                .get_result(conn)
                .optional()
        })
    }

    /// The invitation with this id in this organization (another organization's finds
    /// nothing).
    pub fn find_in_organization(
        conn: &mut DbConn,
        organization_id: i64,
        id: i64,
    ) -> QueryResult<Option<Self>> {
        crate::db_run!(conn => {
            invitations::table
                .filter(invitations::id.eq(id))
                .filter(invitations::organization_id.eq(organization_id))
                .select(Self::as_select())
                .get_result(conn)
                .optional()
        })
    }

    /// Invitations neither accepted nor revoked (expired ones too, to resend), newest first.
    pub fn open_in_organization(
        conn: &mut DbConn,
        organization_id: i64,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        crate::db_run!(conn => {
            invitations::table
                .filter(invitations::organization_id.eq(organization_id))
                .filter(invitations::accepted_at.is_null())
                .filter(invitations::revoked_at.is_null())
                .order(invitations::id.desc())
                .limit(limit)
                .select(Self::as_select())
                .load(conn)
        })
    }

    /// Whether this organization has an open invitation for this email.
    pub fn is_open_for(conn: &mut DbConn, organization_id: i64, email: &str) -> QueryResult<bool> {
        crate::db_run!(conn => {
            diesel::select(diesel::dsl::exists(
                invitations::table
                    .filter(invitations::organization_id.eq(organization_id))
                    .filter(invitations::email.eq(email))
                    .filter(invitations::accepted_at.is_null())
                    .filter(invitations::revoked_at.is_null()),
            ))
            .get_result(conn)
        })
    }

    /// Marks the invitation accepted if its link still works: of two racing uses of one
    /// link, exactly one sees a row changed.
    pub fn accept(conn: &mut DbConn, id: i64, now: i64) -> QueryResult<bool> {
        crate::db_run!(conn => {
            let n = diesel::update(
                invitations::table.filter(
                    invitations::id
                        .eq(id)
                        .and(invitations::accepted_at.is_null())
                        .and(invitations::revoked_at.is_null())
                        .and(invitations::expires_at.gt(now)),
                ),
            )
            .set(invitations::accepted_at.eq(Some(now)))
            .execute(conn)?;
            Ok(n == 1)
        })
    }

    /// Revokes every open invitation a person sent (they were deactivated); returns how many.
    pub fn revoke_sent_by(conn: &mut DbConn, user_id: i64, now: i64) -> QueryResult<usize> {
        crate::db_run!(conn => {
            diesel::update(
                invitations::table.filter(
                    invitations::invited_by
                        .eq(user_id)
                        .and(invitations::accepted_at.is_null())
                        .and(invitations::revoked_at.is_null()),
                ),
            )
            .set(invitations::revoked_at.eq(Some(now)))
            .execute(conn)
        })
    }

    /// Revokes an open invitation; returns whether it was open.
    pub fn revoke(conn: &mut DbConn, id: i64, now: i64) -> QueryResult<bool> {
        crate::db_run!(conn => {
            let n = diesel::update(
                invitations::table.filter(
                    invitations::id
                        .eq(id)
                        .and(invitations::accepted_at.is_null())
                        .and(invitations::revoked_at.is_null()),
                ),
            )
            .set(invitations::revoked_at.eq(Some(now)))
            .execute(conn)?;
            Ok(n == 1)
        })
    }

    /// Gives an open invitation a new token and a new expiry (the old link stops working);
    /// returns whether it was open.
    pub fn renew(
        conn: &mut DbConn,
        id: i64,
        token_hash: &str,
        expires_at: i64,
    ) -> QueryResult<bool> {
        crate::db_run!(conn => {
            let n = diesel::update(
                invitations::table.filter(
                    invitations::id
                        .eq(id)
                        .and(invitations::accepted_at.is_null())
                        .and(invitations::revoked_at.is_null()),
                ),
            )
            .set((
                invitations::token_hash.eq(token_hash),
                invitations::expires_at.eq(expires_at),
            ))
            .execute(conn)?;
            Ok(n == 1)
        })
    }
}
