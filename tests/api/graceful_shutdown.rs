//! SIGTERM: the server stops taking connections, finishes the requests it has, closes its
//! database pool and exits; started again, it has everything those requests did.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::helpers::PASSWORD;
use crate::server_process::Deployment;

#[actix_rt::test]
async fn sigterm_lets_a_request_in_flight_finish_and_a_restart_loses_nothing() {
    let deployment = Deployment::new();
    let mut server = deployment.start(&[]);
    server.app.signup("Acme", "Ada", "ada@example.com").await;
    let browser = server.app.client();
    browser.get("/login").await.assert_status(200);
    let cookie = browser.session_cookie().expect("session cookie");
    let body = serde_html_form::to_string([
        ("csrf_token", browser.csrf_token().as_str()),
        ("email", "ada@example.com"),
        ("password", PASSWORD),
    ])
    .expect("form");

    // A sign-in whose body is half sent when the signal arrives: in flight for certain.
    let address = server.app.address.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nCookie: twofold_session={cookie}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("send head");
    stream.write_all(first).expect("send half the body");
    stream.flush().expect("flush");

    let signalled = Instant::now();
    server.terminate();
    assert!(
        server
            .wait_for_log(
                "SIGTERM received; starting graceful shutdown",
                Duration::from_secs(30)
            )
            .await,
        "the server did not start a graceful shutdown:\n{}",
        server.log().join("\n")
    );
    stream.write_all(rest).expect("send the rest of the body");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read the answer");
    let head = answer.to_ascii_lowercase();
    assert!(
        head.starts_with("http/1.1 303") && head.contains("\r\nlocation: /\r\n"),
        "the request in flight was not finished:\n{answer}"
    );

    let status = server
        .wait_for_exit(Duration::from_secs(60))
        .expect("the server exits after a SIGTERM");
    assert!(status.success(), "exit status {status}");
    println!(
        "graceful shutdown: exited {status} {:.2} s after SIGTERM, the request in flight answered 303",
        signalled.elapsed().as_secs_f64()
    );
    if deployment.is_sqlite() {
        // The pool's connections were closed: SQLite checkpoints its write-ahead log into the
        // database file and removes it when the last connection closes.
        let wal = deployment.dir.path().join("twofold.sqlite3-wal");
        assert!(
            !wal.exists() || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) == 0,
            "the write-ahead log was left behind: the pool was not closed"
        );
    }

    let server = deployment.start(&[]);
    assert_eq!(
        server
            .app
            .count("SELECT COUNT(*) FROM audit_events WHERE event = 'sign_in'"),
        1,
        "the sign-in finished during the shutdown is recorded"
    );
    assert_eq!(
        server
            .app
            .count("SELECT COUNT(*) FROM users WHERE last_sign_in_at IS NOT NULL"),
        1
    );
    let again = server.app.client();
    again
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
}
