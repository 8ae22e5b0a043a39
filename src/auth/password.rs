//! Password hashing with bcrypt. Hashing and verifying are slow on purpose, so they run on a
//! few threads of their own (see [`Hasher`]), never on the request threads nor on the blocking
//! pool that the database work shares; a sign-in for an unknown email verifies against a dummy
//! hash of the same cost, so it takes as long as a wrong password.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

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
///
/// The line is bounded ([`Hasher::admit`]): an operation that will hash takes a place first,
/// before it changes anything, and beyond about [`QUEUE_SECS`] of work for the threads it is
/// refused at once with 503 and `Retry-After`, instead of waiting in a line that a flood of
/// sign-ins would make minutes long for everyone.
#[derive(Clone)]
pub struct Hasher {
    cost: u32,
    threads: usize,
    /// Computed by the first bcrypt thread at start, off the request path (and timed: the
    /// time of one hash sizes the line).
    dummy_hash: Arc<OnceLock<String>>,
    jobs: mpsc::Sender<Job>,
    /// Operations holding a place in the line (queued or hashing).
    in_flight: Arc<AtomicUsize>,
    /// How many may: set by `TWOFOLD_BCRYPT_QUEUE`, else from the time of one hash.
    capacity: Arc<AtomicUsize>,
    /// The time of one hash at this cost, in microseconds, once measured.
    hash_micros: Arc<AtomicU64>,
}

/// About how many seconds of bcrypt work the line may hold for the threads.
pub const QUEUE_SECS: f64 = 2.0;

/// A place in the bcrypt line, taken by an operation before its first change and held until
/// its last hash ends (each job holds a copy, so a request that goes away does not free a
/// place its queued job still takes).
#[derive(Clone)]
pub struct Admission {
    /// Held, never read: the place is given back when the last copy goes.
    _place: Arc<Place>,
}

struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One hash or verify, with the way back to the request waiting for it.
type Job = Box<dyn FnOnce() + Send>;

impl Hasher {
    /// A hasher for new passwords of this cost, with one bcrypt thread per core; `queue`
    /// fixes how many operations may hold a place in its line (else about [`QUEUE_SECS`] of
    /// work, from the time of one hash measured at start).
    pub fn new(cost: u32, queue: Option<usize>) -> Self {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let hasher = Self::with_threads(cost, threads);
        match queue {
            Some(places) => hasher.capacity.store(places.max(1), Ordering::Release),
            None => hasher.measure(),
        }
        hasher
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
        let threads = threads.max(1);
        // Until one hash is timed: a quarter of a second each, as at cost 12 on a current core.
        let assumed = threads * (QUEUE_SECS / 0.25) as usize;
        Self {
            cost,
            threads,
            dummy_hash: Arc::new(OnceLock::new()),
            jobs,
            in_flight: Arc::new(AtomicUsize::new(0)),
            capacity: Arc::new(AtomicUsize::new(assumed)),
            hash_micros: Arc::new(AtomicU64::new(250_000)),
        }
    }

    /// Times the dummy hash on a bcrypt thread, and sizes the line from it.
    fn measure(&self) {
        let (cost, dummy) = (self.cost, self.dummy_hash.clone());
        let (capacity, micros, threads) = (
            self.capacity.clone(),
            self.hash_micros.clone(),
            self.threads,
        );
        let job: Job = Box::new(move || {
            let started = Instant::now();
            dummy.get_or_init(|| dummy_hash(cost));
            let secs = started.elapsed().as_secs_f64().max(1e-4);
            micros.store((secs * 1e6) as u64, Ordering::Release);
            let places = ((threads as f64) * QUEUE_SECS / secs).floor() as usize;
            capacity.store(places.max(threads), Ordering::Release);
        });
        let _ = self.jobs.send(job);
    }

    /// Takes a place in the line for an operation that will hash, before it changes anything;
    /// 503 with a `Retry-After` when the line is full.
    pub fn admit(&self) -> Result<Admission, AppError> {
        let capacity = self.capacity.load(Ordering::Acquire);
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= capacity {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            // The line empties in about its length of work.
            let micros = self.hash_micros.load(Ordering::Acquire) as f64;
            let secs = (capacity as f64 * micros / 1e6 / self.threads as f64).ceil() as i64;
            return Err(AppError::Busy(secs.max(1)));
        }
        Ok(Admission {
            _place: Arc::new(Place(self.in_flight.clone())),
        })
    }

