//! Hostile HTTP: every form route is sent malformed bodies, wrong content types, oversized
//! and non-UTF-8 fields, and SQL and HTML metacharacters in every field, and every page is
//! asked for with absurd query strings. Each answer is a 4xx page (never a 5xx), a refused
//! request leaves the database exactly as it was, and names full of HTML come back escaped.

use awc::http::StatusCode;

use crate::helpers::{Client, PASSWORD, Response, TestApp};

/// Every form route, with fields that are acceptable on their own. A new form route gets a
/// row here (and a session that may post it in [`sender`]).
const FORMS: &[(&str, &[(&str, &str)])] = &[
    (
        "/signup",
        &[
            ("organization", "Initech"),
            ("name", "Peter"),
            ("email", "peter@example.com"),
            ("password", PASSWORD),
        ],
    ),
    (
        "/login",
        &[("email", "ada@example.com"), ("password", PASSWORD)],
    ),
    ("/login/two-factor", &[("code", "123456")]),
    ("/logout", &[]),
    ("/settings/security/two-factor/setup", &[]),
    (
        "/settings/security/two-factor/confirm",
        &[("password", PASSWORD), ("code", "123456")],
    ),
    (
        "/settings/security/two-factor/disable",
        &[("password", PASSWORD), ("code", "123456")],
    ),
    (
        "/settings/security/recovery-codes",
        &[("password", PASSWORD)],
    ),
];

/// Pages reached with GET, asked for with hostile query strings.
const PAGES: &[&str] = &[
    "/",
    "/login",
    "/signup",
    "/login/two-factor",
    "/settings",
    "/settings/security",
    "/settings/security/two-factor/setup",
    "/settings/security/two-factor/confirm",
    "/settings/owner",
    "/healthz",
];

/// Values that have broken other applications: SQL, HTML, template and format syntax, path
/// tricks, NUL and other control characters, and long or odd Unicode.
const METACHARACTERS: &[&str] = &[
    "'; DROP TABLE users; --",
    "\" OR \"1\"=\"1",
    "' OR 1=1 --",
    "Robert'); DROP TABLE organizations;--",
    "1; SELECT * FROM recovery_codes",
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "&lt;b&gt;&amp;&#60;",
    "{{ 7*7 }} {% raw %} ${7*7} %s %n",
    "../../etc/passwd",
    "\0",
    "a\u{0}b\r\nc",
    "\u{202e}\u{fe0f}\u{200b}👩‍👩‍👧‍👦",
    "\\",
    "%",
    "+",
    "&=&=",
];

/// Everything the database holds, in a stable order: a refused request must leave it equal.
fn snapshot(app: &TestApp) -> String {
    use diesel::prelude::*;
    use twofold::db::models::{AuditEvent, ClientFailure, EndedSession, Organization};
    use twofold::db::models::{StoredRecoveryCode, User};
    use twofold::db::schema::*;
    let conn = &mut app.db();
    twofold::db_run!(conn => {
        let organizations = organizations::table
            .order(organizations::id)
            .select(Organization::as_select())
            .load(conn)
            .expect("organizations");
        let users = users::table
            .order(users::id)
            .select(User::as_select())
            .load(conn)
            .expect("users");
        let codes = recovery_codes::table
            .order(recovery_codes::id)
            .select(StoredRecoveryCode::as_select())
            .load(conn)
            .expect("recovery codes");
        let events = audit_events::table
            .order(audit_events::id)
            .select(AuditEvent::as_select())
            .load(conn)
            .expect("audit events");
        let failures = client_failures::table
            .order(client_failures::address)
            .select(ClientFailure::as_select())
            .load(conn)
            .expect("client failures");
        let ended = ended_sessions::table
            .order(ended_sessions::session_id)
            .select(EndedSession::as_select())
            .load(conn)
            .expect("ended sessions");
        format!("{organizations:?}\n{users:?}\n{codes:?}\n{events:?}\n{failures:?}\n{ended:?}")
    })
}

/// Asserts a refusal: a 4xx answer, an HTML page when it is one of ours.
#[track_caller]
fn assert_refused(res: &Response, what: &str) {
    assert!(
        res.status.is_client_error(),
        "{what}: expected a 4xx, got {}:\n{}",
        res.status,
        res.body
    );
}

