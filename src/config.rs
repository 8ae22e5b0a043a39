//! Settings from the environment (a `.env` file is read first by `main`), passed by value.

use std::path::{Path, PathBuf};

use rand::RngCore;

/// Everything Twofold reads from its environment.
#[derive(Clone)]
pub struct Config {
    /// `TWOFOLD_BIND`: the address to listen on; port 0 picks a free port.
    pub bind: String,
    /// `TWOFOLD_DATA_DIR`: the SQLite file, the generated secret key and the email outbox.
    pub data_dir: PathBuf,
    /// `DATABASE_URL`: a SQLite file path (or `sqlite://path`).
    pub database_url: String,
    /// `TWOFOLD_SECRET_KEY`: 64 bytes; every other key is derived from it.
    pub secret_key: SecretKey,
    /// `TWOFOLD_PUBLIC_URL`: the address people use; cookies are `Secure` when it is https.
    pub public_url: String,
    /// `TWOFOLD_SMTP_URL`: outgoing mail; without it emails are files in `<data dir>/outbox/`.
    pub smtp_url: Option<String>,
    /// `TWOFOLD_MAIL_FROM`: the sender of emails; `Twofold <twofold@host of the public URL>`
    /// when unset.
    pub mail_from: Option<String>,
    /// `TWOFOLD_ISSUER`: the name authenticator apps show next to the account.
    pub issuer: String,
    /// `TWOFOLD_BCRYPT_COST`: bcrypt's work factor for new password hashes.
    pub bcrypt_cost: u32,
    /// `TWOFOLD_BCRYPT_QUEUE`: how many operations that hash may be in line at once (beyond,
    /// 503); unset, about two seconds of the bcrypt threads' work.
    pub bcrypt_queue: Option<usize>,
    /// `TWOFOLD_SIGNUP`: whether anyone may create an organization at `/signup`.
    pub signup_open: bool,
    /// Limits on failed sign-in attempts.
    pub limits: Limits,
    /// `TWOFOLD_TRUSTED_PROXIES`: addresses of reverse proxies whose `X-Forwarded-For` is
    /// believed; from anyone else the header is ignored, so it cannot dodge the limits.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long the two-factor step may take after a right password, in seconds.
    pub two_factor_step_secs: i64,
    /// How long a signed-in session lasts.
    pub sessions: SessionLifetime,
    /// `TWOFOLD_REAUTH_MINUTES`: how long a second factor proven in a session (at sign-in or
    /// since) spares it the code that sensitive actions ask for; 0 asks every time.
    pub reauth_secs: i64,
    /// How often expired rows (attempt counters, ended sessions) are pruned, in seconds.
    pub prune_every_secs: u64,
}

/// How long a signed-in session lasts. Both limits are checked on the server at every
/// signed-in request, from times kept in the (authenticated) session, so neither depends on
/// the browser honouring a cookie's expiry.
#[derive(Clone, Copy, Debug)]
pub struct SessionLifetime {
    /// A session unused for this long has ended.
    pub idle_secs: i64,
    /// A session this long after its sign-in has ended, however active.
    pub absolute_secs: i64,
}

impl Default for SessionLifetime {
    fn default() -> Self {
        Self {
            idle_secs: 30 * 60,
            absolute_secs: 12 * 60 * 60,
        }
    }
}

