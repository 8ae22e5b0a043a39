//! At rest and on the wire: the data directory's files are the server's user's alone, an
//! `https://` deployment says so in every answer (HSTS, a `__Host-` cookie), mail goes out over
//! the transport `TWOFOLD_SMTP_URL` names, and passwords follow a changed bcrypt cost.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::helpers::{PASSWORD, TestApp};

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[cfg(unix)]
#[actix_rt::test]
async fn the_database_the_key_and_the_outbox_are_readable_by_the_servers_user_only() {
    let app = TestApp::spawn().await;
    app.owner_with_two_factor("ada@example.com").await;
    let dir = app.config.data_dir.clone();
    assert_eq!(mode(&dir), 0o700, "the data directory");
    assert_eq!(mode(&dir.join("secret_key")), 0o600, "the generated key");
    let outbox = dir.join("outbox");
    assert_eq!(mode(&outbox), 0o700, "the outbox");
    let emails: Vec<_> = std::fs::read_dir(&outbox)
        .expect("outbox")
        .map(|e| e.expect("entry").path())
        .collect();
    assert!(!emails.is_empty());
    for email in emails {
        assert_eq!(mode(&email), 0o600, "{}", email.display());
    }
    if let Some(database) = app.sqlite_path() {
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", database.display()));
            if file.exists() {
                assert_eq!(mode(&file), 0o600, "{}", file.display());
            }
        }
    }
}

#[cfg(unix)]
#[actix_rt::test]
async fn a_data_directory_and_database_made_readable_by_others_are_made_private_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn().await;
    let open = std::fs::Permissions::from_mode;
    std::fs::set_permissions(&app.config.data_dir, open(0o755)).expect("chmod");
    if let Some(database) = app.sqlite_path() {
        std::fs::set_permissions(&database, open(0o644)).expect("chmod");
    }
    let _restarted = app.spawn_again().await;
    assert_eq!(mode(&app.config.data_dir), 0o700);
    if let Some(database) = app.sqlite_path() {
        assert_eq!(mode(&database), 0o600);
    }
}

#[actix_rt::test]
async fn behind_an_https_address_every_answer_carries_hsts_and_the_cookie_is_host_only() {
    let app = TestApp::spawn_with(|c| c.public_url = "https://twofold.example.com".into()).await;
    for path in ["/login", "/no-such-page", "/static/style.css", "/healthz"] {
        let res = app.client().get(path).await;
        assert_eq!(
            res.header("strict-transport-security").as_deref(),
            Some("max-age=31536000"),
            "{path}"
        );
    }
    let res = app.client().get("/login").await;
    let cookie = res.header("set-cookie").expect("a session cookie");
    assert!(cookie.starts_with("__Host-twofold_session="), "{cookie}");
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");

    // On plain HTTP (development), neither.
    let plain = TestApp::spawn().await;
    let res = plain.client().get("/login").await;
    assert_eq!(res.header("strict-transport-security"), None);
    let cookie = res.header("set-cookie").expect("a session cookie");
    assert!(cookie.starts_with("twofold_session="), "{cookie}");
}

/// A mail server that accepts every message, speaking just enough SMTP: what clients send
/// it, one string per message, and the first byte of each connection after its greeting. It
/// offers no STARTTLS.
struct SmtpSink {
    port: u16,
    messages: Arc<Mutex<Vec<String>>>,
    first_bytes: Arc<Mutex<Vec<u8>>>,
}

