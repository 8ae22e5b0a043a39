//! The WebAuthn relying party behind passkeys: the host of `TWOFOLD_PUBLIC_URL` is its id and
//! that URL its origin. Browsers refuse WebAuthn on a bare IP address, so a deployment whose
//! public URL has one has no passkeys (the pages then offer none).

use std::time::Duration;

use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

/// How long a ceremony's challenge stays open: the browser's own timeout and the server's.
pub const CEREMONY_SECS: i64 = 5 * 60;

/// The relying party for `public_url`, or `None` (with the reason) when passkeys cannot work
/// there.
pub fn relying_party(public_url: &str, name: &str) -> Result<Webauthn, String> {
    let origin = Url::parse(public_url).map_err(|e| format!("{public_url}: {e}"))?;
    let Some(host) = origin.domain().map(str::to_owned) else {
        return Err(format!(
            "{public_url} has no host name, and browsers allow passkeys only on one \
             (http://localhost:PORT in development, not an IP address)"
        ));
    };
    WebauthnBuilder::new(&host, &origin)
        .and_then(|b| {
            b.rp_name(name)
                .timeout(Duration::from_secs(CEREMONY_SECS as u64))
                .build()
        })
        .map_err(|e| format!("{public_url}: {e}"))
}

/// A credential id as the database keeps it (base64url, no padding).
pub fn credential_key(id: &[u8]) -> String {
    data_encoding::BASE64URL_NOPAD.encode(id)
}
