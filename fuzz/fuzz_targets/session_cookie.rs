//! Session cookies: arbitrary bytes as the cookie's value, opened with the deployment's key as
//! the session middleware does; and arbitrary bytes sealed with that key, so that the contents
//! themselves (which only the key's holder can write) are read as the typed session reads
//! them. Neither may panic.
#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::cookie::{Cookie, CookieJar, Key};
use libfuzzer_sys::fuzz_target;
use twofold::auth::keys::Keys;
use twofold::auth::session::{Flash, PendingTwoFactor};
use twofold::config::SecretKey;

fn key() -> &'static Key {
    static KEY: OnceLock<Key> = OnceLock::new();
    KEY.get_or_init(|| Keys::derive(&SecretKey([7; 64])).cookie)
}

/// Reads the session's entries as `TypedSession` does: each a JSON value in a string.
fn read_session(state: &str) {
    let Ok(map) = serde_json::from_str::<HashMap<String, String>>(state) else {
        return;
    };
    for value in map.values() {
        let _ = serde_json::from_str::<i64>(value);
        let _ = serde_json::from_str::<String>(value);
        let _ = serde_json::from_str::<bool>(value);
        let _ = serde_json::from_str::<PendingTwoFactor>(value);
        let _ = serde_json::from_str::<Flash>(value);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // As a cookie value from the browser: almost always refused by the decryption.
    let mut jar = CookieJar::new();
    jar.add_original(Cookie::new("twofold_session", text.to_owned()));
    if let Some(opened) = jar.private(key()).get("twofold_session") {
        read_session(opened.value());
    }
    // As the sealed contents.
    read_session(text);
});
