//! Turning 2FA on, moving it to a new phone, turning it off, and how secrets are kept.

use crate::helpers::{Authenticator, PASSWORD, Response, TestApp};

/// Reads the QR code's modules back from the page's inline SVG (one `<path>` of horizontal
/// runs), draws them as pixels and decodes them with rqrr, as a phone's camera would.
fn decode_qr(page: &Response) -> String {
    let svg_start = page.body.find("<svg").expect("inline svg");
    let svg =
        &page.body[svg_start..svg_start + page.body[svg_start..].find("</svg>").expect("end")];
    let view_box = svg.split("viewBox=\"0 0 ").nth(1).expect("viewBox");
    let size: usize = view_box
        .split(' ')
        .next()
        .expect("size")
        .parse()
        .expect("number");
    let d = svg.split(" d=\"").nth(1).expect("path data");
    let d = &d[..d.find('"').expect("end of d")];

    let mut grid = vec![vec![false; size]; size];
    let (mut x, mut y) = (0.0f64, 0.0f64);
    let mut chars = d.chars().peekable();
    let number = |chars: &mut std::iter::Peekable<std::str::Chars>| -> f64 {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let mut s = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_digit() || c == '.' || (c == '-' && s.is_empty()) {
                s.push(c);
                chars.next();
            } else {
                break;
            }
        }
        s.parse().expect("number in path")
    };
    while let Some(command) = chars.next() {
        match command {
            'M' => {
                x = number(&mut chars);
                y = number(&mut chars);
            }
            'm' => {
                x += number(&mut chars);
                y += number(&mut chars);
            }
            'h' => {
                let len = number(&mut chars);
                let row = y.floor() as usize;
                grid[row][x as usize..(x + len) as usize].fill(true);
                x += len;
            }
            other => panic!("unexpected path command {other:?}"),
        }
    }
    let scale = 6;
    let pixels = size * scale;
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(pixels, pixels, |px, py| {
        if grid[py / scale][px / scale] { 0 } else { 255 }
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    let (_, content) = grids[0].decode().expect("QR decodes");
    content
}

#[actix_rt::test]
async fn the_setup_page_shows_a_qr_code_of_the_otpauth_uri_and_the_same_key_as_text() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    let security = owner.get("/settings/security").await;
    security
        .assert_status(200)
        .assert_contains("Turn on 2FA")
        .assert_contains("Disabled");
    let page = owner.start_setup().await;
    page.assert_contains("role=\"img\"")
        .assert_contains("aria-label=")
        .assert_contains("href=\"/settings/security/two-factor/confirm\"")
        .assert_contains(">Next<");
    assert_eq!(page.body.matches("<path").count(), 1);
    let device = Authenticator::from_setup_page(&page);
    assert_eq!(device.secret.as_bytes().len(), 20, "160-bit secret");
    let key = page.element_text("setup-key").expect("key");
    assert!(
        key.split(' ').all(|group| group.len() == 4),
        "grouped in fours: {key}"
    );

    let uri = decode_qr(&page);
    assert_eq!(
        uri,
        format!(
            "otpauth://totp/Twofold:ada@example.com?secret={}&issuer=Twofold&algorithm=SHA1&digits=6&period=30",
            device.base32
        )
    );
}

#[actix_rt::test]
async fn the_issuer_is_configurable() {
    let app = TestApp::spawn_with(|c| c.issuer = "Acme Workspace".into()).await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    let page = owner.start_setup().await;
    assert!(
        decode_qr(&page).starts_with("otpauth://totp/Acme%20Workspace:ada@example.com?secret=")
    );
}

