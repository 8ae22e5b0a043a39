//! Hostile HTTP: every form route is sent malformed bodies, wrong content types, oversized
//! and non-UTF-8 fields, and SQL and HTML metacharacters in every field, and every page is
//! asked for with absurd query strings; the people table and the audit log get absurd values
//! of each of their parameters, and the emailed links get bogus tokens. Each answer is a 4xx
//! page or a normal page (never a 5xx), a refused request leaves the database exactly as it
//! was, and names full of HTML come back escaped.

use awc::http::StatusCode;

use crate::helpers::{Client, PASSWORD, Response, TestApp};

/// A form route, with fields that are acceptable on their own. In `path`, `{member}` stands
/// for a member's id, `{invitation}` for an open invitation's id, `{invitation_token}` for its
/// link's token and `{alert_token}` for the token of an unused "this wasn't me" link (see
/// [`Browsers`]).
struct Form {
    path: &'static str,
    fields: &'static [(&'static str, &'static str)],
    /// The malformed-looking bodies (named as in [`malformed_bodies`]) that are valid input
    /// to this form. Each asks for what already is, so it is answered with the form's
    /// redirect and changes nothing either.
    valid: &'static [&'static str],
}

/// Every form route. A new form route gets a row here (and a session that may post it in
/// [`sender`]). The passkey ceremonies' challenge endpoints (`…/options`) answer JSON to the pages'
/// script, not forms: `passkeys.rs` tests them.
const FORMS: &[Form] = &[
    Form {
        path: "/signup",
        fields: &[
            ("organization", "Initech"),
            ("name", "Peter"),
            ("email", "peter@example.com"),
            ("password", PASSWORD),
        ],
        valid: &[],
    },
    Form {
        path: "/login",
        fields: &[("email", "ada@example.com"), ("password", PASSWORD)],
        valid: &[],
    },
    Form {
        path: "/login/two-factor",
        fields: &[("code", "123456")],
        valid: &[],
    },
    Form {
        path: "/logout",
        fields: &[],
        valid: &[],
    },
    Form {
        path: "/settings/security/two-factor/setup",
        fields: &[],
        valid: &[],
    },
    Form {
        path: "/settings/security/two-factor/confirm",
        fields: &[("password", PASSWORD), ("code", "123456")],
        valid: &[],
    },
    Form {
        path: "/settings/security/two-factor/disable",
        fields: &[("password", PASSWORD), ("code", "123456")],
        valid: &[],
    },
    Form {
        path: "/settings/security/recovery-codes",
        fields: &[("password", PASSWORD)],
        valid: &[],
    },
    Form {
        path: "/settings/users/fields",
        fields: &[("fields", "two_factor")],
        // `fields` is repeated by design, one per checked column; the owner already shows
        // exactly this column.
        valid: &["fields twice"],
    },
    Form {
        path: "/settings/users/invite",
        fields: &[
            ("name", "Katherine Johnson"),
            ("email", "katherine@example.com"),
            ("role", "member"),
        ],
        valid: &[],
    },
    Form {
        path: "/settings/users/{member}/role",
        fields: &[("role", "admin")],
        valid: &[],
    },
    Form {
        path: "/settings/users/{member}/deactivate",
        fields: &[],
        valid: &[],
    },
    Form {
        path: "/settings/users/{member}/recovery-codes",
        fields: &[],
        valid: &[],
    },
    Form {
        path: "/settings/invitations/{invitation}/resend",
        fields: &[],
        valid: &[],
    },
    Form {
        path: "/settings/invitations/{invitation}/revoke",
        fields: &[],
        valid: &[],
    },
    Form {
        path: "/settings/organization-security",
        fields: &[("enforce_two_factor", "on")],
        // An unchecked checkbox sends nothing, so every body without the field asks for 2FA
        // to be optional, which it already is (unknown fields are ignored).
        valid: &[
            "without enforce_two_factor",
            "only the token",
            "percent signs and separators",
            "fields as arrays",
        ],
    },
    Form {
        path: "/account/not-me/{alert_token}",
        fields: &[],
        valid: &[],
    },
    Form {
        path: "/settings/security/password",
        fields: &[
            ("current_password", PASSWORD),
            ("new_password", "another long passphrase"),
            ("code", "123456"),
        ],
        valid: &[],
    },
    Form {
        path: "/settings/security/passkeys",
        fields: &[("ceremony", "x"), ("credential", "{}"), ("name", "Laptop")],
        valid: &[],
    },
    Form {
        path: "/settings/security/passkeys/1/rename",
        fields: &[("name", "Laptop")],
        valid: &[],
    },
    Form {
        path: "/settings/security/passkeys/1/remove",
        fields: &[],
        valid: &[],
    },
    Form {
        path: "/settings/security/reauth",
        fields: &[("back", "/settings/security")],
        valid: &[],
    },
    Form {
        path: "/login/two-factor/passkey",
        fields: &[("ceremony", "x"), ("credential", "{}")],
        valid: &[],
    },
    Form {
        path: "/login/passkey",
        fields: &[("ceremony", "x"), ("credential", "{}")],
        valid: &[],
    },
    Form {
        path: "/settings/security/sessions/1/revoke",
        fields: &[],
        valid: &[],
    },
    Form {
        path: "/settings/security/sessions/revoke-others",
        fields: &[],
        valid: &[],
    },
    Form {
        path: "/settings/users/{member}/password-reset",
        fields: &[],
        valid: &[],
    },
    Form {
        path: "/settings/users/{member}/reactivate",
        fields: &[],
        valid: &[],
    },
    Form {
        path: "/settings/owner/transfer",
        // Nobody with id 0: every body that gets through is refused before the password.
        fields: &[
            ("new_owner", "0"),
            ("password", PASSWORD),
            ("code", "123456"),
        ],
        valid: &[],
    },
    Form {
        path: "/password/forgot",
        fields: &[("email", "nobody@example.com")],
        valid: &[],
    },
    // Last: accepting renews the anonymous browser's session, and so does setting a
    // password through the member's reset link.
    Form {
        path: "/invitations/{invitation_token}",
        fields: &[("name", "Hedy Lamarr"), ("password", PASSWORD)],
        valid: &[],
    },
    Form {
        path: "/password/reset/{reset_token}",
        fields: &[("new_password", "another long passphrase")],
        valid: &[],
    },
];

