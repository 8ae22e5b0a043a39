//! A person's account: who they are, how they sign in and their 2FA state.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::Organization;
use crate::db::schema::{organizations, recovery_codes, sessions, users};
use crate::domain::Role;

/// A person.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub organization_id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub totp_secret: Option<Vec<u8>>,
    pub totp_enabled_at: Option<i64>,
    pub totp_last_step: i64,
    pub pending_totp_secret: Option<Vec<u8>>,
    pub pending_totp_created_at: Option<i64>,
    pub session_epoch: i64,
    pub last_sign_in_at: Option<i64>,
    pub deactivated_at: Option<i64>,
    pub created_at: i64,
    /// The people-table columns this person chose, comma-separated; `None` for the default.
    pub people_fields: Option<String>,
    /// Set by "this wasn't me": the next password sign-in waits for a new password.
    pub must_reset_password: bool,
    /// The WebAuthn user handle (a random UUID) of the person's passkeys, made with the first.
    pub passkey_user_id: Option<String>,
    pub passkey_count: i64,
    /// 2FA is on: the app, a passkey, or both (a column the database derives).
    pub two_factor: bool,
}

/// A live session's person, as [`User::find_for_session`] finds them.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user: User,
    pub organization: Organization,
    pub recovery_codes_left: i64,
    /// When the session's row expires (its absolute lifetime), in Unix seconds.
    pub expires_at: i64,
}

/// A new person.
#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub organization_id: i64,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub created_at: i64,
}

impl NewUser<'_> {
    /// Inserts the person and returns their id.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<i64> {
        crate::db_run!(conn => {
            diesel::insert_into(users::table)
                .values(self)
                .returning(users::id)
                .get_result(conn)
        })
    }
}

impl User {
    /// Whether two-factor authentication is on.
    pub fn has_two_factor(&self) -> bool {
        self.two_factor
    }

    /// Whether the person has the authenticator app.
    pub fn has_app(&self) -> bool {
        self.totp_secret.is_some()
    }

    /// The person with this id.
    pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Self>> {
        // `get_result`, not `first`, for every lookup by a unique key in these models: the bound
        // `LIMIT ?` that `first` adds makes SQLite prepare the statement anew on every run
        // instead of reusing the cached one.
        crate::db_run!(conn => {
            users::table
                .find(id)
                .select(Self::as_select())
                .get_result(conn)
                .optional()
        })
    }

    /// The person with this (normalized) email.
    pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<Self>> {
        crate::db_run!(conn => {
            users::table
                .filter(users::email.eq(email))
                .select(Self::as_select())
                .get_result(conn)
                .optional()
        })
    }

    /// The person and their organization, in one query (done on every signed-in request).
    pub fn find_with_organization(
        conn: &mut DbConn,
        id: i64,
    ) -> QueryResult<Option<(Self, Organization)>> {
        crate::db_run!(conn => {
            users::table
                .inner_join(organizations::table)
                .filter(users::id.eq(id))
                .select((Self::as_select(), Organization::as_select()))
                .get_result(conn)
                .optional()
        })
    }

    /// The person, their organization, how many unused recovery codes they hold and when the
    /// session ends, for a signed-in session whose row is live (not ended by signing out or
    /// by the person, not expired): one statement, run on every signed-in request whose
    /// answer is not known already, so that no page needs a second trip to the database for
    /// the count it shows.
    pub fn find_for_session(
        conn: &mut DbConn,
        id: i64,
        session_hash: &str,
        now: i64,
    ) -> QueryResult<Option<SessionRow>> {
        crate::db_run!(conn => {
            let codes_left = recovery_codes::table
                .filter(recovery_codes::user_id.eq(users::id))
                .filter(recovery_codes::used_at.is_null())
                .count()
                .single_value();
            // The session's row: live (not ended, not expired) and this person's. Its epoch is
            // compared by the caller with the cookie's and the person's.
            sessions::table
                .inner_join(users::table.inner_join(organizations::table))
                .filter(sessions::id_hash.eq(session_hash))
                .filter(sessions::user_id.eq(id))
                .filter(sessions::ended_at.is_null())
                .filter(sessions::expires_at.gt(now))
                .select((
                    Self::as_select(),
                    Organization::as_select(),
                    codes_left,
                    sessions::expires_at,
                ))
                .get_result::<(Self, Organization, Option<i64>, i64)>(conn)
                .optional()
                .map(|found| {
                    found.map(|(user, organization, codes, expires_at)| SessionRow {
                        user,
                        organization,
                        recovery_codes_left: codes.unwrap_or(0),
                        expires_at,
                    })
                })
        })
    }

