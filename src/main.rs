//! The `twofold` binary: read the configuration, start logging, serve the app.

use twofold::config::Config;
use twofold::startup::Application;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    // A missing .env file is the normal case; only a malformed one is worth reporting.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        return Err(e.into());
    }
    twofold::telemetry::init();
    let config = Config::from_env()?;
    let app = Application::build(config).await?;
    tracing::info!("Twofold is serving on http://{}", app.address());
    app.run_until_stopped().await?;
    Ok(())
}
