//! The operator's command line, in the same binary as the server:
//!
//! ```text
//! twofold [serve]
//! twofold org create --name NAME --owner-name NAME --owner-email EMAIL --password-stdin
//! twofold org list
//! twofold user list --org ORGANIZATION
//! twofold user reset-2fa --email EMAIL
//! twofold user reset-password --email EMAIL
//! ```
//!
//! Commands read the same configuration as the server (the environment and `.env`), apply
//! pending migrations, and call the same operations (`crate::ops`) as the pages, on the
//! database directly, so they also serve while the server is down. Arguments are parsed by
//! hand: six commands do not justify a parser crate's build time.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::BufRead;

use anyhow::{Context, anyhow, bail};

use crate::audit::Origin;
use crate::config::Config;
use crate::db::{self, DbPool};
use crate::domain::{Email, OrganizationName, Password, PersonName};
use crate::error::AppError;
use crate::ops::account::{self, NewOrganizationRequest, ResetSender, SignUp};
use crate::ops::two_factor::{self, Reset};
use crate::ops::{organization, people};
use crate::state::AppState;

/// The usage text of `twofold help`.
pub const USAGE: &str = "\
Usage:
  twofold [serve]
      Serve the web app (configured by the environment; see README).
  twofold org create --name NAME --owner-name NAME --owner-email EMAIL --password-stdin
      Create an organization and its owner. The owner's password is the first line of
      standard input, e.g.  read -rs PW && printf '%s\\n' \"$PW\" | twofold org create ...
  twofold org list
      List the organizations: id, people, people with 2FA, name.
  twofold user list --org ORGANIZATION
      List an organization's people (ORGANIZATION is its id or its exact name).
  twofold user reset-2fa --email EMAIL
      Break-glass for someone locked out, the owner included: turn their 2FA off, delete
      their recovery codes and end their sessions. They are emailed, and the audit log
      records it.
  twofold user reset-password --email EMAIL
      Email the person a link to choose a new password (valid one hour, single-use). Their
      password works until they use it; their 2FA stays as it is. Nothing secret is printed.
  twofold help
      Show this text.";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Serve,
    Help,
    OrgCreate {
        name: String,
        owner_name: String,
        owner_email: String,
    },
    OrgList,
    UserList {
        organization: String,
    },
    ResetTwoFactor {
        email: String,
    },
    ResetPassword {
        email: String,
    },
}

/// The `--name value` and `--name=value` options after a command, and the bare flags.
struct Options {
    values: HashMap<String, String>,
    flags: Vec<String>,
}

impl Options {
    fn parse(args: &[String], flags: &[&str]) -> anyhow::Result<Self> {
        let mut values = HashMap::new();
        let mut found_flags = Vec::new();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let Some(name) = arg.strip_prefix("--") else {
                bail!("unexpected argument `{arg}`");
            };
            if flags.contains(&name) {
                found_flags.push(name.to_owned());
                continue;
            }
            let (name, value) = match name.split_once('=') {
                Some((name, value)) => (name.to_owned(), value.to_owned()),
                None => {
                    let value = args
                        .next()
                        .ok_or_else(|| anyhow!("--{name} needs a value"))?;
                    (name.to_owned(), value.clone())
                }
            };
            if values.insert(name.clone(), value).is_some() {
                bail!("--{name} is given twice");
            }
        }
        Ok(Self {
            values,
            flags: found_flags,
        })
    }

    fn take(&mut self, name: &str) -> anyhow::Result<String> {
        self.values
            .remove(name)
            .ok_or_else(|| anyhow!("--{name} is required"))
    }

    fn done(self) -> anyhow::Result<()> {
        match self.values.keys().next() {
            Some(name) => bail!("unknown option --{name}"),
            None => Ok(()),
        }
    }
}