#[actix_rt::test]
async fn turning_on_two_factor_needs_the_password_and_a_code_from_the_app() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    let page = owner.start_setup().await;
    let device = Authenticator::from_setup_page(&page);
    owner
        .get("/settings/security/two-factor/confirm")
        .await
        .assert_status(200);

    let code = device.code().await;
    owner
        .submit(
            "/settings/security/two-factor/confirm",
            &[("password", "wrong password!"), ("code", &code)],
        )
        .await
        .assert_status(401)
        .assert_contains("Incorrect password.");
    owner
        .submit(
            "/settings/security/two-factor/confirm",
            &[("password", PASSWORD), ("code", "000000")],
        )
        .await
        .assert_status(401)
        .assert_contains("didn&#");
    // While confirming (and only then) a code right some minutes away is explained: the
    // person is looking at the new key, and a phone with a wrong clock is the usual cause.
    let ahead = device.code_at(Authenticator::current_step() + 8);
    owner
        .submit(
            "/settings/security/two-factor/confirm",
            &[("password", PASSWORD), ("code", &ahead)],
        )
        .await
        .assert_status(401)
        .assert_contains("clock looks off by about 4 minutes");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE totp_secret IS NOT NULL"),
        0
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM recovery_codes"), 0);

    let res = owner
        .submit(
            "/settings/security/two-factor/confirm",
            &[("password", PASSWORD), ("code", &code)],
        )
        .await;
    res.assert_status(200)
        .assert_contains("Two-factor authentication is on");
    let codes = res.recovery_codes();
    assert_eq!(codes.len(), 5);
    for code in &codes {
        assert_eq!(code.len(), 11);
        assert_eq!(&code[5..6], "-");
    }
    res.assert_contains("data-copy=\"recovery-codes\"")
        .assert_contains("data-download=\"recovery-codes\"");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE totp_secret IS NOT NULL"),
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NULL"),
        5
    );
}

#[actix_rt::test]
async fn turning_on_two_factor_signs_the_person_out_on_every_device() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    let laptop = app.client();
    laptop
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
    laptop.get("/").await.assert_status(200);

    let (_device, _codes) = owner.enable_two_factor(PASSWORD).await;
    // This browser, right after the recovery-codes page, and every other one.
    owner.get("/").await.assert_redirect("/login");
    laptop.get("/").await.assert_redirect("/login");
    laptop
        .get("/settings/security")
        .await
        .assert_redirect("/login");
}

#[actix_rt::test]
async fn a_new_phone_takes_over_only_once_confirmed() {
    let app = TestApp::spawn().await;
    let (owner, old_phone, _) = app.owner_with_two_factor("ada@example.com").await;
    owner.sign_in_with_code("ada@example.com", &old_phone).await;
    let page = owner.start_setup().await;
    page.assert_contains("Set up a new authenticator app");
    let new_phone = Authenticator::from_setup_page(&page);
    assert_ne!(new_phone.base32, old_phone.base32);

    // Before confirmation the old app still works.
    let elsewhere = app.client();
    elsewhere
        .sign_in_with_code("ada@example.com", &old_phone)
        .await;

    owner.get("/settings/security/two-factor/confirm").await;
    let code = new_phone.code().await;
    let res = owner
        .submit(
            "/settings/security/two-factor/confirm",
            &[("password", PASSWORD), ("code", &code)],
        )
        .await;
    res.assert_status(200)
        .assert_contains("Your new authenticator app is set up");
    assert_eq!(res.recovery_codes().len(), 5);
    elsewhere.get("/").await.assert_redirect("/login");

    // The old app's codes no longer work; the new app's do.
    let client = app.client();
    client.password_step("ada@example.com").await;
    let current = Authenticator::current_step();
    let old_code = old_phone.code_at(current + 1);
    client.two_factor(&old_code).await.assert_status(401);
    let new_code = new_phone.code().await;
    client.two_factor(&new_code).await.assert_redirect("/");
}

#[actix_rt::test]
async fn turning_off_needs_the_password_and_a_current_code_and_signs_out_other_devices() {
    // Re-authentication asks for the code every time, however recent the sign-in.
    let app = TestApp::spawn_with(|c| c.reauth_secs = 0).await;
    let (owner, device, _) = app.owner_with_two_factor("ada@example.com").await;
    owner.sign_in_with_code("ada@example.com", &device).await;
    let other = app.client();
    other.sign_in_with_code("ada@example.com", &device).await;

    owner
        .get("/settings/security")
        .await
        .assert_contains("Enabled");
    owner
        .submit(
            "/settings/security/two-factor/disable",
            &[("password", "wrong password!"), ("code", "123456")],
        )
        .await
        .assert_status(401);
    owner
        .submit(
            "/settings/security/two-factor/disable",
            &[("password", PASSWORD), ("code", "12345x")],
        )
        .await
        .assert_status(422);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE totp_secret IS NOT NULL"),
        1
    );

    let code = device.code().await;
    owner
        .submit(
            "/settings/security/two-factor/disable",
            &[("password", PASSWORD), ("code", &code)],
        )
        .await
        .assert_redirect("/settings/security");
    owner
        .get("/settings/security")
        .await
        .assert_status(200)
        .assert_contains("Two-factor authentication is off")
        .assert_contains("Turn on 2FA");
    other.get("/").await.assert_redirect("/login");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE totp_secret IS NOT NULL"),
        0
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM recovery_codes"), 0);
    // The password alone signs in again.
    app.client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
}

