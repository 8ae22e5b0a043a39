//! Invitation and "this wasn't me" links: arbitrary text in the token's place, both as it is
//! and as it reaches the handler of `/invitations/{token}` (the request path quoted, matched
//! by the router and decoded by the path extractor), through the token parser and the lookup
//! that turns it into the hash the database is asked about. Whatever arrives, the answer is a
//! hash exactly for a token of the form Twofold writes and a clean refusal otherwise, never a
//! panic.
#![no_main]

use std::sync::LazyLock;

use actix_web::dev::{Path, ResourceDef, Url};
use actix_web::http::Uri;
use libfuzzer_sys::fuzz_target;
use twofold::auth::tokens;
use twofold::domain::{LINK_TOKEN_LEN, LinkToken};

/// The route, built once as the app builds it at start.
static ROUTE: LazyLock<ResourceDef> = LazyLock::new(|| ResourceDef::new("/invitations/{token}"));

/// actix's router leaks the names of a pattern's segments on purpose, once per route (they
/// live as long as the app; see `ResourceDef::parse`). LeakSanitizer would report that one
/// allocation when the process exits: it is suppressed by name, and nothing else is.
#[unsafe(no_mangle)]
pub extern "C" fn __lsan_default_suppressions() -> *const std::ffi::c_char {
    c"leak:actix_router::resource::ResourceDef>::parse\n".as_ptr()
}

fn check(segment: &str) {
    let parsed = LinkToken::parse(segment);
    let stored = tokens::lookup_hash(segment);
    assert_eq!(parsed.is_ok(), stored.is_some(), "{segment:?}");
    if let (Ok(token), Some(stored)) = (parsed, stored) {
        assert_eq!(token.as_str(), segment);
        assert_eq!(token.as_str().len(), LINK_TOKEN_LEN);
        assert_eq!(LinkToken::parse(token.as_str()), Ok(token.clone()));
        assert_eq!(stored, tokens::hash(segment));
        assert!(
            stored
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check(text);
    let Ok(uri) = format!("/invitations/{text}").parse::<Uri>() else {
        return;
    };
    let mut path = Path::new(Url::new(uri));
    if ROUTE.capture_match_info(&mut path)
        && let Ok(segment) = path.load::<String>()
    {
        check(&segment);
    }
});