/// Pages reached with GET, asked for with hostile query strings (placeholders as in
/// [`Form::path`]).
const PAGES: &[&str] = &[
    "/",
    "/settings/security/passkeys",
    "/login",
    "/signup",
    "/login/two-factor",
    "/settings",
    "/settings/security",
    "/settings/security/two-factor/setup",
    "/settings/security/two-factor/confirm",
    "/settings/owner",
    "/settings/users",
    "/settings/organization-security",
    "/settings/audit-log",
    "/invitations/{invitation_token}",
    "/account/not-me/{alert_token}",
    "/settings/security/password",
    "/settings/security/sessions",
    "/password/forgot",
    "/password/reset/{reset_token}",
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

/// The browsers the test uses: an anonymous one, one at the two-factor step, and the owner's,
/// signed in with 2FA on and a new setup started, so that every route gets past its guard to
/// the body; and what the owner's forms act on.
struct Browsers {
    anonymous: Client,
    pending: Client,
    signed_in: Client,
    /// A member who has signed in and has 2FA on: one the owner may change the role of,
    /// deactivate and issue recovery codes for.
    member: i64,
    /// An open invitation, and the token of its link.
    invitation: i64,
    invitation_token: String,
    /// The token of an unused "this wasn't me" link emailed to the owner.
    alert_token: String,
    /// The token of the member's unused link to choose a new password.
    reset_token: String,
}

impl Browsers {
    /// A path with its placeholders filled in.
    fn path(&self, template: &str) -> String {
        template
            .replace("{member}", &self.member.to_string())
            .replace("{invitation}", &self.invitation.to_string())
            .replace("{invitation_token}", &self.invitation_token)
            .replace("{alert_token}", &self.alert_token)
            .replace("{reset_token}", &self.reset_token)
    }
}

/// The token at the end of a link's path.
fn token_of(link: &str) -> String {
    link.rsplit('/').next().expect("token").to_owned()
}

async fn browsers(app: &TestApp) -> Browsers {
    let (_, device, _) = app.owner_with_two_factor("ada@example.com").await;
    let alert_link = app
        .emails_to("ada@example.com")
        .iter()
        .rev()
        .find(|e| e.body.contains("/account/not-me/"))
        .expect("the email about 2FA turned on")
        .link("/account/not-me/");
    let signed_in = app.client();
    signed_in
        .sign_in_with_code("ada@example.com", &device)
        .await;
    let grace = app
        .join(&signed_in, "Grace Hopper", "grace@example.com", "member")
        .await;
    grace.enable_two_factor(PASSWORD).await;
    let invitation_link = app
        .invite(&signed_in, "Hedy Lamarr", "hedy@example.com", "member")
        .await;
    // The owner shows the 2FA column already, so a valid repeat of that choice changes nothing.
    signed_in
        .submit("/settings/users/fields", &[("fields", "two_factor")])
        .await
        .assert_redirect("/settings/users");
    signed_in.start_new_app_setup(&device).await;
    signed_in.get("/settings/security").await.assert_status(200);
    let pending = app.client();
    pending
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/login/two-factor");
    pending.get("/login/two-factor").await.assert_status(200);
    let anonymous = app.client();
    anonymous.get("/password/forgot").await.assert_status(200);
    anonymous
        .submit("/password/forgot", &[("email", "grace@example.com")])
        .await
        .assert_status(200);
    let reset_link = app
        .wait_for_email("grace@example.com", "Choose a new password")
        .await
        .link("/password/reset/");
    anonymous.get("/signup").await.assert_status(200);
    Browsers {
        anonymous,
        pending,
        signed_in,
        member: app.user_id("grace@example.com"),
        invitation: app.count("SELECT id FROM invitations WHERE email = 'hedy@example.com'"),
        invitation_token: token_of(&invitation_link),
        alert_token: token_of(&alert_link),
        reset_token: token_of(&reset_link),
    }
}

fn sender<'a>(browsers: &'a Browsers, path: &str) -> &'a Client {
    match path {
        "/signup" | "/login" => &browsers.anonymous,
        path if path.starts_with("/invitations/")
            || path.starts_with("/account/not-me/")
            || path.starts_with("/password/") =>
        {
            &browsers.anonymous
        }
        "/login/two-factor" => &browsers.pending,
        // The owner, who may post every settings form.
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
    // Re-authentication asks for the code every time: every code field is read and checked.
    let app = TestApp::spawn_with(|c| c.reauth_secs = 0).await;
    let browsers = browsers(&app).await;
    let before = crate::helpers::snapshot(&app, true);
    let mut sent = 0;
    for form in FORMS {
        let Form {
            fields, valid: ok, ..
        } = form;
        let path = &browsers.path(form.path);
        let client = sender(&browsers, path);
        let token = client.csrf_token();
        let mut valid_seen = Vec::new();
        for (what, body) in malformed_bodies(&token, fields) {
            let res = post_bytes(
                &app,
                client,
                path,
                Some("application/x-www-form-urlencoded"),
                body,
            )
            .await;
            if ok.contains(&what.as_str()) {
                assert_eq!(
                    res.status,
                    StatusCode::SEE_OTHER,
                    "{path}: {what} is valid here:\n{}",
                    res.body
                );
                valid_seen.push(what);
            } else {
                assert_refused(&res, &format!("{path}: {what}"));
            }
            sent += 1;
        }
        assert_eq!(valid_seen.len(), ok.len(), "{path}: {valid_seen:?}");
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
            crate::helpers::snapshot(&app, true),
            before,
            "after the malformed bodies to {path}"
        );
    }
    assert!(sent > 300, "{sent} requests sent");
    // Nothing was disturbed: the owner is still signed in, the member is still active with
    // the same codes, and the invitation and the "this wasn't me" link still work.
    browsers.signed_in.get("/").await.assert_status(200);
    browsers
        .anonymous
        .get(&browsers.path("/invitations/{invitation_token}"))
        .await
        .assert_status(200);
    browsers
        .anonymous
        .get(&browsers.path("/account/not-me/{alert_token}"))
        .await
        .assert_status(200);
}