/// A POST with exactly these headers and bytes (the helpers' client always sets a content
/// type), carrying the browser's cookies.
async fn post_bytes(
    app: &TestApp,
    client: &Client,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Response {
    let cookies = client
        .cookies
        .borrow()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let http = awc::Client::builder().disable_redirects().finish();
    let mut req = http
        .post(format!("{}{path}", app.address))
        .insert_header(("Cookie", cookies));
    if let Some(content_type) = content_type {
        req = req.insert_header(("Content-Type", content_type));
    }
    let mut res = req.send_body(body).await.expect("request sent");
    let body = res.body().limit(1 << 24).await.expect("body");
    Response {
        status: res.status(),
        headers: res.headers().clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// Urlencodes pairs exactly as given (repeats and order kept).
fn encode(pairs: &[(&str, &str)]) -> Vec<u8> {
    serde_html_form::to_string(pairs)
        .expect("encodes")
        .into_bytes()
}

/// The browsers the test uses: an anonymous one, one at the two-factor step, and one signed in
/// with 2FA on and a new setup started, so that every route gets past its guard to the body.
struct Browsers {
    anonymous: Client,
    pending: Client,
    signed_in: Client,
}

async fn browsers(app: &TestApp) -> Browsers {
    let (_, device, _) = app.owner_with_two_factor("ada@example.com").await;
    let signed_in = app.client();
    signed_in
        .sign_in_with_code("ada@example.com", &device)
        .await;
    signed_in.start_setup().await;
    signed_in.get("/settings/security").await.assert_status(200);
    let pending = app.client();
    pending
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/login/two-factor");
    pending.get("/login/two-factor").await.assert_status(200);
    let anonymous = app.client();
    anonymous.get("/signup").await.assert_status(200);
    Browsers {
        anonymous,
        pending,
        signed_in,
    }
}

fn sender<'a>(browsers: &'a Browsers, path: &str) -> &'a Client {
    match path {
        "/signup" | "/login" => &browsers.anonymous,
        "/login/two-factor" => &browsers.pending,
        _ => &browsers.signed_in,
    }
}

/// The malformed bodies for one route: each is refused before anything is done.
fn malformed_bodies(token: &str, fields: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    let with_token = |pairs: Vec<(&str, &str)>| {
        let mut all = vec![("csrf_token", token)];
        all.extend(pairs);
        encode(&all)
    };
    let mut bodies = Vec::new();
    let huge = "x".repeat(1024 * 1024);
    for (i, (name, _)) in fields.iter().enumerate() {
        let mut missing = fields.to_vec();
        missing.remove(i);
        bodies.push((format!("without {name}"), with_token(missing)));
        let mut repeated = fields.to_vec();
        repeated.push(fields[i]);
        bodies.push((format!("{name} twice"), with_token(repeated)));
        let mut oversized = fields.to_vec();
        oversized[i].1 = &huge;
        bodies.push((format!("{name} of 1 MB"), with_token(oversized)));
        let mut percent_invalid = with_token(fields.to_vec());
        percent_invalid.extend(format!("&{name}=%FF%FE%80").into_bytes());
        bodies.push((
            format!("{name} percent-encoded invalid UTF-8"),
            percent_invalid,
        ));
        let mut raw_invalid =
            with_token(fields.iter().filter(|(n, _)| n != name).copied().collect());
        raw_invalid.extend(format!("&{name}=").into_bytes());
        raw_invalid.extend([0xC3, 0x28, 0xFF, 0xFE, 0x80]);
        bodies.push((format!("{name} raw invalid UTF-8"), raw_invalid));
    }
    let mut bad_name = with_token(fields.to_vec());
    bad_name.extend(b"&%FF%FE=1");
    bodies.push(("a field name of invalid UTF-8".into(), bad_name));
    let mut huge_name = with_token(fields.to_vec());
    huge_name.extend(format!("&{huge}=1").into_bytes());
    bodies.push(("a field name of 1 MB".into(), huge_name));
    if !fields.is_empty() {
        bodies.push(("only the token".into(), with_token(Vec::new())));
        bodies.push((
            "percent signs and separators".into(),
            format!("csrf_token={token}&%%%&&==&%zz=%").into_bytes(),
        ));
        let arrays: Vec<String> = fields.iter().map(|(n, _)| format!("{n}[]")).collect();
        bodies.push((
            "fields as arrays".into(),
            with_token(
                arrays
                    .iter()
                    .zip(fields)
                    .map(|(n, (_, v))| (n.as_str(), *v))
                    .collect(),
            ),
        ));
    }
    bodies
}

#[actix_rt::test]
async fn malformed_bodies_to_every_form_are_refused_with_a_4xx_and_change_nothing() {
    let app = TestApp::spawn().await;
    let browsers = browsers(&app).await;
    let before = snapshot(&app);
    let mut sent = 0;
    for (path, fields) in FORMS {
        let client = sender(&browsers, path);
        let token = client.csrf_token();
        for (what, body) in malformed_bodies(&token, fields) {
            let res = post_bytes(
                &app,
                client,
                path,
                Some("application/x-www-form-urlencoded"),
                body,
            )
            .await;
            assert_refused(&res, &format!("{path}: {what}"));
            sent += 1;
        }
        let form = {
            let mut all = vec![("csrf_token", token.as_str())];
            all.extend(fields.iter().copied());
            encode(&all)
        };
        for content_type in [
            None,
            Some("application/json"),
            Some("text/plain"),
            Some("multipart/form-data; boundary=xyz"),
            Some("application/xml"),
            Some("application/x-www-form-urlencodedx"),
            Some("form"),
            Some("application/x-www-form-urlencoded/json"),
        ] {
            let res = post_bytes(&app, client, path, content_type, form.clone()).await;
            assert_refused(&res, &format!("{path} as {content_type:?}"));
            assert_eq!(
                res.status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{path} as {content_type:?}"
            );
            sent += 1;
        }
        // Media types are case-insensitive: this one is a form.
        let res = post_bytes(
            &app,
            client,
            path,
            Some("Application/X-WWW-Form-URLEncoded; charset=UTF-8"),
            b"csrf_token=wrong".to_vec(),
        )
        .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}: read as a form");
        sent += 1;
        let json = br#"{"csrf_token":"x","email":"a@b.c","password":"y"}"#.to_vec();
        let res = post_bytes(&app, client, path, Some("application/json"), json).await;
        assert_refused(&res, &format!("{path} with a JSON body"));
        sent += 1;
        assert_eq!(
            snapshot(&app),
            before,
            "after the malformed bodies to {path}"
        );
    }
    assert!(sent > 100, "{sent} requests sent");
    // Nothing was disturbed: the signed-in browser still is.
    browsers.signed_in.get("/").await.assert_status(200);
}

