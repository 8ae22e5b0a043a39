//! Attempt counters: how many passwords or codes were tried under one key, and until when no
//! more may be. An attempt is counted *before* what it carries is checked, in its own
//! committed transaction, so that however many requests arrive at once, each sees the others'
//! counts: no more attempts than the limit are ever checked in one lock period.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::attempt_counters;

/// What happens once a counter reaches its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Locked for `base_secs` at the limit, twice as long at each attempt after it, up to
    /// `max_secs`; the count starts again only after a success, or once the rule's window has
    /// passed without any attempt (the window slides with each attempt).
    Doubling { base_secs: i64, max_secs: i64 },
    /// Locked until the counting window ends.
    UntilWindowEnds,
}

/// The limit of one kind of counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Attempts that may be checked; the attempt that reaches this number is checked too, and
    /// locks the counter before it is.
    pub max: i32,
    /// The counting window: a fixed window from its first attempt for
    /// [`Lock::UntilWindowEnds`]; for [`Lock::Doubling`], the time since the last attempt.
    /// A counter whose window is over (and that is not locked) starts from zero.
    pub window_secs: i64,
    pub lock: Lock,
}

impl Rule {
    /// The lock set by the `attempts`-th attempt, from `now`, given the window's start.
    pub fn lock_until(&self, attempts: i32, window_start: i64, now: i64) -> Option<i64> {
        if attempts < self.max {
            return None;
        }
        Some(match self.lock {
            Lock::Doubling {
                base_secs,
                max_secs,
            } => {
                let doublings = (attempts - self.max).clamp(0, 30) as u32;
                now + base_secs.saturating_mul(1i64 << doublings).min(max_secs)
            }
            Lock::UntilWindowEnds => window_start + self.window_secs,
        })
    }

    /// How long a row of this rule must be kept after an attempt at `now`.
    fn keep_until(&self, now: i64) -> i64 {
        let longest_lock = match self.lock {
            Lock::Doubling { max_secs, .. } => max_secs,
            Lock::UntilWindowEnds => self.window_secs,
        };
        now + self.window_secs + longest_lock
    }
}

/// One counter.
pub struct AttemptCounter;

impl AttemptCounter {
    /// Counts one attempt under `key`, unless the counter is locked: then nothing is counted
    /// and the answer is how many seconds are left. Otherwise the answer is the attempt's
    /// number in the window; the attempt that reaches the rule's limit sets the lock before
    /// anything is checked. Call it in a write transaction that commits before the attempt
    /// is checked.
    pub fn take(
        conn: &mut DbConn,
        key: &str,
        rule: &Rule,
        now: i64,
    ) -> QueryResult<Result<i32, i64>> {
        // On PostgreSQL another transaction may delete the row (a success elsewhere resetting
        // it, or the pruning) between the insert and the count: then it is inserted again.
        for _ in 0..3 {
            if let Some(answer) = Self::try_take(conn, key, rule, now)? {
                return Ok(answer);
            }
        }
        Err(diesel::result::Error::NotFound)
    }

