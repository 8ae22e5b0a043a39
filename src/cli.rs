//! The operator's command line, in the same binary as the server:
//!
//! ```text
//! twofold [serve]
//! twofold org create --name NAME --owner-name NAME --owner-email EMAIL --password-stdin
//! twofold org list
//! twofold user list --org ORGANIZATION
//! twofold user reset-2fa --email EMAIL
//! ```
//!
//! Commands read the same configuration as the server (the environment and `.env`), apply
//! pending migrations, and work on the database directly, so they also serve while the
//! server is down. Arguments are parsed by hand: five commands do not justify a parser
//! crate's build time.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::BufRead;

use anyhow::{Context, anyhow, bail};

use crate::audit::{Entry, Origin, event};
use crate::config::Config;
use crate::db::models::{NewOrganization, NewUser, Organization, StoredRecoveryCode, User};
use crate::db::{self, DbConn, DbPool};
use crate::domain::{Email, OrganizationName, Password, PersonName, Role};
use crate::email::Mailer;
use crate::error::AppError;
use crate::notify::{self, Alert};

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
            _ => bail!("unknown command `{}`\n\n{USAGE}", args.join(" ")),
        };
        Ok(command)
    }
}

/// Where the command line's actions come from, as the audit log shows it.
fn origin(command: &str) -> Origin {
    Origin {
        address: "command line".into(),
        user_agent: format!("twofold {command}"),
    }
}

fn connect(config: &Config) -> anyhow::Result<DbConn> {
    let pool = DbPool::build(&config.database_url, 1)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    Ok(conn)
}

fn app_error(e: AppError) -> anyhow::Error {
    match e {
        AppError::Unexpected(e) => e,
        other => anyhow!("{other}"),
    }
}

/// Runs a command other than `serve`, printing its result to standard output.
pub fn run(command: Command, config: &Config) -> anyhow::Result<()> {
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
            org_create(config, &name, &owner_name, &owner_email, password)
        }
        Command::OrgList => org_list(config),
        Command::UserList { organization } => user_list(config, &organization),
        Command::ResetTwoFactor { email } => reset_two_factor(config, &email),
    }
}

fn org_create(
    config: &Config,
    name: &str,
    owner_name: &str,
    owner_email: &str,
    password: String,
) -> anyhow::Result<()> {
    let name = OrganizationName::parse(name).map_err(|e| anyhow!("--name: {e}"))?;
    let owner_name = PersonName::parse(owner_name).map_err(|e| anyhow!("--owner-name: {e}"))?;
    let email = Email::parse(owner_email).map_err(|e| anyhow!("--owner-email: {e}"))?;
    let password = Password::parse(password).map_err(|e| anyhow!("the password: {e}"))?;
    let password_hash = bcrypt::non_truncating_hash(password.expose(), config.bcrypt_cost)
        .context("hashing the password")?;
    let mut conn = connect(config)?;
    let now = crate::now_unix();
    let origin = origin("org create");
    let created = db::write_transaction(&mut conn, |c| {
        if User::email_taken(c, email.as_str())? {
            return Ok(None);
        }
        let organization_id = NewOrganization {
            name: name.as_str(),
            created_at: now,
        }
        .insert(c)?;
        let user_id = NewUser {
            organization_id,
            email: email.as_str(),
            name: owner_name.as_str(),
            password_hash: &password_hash,
            role: Role::Owner.as_str(),
            created_at: now,
        }
        .insert(c)?;
        origin.record(
            c,
            Entry::own(organization_id, user_id, event::ORGANIZATION_CREATED).detail(name.as_str()),
            now,
        )?;
        Ok(Some((organization_id, user_id)))
    })
    .map_err(app_error)?;
    let Some((organization_id, user_id)) = created else {
        bail!("someone with the email {email} already has an account");
    };
    println!(
        "Created organization #{organization_id} \"{}\" with its owner {} <{email}> (#{user_id}).",
        name.as_str(),
        owner_name.as_str()
    );
    println!("They can sign in at {}/login", config.public_url);
    Ok(())
}

fn org_list(config: &Config) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    let organizations = Organization::all(&mut conn)?;
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

/// The organization an operator named by id or by exact name.
fn find_organization(conn: &mut DbConn, named: &str) -> anyhow::Result<Organization> {
    if let Ok(id) = named.parse::<i64>()
        && let Some(organization) = Organization::find(conn, id)?
    {
        return Ok(organization);
    }
    let mut found = Organization::find_by_name(conn, named)?;
    match found.len() {
        0 => bail!("no organization has the id or name `{named}` (see `twofold org list`)"),
        1 => Ok(found.remove(0)),
        _ => bail!(
            "several organizations are named `{named}`: use one of the ids {}",
            found
                .iter()
                .map(|o| o.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn user_list(config: &Config, named: &str) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    let organization = find_organization(&mut conn, named)?;
    let people = User::all_in_organization(&mut conn, organization.id)?;
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
    for u in people {
        println!(
            "{:>6}  {:<6}  {:<8}  {:<8}  {:<20}  {:<30}  {}",
            u.id,
            u.role().as_str(),
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
                .map(crate::routes::format_time)
                .unwrap_or_else(|| "never".into()),
            u.email,
            u.name
        );
    }
    Ok(())
}

fn reset_two_factor(config: &Config, email: &str) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow!("--email: {e}"))?;
    let mailer = Mailer::from_config(config)?;
    let mut conn = connect(config)?;
    let user = User::find_by_email(&mut conn, email.as_str())?
        .ok_or_else(|| anyhow!("no one has the email {email}"))?;
    if !user.has_two_factor() {
        println!("{email} has no two-factor authentication: nothing to reset.");
        return Ok(());
    }
    let now = crate::now_unix();
    let origin = origin("user reset-2fa");
    let public_url = config.public_url.clone();
    let alert = db::write_transaction(&mut conn, |c| {
        // Turning 2FA off also bumps the session epoch: every session of theirs ends.
        User::disable_totp(c, user.id)?;
        StoredRecoveryCode::delete_all(c, user.id)?;
        origin.record(
            c,
            Entry::about(user.organization_id, user.id, event::TWO_FACTOR_RESET)
                .detail("by an operator on the command line"),
            now,
        )?;
        notify::security_alert(c, &public_url, &user, &Alert::TwoFactorReset, &origin, now)
    })
    .map_err(app_error)?;
    if let Err(e) = mailer.send_blocking(&alert) {
        eprintln!("warning: the email to {email} could not be sent: {e:#}");
    }
    let enforced =
        Organization::find(&mut conn, user.organization_id)?.is_some_and(|o| o.enforce_two_factor);
    println!(
        "Two-factor authentication is off for {} <{email}>: their recovery codes are deleted \
         and every session of theirs has ended. They sign in with their password{}.",
        user.name,
        if enforced {
            ", and their organization requires them to set up 2FA again at once"
        } else {
            ""
        }
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
