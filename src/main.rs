//! The `twofold` binary: read the configuration, then serve the app or run one operator
//! command (`twofold help` lists them; see `cli`).

use twofold::cli::{self, Command};
use twofold::config::Config;
use twofold::startup::Application;

fn main() -> anyhow::Result<()> {
    // A missing .env file is the normal case; only a malformed one is worth reporting.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        return Err(e.into());
    }
    let command = Command::parse(std::env::args_os().skip(1).collect())?;
    if command == Command::Help {
        println!("{}", cli::USAGE);
        return Ok(());
    }
    let config = Config::from_env()?;
    match command {
        Command::Serve => actix_web::rt::System::new().block_on(serve(config)),
        command => cli::run(command, &config),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    twofold::telemetry::init();
    let app = Application::build(config).await?;
    tracing::info!("Twofold is serving on http://{}", app.address());
    app.run_until_stopped().await?;
    Ok(())
}
