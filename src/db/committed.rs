//! What a SQLite database has committed, read without a transaction: the header of its
//! wal-index (the `-shm` file beside it in WAL mode), so that a request thread can tell at the
//! cost of two small reads whether anything at all was committed since it last read.
//!
//! The header is part of SQLite's documented wal-index format (sqlite.org/walformat.html),
//! which every SQLite version and process sharing a database keeps to. Every commit, by any
//! connection of any process, rewrites it and increments its change counter (`iChange`), and
//! a reset of the WAL draws new salts into it: two equal headers read at two moments prove
//! that nothing was committed between them. SQLite writes the header's two copies in the
//! order second, first, and reads them first, second, as done here: a header being rewritten
//! reads as two different copies, and is not taken.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// One copy of the wal-index header (`WalIndexHdr`): 48 bytes, the second copy right after.
const HEADER: usize = 48;
/// Where the header's `isInit` byte is: 0 until the header is first written.
const IS_INIT: usize = 12;

/// What one database had committed at one moment. Equal values read at two moments mean that
/// no transaction was committed to it between them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Committed {
    /// The wal-index file's device and inode: headers of two databases are never compared.
    file: (u64, u64),
    header: [u8; HEADER],
}

/// A database's wal-index, open for reading its header.
#[derive(Clone)]
pub struct WalIndex {
    file: Arc<File>,
    id: (u64, u64),
}

/// Every wal-index this process opened. They stay open for the life of the process: closing
/// any descriptor of a file releases every POSIX lock the process holds on that file, and
/// SQLite's connections hold theirs on this one (SQLite itself never closes a database's
/// descriptors while a lock on it is held, for the same reason).
static OPENED: Mutex<Vec<WalIndex>> = Mutex::new(Vec::new());

impl WalIndex {
    /// The wal-index of the SQLite database at `database`. Call it only while a connection of
    /// this process to that database, in WAL mode, has read from it: SQLite then keeps the
    /// file in place and at its size (it truncates or recreates it only when no process has
    /// it open). `None` when there is no such file.
    #[cfg(unix)]
    pub fn open(database: &str) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        let path = format!("{database}-shm");
        let known = std::fs::metadata(Path::new(&path)).ok()?;
        let mut opened = OPENED.lock().ok()?;
        if let Some(index) = opened
            .iter()
            .find(|index| index.id == (known.dev(), known.ino()))
        {
            return Some(index.clone());
        }
        let file = File::open(&path).ok()?;
        // Named by what was opened, should the path have been replaced since.
        let meta = file.metadata().ok()?;
        let index = Self {
            file: Arc::new(file),
            id: (meta.dev(), meta.ino()),
        };
        opened.push(index.clone());
        Some(index)
    }

    /// No wal-index is read on other systems.
    #[cfg(not(unix))]
    pub fn open(_database: &str) -> Option<Self> {
        None
    }

    /// What the database has committed now; `None` while a commit is rewriting the header,
    /// before the header was first written, or if it cannot be read.
    #[cfg(unix)]
    pub fn committed(&self) -> Option<Committed> {
        use std::os::unix::fs::FileExt;
        use std::sync::atomic::{Ordering, fence};
        let (mut first, mut second) = ([0u8; HEADER], [0u8; HEADER]);
        self.file.read_exact_at(&mut first, 0).ok()?;
        fence(Ordering::SeqCst);
        self.file.read_exact_at(&mut second, HEADER as u64).ok()?;
        (first == second && first[IS_INIT] != 0).then_some(Committed {
            file: self.id,
            header: first,
        })
    }

    #[cfg(not(unix))]
    pub fn committed(&self) -> Option<Committed> {
        None
    }
}

/// Answers a thread read from the database, remembered while the database commits nothing:
/// an answer is given again only for the very state it was read in.
pub struct Remembered<V> {
    at: Option<Committed>,
    answers: HashMap<String, V>,
}

/// At most this many answers per thread: past it, the thread starts again.
const MOST_REMEMBERED: usize = 4096;

impl<V> Default for Remembered<V> {
    fn default() -> Self {
        Self {
            at: None,
            answers: HashMap::new(),
        }
    }
}

