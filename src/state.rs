//! What every request handler and operation can reach: the database pool, the derived keys,
//! the bcrypt threads, the configuration and the mailer. The command line builds the same
//! state, so an operation runs the same way from either door.

use crate::auth::keys::Keys;
use crate::auth::password::Hasher;
use crate::config::Config;
use crate::db::DbPool;
use crate::mail::Mailer;

/// The application's shared state.
pub struct AppState {
    pub pool: DbPool,
    pub keys: Keys,
    pub hasher: Hasher,
    pub config: Config,
    pub mailer: Mailer,
    /// The WebAuthn relying party, unless the public URL cannot have passkeys.
    pub webauthn: Option<std::sync::Arc<webauthn_rs::Webauthn>>,
    /// Sessions' latest uses, waiting to be written.
    pub activity: crate::auth::session::ActivityLog,
    /// Every request the server answered, from arrival to answer (test builds only).
    #[cfg(feature = "test-hooks")]
    pub requests: std::sync::Mutex<Vec<crate::telemetry::RequestSpan>>,
}

impl AppState {
    /// The state for `config` on an open pool: keys derived from the secret key, bcrypt
    /// threads started, the mailer set up (creating the outbox when there is no SMTP server).
    pub fn new(config: Config, pool: DbPool) -> anyhow::Result<Self> {
        let webauthn =
            match crate::auth::webauthn::relying_party(&config.public_url, &config.issuer) {
                Ok(rp) => Some(std::sync::Arc::new(rp)),
                Err(reason) => {
                    tracing::warn!("passkeys are off: {reason}");
                    None
                }
            };
        Ok(Self {
            webauthn,
            pool,
            keys: Keys::derive(&config.secret_key),
            hasher: Hasher::new(config.bcrypt_cost, config.bcrypt_queue),
            mailer: Mailer::from_config(&config)?,
            activity: Default::default(),
            config,
            #[cfg(feature = "test-hooks")]
            requests: std::sync::Mutex::new(Vec::new()),
        })
    }
}
