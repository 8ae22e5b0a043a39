//! Outgoing email. Messages are built with lettre and go to the SMTP server of
//! `TWOFOLD_SMTP_URL` when it is set, or otherwise into `<data dir>/outbox/` as `.eml` files,
//! so that a deployment without a mail server (and the test suite) can still read them.
//!
//! Sending blocks (a network round trip or a file write), so [`Mailer::send`] runs it on the
//! blocking pool, never on a request thread.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::web;
use anyhow::Context;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, Message, SmtpTransport, Transport as _};
use percent_encoding::percent_decode_str;
use rand::RngCore;

use crate::config::Config;

/// One email to one person.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to_name: String,
    pub to_address: String,
    pub subject: String,
    /// Plain text.
    pub body: String,
}

/// Where email goes.
#[derive(Clone)]
enum Transport {
    Smtp(Box<SmtpTransport>),
    Outbox(PathBuf),
}

/// Sends the app's emails.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    /// The mailer the configuration asks for; creates the outbox directory when there is no
    /// SMTP server.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let from: Mailbox = match &config.mail_from {
            Some(from) => from
                .parse()
                .with_context(|| format!("TWOFOLD_MAIL_FROM is not a valid address: {from}"))?,
            None => Mailbox::new(
                Some("Twofold".into()),
                default_from_address(&config.public_url)?,
            ),
        };
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(Box::new(smtp_transport(url)?)),
            None => {
                let dir = outbox_dir(&config.data_dir);
                std::fs::create_dir_all(&dir)
                    .and_then(|()| private_folder(&dir))
                    .with_context(|| format!("creating the outbox {}", dir.display()))?;
                Transport::Outbox(dir)
            }
        };
        Ok(Self { transport, from })
    }

    /// Sends the emails, off the request threads; stops at the first failure.
    pub async fn send(&self, emails: Vec<Mail>) -> anyhow::Result<()> {
        if emails.is_empty() {
            return Ok(());
        }
        let mailer = self.clone();
        web::block(move || emails.iter().try_for_each(|e| mailer.send_blocking(e)))
            .await
            .map_err(|e| anyhow::anyhow!("email task failed: {e}"))?
    }

    /// Sends each email, off the request threads, logging failures instead of returning
    /// them: for notices about a change that is already made and must stand. One failure does
    /// not keep the others from being sent.
    pub async fn send_or_log(&self, emails: Vec<Mail>) {
        if emails.is_empty() {
            return;
        }
        let mailer = self.clone();
        let sent = web::block(move || {
            for email in &emails {
                if let Err(e) = mailer.send_blocking(email) {
                    tracing::error!(error = ?e, to = %email.to_address, "sending email failed");
                }
            }
        })
        .await;
        if let Err(e) = sent {
            tracing::error!(error = %e, "email task failed");
        }
    }

    /// Sends one email, blocking.
    pub fn send_blocking(&self, email: &Mail) -> anyhow::Result<()> {
        let message = self.build(email)?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(&message).context("sending email over SMTP")?;
            }
            Transport::Outbox(dir) => write_eml(dir, &message.formatted())?,
        }
        Ok(())
    }

    fn build(&self, email: &Mail) -> anyhow::Result<Message> {
        let to = Mailbox::new(
            Some(email.to_name.clone()),
            email
                .to_address
                .parse::<Address>()
                .with_context(|| format!("not an email address: {}", email.to_address))?,
        );
        let body = eight_bit_body(&email.body).unwrap_or_else(|| Body::new(email.body.clone()));
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .context("building an email")
    }
}

/// The text as an 8bit body, when it can be one: SMTP's 8BITMIME allows lines of up to 998
/// bytes without NUL or bare CR. lettre would otherwise choose quoted-printable for any line
/// over 76 characters, which breaks a long link with soft line breaks; 8bit keeps every link
/// on one line, in the mail client and in the `.eml` file alike.
fn eight_bit_body(text: &str) -> Option<Body> {
    if text.contains(['\0', '\r']) || text.lines().any(|l| l.len() > 998) {
        return None;
    }
    let crlf = text.replace('\n', "\r\n");
    Some(Body::dangerous_pre_encoded(
        crlf.into_bytes(),
        ContentTransferEncoding::EightBit,
    ))
}

/// `<data dir>/outbox`.
pub fn outbox_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("outbox")
}

/// `twofold@<host of the public URL>`, or `twofold@localhost` when that host is no domain.
fn default_from_address(public_url: &str) -> anyhow::Result<Address> {
    let host = public_url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .unwrap_or("localhost");
    Address::new("twofold", host)
        .or_else(|_| Address::new("twofold", "localhost"))
        .context("building the default sender address")
}

/// The outbox holds codes and links that open accounts: its user's alone.
#[cfg(unix)]
fn private_folder(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn private_folder(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Writes a new file readable by its owner only (0600), whatever the umask.
#[cfg(unix)]
fn private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)
}

#[cfg(not(unix))]
fn private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// Writes one message as `<time>-<random>.eml`: the name sorts by time of sending, and the
/// file appears whole (written under another name, then renamed), so a reader of the outbox
/// never sees half a message.
fn write_eml(dir: &Path, message: &[u8]) -> anyhow::Result<()> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut random = [0u8; 4];
    rand::rng().fill_bytes(&mut random);
    let name = format!("{nanos:020}-{}", hex::encode(random));
    let partial = dir.join(format!(".{name}.partial"));
    private_file(&partial, message).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, dir.join(format!("{name}.eml")))
        .with_context(|| format!("renaming {}", partial.display()))?;
    Ok(())
}

