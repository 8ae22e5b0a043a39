//! Every parser of typed-in text: whatever the bytes, each answers with a value or a message,
//! never a panic, and what it accepts parses again to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold::domain::{
    Email, OneTimeCode, OrganizationName, Password, PersonName, RecoveryCode, Role, TotpCode,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(email) = Email::parse(text) {
        assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
        assert!(email.as_str().len() <= 254);
    }
    let _ = Password::parse(text.to_owned());
    if let Ok(name) = PersonName::parse(text) {
        assert_eq!(PersonName::parse(name.as_str()), Ok(name.clone()));
    }
    if let Ok(name) = OrganizationName::parse(text) {
        assert_eq!(OrganizationName::parse(name.as_str()), Ok(name.clone()));
    }
    let _ = Role::parse(text);
    if let Ok(code) = TotpCode::parse(text) {
        assert_eq!(code.as_str().len(), 6);
    }
    if let Ok(code) = RecoveryCode::parse(text) {
        assert_eq!(RecoveryCode::parse(&code.display()), Ok(code.clone()));
    }
    let _ = OneTimeCode::parse(text);
});