    /// How many operations hold a place in the line now.
    pub fn in_line(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Runs `f` on a bcrypt thread, in the place `admission` holds, and waits for its answer
    /// without blocking the caller.
    async fn run<T, F>(&self, admission: &Admission, f: F) -> Result<T, AppError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let place = admission.clone();
        let job: Job = Box::new(move || {
            let out = f();
            // The place is free once the work is done, before the answer is read.
            drop(place);
            // The request may have gone away meanwhile; then nobody needs the answer.
            let _ = answer.send(out);
        });
        self.jobs.send(job).map_err(|_| {
            AppError::Unexpected(anyhow::anyhow!("the bcrypt threads have stopped"))
        })?;
        answered
            .await
            .map_err(|_| AppError::Unexpected(anyhow::anyhow!("a bcrypt job failed")))
    }

    /// Hashes a new password, off the request threads.
    pub async fn hash(
        &self,
        admission: &Admission,
        password: Password,
    ) -> Result<String, AppError> {
        let cost = self.cost;
        self.run(admission, move || {
            bcrypt::non_truncating_hash(password.expose(), cost)
        })
        .await?
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("bcrypt hash")))
    }

    /// Checks `candidate` against `hash` (or, when there is no account, against the dummy
    /// hash, to spend the same time), off the request threads.
    pub async fn verify(
        &self,
        admission: &Admission,
        candidate: String,
        hash: Option<String>,
    ) -> Result<bool, AppError> {
        let (cost, dummy) = (self.cost, self.dummy_hash.clone());
        self.run(admission, move || match hash {
            Some(hash) => verify_blocking(&candidate, &hash),
            None => {
                let dummy = dummy.get_or_init(|| dummy_hash(cost));
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
    pub async fn rehash(
        &self,
        admission: &Admission,
        password: String,
    ) -> Result<String, AppError> {
        let cost = self.cost;
        self.run(admission, move || {
            bcrypt::non_truncating_hash(password, cost)
        })
        .await?
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("bcrypt hash")))
    }
}

/// The hash unknown emails are checked against, at the deployment's cost.
fn dummy_hash(cost: u32) -> String {
    bcrypt::non_truncating_hash("twofold-dummy-password", cost).unwrap_or_default()
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
        let place = hasher.admit().expect("a place");
        let thread = hasher
            .run(&place, || std::thread::current().name().map(str::to_owned))
            .await
            .expect("answer");
        assert!(thread.is_some_and(|name| name.starts_with("bcrypt-")));
        #[cfg(target_os = "linux")]
        {
            let nice_of_this_thread =
                || rustix::process::getpriority_process(Some(rustix::thread::gettid()));
            let ours = nice_of_this_thread().expect("getpriority");
            let theirs = hasher
                .run(&place, nice_of_this_thread)
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
                    let place = hasher.admit().expect("a place");
                    hasher
                        .run(&place, move || {
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
        let place = hasher.admit().expect("a place");
        let password = Password::parse("correct horse battery".into()).expect("valid");
        let hash = hasher.hash(&place, password).await.expect("hash");
        assert!(
            hasher
                .verify(&place, "correct horse battery".into(), Some(hash))
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify(&place, "correct horse battery".into(), None)
                .await
                .expect("verify")
        );
    }

    #[actix_rt::test]
    async fn the_line_refuses_beyond_its_places_until_a_place_is_given_back() {
        let hasher = Hasher::with_threads(4, 1);
        hasher.capacity.store(2, Ordering::Release);
        let first = hasher.admit().expect("a place");
        let second = hasher.admit().expect("a place");
        assert_eq!(hasher.in_line(), 2);
        assert!(matches!(hasher.admit(), Err(AppError::Busy(secs)) if secs >= 1));
        assert_eq!(hasher.in_line(), 2, "a refusal takes no place");
        // A job holds its operation's place until it has run.
        let held = first.clone();
        drop(first);
        assert_eq!(hasher.in_line(), 2);
        hasher.run(&held, || ()).await.expect("answer");
        drop(held);
        assert_eq!(hasher.in_line(), 1);
        let third = hasher.admit().expect("a place again");
        drop((second, third));
        assert_eq!(hasher.in_line(), 0);
    }
}