/// How many passwords and codes may be checked before attempts are refused. Every attempt is
/// counted before it is checked (see `crate::auth::throttle`); a success gives it back.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Wrong passwords checked for one account from one client address before a lock: a
    /// stranger's guesses lock out the stranger's address, not the person.
    pub password_attempts: i32,
    /// Wrong codes checked for one account (from anywhere) before a lock: whoever reaches the
    /// code has the password already.
    pub code_attempts: i32,
    /// The first lock's length; each further attempt doubles it, up to `lock_max_secs`.
    pub lock_secs: i64,
    /// The longest lock.
    pub lock_max_secs: i64,
    /// The account's ceiling: wrong passwords from all addresses together (NIST SP 800-63B
    /// allows up to 100). Reaching it locks password sign-ins to the account and emails the
    /// person.
    pub account_attempts: i32,
    /// The ceiling's first lock; it doubles like the others, up to `account_lock_max_secs`.
    pub account_lock_secs: i64,
    /// The ceiling's longest lock.
    pub account_lock_max_secs: i64,
    /// Attempts of any kind from one client address (an IPv6 /64) within `client_window_secs`.
    pub client_attempts: i32,
    /// The length of a client address's counting window.
    pub client_window_secs: i64,
    /// How long failures are remembered when nothing more is tried (and nothing is locked).
    pub memory_secs: i64,
    /// Requests for a password-reset link from one client address, per `reset_window_secs`.
    pub reset_requests_per_address: i32,
    /// Organizations created from one client address (sign-ups), per `signup_window_secs`
    /// (`TWOFOLD_SIGNUPS_PER_HOUR`).
    pub signups_per_address: i32,
    pub signup_window_secs: i64,
    /// Requests for a password-reset link for one email, per `reset_window_secs`.
    pub reset_requests_per_email: i32,
    /// The window of the two limits above.
    pub reset_window_secs: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            password_attempts: 10,
            code_attempts: 10,
            lock_secs: 30,
            lock_max_secs: 3600,
            account_attempts: 100,
            account_lock_secs: 15 * 60,
            account_lock_max_secs: 24 * 3600,
            client_attempts: 100,
            client_window_secs: 900,
            memory_secs: 24 * 3600,
            reset_requests_per_address: 10,
            signups_per_address: 10,
            signup_window_secs: 3600,
            reset_requests_per_email: 3,
            reset_window_secs: 3600,
        }
    }
}

/// The deployment's 64-byte secret key.
#[derive(Clone)]
pub struct SecretKey(pub [u8; 64]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    /// Parses 128 hex characters.
    pub fn from_hex(text: &str) -> Result<Self, ConfigError> {
        let bytes = hex::decode(text.trim()).map_err(|_| ConfigError::SecretKey)?;
        let bytes: [u8; 64] = bytes.try_into().map_err(|_| ConfigError::SecretKey)?;
        Ok(Self(bytes))
    }

    /// A new random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 64];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }
}