#[actix_rt::test]
async fn metacharacters_in_every_field_never_cause_a_server_error() {
    // Many of these are wrong passwords and codes: lift the limits so that every request
    // reaches its handler instead of the limit.
    let app = TestApp::spawn_with(|c| {
        c.limits.account_failures = 100_000;
        c.limits.client_failures = 100_000;
    })
    .await;
    let browsers = browsers(&app).await;
    let users_before = app.count("SELECT COUNT(*) FROM users");
    for (path, fields) in FORMS {
        if fields.is_empty() {
            continue;
        }
        let client = sender(&browsers, path);
        for (i, (name, _)) in fields.iter().enumerate() {
            for value in METACHARACTERS {
                let mut hostile = fields.to_vec();
                hostile[i].1 = value;
                let res = client.submit(path, &hostile).await;
                assert!(
                    !res.status.is_server_error(),
                    "{path} with {name}={value:?}: {}\n{}",
                    res.status,
                    res.body
                );
                // Refusals of form input re-render the form, with a fresh token to go on with.
                if res.status.is_client_error() {
                    assert!(
                        res.header("content-type")
                            .unwrap_or_default()
                            .starts_with("text/html"),
                        "{path} with {name}={value:?}"
                    );
                }
                client
                    .get(if path.starts_with("/settings") {
                        "/settings/security"
                    } else {
                        path
                    })
                    .await;
            }
        }
    }
    // The tables are all there and only sign-up could add anyone (with names that are not
    // names refused, valid-looking ones accepted verbatim).
    let users_after = app.count("SELECT COUNT(*) FROM users");
    assert!(users_after >= users_before);
    assert_eq!(app.count("SELECT COUNT(*) FROM organizations"), users_after);
    let stored = app.count("SELECT COUNT(*) FROM organizations WHERE name LIKE '%DROP TABLE%'");
    assert!(stored >= 1, "metacharacters are stored as plain text");
    app.client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/login/two-factor");
}

#[actix_rt::test]
async fn absurd_query_strings_on_every_page_never_cause_a_server_error() {
    let app = TestApp::spawn().await;
    let browsers = browsers(&app).await;
    let before = snapshot(&app);
    let queries = [
        "page=-1",
        "page=0",
        "page=99999999999999999999999999999999",
        "page=9223372036854775807",
        "page=-9223372036854775808",
        "page=NaN",
        "page=1e309",
        "page=%00",
        "page[]=1&page[]=2",
        "page=1&page=2",
        "q=%27%3B%20DROP%20TABLE%20users%3B--",
        "q=%3Cscript%3Ealert(1)%3C/script%3E",
        "two_factor=maybe",
        "signed_out=%FF%FE",
        "signed_out=1&signed_out=2",
        "%FF=%FF",
        "&&&===",
        "%",
    ];
    let long = format!("q={}", "x".repeat(6 * 1024));
    for path in PAGES {
        for client in [&browsers.anonymous, &browsers.signed_in] {
            for query in queries.iter().copied().chain([long.as_str()]) {
                let res = client.get(&format!("{path}?{query}")).await;
                assert!(
                    !res.status.is_server_error(),
                    "{path}?{query}: {}\n{}",
                    res.status,
                    res.body
                );
                if res.status.is_client_error() {
                    assert!(
                        res.header("content-type")
                            .unwrap_or_default()
                            .starts_with("text/html"),
                        "{path}?{query}: {} is not a page: {}",
                        res.status,
                        res.body
                    );
                }
            }
        }
    }
    assert_eq!(snapshot(&app), before);
}