impl<V> Remembered<V> {
    /// The answer for `key` read in the state `at`, if one was.
    pub fn get(&self, at: Committed, key: &str) -> Option<&V> {
        if self.at != Some(at) {
            return None;
        }
        self.answers.get(key)
    }

    /// Remembers `value` as the answer for `key` in the state `at`; answers read in any other
    /// state are forgotten.
    pub fn remember(&mut self, at: Committed, key: String, value: V) {
        if self.at != Some(at) || self.answers.len() >= MOST_REMEMBERED {
            self.answers.clear();
            self.at = Some(at);
        }
        self.answers.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};

    use super::*;

    fn run(conn: &mut SqliteConnection, sql: &str) {
        conn.batch_execute(sql).expect("the statements run");
    }

    #[test]
    fn the_header_stays_as_it_is_while_nothing_is_committed_and_changes_at_every_commit() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("t.db").to_string_lossy().into_owned();
        let mut writer = SqliteConnection::establish(&path).expect("opens");
        run(
            &mut writer,
            "PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);",
        );
        let mut reader = SqliteConnection::establish(&path).expect("opens");
        run(&mut reader, "SELECT x FROM t");
        let index = WalIndex::open(&path).expect("the wal-index is there");
        let first = index.committed().expect("a header");

        run(&mut reader, "SELECT x FROM t");
        run(
            &mut writer,
            "SELECT x FROM t; BEGIN; SELECT x FROM t; ROLLBACK;",
        );
        assert_eq!(index.committed(), Some(first), "reads commit nothing");

        let mut seen = vec![first];
        for sql in [
            "UPDATE t SET x = x + 1",
            "INSERT INTO t VALUES (7)",
            "DELETE FROM t WHERE x = 7",
            // The WAL emptied and restarted: new salts, and the change counter goes on.
            "PRAGMA wal_checkpoint(TRUNCATE); UPDATE t SET x = 0",
            "UPDATE t SET x = 1",
        ] {
            run(&mut writer, sql);
            let now = index.committed().expect("a header");
            assert!(!seen.contains(&now), "`{sql}` left the header as before");
            seen.push(now);
        }
        // The same file opened again is the same wal-index.
        let again = WalIndex::open(&path).expect("the wal-index is there");
        assert_eq!(again.committed(), index.committed());
    }

    #[test]
    fn a_database_without_a_wal_index_has_none() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("t.db").to_string_lossy().into_owned();
        let mut conn = SqliteConnection::establish(&path).expect("opens");
        run(&mut conn, "CREATE TABLE t (x INTEGER)");
        assert!(WalIndex::open(&path).is_none());
    }

    fn state(n: u8) -> Committed {
        Committed {
            file: (1, 1),
            header: [n; HEADER],
        }
    }

    #[test]
    fn an_answer_is_given_again_only_in_the_state_it_was_read_in() {
        let mut remembered = Remembered::default();
        remembered.remember(state(1), "a".into(), 10);
        assert_eq!(remembered.get(state(1), "a"), Some(&10));
        assert_eq!(remembered.get(state(1), "b"), None);
        assert_eq!(remembered.get(state(2), "a"), None);
        let elsewhere = Committed {
            file: (1, 2),
            ..state(1)
        };
        assert_eq!(remembered.get(elsewhere, "a"), None, "another database's");

        remembered.remember(state(2), "b".into(), 20);
        assert_eq!(remembered.get(state(2), "b"), Some(&20));
        assert_eq!(
            remembered.get(state(2), "a"),
            None,
            "forgotten at the commit"
        );
        assert_eq!(remembered.get(state(1), "a"), None);
    }

    #[test]
    fn a_thread_remembers_a_bounded_number_of_answers() {
        let mut remembered = Remembered::default();
        for n in 0..=MOST_REMEMBERED {
            remembered.remember(state(1), n.to_string(), n);
        }
        assert!(remembered.answers.len() <= MOST_REMEMBERED);
        assert_eq!(
            remembered.get(state(1), &MOST_REMEMBERED.to_string()),
            Some(&MOST_REMEMBERED)
        );
    }
}
