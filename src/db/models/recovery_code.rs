use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::recovery_codes;

/// A stored recovery code: only its keyed hash is kept.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = recovery_codes)]
pub struct StoredRecoveryCode {
    pub id: i64,
    pub user_id: i64,
    pub code_hash: String,
    pub used_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Insertable)]
#[diesel(table_name = recovery_codes)]
struct NewRecoveryCode<'a> {
    user_id: i64,
    code_hash: &'a str,
    created_at: i64,
}

impl StoredRecoveryCode {
    /// Replaces all of a person's codes (used or not) with these hashes. Call it inside a
    /// transaction with the change it belongs to.
    pub fn replace_all(
        conn: &mut DbConn,
        user_id: i64,
        hashes: &[String],
        now: i64,
    ) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
                .execute(conn)?;
            let rows: Vec<_> = hashes
                .iter()
                .map(|h| NewRecoveryCode {
                    user_id,
                    code_hash: h,
                    created_at: now,
                })
                .collect();
            diesel::insert_into(recovery_codes::table)
                .values(&rows)
                .execute(conn)?;
            Ok(())
        })
    }

    /// Deletes all of a person's codes.
    pub fn delete_all(conn: &mut DbConn, user_id: i64) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
                .execute(conn)?;
            Ok(())
        })
    }

    /// Spends the code with this hash if it is unused. One conditional `UPDATE`: of any number
    /// of racing requests with the same code, exactly one sees a row changed.
    pub fn spend(conn: &mut DbConn, user_id: i64, code_hash: &str, now: i64) -> QueryResult<bool> {
        crate::db_run!(conn => {
            let n = diesel::update(
                recovery_codes::table.filter(
                    recovery_codes::user_id
                        .eq(user_id)
                        .and(recovery_codes::code_hash.eq(code_hash))
                        .and(recovery_codes::used_at.is_null()),
                ),
            )
            .set(recovery_codes::used_at.eq(Some(now)))
            .execute(conn)?;
            Ok(n == 1)
        })
    }

    /// How many unused codes a person has.
    pub fn count_unused(conn: &mut DbConn, user_id: i64) -> QueryResult<i64> {
        crate::db_run!(conn => {
            recovery_codes::table
                .filter(
                    recovery_codes::user_id
                        .eq(user_id)
                        .and(recovery_codes::used_at.is_null()),
                )
                .count()
                .get_result(conn)
        })
    }

    /// How many unused codes each of these people has, in one grouped query (people with
    /// none are absent).
    pub fn count_unused_for(conn: &mut DbConn, user_ids: &[i64]) -> QueryResult<Vec<(i64, i64)>> {
        crate::db_run!(conn => {
            recovery_codes::table
                .filter(recovery_codes::user_id.eq_any(user_ids))
                .filter(recovery_codes::used_at.is_null())
                .group_by(recovery_codes::user_id)
                .select((recovery_codes::user_id, diesel::dsl::count_star()))
                .load(conn)
        })
    }
}