#[actix_rt::test]
async fn metacharacters_in_every_field_never_cause_a_server_error() {
    // Many of these are wrong passwords and codes: lift the limits so that every request
    // reaches its handler instead of the limit.
    let app = TestApp::spawn_with(|c| {
        // Re-authentication asks for the code every time: every code field is read.
        c.reauth_secs = 0;
        c.limits.password_attempts = 100_000;
        c.limits.code_attempts = 100_000;
        c.limits.account_attempts = 100_000;
        c.limits.client_attempts = 100_000;
    })
    .await;
    let browsers = browsers(&app).await;
    let users_before = app.count("SELECT COUNT(*) FROM users");
    for form in FORMS {
        let fields = form.fields;
        if fields.is_empty() {
            continue;
        }
        let path = &browsers.path(form.path);
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
                // A page with a form, for the token: a link's page is gone once it is used.
                client
                    .get(if path.starts_with("/settings") {
                        "/settings/security"
                    } else if path.starts_with("/invitations/") {
                        "/login"
                    } else {
                        path
                    })
                    .await;
            }
        }
    }
    // The tables are all there and only sign-up and the invitation could add anyone (with
    // names that are not names refused, valid-looking ones accepted verbatim): every
    // organization has its one owner, and the invitee joined the owner's.
    let users_after = app.count("SELECT COUNT(*) FROM users");
    assert!(users_after > users_before);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM organizations"),
        app.count("SELECT COUNT(*) FROM users WHERE role = 'owner'")
    );
    let stored = app.count("SELECT COUNT(*) FROM organizations WHERE name LIKE '%DROP TABLE%'");
    assert!(stored >= 1, "metacharacters are stored as plain text");
    let organization_id =
        app.count("SELECT organization_id FROM users WHERE email = 'ada@example.com'");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM users WHERE email = 'hedy@example.com' AND role = 'member' \
             AND organization_id = {organization_id} AND name LIKE '%DROP TABLE%'"
        )),
        1,
        "the invitee joined once, named verbatim"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM invitations WHERE email = 'katherine@example.com'"),
        1,
        "one invitation, however often it was asked for"
    );
    app.client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/login/two-factor");
}