/// How askama writes text into HTML.
fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

#[actix_rt::test]
async fn names_full_of_html_are_escaped_on_every_page_that_shows_them() {
    let app = TestApp::spawn().await;
    let organization = "<script>alert('org')</script> & \"Co\" <!--";
    let name = "\"><img src=x onerror=alert(1)> O'Brien & <b>Sons</b>";
    let email = "o'brien&sons@example.com";
    let owner = app.signup(organization, name, email).await;
    owner.start_setup().await;
    let mut pages_with_name = 0;
    for path in [
        "/",
        "/settings/security",
        "/settings/owner",
        "/settings/security/two-factor/setup",
        "/settings/security/two-factor/confirm",
    ] {
        let page = owner.get(path).await;
        page.assert_status(200);
        for raw in [
            "<script>alert",
            "<img src=x",
            "<b>Sons",
            "\"Co\"",
            "O'Brien",
            "o'brien&sons",
            "<!--",
        ] {
            assert!(!page.body.contains(raw), "{path} shows {raw:?} unescaped");
        }
        if page.body.contains(&escaped(name)) {
            pages_with_name += 1;
        }
        page.assert_contains(&escaped(name));
        page.assert_contains(&escaped(organization));
    }
    assert_eq!(pages_with_name, 5);
    let owner_page = owner.get("/settings/owner").await;
    owner_page.assert_contains(&escaped(email));
    // Stored exactly as typed: escaping is the pages' job, not the database's.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE name LIKE '%<img src=x onerror=alert(1)>%'"),
        1
    );
}

#[actix_rt::test]
async fn hostile_cookies_are_ignored_without_a_server_error() {
    use actix_web::cookie::{Cookie, CookieJar};
    let app = TestApp::spawn().await;
    let (_, device, _) = app.owner_with_two_factor("ada@example.com").await;
    let owner = app.client();
    owner.sign_in_with_code("ada@example.com", &device).await;
    let real = owner.session_cookie().expect("cookie");

    // Cookies sealed with the deployment's own key but holding what no version of Twofold
    // writes: values of the wrong type, absurd numbers, a session that claims to be signed in
    // without its times, or with times from the far future or past.
    let key = twofold::auth::keys::Keys::derive(&app.config.secret_key).cookie;
    let sealed = |state: &str| {
        let mut jar = CookieJar::new();
        jar.private_mut(&key).add(Cookie::new(
            twofold::startup::SESSION_COOKIE,
            state.to_owned(),
        ));
        jar.get(twofold::startup::SESSION_COOKIE)
            .expect("sealed cookie")
            .value()
            .to_owned()
    };
    let mut values: Vec<String> = vec![
        String::new(),
        "garbage".into(),
        "=".into(),
        "%FF%FE".into(),
        "x".repeat(4000),
        real[..real.len() / 2].to_owned(),
        format!("{real}{real}"),
        real.chars().rev().collect(),
    ];
    for json in [
        r#"{}"#,
        r#"{"uid":"1"}"#,
        r#"{"uid":"\"one\"","epoch":"null"}"#,
        r#"{"uid":"1","epoch":"0","sid":"\"x\"","iat":"99999999999999999999","seen":"-1"}"#,
        r#"{"uid":"1","epoch":"1","sid":"\"x\"","iat":"-9223372036854775808","seen":"9223372036854775807"}"#,
        r#"{"uid":"1","epoch":"1","sid":"1","iat":"0","seen":"0"}"#,
        r#"{"csrf":"{}","pending_2fa":"{\"user_id\":1}","flash":"[1,2]"}"#,
        r#"[1,2,3]"#,
        r#"{"uid":1}"#,
    ] {
        values.push(sealed(json));
    }
    for value in &values {
        let browser = app.client();
        browser.set_session_cookie(value);
        for path in ["/", "/settings/security", "/login", "/login/two-factor"] {
            let res = browser.get(path).await;
            assert!(
                !res.status.is_server_error(),
                "{path} with cookie {value:?}: {}",
                res.status
            );
            if path.starts_with("/settings") || path == "/" {
                res.assert_redirect("/login");
            }
        }
    }
}
