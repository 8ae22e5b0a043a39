//! Password hashing with bcrypt. Hashing and verifying are slow on purpose, so they run on a
//! few threads of their own (see [`Hasher`]), never on the request threads nor on the blocking
//! pool that the database work shares; a sign-in for an unknown email verifies against a dummy
//! hash of the same cost, so it takes as long as a wrong password.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::oneshot;

use crate::domain::Password;
use crate::error::AppError;

/// bcrypt with the deployment's cost, on its own threads.
///
/// bcrypt at cost 12 keeps a core busy for about a quarter of a second. On actix's blocking
/// pool, which grows to hundreds of threads, a burst of sign-ins would start as many hashes at
/// once: each would finish late, and together they would take the CPU from everything else,
/// including the database work that every page waits on. Here one thread per core hashes and
/// the rest wait in line, so sign-ins go through at the rate the cores allow and the database
/// work of every other request never waits for a thread. The bcrypt threads also run at a
/// lower priority than the request threads ([`BCRYPT_NICE`]), so that a page needing a core for
/// a few microseconds gets it at once rather than after a hash's time slice.
#[derive(Clone)]
pub struct Hasher {
    cost: u32,
    /// Computed on first need rather than at start-up, which it would slow by one bcrypt.
    dummy_hash: Arc<OnceLock<String>>,
    jobs: mpsc::Sender<Job>,
}

/// One hash or verify, with the way back to the request waiting for it.
type Job = Box<dyn FnOnce() + Send>;

impl Hasher {
    /// A hasher for new passwords of this cost, with one bcrypt thread per core.
    pub fn new(cost: u32) -> Self {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::with_threads(cost, threads)
    }

    /// A hasher with `threads` bcrypt threads. They end when the last clone is dropped.
    pub fn with_threads(cost: u32, threads: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("bcrypt-{i}"))
                .spawn(move || {
                    yield_to_requests();
                    loop {
                        // The lock is held only while waiting for the next job, never while
                        // hashing, so a job that panics cannot poison it.
                        let next = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = next else { return };
                        // A panicking job drops its answer channel (the request gets an error)
                        // and must not take the thread with it.
                        let _ = catch_unwind(AssertUnwindSafe(job));
                    }
                });
            if let Err(e) = spawned {
                // Fewer threads only make sign-ins slower; none at all is caught below.
                tracing::error!(error = %e, "could not start a bcrypt thread");
            }
        }
        Self {
            cost,
            dummy_hash: Arc::new(OnceLock::new()),
            jobs,
        }
    }

    /// Runs `f` on a bcrypt thread and waits for its answer without blocking the caller.
    async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The request may have gone away meanwhile; then nobody needs the answer.
            let _ = answer.send(f());
        });
        self.jobs.send(job).map_err(|_| {
            AppError::Unexpected(anyhow::anyhow!("the bcrypt threads have stopped"))
        })?;
        answered
            .await
            .map_err(|_| AppError::Unexpected(anyhow::anyhow!("a bcrypt job failed")))
    }

    /// Hashes a new password, off the request threads.
    pub async fn hash(&self, password: Password) -> Result<String, AppError> {
        let cost = self.cost;
        self.run(move || bcrypt::non_truncating_hash(password.expose(), cost))
            .await?
            .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("bcrypt hash")))
    }

    /// Checks `candidate` against `hash` (or, when there is no account, against the dummy
    /// hash, to spend the same time), off the request threads.
    pub async fn verify(&self, candidate: String, hash: Option<String>) -> Result<bool, AppError> {
        let (cost, dummy) = (self.cost, self.dummy_hash.clone());
        self.run(move || match hash {
            Some(hash) => verify_blocking(&candidate, &hash),
            None => {
                let dummy = dummy.get_or_init(|| {
                    bcrypt::non_truncating_hash("twofold-dummy-password", cost).unwrap_or_default()
                });
                // Same work as a real check; the answer is "no" whatever it says.
                let _ = verify_blocking(&candidate, dummy);
                false
            }
        })
        .await
    }
}

impl Hasher {
    /// Whether a stored hash was made at another cost than the configured one: then the
    /// password, once known right, is hashed again. This keeps real hashes at the cost of the
    /// dummy one that unknown emails are checked against, so that a changed
    /// `TWOFOLD_BCRYPT_COST` does not make known accounts answer at another speed.
    pub fn needs_rehash(&self, hash: &str) -> bool {
        cost_of(hash) != Some(self.cost)
    }