impl SmtpSink {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = listener.local_addr().expect("address").port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let first_bytes = Arc::new(Mutex::new(Vec::new()));
        let (kept, firsts) = (messages.clone(), first_bytes.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (kept, firsts) = (kept.clone(), firsts.clone());
                std::thread::spawn(move || {
                    let mut out = stream.try_clone().expect("stream");
                    let mut lines = BufReader::new(stream);
                    let _ = out.write_all(b"220 sink ESMTP\r\n");
                    if let Ok(buffer) = lines.fill_buf()
                        && let Some(first) = buffer.first()
                    {
                        firsts.lock().expect("sink").push(*first);
                    }
                    let mut line = String::new();
                    let mut message = String::new();
                    let mut in_data = false;
                    while lines.read_line(&mut line).unwrap_or(0) > 0 {
                        let command = line.trim_end().to_owned();
                        line.clear();
                        if in_data {
                            if command == "." {
                                in_data = false;
                                kept.lock()
                                    .expect("sink")
                                    .push(std::mem::take(&mut message));
                                let _ = out.write_all(b"250 queued\r\n");
                            } else {
                                message.push_str(&command);
                                message.push('\n');
                            }
                            continue;
                        }
                        let verb = command.split(' ').next().unwrap_or("").to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250-sink\r\n250 8BITMIME\r\n",
                            "DATA" => {
                                in_data = true;
                                b"354 go on\r\n"
                            }
                            "QUIT" => {
                                let _ = out.write_all(b"221 bye\r\n");
                                break;
                            }
                            _ => b"250 ok\r\n",
                        };
                        let _ = out.write_all(reply);
                    }
                });
            }
        });
        Self {
            port,
            messages,
            first_bytes,
        }
    }

    fn messages(&self) -> Vec<String> {
        self.messages.lock().expect("sink").clone()
    }
}

/// Signs Ada up on an app that mails through `url` and turns her 2FA on, which sends her an
/// email.
async fn mail_one(url: String) -> TestApp {
    let app = TestApp::spawn_with(move |c| c.smtp_url = Some(url)).await;
    app.owner_with_two_factor("ada@example.com").await;
    app
}

#[actix_rt::test]
async fn smtp_plain_and_smtp_with_starttls_when_offered_reach_the_server() {
    let sink = SmtpSink::start();
    mail_one(format!("smtp+plain://127.0.0.1:{}", sink.port)).await;
    assert_eq!(sink.messages().len(), 1);
    assert!(sink.messages()[0].contains("Two-factor authentication is on"));
    // smtp:// uses STARTTLS whenever the server offers it; this one does not.
    mail_one(format!("smtp://127.0.0.1:{}", sink.port)).await;
    assert_eq!(sink.messages().len(), 2);
}

#[actix_rt::test]
async fn smtps_speaks_tls_from_the_first_byte() {
    // A server that does not speak TLS gets no message: the client opened with a TLS
    // handshake, not with SMTP in the clear.
    let sink = SmtpSink::start();
    mail_one(format!("smtps://localhost:{}", sink.port)).await;
    assert_eq!(sink.messages().len(), 0);
    // 0x16: a TLS record of the handshake (the ClientHello); SMTP would have said EHLO.
    assert_eq!(sink.first_bytes.lock().expect("sink").first(), Some(&0x16));
    // While smtp+plain:// opens with EHLO in the clear.
    let plain = SmtpSink::start();
    mail_one(format!("smtp+plain://127.0.0.1:{}", plain.port)).await;
    assert_eq!(plain.first_bytes.lock().expect("sink").first(), Some(&b'E'));
}

#[actix_rt::test]
async fn a_password_hashed_at_an_older_cost_is_hashed_again_at_sign_in() {
    let app = TestApp::spawn().await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    let cost = || {
        app.count(
            "SELECT CAST(SUBSTR(password_hash, 5, 2) AS INTEGER) FROM users \
             WHERE email = 'ada@example.com'",
        )
    };
    assert_eq!(cost(), 4);
    // The deployment raises its cost: the stored hash follows at the next sign-in, so that
    // a known account answers at the same speed as an unknown one (checked at the new cost).
    let raised = app.spawn_again_with(|c| c.bcrypt_cost = 5).await;
    raised
        .client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
    assert_eq!(cost(), 5);
    raised
        .client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
}