/// What can be wrong with the environment.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("TWOFOLD_SECRET_KEY must be 64 bytes written as 128 hex characters")]
    SecretKey,
    #[error("{name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("cannot prepare the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// The default configuration for a data directory: SQLite file and secret key inside it.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Result<Self, ConfigError> {
        let data_dir = data_dir.into();
        Self::from_lookup(|name| match name {
            "TWOFOLD_DATA_DIR" => Some(data_dir.to_string_lossy().into_owned()),
            _ => None,
        })
    }

    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let bind = get("TWOFOLD_BIND").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let data_dir = PathBuf::from(get("TWOFOLD_DATA_DIR").unwrap_or_else(|| "./data".into()));
        std::fs::create_dir_all(&data_dir)
            .and_then(|()| keep_private(&data_dir))
            .map_err(|source| ConfigError::DataDir {
                path: data_dir.clone(),
                source,
            })?;
        let database_url = match get("DATABASE_URL") {
            Some(url) => url,
            None => data_dir
                .join("twofold.sqlite3")
                .to_string_lossy()
                .into_owned(),
        };
        let secret_key = match get("TWOFOLD_SECRET_KEY") {
            Some(hex) => SecretKey::from_hex(&hex)?,
            None => load_or_create_secret_key(&data_dir)?,
        };
        let public_url = get("TWOFOLD_PUBLIC_URL")
            // A host name, not the bound address: browsers allow passkeys only on one.
            .unwrap_or_else(|| {
                format!(
                    "http://localhost:{}",
                    bind.rsplit(':').next().unwrap_or("8080")
                )
            })
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                name: "TWOFOLD_PUBLIC_URL",
                reason: "must start with http:// or https://".into(),
            });
        }
        let bcrypt_cost = match get("TWOFOLD_BCRYPT_COST") {
            None => 12,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|c| (4..=31).contains(c))
                .ok_or(ConfigError::Invalid {
                    name: "TWOFOLD_BCRYPT_COST",
                    reason: "must be a whole number from 4 to 31".into(),
                })?,
        };
        let bcrypt_queue = match get("TWOFOLD_BCRYPT_QUEUE") {
            None => None,
            Some(v) => Some(v.parse::<usize>().ok().filter(|n| *n >= 1).ok_or(
                ConfigError::Invalid {
                    name: "TWOFOLD_BCRYPT_QUEUE",
                    reason: "must be a whole number of at least 1".into(),
                },
            )?),
        };
        let signup_open = match get("TWOFOLD_SIGNUP").as_deref() {
            None | Some("open") => true,
            Some("closed") => false,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "TWOFOLD_SIGNUP",
                    reason: format!("must be `open` or `closed`, not `{other}`"),
                });
            }
        };
        let mut limits = Limits::default();
        if let Some(v) = get("TWOFOLD_SIGNUPS_PER_HOUR") {
            limits.signups_per_address =
                v.parse::<i32>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or(ConfigError::Invalid {
                        name: "TWOFOLD_SIGNUPS_PER_HOUR",
                        reason: "must be a whole number of at least 1".into(),
                    })?;
        }
        let reauth_minutes = match get("TWOFOLD_REAUTH_MINUTES") {
            None => 10,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|m| (0..=24 * 60).contains(m))
                .ok_or(ConfigError::Invalid {
                    name: "TWOFOLD_REAUTH_MINUTES",
                    reason: "must be a whole number of minutes from 0 to 1440".into(),
                })?,
        };
        let trusted_proxies = get("TWOFOLD_TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse().map_err(|_| ConfigError::Invalid {
                    name: "TWOFOLD_TRUSTED_PROXIES",
                    reason: format!("`{s}` is not an IP address"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            bind,
            data_dir,
            database_url,
            secret_key,
            public_url,
            smtp_url: get("TWOFOLD_SMTP_URL"),
            mail_from: get("TWOFOLD_MAIL_FROM"),
            issuer: get("TWOFOLD_ISSUER").unwrap_or_else(|| "Twofold".into()),
            bcrypt_cost,
            bcrypt_queue,
            signup_open,
            limits,
            trusted_proxies,
            two_factor_step_secs: 5 * 60,
            sessions: SessionLifetime::default(),
            reauth_secs: reauth_minutes * 60,
            prune_every_secs: 600,
        })
    }

    /// Whether cookies must carry the `Secure` attribute.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Makes the data directory its user's alone (0700), and everything Twofold creates from now
/// on too: the process's umask becomes 077, so the SQLite database and its journal, the
/// generated key and the outbox's emails are readable by the server's user only.
#[cfg(unix)]
fn keep_private(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    #[cfg(target_os = "linux")]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn keep_private(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Restricts an existing file to its owner (0600): a database file made before the umask was
/// set, or by another tool.
#[cfg(unix)]
pub fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
pub fn make_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Reads `<data dir>/secret_key`, creating it (mode 0600) with a fresh key on first run.
fn load_or_create_secret_key(data_dir: &Path) -> Result<SecretKey, ConfigError> {
    let path = data_dir.join("secret_key");
    let io_err = |source| ConfigError::DataDir {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => SecretKey::from_hex(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretKey::generate();
            write_private_file(&path, hex::encode(key.0).as_bytes()).map_err(io_err)?;
            Ok(key)
        }
        Err(e) => Err(io_err(e)),
    }
}

#[cfg(unix)]
fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_key_must_be_128_hex_characters() {
        assert!(SecretKey::from_hex(&"ab".repeat(64)).is_ok());
        assert!(SecretKey::from_hex(&"ab".repeat(63)).is_err());
        assert!(SecretKey::from_hex(&"zz".repeat(64)).is_err());
    }

    #[test]
    fn the_generated_secret_key_is_kept_private_and_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = Config::with_data_dir(dir.path()).expect("config");
        let second = Config::with_data_dir(dir.path()).expect("config");
        assert_eq!(first.secret_key.0, second.secret_key.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secret_key"))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