    /// One try of [`AttemptCounter::take`]; `None` when the row vanished meanwhile.
    fn try_take(
        conn: &mut DbConn,
        key: &str,
        rule: &Rule,
        now: i64,
    ) -> QueryResult<Option<Result<i32, i64>>> {
        let keep_until = rule.keep_until(now);
        // A doubling counter's window slides: it remembers failures for `window_secs` after
        // the last attempt, not after the first.
        let sliding = matches!(rule.lock, Lock::Doubling { .. });
        crate::db_run!(conn => {
            diesel::insert_into(attempt_counters::table)
                .values((
                    attempt_counters::key.eq(key),
                    attempt_counters::attempts.eq(0),
                    attempt_counters::window_start.eq(now),
                    attempt_counters::locked_until.eq(0),
                    attempt_counters::expires_at.eq(keep_until),
                ))
                .on_conflict(attempt_counters::key)
                .do_nothing()
                .execute(conn)?;
            // A window that is over, with no lock running, starts again.
            diesel::update(
                attempt_counters::table.filter(
                    attempt_counters::key
                        .eq(key)
                        .and(attempt_counters::window_start.le(now - rule.window_secs))
                        .and(attempt_counters::locked_until.le(now)),
                ),
            )
            .set((
                attempt_counters::attempts.eq(0),
                attempt_counters::window_start.eq(now),
            ))
            .execute(conn)?;
            // The count and the lock check in one statement: on PostgreSQL a racing
            // transaction waits for this row and then sees the lock this one sets; on SQLite
            // the write transaction runs alone.
            let unlocked = attempt_counters::table.filter(
                attempt_counters::key
                    .eq(key)
                    .and(attempt_counters::locked_until.le(now)),
            );
            let counted: Option<(i32, i64)> = if sliding {
                diesel::update(unlocked)
                    .set((
                        attempt_counters::attempts.eq(attempt_counters::attempts + 1),
                        attempt_counters::window_start.eq(now),
                        attempt_counters::expires_at.eq(keep_until),
                    ))
                    .returning((attempt_counters::attempts, attempt_counters::window_start))
                    .get_result(conn)
                    .optional()?
            } else {
                diesel::update(unlocked)
                    .set((
                        attempt_counters::attempts.eq(attempt_counters::attempts + 1),
                        attempt_counters::expires_at.eq(keep_until),
                    ))
                    .returning((attempt_counters::attempts, attempt_counters::window_start))
                    .get_result(conn)
                    .optional()?
            };
            let Some((attempts, window_start)) = counted else {
                let locked_until: Option<i64> = attempt_counters::table
                    .find(key)
                    .select(attempt_counters::locked_until)
                    .get_result(conn)
                    .optional()?;
                return Ok(locked_until.map(|until| Err((until - now).max(1))));
            };
            #[cfg(feature = "test-hooks")]
            crate::db::fault_point("attempt-counted");
            if let Some(until) = rule.lock_until(attempts, window_start, now) {
                diesel::update(attempt_counters::table.find(key))
                    .set((
                        attempt_counters::locked_until.eq(until),
                        attempt_counters::expires_at.eq(keep_until.max(until)),
                    ))
                    .execute(conn)?;
            }
            Ok(Some(Ok(attempts)))
        })
    }

    /// A success: the counter starts from zero, with no lock.
    pub fn reset(conn: &mut DbConn, key: &str) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::delete(attempt_counters::table.find(key)).execute(conn)?;
            Ok(())
        })
    }

    /// A success that must not wipe others' failures (a client address's counter, shared by
    /// everything that address tries): the attempt is given back. A counter back at zero with
    /// no lock is no counter: its row goes.
    pub fn refund(conn: &mut DbConn, key: &str) -> QueryResult<()> {
        crate::db_run!(conn => {
            diesel::update(
                attempt_counters::table.filter(
                    attempt_counters::key
                        .eq(key)
                        .and(attempt_counters::attempts.gt(0)),
                ),
            )
            .set(attempt_counters::attempts.eq(attempt_counters::attempts - 1))
            .execute(conn)?;
            diesel::delete(
                attempt_counters::table.filter(
                    attempt_counters::key
                        .eq(key)
                        .and(attempt_counters::attempts.eq(0))
                        .and(attempt_counters::locked_until.eq(0)),
                ),
            )
            .execute(conn)?;
            Ok(())
        })
    }

    /// Seconds left on the counter's lock, if it is locked at `now`.
    pub fn locked_for(conn: &mut DbConn, key: &str, now: i64) -> QueryResult<Option<i64>> {
        crate::db_run!(conn => {
            let until: Option<i64> = attempt_counters::table
                .find(key)
                .select(attempt_counters::locked_until)
                .get_result(conn)
                .optional()?;
            Ok(until.filter(|u| *u > now).map(|u| u - now))
        })
    }

    /// Forgets counters whose window and lock are long over; returns how many.
    pub fn prune(conn: &mut DbConn, now: i64) -> QueryResult<usize> {
        crate::db_run!(conn => {
            diesel::delete(attempt_counters::table.filter(attempt_counters::expires_at.lt(now)))
                .execute(conn)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_doubling_lock_starts_at_the_limit_and_doubles_up_to_its_cap() {
        let rule = Rule {
            max: 10,
            window_secs: 86_400,
            lock: Lock::Doubling {
                base_secs: 30,
                max_secs: 3600,
            },
        };
        assert_eq!(rule.lock_until(9, 0, 1000), None);
        let locks: Vec<i64> = (10..=18)
            .map(|n| rule.lock_until(n, 0, 1000).expect("locked") - 1000)
            .collect();
        assert_eq!(locks, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(rule.lock_until(1000, 0, 0), Some(3600));
    }

    #[test]
    fn a_window_lock_lasts_until_the_window_ends() {
        let rule = Rule {
            max: 100,
            window_secs: 900,
            lock: Lock::UntilWindowEnds,
        };
        assert_eq!(rule.lock_until(99, 500, 700), None);
        assert_eq!(rule.lock_until(100, 500, 700), Some(1400));
    }
}