/// The SMTP transport for `TWOFOLD_SMTP_URL`.
fn smtp_transport(url: &str) -> anyhow::Result<SmtpTransport> {
    let settings = SmtpSettings::parse(url)?;
    let tls =
        |host: &str| TlsParameters::new(host.to_owned()).context("TWOFOLD_SMTP_URL's host for TLS");
    let mut builder = SmtpTransport::builder_dangerous(&settings.host)
        .port(settings.port)
        .tls(match settings.security {
            Security::StartTls => Tls::Opportunistic(tls(&settings.host)?),
            Security::Tls => Tls::Wrapper(tls(&settings.host)?),
            Security::Plain => Tls::None,
        });
    if let Some((user, password)) = settings.credentials {
        builder = builder.credentials(Credentials::new(user, password));
    }
    Ok(builder.build())
}

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    /// `smtp://`: STARTTLS whenever the server offers it (port 587 or 25).
    StartTls,
    /// `smtps://`: TLS from the first byte (port 465).
    Tls,
    /// `smtp+plain://`: no TLS, for a relay on the same machine or network.
    Plain,
}

/// What an SMTP URL says.
#[derive(Debug, PartialEq, Eq)]
struct SmtpSettings {
    security: Security,
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

impl SmtpSettings {
    fn parse(url: &str) -> anyhow::Result<Self> {
        let (security, rest, default_port) = if let Some(rest) = url.strip_prefix("smtp://") {
            (Security::StartTls, rest, 25)
        } else if let Some(rest) = url.strip_prefix("smtps://") {
            (Security::Tls, rest, 465)
        } else if let Some(rest) = url.strip_prefix("smtp+plain://") {
            (Security::Plain, rest, 25)
        } else {
            anyhow::bail!(
                "TWOFOLD_SMTP_URL must look like smtp://, smtps:// or smtp+plain:// \
                 [user:password@]host[:port]"
            );
        };
        let rest = rest.trim_end_matches('/');
        let (credentials, host_port) = match rest.rsplit_once('@') {
            Some((userinfo, host_port)) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let decode = |s: &str| -> anyhow::Result<String> {
                    Ok(percent_decode_str(s)
                        .decode_utf8()
                        .context("TWOFOLD_SMTP_URL's user or password is not valid UTF-8")?
                        .into_owned())
                };
                (Some((decode(user)?, decode(password)?)), host_port)
            }
            None => (None, rest),
        };
        let (host, port) = match host_port.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (
                host,
                port.parse::<u16>()
                    .context("TWOFOLD_SMTP_URL's port is not a number")?,
            ),
            _ => (host_port, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            anyhow::bail!("TWOFOLD_SMTP_URL names no host");
        }
        Ok(Self {
            security,
            host: host.to_owned(),
            port,
            credentials,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_name_a_host_a_port_and_maybe_credentials() {
        assert_eq!(
            SmtpSettings::parse("smtp://localhost").expect("valid"),
            SmtpSettings {
                security: Security::StartTls,
                host: "localhost".into(),
                port: 25,
                credentials: None
            }
        );
        assert_eq!(
            SmtpSettings::parse("smtp://ada:p%40ss@mail.example.com:2525").expect("valid"),
            SmtpSettings {
                security: Security::StartTls,
                host: "mail.example.com".into(),
                port: 2525,
                credentials: Some(("ada".into(), "p@ss".into()))
            }
        );
        assert_eq!(
            SmtpSettings::parse("smtp://[::1]:25").expect("valid").host,
            "::1"
        );
        let tls = SmtpSettings::parse("smtps://mail.example.com").expect("valid");
        assert_eq!((tls.security, tls.port), (Security::Tls, 465));
        let plain = SmtpSettings::parse("smtp+plain://localhost").expect("valid");
        assert_eq!((plain.security, plain.port), (Security::Plain, 25));
        assert!(SmtpSettings::parse("http://mail.example.com").is_err());
        assert!(SmtpSettings::parse("smtp://mail.example.com:port").is_err());
        assert!(SmtpSettings::parse("smtp://").is_err());
    }

    #[test]
    fn the_outbox_gets_one_readable_eml_file_per_email() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::with_data_dir(dir.path()).expect("config");
        config.public_url = "https://twofold.example.com".into();
        let mailer = Mailer::from_config(&config).expect("mailer");
        mailer
            .send_blocking(&Mail {
                to_name: "Zoë Example".into(),
                to_address: "zoe@example.com".into(),
                subject: "Hello".into(),
                body: "Open https://twofold.example.com/x?y=1 now.\n".into(),
            })
            .expect("sent");
        let files: Vec<_> = std::fs::read_dir(outbox_dir(dir.path()))
            .expect("outbox")
            .map(|e| e.expect("entry").path())
            .collect();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
        let text = std::fs::read_to_string(&files[0]).expect("text");
        assert!(
            text.contains("From: Twofold <twofold@twofold.example.com>"),
            "{text}"
        );
        assert!(text.contains("zoe@example.com"), "{text}");
        assert!(
            text.contains("Open https://twofold.example.com/x?y=1 now."),
            "{text}"
        );
    }
}