impl Command {
    /// Reads the arguments after the program's name.
    pub fn parse(args: Vec<OsString>) -> anyhow::Result<Self> {
        let args = args
            .into_iter()
            .map(|a| {
                a.into_string()
                    .map_err(|a| anyhow!("argument {a:?} is not valid UTF-8"))
            })
            .collect::<anyhow::Result<Vec<String>>>()?;
        let words: Vec<&str> = args.iter().take(2).map(String::as_str).collect();
        let command = match words.as_slice() {
            [] | ["serve"] => return Ok(Self::Serve),
            ["help" | "--help" | "-h", ..] => return Ok(Self::Help),
            ["org", "create"] => {
                let mut options = Options::parse(&args[2..], &["password-stdin"])?;
                if !options.flags.iter().any(|f| f == "password-stdin") {
                    bail!(
                        "pass the owner's password on standard input and say so with \
                         --password-stdin (a password in the arguments would show in `ps` \
                         and the shell's history)"
                    );
                }
                let command = Self::OrgCreate {
                    name: options.take("name")?,
                    owner_name: options.take("owner-name")?,
                    owner_email: options.take("owner-email")?,
                };
                options.done()?;
                command
            }
            ["org", "list"] => {
                Options::parse(&args[2..], &[])?.done()?;
                Self::OrgList
            }
            ["user", "list"] => {
                let mut options = Options::parse(&args[2..], &[])?;
                let command = Self::UserList {
                    organization: options.take("org")?,
                };
                options.done()?;
                command
            }
            ["user", "reset-2fa"] => {
                let mut options = Options::parse(&args[2..], &[])?;
                let command = Self::ResetTwoFactor {
                    email: options.take("email")?,
                };
                options.done()?;
                command
            }
            ["user", "reset-password"] => {
                let mut options = Options::parse(&args[2..], &[])?;
                let command = Self::ResetPassword {
                    email: options.take("email")?,
                };
                options.done()?;
                command
            }
            _ => bail!("unknown command `{}`\n\n{USAGE}", args.join(" ")),
        };
        Ok(command)
    }
}

/// The application's state for one command: a one-connection pool (migrations applied),
/// the keys, the bcrypt threads and the mailer, exactly as the server builds them.
fn connect(config: &Config) -> anyhow::Result<AppState> {
    let pool = DbPool::build(&config.database_url, 1)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    drop(conn);
    AppState::new(config.clone(), pool)
}

fn app_error(e: AppError) -> anyhow::Error {
    match e {
        AppError::Unexpected(e) => e,
        other => anyhow!("{other}"),
    }
}

/// Runs a command other than `serve`, printing its result to standard output. The
/// operations are the server's own, run to completion on a runtime of their own.
pub fn run(command: Command, config: &Config) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(run_command(command, config))
}

async fn run_command(command: Command, config: &Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => bail!("`serve` is not an operator command"),
        Command::Help => {
            println!("{USAGE}");
            Ok(())
        }
        Command::OrgCreate {
            name,
            owner_name,
            owner_email,
        } => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            let password = line.trim_end_matches(['\n', '\r']).to_owned();
            org_create(config, &name, &owner_name, &owner_email, password).await
        }
        Command::OrgList => org_list(config).await,
        Command::UserList { organization } => user_list(config, organization).await,
        Command::ResetTwoFactor { email } => reset_two_factor(config, &email).await,
        Command::ResetPassword { email } => reset_password(config, &email).await,
    }
}

async fn org_create(
    config: &Config,
    name: &str,
    owner_name: &str,
    owner_email: &str,
    password: String,
) -> anyhow::Result<()> {
    let organization = OrganizationName::parse(name).map_err(|e| anyhow!("--name: {e}"))?;
    let owner_name = PersonName::parse(owner_name).map_err(|e| anyhow!("--owner-name: {e}"))?;
    let email = Email::parse(owner_email).map_err(|e| anyhow!("--owner-email: {e}"))?;
    let password = Password::parse(password).map_err(|e| anyhow!("the password: {e}"))?;
    let app = connect(config)?;
    let (organization_text, owner_text, email_text) = (
        organization.as_str().to_owned(),
        owner_name.as_str().to_owned(),
        email.as_str().to_owned(),
    );
    let request = NewOrganizationRequest {
        organization,
        owner_name,
        email,
        password,
        signs_in: false,
    };
    let created = account::sign_up(&app, request, Origin::command_line("org create"))
        .await
        .map_err(app_error)?;
    let SignUp::Created {
        organization_id,
        user_id,
        ..
    } = created
    else {
        bail!("someone with the email {email_text} already has an account");
    };
    println!(
        "Created organization #{organization_id} \"{organization_text}\" with its owner \
         {owner_text} <{email_text}> (#{user_id})."
    );
    println!("They can sign in at {}/login", config.public_url);
    Ok(())
}

async fn org_list(config: &Config) -> anyhow::Result<()> {
    let app = connect(config)?;
    let organizations = organization::all(&app).await.map_err(app_error)?;
    println!(
        "{:>6}  {:>8}  {:>8}  {:<8}  NAME",
        "ID", "PEOPLE", "2FA", "ENFORCED"
    );
    for o in organizations {
        println!(
            "{:>6}  {:>8}  {:>8}  {:<8}  {}",
            o.id,
            o.people_count,
            o.two_factor_count,
            if o.enforce_two_factor { "yes" } else { "no" },
            o.name
        );
    }
    Ok(())
}