#[actix_rt::test]
async fn absurd_query_strings_on_every_page_never_cause_a_server_error() {
    let app = TestApp::spawn().await;
    let browsers = browsers(&app).await;
    let before = crate::helpers::snapshot(&app, true);
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
        let path = &browsers.path(path);
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
    assert_eq!(crate::helpers::snapshot(&app, true), before);
}

/// Asserts an answer is a normal page (200) or one of the app's 4xx pages, never a 5xx.
#[track_caller]
fn assert_page_or_refusal(res: &Response, what: &str) {
    assert!(
        res.status == StatusCode::OK || res.status.is_client_error(),
        "{what}: {}\n{}",
        res.status,
        res.body
    );
    assert!(
        res.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html"),
        "{what}: {} is not a page: {}",
        res.status,
        res.body
    );
}

/// What a query of the people table or the audit log must get.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// The page, as for a sensible query.
    Page,
    /// A 400 page saying what is wrong with the query.
    BadRequest,
    /// 404: the person asked about is not in the viewer's organization.
    NotFound,
    /// Either a page or a 4xx page (how a query string is decoded is actix's choice).
    Either,
}

#[actix_rt::test]
async fn the_people_table_and_the_audit_log_answer_absurd_parameters_with_a_page_or_a_4xx() {
    use Expect::*;
    let app = TestApp::spawn().await;
    let browsers = browsers(&app).await;
    // Someone of another organization, whom Ada's pages must not find.
    app.signup("Globex", "Hank Scorpio", "hank@example.com")
        .await;
    let stranger = app.user_id("hank@example.com");
    let member = browsers.member;
    let before = crate::helpers::snapshot(&app, true);

    let huge_number = "9".repeat(6 * 1024);
    let huge_text = "x".repeat(6 * 1024);
    let longest_search = "x".repeat(254);
    let too_long_search = "x".repeat(255);
    let people: Vec<(String, Expect)> = [
        ("page=1", Page),
        ("page=2", Page),
        ("page=1000000", Page),
        ("page=+5", Page),
        ("page=%203%20", Page),
        ("page=", Page),
        ("page=-1", BadRequest),
        ("page=0", BadRequest),
        ("page=1000001", BadRequest),
        ("page=99999999999999999999", BadRequest),
        ("page=9223372036854775807", BadRequest),
        ("page=-9223372036854775808", BadRequest),
        ("page=abc", BadRequest),
        ("page=1e9", BadRequest),
        ("page=1.5", BadRequest),
        ("page=0x10", BadRequest),
        ("page=%00", BadRequest),
        ("page=%EF%BC%91", BadRequest),
        ("page=1&page=2", BadRequest),
        ("page[]=1", Page),
        ("two_factor=enabled", Page),
        ("two_factor=disabled", Page),
        ("two_factor=", Page),
        ("two_factor=maybe", BadRequest),
        ("two_factor=ENABLED", BadRequest),
        ("two_factor=enabled%00", BadRequest),
        ("two_factor=%27%20OR%201%3D1%20--", BadRequest),
        ("q=%27%3B%20DROP%20TABLE%20users%3B--", Page),
        ("q=%25", Page),
        ("q=_", Page),
        ("q=%5C", Page),
        ("q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", Page),
        ("q=%7B%7B%207*7%20%7D%7D", Page),
        ("q=%F0%9F%91%A9%E2%80%8D%F0%9F%91%A9", Page),
        ("q=a%00b", BadRequest),
        ("q=a%0D%0Ab", BadRequest),
        ("q=%FF%FE", Either),
        ("fields=two_factor", Page),
        ("fields=nonsense&fields=%3Cscript%3E", Page),
        ("q=grace&two_factor=enabled&page=99999", Page),
        ("q=grace&two_factor=enabled&page=100000000000", BadRequest),
    ]
    .into_iter()
    .map(|(q, e)| (q.to_owned(), e))
    .chain([
        (format!("page={huge_number}"), BadRequest),
        (format!("two_factor={huge_text}"), BadRequest),
        (format!("q={longest_search}"), Page),
        (format!("q={too_long_search}"), BadRequest),
        (format!("q={huge_text}"), BadRequest),
        (format!("fields={huge_text}"), Page),
    ])
    .collect();
    let audit: Vec<(String, Expect)> = [
        ("before=1", Page),
        ("after=1", Page),
        ("before=9223372036854775807", Page),
        ("after=9223372036854775807", Page),
        ("before=-1", BadRequest),
        ("before=0", BadRequest),
        ("after=0", BadRequest),
        ("before=99999999999999999999", BadRequest),
        ("before=abc", BadRequest),
        ("after=1e9", BadRequest),
        ("before=NaN", BadRequest),
        ("before=1&before=2", BadRequest),
        ("before=5&after=2", BadRequest),
        // No longer a parameter of the log: ignored.
        ("page=-1", Page),
        ("person=-1", BadRequest),
        ("person=0", BadRequest),
        ("person=abc", BadRequest),
        ("person=1e3", BadRequest),
        ("person=99999999999999999999", BadRequest),
        ("person=9223372036854775807", NotFound),
        ("person=%27%20OR%201%3D1%20--", BadRequest),
        ("email=grace%40example.com", Page),
        ("email=GRACE%40EXAMPLE.COM", Page),
        ("email=hank%40example.com", NotFound),
        ("email=nobody%40example.com", NotFound),
        ("email=%27%20OR%201%3D1%20--", BadRequest),
        ("email=%3Cscript%3E%40example.com", BadRequest),
        ("email=", Page),
    ]
    .into_iter()
    .map(|(q, e)| (q.to_owned(), e))
    .chain([
        (format!("person={member}"), Page),
        (format!("person={member}&before=1000000"), Page),
        (format!("person={stranger}"), NotFound),
        (format!("person={member}&email=hank%40example.com"), Page),
        (format!("before={huge_number}"), BadRequest),
        (format!("person={huge_number}"), BadRequest),
        (format!("email={huge_text}"), BadRequest),
    ])
    .collect();

    let owner = &browsers.signed_in;
    for (path, queries) in [
        ("/settings/users", &people),
        ("/settings/audit-log", &audit),
    ] {
        for (query, expect) in queries {
            let what = format!("{path}?{}", &query[..query.len().min(80)]);
            let res = owner.get(&format!("{path}?{query}")).await;
            assert_page_or_refusal(&res, &what);
            let status = match expect {
                Page => Some(StatusCode::OK),
                BadRequest => Some(StatusCode::BAD_REQUEST),
                NotFound => Some(StatusCode::NOT_FOUND),
                Either => None,
            };
            if let Some(status) = status {
                assert_eq!(res.status, status, "{what}:\n{}", res.body);
            }
            // Nobody of another organization shows, whatever was asked.
            assert!(!res.body.contains("Hank Scorpio"), "{what}");
        }
    }
    assert_eq!(crate::helpers::snapshot(&app, true), before);
}

