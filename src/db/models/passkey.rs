//! Passkeys (WebAuthn credentials) and the state of their ceremonies between a challenge and
//! the browser's answer.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{passkey_ceremonies, passkeys, users};

/// A person's passkey.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = passkeys)]
pub struct StoredPasskey {
    pub id: i64,
    pub user_id: i64,
    /// base64url of the credential id.
    pub credential_id: String,
    pub name: String,
    /// The credential as webauthn-rs keeps it (JSON).
    pub credential: String,
    pub sign_count: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A passkey to store.
#[derive(Insertable)]
#[diesel(table_name = passkeys)]
pub struct NewPasskey<'a> {
    pub user_id: i64,
    pub credential_id: &'a str,
    pub name: &'a str,
    pub credential: &'a str,
    pub sign_count: i64,
    pub created_at: i64,
}

impl NewPasskey<'_> {
    /// Stores the passkey and counts it on the person's row, in the caller's transaction.
    /// `Ok(None)` when the credential id is taken already (by anyone: ids are unique across
    /// the deployment).
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<Option<i64>> {
        crate::db_run!(conn => {
            let inserted = diesel::insert_into(passkeys::table)
                .values(self)
                .on_conflict_do_nothing()
                .returning(passkeys::id)
                .get_result::<i64>(conn)
                .optional()?;
            if inserted.is_some() {
                diesel::update(users::table.find(self.user_id))
                    .set(users::passkey_count.eq(users::passkey_count + 1))
                    .execute(conn)?;
            }
            Ok(inserted)
        })
    }
}

impl StoredPasskey {
    /// The person's passkeys, oldest first.
    pub fn of_user(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<Self>> {
        crate::db_run!(conn => {
            passkeys::table
                .filter(passkeys::user_id.eq(user_id))
                .order(passkeys::id)
                .select(Self::as_select())
                .load(conn)
        })
    }

    /// The passkey with this credential id (base64url), whoever's it is.
    pub fn by_credential_id(conn: &mut DbConn, credential_id: &str) -> QueryResult<Option<Self>> {
        crate::db_run!(conn => {
            passkeys::table
                .filter(passkeys::credential_id.eq(credential_id))
                .select(Self::as_select())
                .get_result(conn)
                .optional()
        })
    }

    /// Renames one of the person's passkeys; whether it was theirs.
    pub fn rename(conn: &mut DbConn, user_id: i64, id: i64, name: &str) -> QueryResult<bool> {
        crate::db_run!(conn => {
            let n = diesel::update(
                passkeys::table.filter(passkeys::id.eq(id).and(passkeys::user_id.eq(user_id))),
            )
            .set(passkeys::name.eq(name))
            .execute(conn)?;
            Ok(n == 1)
        })
    }

    /// Removes one of the person's passkeys and uncounts it, in the caller's transaction;
    /// the removed passkey's name, if it was theirs.
    pub fn remove(conn: &mut DbConn, user_id: i64, id: i64) -> QueryResult<Option<String>> {
        crate::db_run!(conn => {
            let removed = diesel::delete(
                passkeys::table.filter(passkeys::id.eq(id).and(passkeys::user_id.eq(user_id))),
            )
            .returning(passkeys::name)
            .get_result::<String>(conn)
            .optional()?;
            if removed.is_some() {
                diesel::update(users::table.find(user_id))
                    .set(users::passkey_count.eq(users::passkey_count - 1))
                    .execute(conn)?;
            }
            Ok(removed)
        })
    }

    /// Removes all of the person's passkeys (2FA turned off).
    pub fn remove_all(conn: &mut DbConn, user_id: i64) -> QueryResult<usize> {
        crate::db_run!(conn => {
            let n = diesel::delete(passkeys::table.filter(passkeys::user_id.eq(user_id)))
                .execute(conn)?;
            diesel::update(users::table.find(user_id))
                .set(users::passkey_count.eq(0))
                .execute(conn)?;
            Ok(n)
        })
    }

    /// Records a use whose signature counter was `sign_count`, conditional on the stored
    /// counter being the one the check read (`seen`): of two answers racing with one
    /// counter value, one is recorded and the other is refused. `credential` is the updated
    /// credential (JSON). Returns whether it was recorded.
    pub fn record_use(
        conn: &mut DbConn,
        id: i64,
        seen: i64,
        sign_count: i64,
        credential: &str,
        now: i64,
    ) -> QueryResult<bool> {
        crate::db_run!(conn => {
            let n = diesel::update(
                passkeys::table.filter(passkeys::id.eq(id).and(passkeys::sign_count.eq(seen))),
            )
            .set((
                passkeys::sign_count.eq(sign_count),
                passkeys::credential.eq(credential),
                passkeys::last_used_at.eq(Some(now)),
            ))
            .execute(conn)?;
            Ok(n == 1)
        })
    }
}

/// What a ceremony is for.
pub mod purpose {
    /// Adding a passkey (bound to the session that asked).
    pub const REGISTER: &str = "register";
    /// The second factor of a sign-in (bound to its pending step).
    pub const SECOND_FACTOR: &str = "second_factor";
    /// A sign-in with a passkey alone (bound to nothing: the passkey names its person).
    pub const SIGN_IN: &str = "sign_in";
    /// Proving the second factor again before a sensitive change (bound to the session).
    pub const REAUTH: &str = "reauth";
}

/// A ceremony between its challenge and its answer.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = passkey_ceremonies)]
pub struct PasskeyCeremony {
    /// SHA-256 of the id the browser holds.
    pub id_hash: String,
    pub purpose: String,
    pub user_id: Option<i64>,
    /// The hash of the session or pending step it belongs to, if any.
    pub bound_to: Option<String>,
    /// webauthn-rs's state for it (JSON).
    pub state: String,
    pub expires_at: i64,
}

impl PasskeyCeremony {
    /// Stores the ceremony.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::insert_into(passkey_ceremonies::table)
                .values(self)
                .execute(conn)?;
            Ok(())
        })
    }

    /// Takes the ceremony with this id hash and purpose, if it is live at `now` and belongs
    /// to `user_id` and `bound_to` (where given): it is deleted as it is read, so of two
    /// answers to one challenge at most one finds it, and an answer from elsewhere leaves it.
    pub fn take(
        conn: &mut DbConn,
        id_hash: &str,
        purpose: &str,
        user_id: Option<i64>,
        bound_to: Option<&str>,
        now: i64,
    ) -> QueryResult<Option<Self>> {
        crate::db_run!(conn => {
            let mut target = passkey_ceremonies::table
                .filter(passkey_ceremonies::id_hash.eq(id_hash))
                .filter(passkey_ceremonies::purpose.eq(purpose))
                .filter(passkey_ceremonies::expires_at.gt(now))
                .into_boxed();
            if let Some(user_id) = user_id {
                target = target.filter(passkey_ceremonies::user_id.eq(user_id));
            }
            if let Some(bound_to) = bound_to {
                target = target.filter(passkey_ceremonies::bound_to.eq(bound_to));
            }
            diesel::delete(passkey_ceremonies::table)
                .filter(passkey_ceremonies::id_hash.eq_any(target.select(passkey_ceremonies::id_hash)))
                .returning(Self::as_returning())
                .get_result(conn)
                .optional()
        })
    }

    /// Forgets the ceremonies that expired by `now`; returns how many.
    pub fn prune(conn: &mut DbConn, now: i64) -> QueryResult<usize> {
        crate::db_run!(conn => {
            diesel::delete(
                passkey_ceremonies::table.filter(passkey_ceremonies::expires_at.le(now)),
            )
            .execute(conn)
        })
    }
}