#[actix_rt::test]
async fn turning_off_is_refused_while_the_organization_enforces_two_factor() {
    let app = TestApp::spawn().await;
    let (owner, device, _) = app.owner_with_two_factor("ada@example.com").await;
    owner.sign_in_with_code("ada@example.com", &device).await;
    app.execute("UPDATE organizations SET enforce_two_factor = TRUE");
    owner.get("/settings/security").await;
    let code = device.code().await;
    owner
        .submit(
            "/settings/security/two-factor/disable",
            &[("password", PASSWORD), ("code", &code)],
        )
        .await
        .assert_status(403)
        .assert_contains("requires two-factor authentication");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE totp_secret IS NOT NULL"),
        1
    );
}

#[actix_rt::test]
async fn the_database_file_holds_neither_the_secret_nor_any_recovery_code() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    // A pending setup is stored too: it must be sealed as well.
    let page = owner.start_setup().await;
    let pending = Authenticator::from_setup_page(&page);
    let (device, codes) = owner.enable_two_factor(PASSWORD).await;

    let raw = match app.sqlite_path() {
        // The file as it lies on disk, with its write-ahead log.
        Some(path) => {
            let mut raw = std::fs::read(&path).expect("database file");
            raw.extend(std::fs::read(path.with_extension("sqlite3-wal")).unwrap_or_default());
            raw
        }
        // On PostgreSQL: every stored value of the tables that hold secrets and codes.
        None => stored_bytes(&app),
    };
    let contains = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
    for secret in [&device, &pending] {
        assert!(
            !contains(secret.base32.as_bytes()),
            "base32 secret in the file"
        );
        assert!(
            !contains(secret.secret.as_bytes()),
            "raw secret bytes in the file"
        );
    }
    for code in &codes {
        assert!(
            !contains(code.as_bytes()),
            "recovery code {code} in the file"
        );
        assert!(
            !contains(code.replace('-', "").as_bytes()),
            "recovery code in the file"
        );
    }
    // And yet the secret is there, sealed: the app still checks codes.
    let client = app.client();
    client.sign_in_with_code("ada@example.com", &device).await;
}

/// All users' and recovery codes' columns, as bytes.
fn stored_bytes(app: &TestApp) -> Vec<u8> {
    use diesel::RunQueryDsl;
    use diesel::sql_types::{Binary, Nullable, Text};
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        text: String,
        #[diesel(sql_type = Nullable<Binary>)]
        a: Option<Vec<u8>>,
        #[diesel(sql_type = Nullable<Binary>)]
        b: Option<Vec<u8>>,
    }
    let conn = &mut app.db();
    let users: Vec<Row> = twofold::db_run!(conn => diesel::sql_query(
        "SELECT CONCAT(email, name, password_hash) AS text, totp_secret AS a, \
         pending_totp_secret AS b FROM users",
    )
    .load(conn))
    .expect("users");
    let codes: Vec<Row> = twofold::db_run!(conn => diesel::sql_query(
        "SELECT code_hash AS text, NULL AS a, NULL AS b FROM recovery_codes",
    )
    .load(conn))
    .expect("codes");
    let mut raw = Vec::new();
    for row in users.into_iter().chain(codes) {
        raw.extend(row.text.into_bytes());
        raw.extend(row.a.unwrap_or_default());
        raw.extend(row.b.unwrap_or_default());
    }
    raw
}

#[actix_rt::test]
async fn setup_and_recovery_code_pages_are_never_cached() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    let page = owner.start_setup().await;
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));
    let device = Authenticator::from_setup_page(&page);
    owner.get("/settings/security/two-factor/confirm").await;
    let code = device.code().await;
    let codes_page = owner
        .submit(
            "/settings/security/two-factor/confirm",
            &[("password", PASSWORD), ("code", &code)],
        )
        .await;
    assert_eq!(
        codes_page.header("cache-control").as_deref(),
        Some("no-store")
    );
}

#[actix_rt::test]
async fn confirming_without_a_started_setup_changes_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    owner
        .get("/settings/security/two-factor/setup")
        .await
        .assert_redirect("/settings/security");
    owner
        .get("/settings/security/two-factor/confirm")
        .await
        .assert_redirect("/settings/security");
    owner.get("/settings/security").await.assert_status(200);
    owner
        .submit(
            "/settings/security/two-factor/confirm",
            &[("password", PASSWORD), ("code", "123456")],
        )
        .await
        .assert_redirect("/settings/security");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE totp_secret IS NOT NULL"),
        0
    );
}