#[actix_rt::test]
async fn bogus_link_tokens_are_refused_with_a_4xx_and_change_nothing() {
    let app = TestApp::spawn().await;
    let browsers = browsers(&app).await;
    let before = crate::helpers::snapshot(&app, true);
    let invitation = browsers.invitation_token.clone();
    let alert = browsers.alert_token.clone();
    let segments: Vec<String> = vec![
        "x".into(),
        "0".repeat(63),
        "0".repeat(64),
        "0".repeat(65),
        "g".repeat(64),
        invitation.to_uppercase(),
        invitation[1..].to_owned(),
        format!("{invitation}0"),
        format!("{invitation}%20"),
        format!("%20{}", &invitation[1..]),
        format!("{}%00", &invitation[1..]),
        format!("{}%FF", &invitation[1..]),
        format!("{invitation}%2F.."),
        alert.clone(),
        invitation.clone(),
        "%00".into(),
        "%FF%FE".into(),
        "..%2F..%2Fetc%2Fpasswd".into(),
        "%27%3B%20DROP%20TABLE%20invitations%3B--".into(),
        "%22%20OR%20%221%22%3D%221".into(),
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E".into(),
        "%7B%7B%207*7%20%7D%7D".into(),
        "%E2%80%AE%F0%9F%91%A9".into(),
        "a".repeat(6 * 1024),
    ];
    let mut sent = 0;
    for (route, real, fields) in [
        (
            "/invitations/",
            &invitation,
            &[("name", "Mallory"), ("password", PASSWORD)][..],
        ),
        ("/account/not-me/", &alert, &[][..]),
    ] {
        for segment in &segments {
            // Each route's own token is real: it is asked for at the other route only.
            if segment == real {
                continue;
            }
            let path = format!("{route}{segment}");
            let what = &path[..path.len().min(120)];
            for client in [&browsers.anonymous, &browsers.signed_in] {
                let res = client.get(&path).await;
                assert_refused(&res, what);
                assert_page_or_refusal(&res, what);
                sent += 1;
            }
            let res = browsers.anonymous.submit(&path, fields).await;
            assert_refused(&res, &format!("POST {what}"));
            assert_page_or_refusal(&res, &format!("POST {what}"));
            sent += 1;
        }
    }
    assert!(sent > 100, "{sent} requests sent");
    assert_eq!(crate::helpers::snapshot(&app, true), before);
    // The real links were not disturbed by the probes.
    let page = browsers
        .anonymous
        .get(&format!("/invitations/{invitation}"))
        .await;
    page.assert_status(200).assert_contains("hedy@example.com");
    browsers
        .anonymous
        .get(&format!("/account/not-me/{alert}"))
        .await
        .assert_status(200);
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
    // An invitee named in HTML too: the people table lists the pending invitation, and the
    // invitation's page shows the name and the organization's.
    let invitee = "<i>Eve</i> \"the\" 'spy' & <b>co</b>";
    let link = app
        .invite(&owner, invitee, "eve@example.com", "member")
        .await;
    let mut pages_with_name = 0;
    let paths = [
        "/",
        "/settings/security",
        "/settings/owner",
        "/settings/security/two-factor/setup",
        "/settings/security/two-factor/confirm",
        "/settings/users",
        "/settings/organization-security",
        "/settings/audit-log",
    ];
    for path in paths {
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
    assert_eq!(pages_with_name, paths.len());
    let owner_page = owner.get("/settings/owner").await;
    owner_page.assert_contains(&escaped(email));
    let people = owner.get("/settings/users").await;
    people.assert_contains(&escaped(email));
    people.assert_contains(&escaped(invitee));
    let invitation = app.client().get(&link).await;
    invitation.assert_status(200);
    invitation.assert_contains(&escaped(invitee));
    invitation.assert_contains(&escaped(organization));
    for page in [&people, &invitation] {
        for raw in ["<i>Eve", "<b>co", "'spy'", "\"the\"", "<script>alert"] {
            assert!(!page.body.contains(raw), "{raw:?} unescaped");
        }
    }
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
