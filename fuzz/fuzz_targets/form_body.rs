//! Form bodies: arbitrary bytes through the app's own pair decoder (which refuses invalid
//! UTF-8) and through the typed decoding the routes use, into forms shaped like theirs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[derive(serde::Deserialize)]
#[expect(dead_code, reason = "only whether the body decodes matters")]
struct Signup {
    organization: String,
    name: String,
    email: String,
    password: String,
}

#[derive(serde::Deserialize)]
#[expect(dead_code, reason = "only whether the body decodes matters")]
struct Code {
    code: String,
    password: Option<String>,
}

#[derive(serde::Deserialize)]
struct Empty {}

fuzz_target!(|data: &[u8]| {
    if let Ok(pairs) = twofold::auth::csrf::decode_pairs(data) {
        // Whatever was read encodes and reads back the same.
        let again = serde_html_form::to_string(&pairs).expect("pairs encode");
        assert_eq!(
            twofold::auth::csrf::decode_pairs(again.as_bytes()).ok(),
            Some(pairs)
        );
    }
    let _ = serde_html_form::from_bytes::<Signup>(data);
    let _ = serde_html_form::from_bytes::<Code>(data);
    let _ = serde_html_form::from_bytes::<Empty>(data);
});