async fn user_list(config: &Config, named: String) -> anyhow::Result<()> {
    let app = connect(config)?;
    let mut found = organization::named(&app, named.clone())
        .await
        .map_err(app_error)?;
    let organization = match found.len() {
        0 => bail!("no organization has the id or name `{named}` (see `twofold org list`)"),
        1 => found.remove(0),
        _ => bail!(
            "several organizations are named `{named}`: use one of the ids {}",
            found
                .iter()
                .map(|o| o.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let everyone = people::everyone(&app, organization.id)
        .await
        .map_err(app_error)?;
    println!(
        "{} (#{}): {} of {} people have 2FA on",
        organization.name,
        organization.id,
        organization.two_factor_count,
        organization.people_count
    );
    println!(
        "{:>6}  {:<6}  {:<8}  {:<8}  {:<20}  {:<30}  NAME",
        "ID", "ROLE", "2FA", "STATUS", "LAST SIGN-IN", "EMAIL"
    );
    for u in everyone {
        println!(
            "{:>6}  {:<6}  {:<8}  {:<8}  {:<20}  {:<30}  {}",
            u.id,
            u.role.as_str(),
            if u.has_two_factor() {
                "enabled"
            } else {
                "disabled"
            },
            if u.deactivated_at.is_some() {
                "inactive"
            } else {
                "active"
            },
            u.last_sign_in_at
                .map(crate::format::time)
                .unwrap_or_else(|| "never".into()),
            u.email,
            u.name
        );
    }
    Ok(())
}

async fn reset_two_factor(config: &Config, email: &str) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow!("--email: {e}"))?;
    let app = connect(config)?;
    let shown = email.as_str().to_owned();
    match two_factor::reset_two_factor(&app, email, Origin::command_line("user reset-2fa"))
        .await
        .map_err(app_error)?
    {
        Reset::NoSuchPerson => bail!("no one has the email {shown}"),
        Reset::NoTwoFactor => {
            println!("{shown} has no two-factor authentication: nothing to reset.");
        }
        Reset::Done {
            name,
            enforced,
            email_error,
        } => {
            if let Some(e) = email_error {
                eprintln!("warning: the email to {shown} could not be sent: {e}");
            }
            println!(
                "Two-factor authentication is off for {name} <{shown}>: their recovery codes \
                 are deleted and every session of theirs has ended. They sign in with their \
                 password{}.",
                if enforced {
                    ", and their organization requires them to set up 2FA again at once"
                } else {
                    ""
                }
            );
        }
    }
    Ok(())
}

async fn reset_password(config: &Config, email: &str) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow!("--email: {e}"))?;
    let app = connect(config)?;
    let shown = email.as_str().to_owned();
    let Some(person) = account::find_by_email(&app, email)
        .await
        .map_err(app_error)?
    else {
        bail!("no one has the email {shown}");
    };
    let sent = account::send_password_reset(
        &app,
        &person,
        ResetSender::Operator,
        Origin::command_line("user reset-password"),
    )
    .await
    .map_err(app_error)?;
    if let Some(e) = sent.email_error {
        bail!("the email to {shown} could not be sent: {e}");
    }
    println!(
        "{} <{shown}> was emailed a link to choose a new password, valid for one hour. Their \
         password works until they use it.",
        sent.name
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> anyhow::Result<Command> {
        Command::parse(args.iter().map(OsString::from).collect())
    }

    #[test]
    fn commands_and_options_are_read() {
        assert_eq!(parse(&[]).expect("serve"), Command::Serve);
        assert_eq!(parse(&["help"]).expect("help"), Command::Help);
        assert_eq!(
            parse(&[
                "org",
                "create",
                "--name=Acme",
                "--owner-name",
                "Ada Lovelace",
                "--owner-email",
                "ada@example.com",
                "--password-stdin"
            ])
            .expect("org create"),
            Command::OrgCreate {
                name: "Acme".into(),
                owner_name: "Ada Lovelace".into(),
                owner_email: "ada@example.com".into()
            }
        );
        assert_eq!(
            parse(&["user", "reset-2fa", "--email", "ada@example.com"]).expect("reset"),
            Command::ResetTwoFactor {
                email: "ada@example.com".into()
            }
        );
        assert_eq!(
            parse(&["user", "reset-password", "--email=ada@example.com"]).expect("reset"),
            Command::ResetPassword {
                email: "ada@example.com".into()
            }
        );
    }

    #[test]
    fn mistakes_are_refused_with_a_reason() {
        for args in [
            &["org", "create", "--name", "Acme"][..],
            &["user", "list"],
            &["user", "list", "--org"],
            &["user", "list", "--org", "1", "--org", "2"],
            &["user", "list", "--org", "1", "--colour", "red"],
            &["user", "list", "extra"],
            &["user", "delete"],
            &["reset"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }
}