    /// Hashes a password that was just verified (the same text, at the configured cost).
    pub async fn rehash(&self, password: String) -> Result<String, AppError> {
        let cost = self.cost;
        self.run(move || bcrypt::non_truncating_hash(password, cost))
            .await?
            .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("bcrypt hash")))
    }
}

/// The cost a bcrypt hash (`$2b$12$…`) was made at.
pub fn cost_of(hash: &str) -> Option<u32> {
    hash.split('$').nth(2)?.parse().ok()
}

/// How much higher the bcrypt threads' nice value is than the request threads': when both are
/// ready, the kernel runs the request's work first. Alone, they still get every idle core.
pub const BCRYPT_NICE: i32 = 10;

/// The highest nice value Linux has.
#[cfg(target_os = "linux")]
const LOWEST_PRIORITY: i32 = 19;

/// Lowers the calling thread's priority [`BCRYPT_NICE`] steps below the thread that started it
/// (the process may itself run niced). Lowering needs no privilege; if the system refuses
/// anyway, hashing still works, only at the priority of requests.
#[cfg(target_os = "linux")]
fn yield_to_requests() {
    let thread = rustix::thread::gettid();
    let inherited = rustix::process::getpriority_process(Some(thread)).unwrap_or(0);
    let nice = (inherited + BCRYPT_NICE).min(LOWEST_PRIORITY);
    if let Err(e) = rustix::process::setpriority_process(Some(thread), nice) {
        tracing::warn!(error = %e, "could not lower the priority of a bcrypt thread");
    }
}

#[cfg(not(target_os = "linux"))]
fn yield_to_requests() {}

/// The synchronous check. Passwords over 72 bytes can never have been set (they are refused
/// at creation), so they simply do not match instead of being truncated.
pub fn verify_blocking(candidate: &str, hash: &str) -> bool {
    bcrypt::non_truncating_verify(candidate, hash).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_tells_its_cost() {
        let hash = bcrypt::non_truncating_hash("correct horse battery", 5).expect("hash");
        assert_eq!(cost_of(&hash), Some(5));
        assert_eq!(cost_of("not a hash"), None);
        let hasher = Hasher::with_threads(5, 1);
        assert!(!hasher.needs_rehash(&hash));
        assert!(Hasher::with_threads(6, 1).needs_rehash(&hash));
    }

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let hash = bcrypt::non_truncating_hash("correct horse battery", 4).expect("hash");
        assert!(verify_blocking("correct horse battery", &hash));
        assert!(!verify_blocking("correct horse batterY", &hash));
        assert!(!verify_blocking(&"x".repeat(100), &hash));
        assert!(!verify_blocking("anything", "not a bcrypt hash"));
    }

    #[actix_rt::test]
    async fn bcrypt_runs_on_its_own_threads_at_most_one_per_thread_at_a_time() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::time::Duration;

        let hasher = Hasher::with_threads(4, 2);
        let thread = hasher
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .expect("answer");
        assert!(thread.is_some_and(|name| name.starts_with("bcrypt-")));
        #[cfg(target_os = "linux")]
        {
            let nice_of_this_thread =
                || rustix::process::getpriority_process(Some(rustix::thread::gettid()));
            let ours = nice_of_this_thread().expect("getpriority");
            let theirs = hasher
                .run(nice_of_this_thread)
                .await
                .expect("answer")
                .expect("getpriority");
            assert_eq!(theirs, (ours + BCRYPT_NICE).min(LOWEST_PRIORITY));
        }

        // Six jobs submitted at once, as six sign-ins would be: never more than two run.
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let jobs: Vec<_> = (0..6)
            .map(|_| {
                let (hasher, running, most) = (hasher.clone(), running.clone(), most.clone());
                actix_rt::spawn(async move {
                    hasher
                        .run(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(20));
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        for job in jobs {
            job.await.expect("task").expect("answer");
        }
        let most = most.load(Ordering::SeqCst);
        assert!((1..=2).contains(&most), "{most} ran at once");
    }

    #[actix_rt::test]
    async fn a_hash_made_by_the_hasher_verifies_and_an_unknown_account_never_does() {
        let hasher = Hasher::with_threads(4, 1);
        let password = Password::parse("correct horse battery".into()).expect("valid");
        let hash = hasher.hash(password).await.expect("hash");
        assert!(
            hasher
                .verify("correct horse battery".into(), Some(hash))
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify("correct horse battery".into(), None)
                .await
                .expect("verify")
        );
    }
}
