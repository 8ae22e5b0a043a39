//! The yardstick of the page-throughput benchmark (`bench/run`): the most trivial actix-web
//! app there is, one handler answering `ok`, with actix-web's defaults (one worker per core),
//! the same as Twofold's. Twofold's pages are measured against it in the same run, so the
//! ratio says what Twofold's own work costs on this machine rather than what the machine is.
//!
//! `cargo run --release --example bench_baseline -- 127.0.0.1:18081`

use actix_web::{App, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".to_owned());
    HttpServer::new(|| App::new().route("/", web::get().to(|| async { "ok" })))
        .bind(bind)?
        .run()
        .await
}