    /// The owner of an organization.
    pub fn owner_of(conn: &mut DbConn, organization_id: i64) -> QueryResult<Option<Self>> {
        crate::db_run!(conn => users::table
            .filter(users::organization_id.eq(organization_id))
            .filter(users::role.eq(Role::Owner))
            .select(Self::as_select())
            .first(conn)
            .optional())
    }

    /// Whether an account with this email exists.
    pub fn email_taken(conn: &mut DbConn, email: &str) -> QueryResult<bool> {
        crate::db_run!(conn => {
            diesel::select(diesel::dsl::exists(
                users::table.filter(users::email.eq(email)),
            ))
            .get_result(conn)
        })
    }

    /// Marks `step` as used, if it is newer than the last used step. The row count decides:
    /// of two requests with the same code, only one advances the step.
    pub fn advance_totp_step(conn: &mut DbConn, id: i64, step: i64) -> QueryResult<bool> {
        crate::db_run!(conn => {
            let n = diesel::update(
                users::table.filter(users::id.eq(id).and(users::totp_last_step.lt(step))),
            )
            .set(users::totp_last_step.eq(step))
            .execute(conn)?;
            Ok(n == 1)
        })
    }

    /// Stores a new sealed secret awaiting confirmation (replacing any earlier one).
    pub fn start_totp_setup(
        conn: &mut DbConn,
        id: i64,
        sealed: &[u8],
        now: i64,
    ) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::update(users::table.find(id))
                .set((
                    users::pending_totp_secret.eq(Some(sealed)),
                    users::pending_totp_created_at.eq(Some(now)),
                ))
                .execute(conn)?;
            Ok(())
        })
    }

    /// Makes the pending secret the active one and ends every session of this person, if the
    /// pending secret is still the one started at `pending_created_at` (a second, racing
    /// confirmation finds it gone). Returns whether it was confirmed.
    pub fn confirm_totp(
        conn: &mut DbConn,
        user: &User,
        pending_created_at: i64,
        step: i64,
        now: i64,
    ) -> QueryResult<bool> {
        crate::db_run!(conn => {
            let Some(pending) = &user.pending_totp_secret else {
                return Ok(false);
            };
            let n = diesel::update(
                users::table.filter(
                    users::id
                        .eq(user.id)
                        .and(users::pending_totp_created_at.eq(pending_created_at)),
                ),
            )
            .set((
                users::totp_secret.eq(Some(pending)),
                users::totp_enabled_at.eq(Some(user.totp_enabled_at.unwrap_or(now))),
                users::totp_last_step.eq(step),
                users::pending_totp_secret.eq(None::<Vec<u8>>),
                users::pending_totp_created_at.eq(None::<i64>),
                users::session_epoch.eq(users::session_epoch + 1),
            ))
            .execute(conn)?;
            Ok(n == 1)
        })
    }

    /// Turns two-factor authentication off and ends every session of this person; returns the
    /// new session epoch.
    pub fn disable_totp(conn: &mut DbConn, id: i64) -> QueryResult<i64> {
        crate::db_run!(conn => {
            diesel::update(users::table.find(id))
                .set((
                    users::totp_secret.eq(None::<Vec<u8>>),
                    users::totp_enabled_at.eq(None::<i64>),
                    users::pending_totp_secret.eq(None::<Vec<u8>>),
                    users::pending_totp_created_at.eq(None::<i64>),
                    users::session_epoch.eq(users::session_epoch + 1),
                ))
                .returning(users::session_epoch)
                .get_result(conn)
        })
    }

    /// The person's passkey user handle, made now if they have none yet (conditionally: of
    /// two racing first passkeys, both get the one that was stored).
    pub fn passkey_handle(conn: &mut DbConn, id: i64) -> QueryResult<String> {
        crate::db_run!(conn => {
            let fresh = uuid::Uuid::new_v4().to_string();
            diesel::update(
                users::table.filter(users::id.eq(id).and(users::passkey_user_id.is_null())),
            )
            .set(users::passkey_user_id.eq(Some(&fresh)))
            .execute(conn)?;
            users::table
                .find(id)
                .select(users::passkey_user_id)
                .get_result::<Option<String>>(conn)
                .map(|handle| handle.unwrap_or(fresh))
        })
    }

    /// The person whose passkey user handle this is.
    pub fn find_by_passkey_handle(conn: &mut DbConn, handle: &str) -> QueryResult<Option<Self>> {
        crate::db_run!(conn => {
            users::table
                .filter(users::passkey_user_id.eq(handle))
                .select(Self::as_select())
                .get_result(conn)
                .optional()
        })
    }

    /// Ends every session of this person on every device; returns the new epoch.
    pub fn end_all_sessions(conn: &mut DbConn, id: i64) -> QueryResult<i64> {
        crate::db_run!(conn => {
            diesel::update(users::table.find(id))
                .set(users::session_epoch.eq(users::session_epoch + 1))
                .returning(users::session_epoch)
                .get_result(conn)
        })
    }

    /// A completed sign-in: records its time.
    pub fn record_sign_in(conn: &mut DbConn, id: i64, now: i64) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::update(users::table.find(id))
                .set(users::last_sign_in_at.eq(Some(now)))
                .execute(conn)?;
            Ok(())
        })
    }

    /// Sets a new password: its hash replaces the old, the "must reset" flag goes, and every
    /// session of the person ends (the epoch moves on); returns the new epoch.
    pub fn set_new_password(conn: &mut DbConn, id: i64, hash: &str) -> QueryResult<i64> {
        crate::db_run!(conn => {
            diesel::update(users::table.find(id))
                .set((
                    users::password_hash.eq(hash),
                    users::must_reset_password.eq(false),
                    users::session_epoch.eq(users::session_epoch + 1),
                ))
                .returning(users::session_epoch)
                .get_result(conn)
        })
    }

    /// "This wasn't me": every session ends and the next password sign-in waits for a new
    /// password; returns the new epoch.
    pub fn contain(conn: &mut DbConn, id: i64) -> QueryResult<i64> {
        crate::db_run!(conn => {
            diesel::update(users::table.find(id))
                .set((
                    users::must_reset_password.eq(true),
                    users::session_epoch.eq(users::session_epoch + 1),
                ))
                .returning(users::session_epoch)
                .get_result(conn)
        })
    }

    /// Replaces the password's hash (the same password at the configured bcrypt cost).
    pub fn set_password_hash(conn: &mut DbConn, id: i64, hash: &str) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::update(users::table.find(id))
                .set(users::password_hash.eq(hash))
                .execute(conn)?;
            Ok(())
        })
    }

    /// The person with this id in this organization: an id from another organization finds
    /// nothing, exactly like an id that does not exist.
    pub fn find_in_organization(
        conn: &mut DbConn,
        organization_id: i64,
        id: i64,
    ) -> QueryResult<Option<Self>> {
        crate::db_run!(conn => {
            users::table
                .filter(users::id.eq(id))
                .filter(users::organization_id.eq(organization_id))
                .select(Self::as_select())
                .get_result(conn)
                .optional()
        })
    }
}
