//! CSRF protection: a synchronizer token kept in the (encrypted) session and repeated in a
//! hidden `csrf_token` field of every state-changing form. [`CsrfForm`] reads the form body,
//! refuses it with 403 unless the token matches (compared in constant time), and only then
//! parses the fields, so a forged request changes nothing whatever else it carries.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use percent_encoding::percent_decode;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use crate::auth::session::TypedSession;
use crate::error::AppError;

/// The largest form body accepted.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// A form whose CSRF token was checked.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Media types are case-insensitive (RFC 9110, 8.3.1).
        let is_form = req
            .content_type()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded");
        let expected = TypedSession::of(req).existing_csrf_token();
        let body = Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_form {
                return Err(AppError::UnsupportedMediaType);
            }
            let body = body.await.map_err(|e| {
                if e.as_response_error().status_code()
                    == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE
                {
                    AppError::PayloadTooLarge
                } else {
                    AppError::BadRequest("The form could not be read.".into())
                }
            })?;
            let pairs = decode_pairs(&body)?;
            let submitted = pairs
                .iter()
                .find(|(k, _)| k == "csrf_token")
                .map(|(_, v)| v.as_str());
            match (expected, submitted) {
                (Some(expected), Some(submitted)) if tokens_match(&expected, submitted) => {}
                _ => return Err(AppError::Csrf),
            }
            serde_html_form::from_bytes::<T>(&body)
                .map(CsrfForm)
                .map_err(|e| AppError::BadRequest(form_error_message(&e.to_string())))
        })
    }
}

/// Compares two tokens in constant time.
pub fn tokens_match(expected: &str, submitted: &str) -> bool {
    expected.as_bytes().ct_eq(submitted.as_bytes()).into()
}

/// Splits an urlencoded body into pairs, refusing invalid UTF-8 instead of replacing it.
/// Public for the fuzz targets in `fuzz/`, which feed it arbitrary bytes.
pub fn decode_pairs(body: &[u8]) -> Result<Vec<(String, String)>, AppError> {
    let invalid = || AppError::BadRequest("The form contains text that is not valid UTF-8.".into());
    let decode = |part: &[u8]| -> Result<String, AppError> {
        let plus_as_space: Vec<u8> = part
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
        String::from_utf8(bytes).map_err(|_| invalid())
    };
    body.split(|&b| b == b'&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut kv = part.splitn(2, |&b| b == b'=');
            let key = decode(kv.next().unwrap_or_default())?;
            let value = decode(kv.next().unwrap_or_default())?;
            Ok((key, value))
        })
        .collect()
}

/// Turns serde's message into one a person can act on.
fn form_error_message(serde_message: &str) -> String {
    if let Some(field) = serde_message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        return format!("The form is missing the field \"{field}\".");
    }
    if serde_message.starts_with("duplicate field") {
        return "The form repeats a field that may appear only once.".into();
    }
    "The form's fields could not be read.".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_decoded_and_invalid_utf8_is_refused() {
        let pairs = decode_pairs(b"a=1&b=x+y%21&&c").expect("valid");
        assert_eq!(
            pairs,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y!".into()),
                ("c".into(), String::new())
            ]
        );
        assert!(decode_pairs(b"a=%FF%FE").is_err());
    }

    #[test]
    fn tokens_must_match_exactly() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("abc", "ab"));
        assert!(!tokens_match("abc", ""));
    }

    use proptest::prelude::*;

    /// A form with the fields of a real one, to feed through the same decoder as the routes.
    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "only whether the body decodes matters")]
    struct SomeForm {
        email: String,
        password: String,
        code: Option<String>,
    }

    proptest! {
        /// A form body is any bytes a client cares to send: reading it answers with pairs or a
        /// clean refusal, never a panic; the typed decoding afterwards does the same.
        #[test]
        fn any_body_is_read_or_refused_cleanly(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_pairs(&body);
            let _ = serde_html_form::from_bytes::<SomeForm>(&body);
            form_error_message(&String::from_utf8_lossy(&body));
        }

        /// Bodies made of `%`, `+`, `=` and `&` in any order: the characters the decoder treats
        /// specially.
        #[test]
        fn bodies_of_separators_and_escapes_are_read_or_refused_cleanly(body in "[%+=&0-9a-fA-FzZ]{0,64}") {
            let _ = decode_pairs(body.as_bytes());
            let _ = serde_html_form::from_bytes::<SomeForm>(body.as_bytes());
        }

        /// What a browser encodes is read back exactly.
        #[test]
        fn encoded_pairs_are_read_back(pairs in proptest::collection::vec((".{1,20}", ".{0,40}"), 0..6)) {
            let body = serde_html_form::to_string(&pairs).expect("encodes");
            let read = decode_pairs(body.as_bytes()).expect("valid UTF-8");
            prop_assert_eq!(read, pairs);
        }

        #[test]
        fn only_the_same_token_matches(a in "[0-9a-f]{0,64}", b in "[0-9a-f]{0,64}") {
            prop_assert_eq!(tokens_match(&a, &b), a == b);
        }
    }
}
