//! Crash safety: the real server is killed with SIGKILL at random moments while people turn on
//! 2FA, sign in with recovery codes (two browsers racing with each code), accept invitations
//! (two browsers racing with each link), change their passwords (signed in twice), set new
//! ones through reset links (two browsers racing with each link) and browse. After each kill
//! the database must pass `PRAGMA integrity_check` (SQLite), no account may be half enabled
//! (2FA on without its five codes, or codes without 2FA), no invitation half accepted (a person
//! without the link used, or the link used without the person), no password half changed (a
//! new hash with the old sessions alive or without its event, a used reset link with the old
//! password), the organizations' counts of people must match their people, every answer the
//! clients saw must be in the database, and no recovery code may have let anyone in twice nor
//! any link made two people or set two passwords.
//!
//! Each flow is a function that runs against the live server and reports what it saw
//! ([`Seen`]); after the restart [`Ledger::reconcile`] settles what a kill left unknown from
//! the database and checks the invariants. Another flow is one more function and one more
//! `Seen` variant with its reconciliation.

use std::time::Duration;

use diesel::RunQueryDsl;
use futures_util::future::{join, join_all};
use rand::Rng;
use twofold::auth::keys::Keys;
use twofold::domain::RecoveryCode;

use crate::helpers::PASSWORD;
use crate::server_process::{Browser, Db, Deployment, Device, Outcome, location};

/// What a flow saw happen.
enum Seen {
    /// 2FA confirmed: these codes were shown.
    Confirmed { account: usize, codes: Vec<String> },
    /// The confirmation was sent and no answer came back.
    ConfirmCutOff { account: usize },
    /// The code let a browser in (`admitted` browsers: more than one is a double spend).
    CodeUsed {
        account: usize,
        code: String,
        admitted: usize,
    },
    /// The code was sent and no browser was let in: the kill decides. `refused` browsers
    /// were told the code did not work, which only the other browser's spending can have
    /// done (the code was unused).
    CodeCutOff {
        account: usize,
        code: String,
        refused: usize,
    },
    /// The invitation let a browser join (`admitted` browsers: more than one is a link that
    /// made two people).
    InvitationAccepted { invitation: usize, admitted: usize },
    /// The acceptance was sent and no browser was let in or got an answer: the kill decides.
    /// `refused` browsers were told the link was already used, which only the other
    /// browser's acceptance can have done.
    InvitationCutOff { invitation: usize, refused: usize },
    /// The password change to `to` was answered: done.
    PasswordChanged { holder: usize, to: String },
    /// The change to `to` was sent and no answer came back: the kill decides.
    PasswordChangeCutOff { holder: usize, to: String },
    /// The reset link set `to` (`admitted` browsers: more than one is a link used twice).
    PasswordReset {
        holder: usize,
        to: String,
        admitted: usize,
    },
    /// Both browsers' uses of the link `link` (with the passwords `candidates`) were sent and
    /// none was answered with success: the kill decides. `refused` browsers were told the
    /// link was used, which only the other browser's use can have done.
    PasswordResetCutOff {
        holder: usize,
        link: String,
        candidates: Vec<String>,
        refused: usize,
    },
    /// An answer no correct server gives: a 5xx, or a refusal of an unused code.
    Wrong(String),
}

#[derive(Clone)]
enum State {
    /// No 2FA.
    Plain,
    /// 2FA on, with these codes unused and these used.
    TwoFactor {
        unused: Vec<String>,
        used: Vec<String>,
    },
    /// 2FA turned on by a confirmation cut off by a kill: its codes were never seen.
    Unseen,
}

struct Account {
    email: String,
    state: State,
    /// Whether a flow has it this round.
    busy: bool,
}

/// A person whose password the flows change (signed in) or reset (through a link), never
/// touched by the other flows.
struct Keyholder {
    email: String,
    /// The password the database must hold.
    password: String,
    /// Changes and resets done: the person's session epoch and their events count them.
    changes: i64,
    /// Changed through reset links (the others by the password page).
    resets_by_link: bool,
}

/// The person the owner's invitations are from.
const INVITER: &str = "inviter@example.com";

/// An invitation the owner sent, as the clients know it.
struct Invitation {
    /// The invitee's email address.
    email: String,
    /// The link's path, read from the emailed invitation.
    link: String,
    /// Whether the invitee joined (an answered acceptance, or a cut-off one the database
    /// shows complete).
    accepted: bool,
}

/// What the database holds for one invitation.
struct Joined {
    users: i64,
    /// Of those, members of the inviter's organization.
    members: i64,
    link_used: i64,
    events: i64,
}

impl Joined {
    /// Fully accepted: one person, in the right organization, the link used, the event written.
    fn complete(&self) -> bool {
        self.users == 1 && self.members == 1 && self.link_used == 1 && self.events == 1
    }

    /// Not accepted at all: nobody, the link still open, no event.
    fn untouched(&self) -> bool {
        self.users == 0 && self.link_used == 0 && self.events == 0
    }
}

/// What the clients know, checked against the database after every restart.
struct Ledger {
    accounts: Vec<Account>,
    invitations: Vec<Invitation>,
    keyholders: Vec<Keyholder>,
    keys: Keys,
    /// Figures for the report.
    confirmed: u64,
    confirm_cut_off: u64,
    codes_used: u64,
    codes_cut_off: u64,
    races: u64,
    invitations_accepted: u64,
    invitations_cut_off: u64,
    invitations_found_accepted: u64,
    invitation_races: u64,
    password_changes: u64,
    password_changes_cut_off: u64,
    resets: u64,
    resets_cut_off: u64,
}

impl Ledger {
    fn hash(&self, code: &str) -> String {
        let code = RecoveryCode::parse(code).expect("a code we were shown");
        twofold::auth::recovery::hash(&self.keys.recovery_code, &code)
    }

    fn user_id(db: &Db, email: &str) -> i64 {
        db.count(&format!("SELECT id FROM users WHERE email = '{email}'"))
    }

    fn joined(db: &Db, email: &str) -> Joined {
        let organization_id = db.count(&format!(
            "SELECT organization_id FROM users WHERE email = '{INVITER}'"
        ));
        Joined {
            users: db.count(&format!(
                "SELECT COUNT(*) FROM users WHERE email = '{email}'"
            )),
            members: db.count(&format!(
                "SELECT COUNT(*) FROM users WHERE email = '{email}' \
                 AND organization_id = {organization_id} AND role = 'member'"
            )),
            link_used: db.count(&format!(
                "SELECT COUNT(*) FROM invitations WHERE organization_id = {organization_id} \
                 AND email = '{email}' AND accepted_at IS NOT NULL"
            )),
            events: db.count(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE organization_id = {organization_id} \
                 AND event = 'invitation_accepted' \
                 AND subject_id = (SELECT id FROM users WHERE email = '{email}')"
            )),
        }
    }

    fn code_rows(&self, db: &Db, user_id: i64, code: &str, used: bool) -> i64 {
        db.count(&format!(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = {user_id} AND code_hash = '{}' \
             AND used_at IS {}NULL",
            self.hash(code),
            if used { "NOT " } else { "" }
        ))
    }

    /// Applies what the flows saw, settles what was cut off from the database, and checks
    /// every invariant. Returns the violations.
    fn reconcile(&mut self, db: &Db, seen: Vec<Seen>) -> Vec<String> {
        let mut wrong = Vec::new();
        for event in seen {
            match event {
                Seen::Confirmed { account, codes } => {
                    self.confirmed += 1;
                    self.accounts[account].state = State::TwoFactor {
                        unused: codes,
                        used: Vec::new(),
                    };
                }
                Seen::ConfirmCutOff { account } => {
                    self.confirm_cut_off += 1;
                    let user_id = Self::user_id(db, &self.accounts[account].email);
                    let on = db.count(&format!(
                        "SELECT COUNT(*) FROM users WHERE id = {user_id} AND totp_secret IS NOT NULL"
                    ));
                    if on == 1 {
                        self.accounts[account].state = State::Unseen;
                    }
                }
                Seen::CodeUsed {
                    account,
                    code,
                    admitted,
                } => {
                    self.codes_used += 1;
                    if admitted > 1 {
                        wrong.push(format!("{code} let {admitted} browsers in"));
                    }
                    self.spend(account, &code);
                }
                Seen::CodeCutOff {
                    account,
                    code,
                    refused,
                } => {
                    self.codes_cut_off += 1;
                    let user_id = Self::user_id(db, &self.accounts[account].email);
                    if self.code_rows(db, user_id, &code, true) == 1 {
                        self.spend(account, &code);
                    } else if refused > 0 {
                        wrong.push(format!(
                            "{code}: a browser was told the code did not work, yet it is unused"
                        ));
                    }
                }
                Seen::InvitationAccepted {
                    invitation,
                    admitted,
                } => {
                    self.invitations_accepted += 1;
                    if admitted > 1 {
                        wrong.push(format!(
                            "{}: one link let {admitted} browsers join",
                            self.invitations[invitation].email
                        ));
                    }
                    self.invitations[invitation].accepted = true;
                }
                Seen::InvitationCutOff {
                    invitation,
                    refused,
                } => {
                    self.invitations_cut_off += 1;
                    let email = &self.invitations[invitation].email;
                    let joined = Self::joined(db, email);
                    if joined.complete() {
                        self.invitations_found_accepted += 1;
                        self.invitations[invitation].accepted = true;
                    } else if refused > 0 {
                        wrong.push(format!(
                            "{email}: a browser was told the link was used, yet nobody joined"
                        ));
                    }
                    // Otherwise the link is still open: a later round accepts it.
                }
                Seen::PasswordChanged { holder, to } => {
                    self.password_changes += 1;
                    self.keyholders[holder].password = to;
                    self.keyholders[holder].changes += 1;
                }
                Seen::PasswordChangeCutOff { holder, to } => {
                    self.password_changes_cut_off += 1;
                    let keyholder = &mut self.keyholders[holder];
                    if holds(db, &keyholder.email, &to) {
                        keyholder.password = to;
                        keyholder.changes += 1;
                    }
                }
                Seen::PasswordReset {
                    holder,
                    to,
                    admitted,
                } => {
                    self.resets += 1;
                    if admitted > 1 {
                        wrong.push(format!(
                            "{}: one reset link set {admitted} passwords",
                            self.keyholders[holder].email
                        ));
                    }
                    self.keyholders[holder].password = to;
                    self.keyholders[holder].changes += 1;
                }
                Seen::PasswordResetCutOff {
                    holder,
                    link,
                    candidates,
                    refused,
                } => {
                    self.resets_cut_off += 1;
                    let keyholder = &mut self.keyholders[holder];
                    let set = candidates
                        .into_iter()
                        .find(|p| holds(db, &keyholder.email, p));
                    let used = db.count(&format!(
                        "SELECT COUNT(*) FROM password_resets WHERE token_hash = '{}' \
                         AND used_at IS NOT NULL",
                        sha256_hex(link.rsplit('/').next().expect("token"))
                    ));
                    match set {
                        Some(password) => {
                            keyholder.password = password;
                            keyholder.changes += 1;
                            if used != 1 {
                                wrong.push(format!(
                                    "{}: a new password from a link that is not used",
                                    keyholder.email
                                ));
                            }
                        }
                        None if used == 1 => wrong.push(format!(
                            "{}: a used reset link, and the old password",
                            keyholder.email
                        )),
                        None if refused > 0 => wrong.push(format!(
                            "{}: a browser was told the link was used, yet it is not",
                            keyholder.email
                        )),
                        None => {}
                    }
                }
                Seen::Wrong(what) => wrong.push(what),
            }
        }
        // Every password is whole: the one the clients know is the one stored, and each
        // change or reset moved the epoch (ending every older session) and left its event.
        for keyholder in &self.keyholders {
            let email = &keyholder.email;
            if !holds(db, email, &keyholder.password) {
                wrong.push(format!("{email}: the stored password is not the one set"));
            }
            let epoch = db.count(&format!(
                "SELECT session_epoch FROM users WHERE email = '{email}'"
            ));
            let events = db.count(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE event IN ('password_changed', \
                 'password_reset') AND subject_id = (SELECT id FROM users WHERE email = '{email}')"
            ));
            if epoch != keyholder.changes || events != keyholder.changes {
                wrong.push(format!(
                    "{email}: {} changes, but the epoch is {epoch} and {events} events",
                    keyholder.changes
                ));
            }
        }
        // Every invitation is fully accepted or not at all, as the clients saw it.
        for invitation in &self.invitations {
            let joined = Self::joined(db, &invitation.email);
            let consistent = if invitation.accepted {
                joined.complete()
            } else {
                joined.untouched()
            };
            if !consistent {
                wrong.push(format!(
                    "{}: accepted {}, but {} people ({} in the organization), link used {}, \
                     {} events",
                    invitation.email,
                    invitation.accepted,
                    joined.users,
                    joined.members,
                    joined.link_used,
                    joined.events
                ));
            }
        }
        // The counts the people table reads match the people, whatever the kill interrupted.
        let miscounted = db.count(
            "SELECT COUNT(*) FROM organizations o WHERE \
             o.people_count <> (SELECT COUNT(*) FROM users u \
                 WHERE u.organization_id = o.id AND u.deactivated_at IS NULL) \
             OR o.two_factor_count <> (SELECT COUNT(*) FROM users u \
                 WHERE u.organization_id = o.id AND u.deactivated_at IS NULL \
                 AND u.totp_secret IS NOT NULL)",
        );
        if miscounted != 0 {
            wrong.push(format!("{miscounted} organizations miscount their people"));
        }
        // No account half enabled: 2FA on with exactly five codes, or off with none.
        let half = db.count(
            "SELECT COUNT(*) FROM users u WHERE \
             (u.totp_secret IS NULL AND (SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = u.id) <> 0) \
             OR (u.totp_secret IS NOT NULL AND (SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = u.id) <> 5)",
        );
        if half != 0 {
            wrong.push(format!("{half} accounts are half enabled"));
        }
        for account in &self.accounts {
            let user_id = Self::user_id(db, &account.email);
            let events = |event: &str| {
                db.count(&format!(
                    "SELECT COUNT(*) FROM audit_events WHERE subject_id = {user_id} AND event = '{event}'"
                ))
            };
            let (two_factor, spent): (i64, Option<i64>) = match &account.state {
                State::Plain => (0, Some(0)),
                State::Unseen => (1, None),
                State::TwoFactor { unused, used } => {
                    for code in unused {
                        if self.code_rows(db, user_id, code, false) != 1 {
                            wrong.push(format!("{}: unused code {code} is gone", account.email));
                        }
                    }
                    for code in used {
                        if self.code_rows(db, user_id, code, true) != 1 {
                            wrong.push(format!("{}: used code {code} is not", account.email));
                        }
                    }
                    (1, Some(used.len() as i64))
                }
            };
            let on = db.count(&format!(
                "SELECT COUNT(*) FROM users WHERE id = {user_id} AND totp_secret IS NOT NULL"
            ));
            if on != two_factor || events("two_factor_enabled") != two_factor {
                wrong.push(format!(
                    "{}: 2FA is {on}, expected {two_factor}",
                    account.email
                ));
            }
            if let Some(spent) = spent
                && events("recovery_code_used") != spent
            {
                wrong.push(format!(
                    "{}: {spent} codes used, {} recorded",
                    account.email,
                    events("recovery_code_used")
                ));
            }
        }
        wrong
    }

    fn spend(&mut self, account: usize, code: &str) {
        if let State::TwoFactor { unused, used } = &mut self.accounts[account].state {
            unused.retain(|c| c != code);
            used.push(code.to_owned());
        }
    }
}

/// Whether the person's stored password is `password`.
fn holds(db: &Db, email: &str, password: &str) -> bool {
    let hash = db.text(&format!(
        "SELECT password_hash FROM users WHERE email = '{email}'"
    ));
    bcrypt::verify(password, &hash).expect("a bcrypt hash")
}

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// An answer that is a 5xx or not the expected status, as a violation.
fn unexpected(what: &str, res: &crate::helpers::Response) -> Seen {
    Seen::Wrong(format!(
        "{what}: {} {}",
        res.status,
        location(res).unwrap_or_default()
    ))
}

/// Turns 2FA on for a person without it: sign in, start the setup, read the key, confirm.
async fn confirm_two_factor(address: &str, account: usize, email: &str) -> Option<Seen> {
    let b = Browser::new(address);
    let step = |o: Outcome| o.ok();
    step(b.get("/login").await)?;
    let res = step(
        b.submit("/login", &[("email", email), ("password", PASSWORD)])
            .await,
    )?;
    if location(&res).as_deref() != Some("/") {
        return Some(unexpected("password sign-in", &res));
    }
    step(b.get("/settings/security").await)?;
    step(b.submit("/settings/security/two-factor/setup", &[]).await)?;
    let page = step(b.get("/settings/security/two-factor/setup").await)?;
    let Some(mut device) = Device::from_setup_page(&page) else {
        return Some(unexpected("setup page", &page));
    };
    step(b.get("/settings/security/two-factor/confirm").await)?;
    let (code, _) = device.code()?;
    match b
        .submit(
            "/settings/security/two-factor/confirm",
            &[("password", PASSWORD), ("code", &code)],
        )
        .await
    {
        Err(_) => Some(Seen::ConfirmCutOff { account }),
        Ok(res) if res.status.as_u16() == 200 && res.body.contains("id=\"recovery-codes\"") => {
            Some(Seen::Confirmed {
                account,
                codes: res.recovery_codes(),
            })
        }
        Ok(res) => Some(unexpected("confirmation", &res)),
    }
}

/// Two browsers reach the two-factor step and race with one recovery code.
async fn race_with_a_code(address: &str, account: usize, email: &str, code: &str) -> Option<Seen> {
    let browsers = [Browser::new(address), Browser::new(address)];
    for b in &browsers {
        b.get("/login").await.ok()?;
        let res = b
            .submit("/login", &[("email", email), ("password", PASSWORD)])
            .await
            .ok()?;
        if location(&res).as_deref() != Some("/login/two-factor") {
            return Some(unexpected("password before the code", &res));
        }
        b.get("/login/two-factor").await.ok()?;
    }
    let fields = [("code", code)];
    let (a, b) = join(
        browsers[0].submit("/login/two-factor", &fields),
        browsers[1].submit("/login/two-factor", &fields),
    )
    .await;
    let mut admitted = 0;
    let mut refused = 0;
    for outcome in [&a, &b] {
        match outcome {
            Ok(res) if location(res).as_deref() == Some("/") => admitted += 1,
            Ok(res) if res.status.as_u16() == 401 => refused += 1,
            Ok(res) => return Some(unexpected("recovery code", res)),
            Err(_) => {}
        }
    }
    Some(match (admitted, refused) {
        (0, 2) => Seen::Wrong(format!("{email}: unused code {code} refused twice")),
        (0, refused) => Seen::CodeCutOff {
            account,
            code: code.to_owned(),
            refused,
        },
        _ => Seen::CodeUsed {
            account,
            code: code.to_owned(),
            admitted,
        },
    })
}

/// Races with each of a person's unused codes in turn, until one is cut off by the kill.
async fn race_with_codes(
    address: &str,
    account: usize,
    email: &str,
    codes: &[String],
) -> Vec<Seen> {
    let mut seen = Vec::new();
    for code in codes {
        match race_with_a_code(address, account, email, code).await {
            Some(event @ Seen::CodeUsed { .. }) => seen.push(event),
            Some(event) => {
                seen.push(event);
                break;
            }
            None => break,
        }
    }
    seen
}

/// Two browsers open one invitation link and join with it at once, as one person might from
/// two devices: at most one may be let in.
async fn race_to_accept(address: &str, invitation: usize, link: &str) -> Option<Seen> {
    let browsers = [Browser::new(address), Browser::new(address)];
    for b in &browsers {
        let page = b.get(link).await.ok()?;
        if page.status.as_u16() != 200 {
            return Some(unexpected("invitation page", &page));
        }
    }
    let fields = [("name", "Invited Person"), ("password", PASSWORD)];
    let (a, b) = join(
        browsers[0].submit(link, &fields),
        browsers[1].submit(link, &fields),
    )
    .await;
    let mut admitted = 0;
    let mut refused = 0;
    for outcome in [&a, &b] {
        match outcome {
            Ok(res) if location(res).as_deref() == Some("/login") => admitted += 1,
            // The link is used (410), or the person it made already has the email (422).
            Ok(res) if matches!(res.status.as_u16(), 410 | 422) => refused += 1,
            Ok(res) => return Some(unexpected("accepting an invitation", res)),
            Err(_) => {}
        }
    }
    Some(match (admitted, refused) {
        (0, 2) => Seen::Wrong(format!("open invitation {link} refused twice")),
        (0, _) => Seen::InvitationCutOff {
            invitation,
            refused,
        },
        _ => Seen::InvitationAccepted {
            invitation,
            admitted,
        },
    })
}

/// Accepts invitations one after another (each raced by two browsers), until one is cut off
/// by the kill: so that acceptances are under way whenever the kill lands.
async fn accept_in_turn(address: &str, invitations: &[(usize, String)]) -> Vec<Seen> {
    let mut seen = Vec::new();
    for (invitation, link) in invitations {
        match race_to_accept(address, *invitation, link).await {
            Some(event @ Seen::InvitationAccepted { .. }) => seen.push(event),
            Some(event) => {
                seen.push(event);
                break;
            }
            None => break,
        }
    }
    seen
}

/// Signs in twice and changes the password in one browser, again and again, until the kill
/// cuts a change off; after each answered change the other browser must be signed out.
async fn change_passwords(
    address: &str,
    holder: usize,
    email: &str,
    current: &str,
    round: usize,
) -> Vec<Seen> {
    let mut seen = Vec::new();
    let (here, there) = (Browser::new(address), Browser::new(address));
    let mut current = current.to_owned();
    for b in [&here, &there] {
        if b.get("/login").await.is_err() {
            return seen;
        }
        match b
            .submit("/login", &[("email", email), ("password", &current)])
            .await
        {
            Err(_) => return seen,
            Ok(res) if location(&res).as_deref() == Some("/") => {}
            Ok(res) => {
                seen.push(unexpected("sign-in before a password change", &res));
                return seen;
            }
        }
    }
    for change in 0..50 {
        let to = format!("changed passphrase {round}-{change}");
        if here.get("/settings/security/password").await.is_err() {
            return seen;
        }
        match here
            .submit(
                "/settings/security/password",
                &[("current_password", &current), ("new_password", &to)],
            )
            .await
        {
            Err(_) => {
                seen.push(Seen::PasswordChangeCutOff { holder, to });
                return seen;
            }
            Ok(res) if location(&res).as_deref() == Some("/settings/security/password") => {
                seen.push(Seen::PasswordChanged {
                    holder,
                    to: to.clone(),
                });
                current = to;
            }
            Ok(res) => {
                seen.push(unexpected("password change", &res));
                return seen;
            }
        }
        match there.get("/").await {
            Err(_) => return seen,
            Ok(res) if res.status.as_u16() == 303 => {}
            Ok(res) => {
                seen.push(unexpected("the other session after a change", &res));
                return seen;
            }
        }
    }
    seen
}

/// Two browsers open one reset link and set different passwords with it at once: one may.
async fn race_to_reset(address: &str, holder: usize, link: &str, round: usize) -> Option<Seen> {
    let browsers = [Browser::new(address), Browser::new(address)];
    for b in &browsers {
        let page = b.get(link).await.ok()?;
        if page.status.as_u16() != 200 {
            return Some(unexpected("reset link page", &page));
        }
    }
    let candidates = [
        format!("reset passphrase {round} first"),
        format!("reset passphrase {round} second"),
    ];
    let (a, b) = join(
        browsers[0].submit(link, &[("new_password", &candidates[0])]),
        browsers[1].submit(link, &[("new_password", &candidates[1])]),
    )
    .await;
    let mut admitted = Vec::new();
    let mut refused = 0;
    for (outcome, candidate) in [&a, &b].into_iter().zip(&candidates) {
        match outcome {
            Ok(res) if location(res).as_deref() == Some("/login") => admitted.push(candidate),
            Ok(res) if res.status.as_u16() == 410 => refused += 1,
            Ok(res) => return Some(unexpected("using a reset link", res)),
            Err(_) => {}
        }
    }
    Some(match (admitted.len(), refused) {
        (0, 2) => Seen::Wrong(format!("unused reset link {link} refused twice")),
        (0, _) => Seen::PasswordResetCutOff {
            holder,
            link: link.to_owned(),
            candidates: candidates.to_vec(),
            refused,
        },
        (n, _) => Seen::PasswordReset {
            holder,
            to: admitted[0].clone(),
            admitted: n,
        },
    })
}

/// Someone browsing: signs in and opens pages until the server goes away.
async fn browse(address: &str, email: &str) -> Vec<Seen> {
    let b = Browser::new(address);
    let mut seen = Vec::new();
    if b.get("/login").await.is_err() {
        return seen;
    }
    let Ok(res) = b
        .submit("/login", &[("email", email), ("password", PASSWORD)])
        .await
    else {
        return seen;
    };
    if location(&res).as_deref() != Some("/") {
        seen.push(unexpected("browsing sign-in", &res));
        return seen;
    }
    for path in ["/", "/settings/security", "/settings/owner"]
        .iter()
        .cycle()
        .take(300)
    {
        match b.get(path).await {
            Err(_) => break,
            Ok(res) if res.status.as_u16() != 200 => {
                seen.push(unexpected(path, &res));
                break;
            }
            Ok(_) => {}
        }
    }
    seen
}

/// `PRAGMA integrity_check` of the SQLite file, with no server running.
fn integrity_check(deployment: &Deployment) -> String {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let conn = &mut twofold::db::DbPool::build(&deployment.config.database_url, 1)
        .and_then(|pool| Ok(pool.get()?))
        .expect("database");
    let rows: Vec<Row> =
        twofold::db_run!(conn => diesel::sql_query("PRAGMA integrity_check").load(conn))
            .expect("integrity check");
    rows.into_iter()
        .map(|r| r.integrity_check)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Runs `rounds` rounds of traffic, each ended by a SIGKILL at a random moment, and checks the
/// database after each restart.
async fn kill_rounds(rounds: usize) {
    let deployment = Deployment::new();
    let mut ledger = Ledger {
        accounts: Vec::new(),
        invitations: Vec::new(),
        keys: Keys::derive(&deployment.config.secret_key),
        keyholders: Vec::new(),
        confirmed: 0,
        confirm_cut_off: 0,
        codes_used: 0,
        codes_cut_off: 0,
        races: 0,
        invitations_accepted: 0,
        invitations_cut_off: 0,
        invitations_found_accepted: 0,
        invitation_races: 0,
        password_changes: 0,
        password_changes_cut_off: 0,
        resets: 0,
        resets_cut_off: 0,
    };
    let mut rng = rand::rng();
    let mut seen = Vec::new();
    let viewer = "viewer@example.com";
    for round in 0..rounds {
        let mut server = deployment.start(&[]);
        let app = &server.app;
        let db = Db::open(&deployment);
        let wrong = ledger.reconcile(&db, std::mem::take(&mut seen));
        assert!(wrong.is_empty(), "after kill {round}: {wrong:#?}");
        // The racing losers count as failed attempts: clear the limits so that every round's
        // traffic reaches its handlers (the limits are not what is under test here).
        db.execute("DELETE FROM attempt_counters");
        drop(db);
        if round == 0 {
            app.signup("Viewers", "Vera", viewer).await;
            app.signup("Inviters", "Ines", INVITER).await;
            for (i, resets_by_link) in [false, false, true, true].into_iter().enumerate() {
                let email = format!("keyholder{i}@example.com");
                app.signup("Keyholders", "Kim", &email).await;
                ledger.keyholders.push(Keyholder {
                    email,
                    password: PASSWORD.to_owned(),
                    changes: 0,
                    resets_by_link,
                });
            }
        }
        // A fresh reset link for each person who resets by link (it retires their older
        // ones), read from the outbox.
        let mut reset_links = Vec::new();
        for (i, keyholder) in ledger.keyholders.iter().enumerate() {
            if !keyholder.resets_by_link {
                continue;
            }
            let asked = app.emails_to(&keyholder.email).len();
            let someone = app.client();
            someone.get("/password/forgot").await.assert_status(200);
            someone
                .submit("/password/forgot", &[("email", &keyholder.email)])
                .await
                .assert_status(200);
            let mut link = None;
            for _ in 0..200 {
                let emails = app.emails_to(&keyholder.email);
                if emails.len() > asked
                    && let Some(email) = emails
                        .iter()
                        .skip(asked)
                        .find(|e| e.subject == "Choose a new password")
                {
                    link = Some(email.link("/password/reset/"));
                    break;
                }
                actix_rt::time::sleep(Duration::from_millis(25)).await;
            }
            reset_links.push((i, link.expect("the reset link is emailed")));
        }
        // Open invitations for the acceptance flows, sent by the owner before the traffic
        // (the links are read from the emails in the outbox).
        let owner = app.client();
        owner.sign_in(INVITER, PASSWORD).await.assert_redirect("/");
        while ledger.invitations.iter().filter(|i| !i.accepted).count() < 24 {
            let email = format!("invitee{}@example.com", ledger.invitations.len());
            let link = app.invite(&owner, "Invited Person", &email, "member").await;
            ledger.invitations.push(Invitation {
                email,
                link,
                accepted: false,
            });
        }
        // People without 2FA for the confirmation flows.
        while ledger
            .accounts
            .iter()
            .filter(|a| matches!(a.state, State::Plain))
            .count()
            < 4
        {
            let email = format!("person{}@example.com", ledger.accounts.len());
            app.signup("Acme", "Pat", &email).await;
            ledger.accounts.push(Account {
                email,
                state: State::Plain,
                busy: false,
            });
        }
        for account in &mut ledger.accounts {
            account.busy = false;
        }
        let address = app.address.clone();
        let plain: Vec<(usize, String)> = ledger
            .accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| matches!(a.state, State::Plain))
            .map(|(i, a)| (i, a.email.clone()))
            .collect();
        let with_codes: Vec<(usize, String, Vec<String>)> = ledger
            .accounts
            .iter()
            .enumerate()
            .filter_map(|(i, a)| match &a.state {
                State::TwoFactor { unused, .. } if !unused.is_empty() => {
                    Some((i, a.email.clone(), unused.clone()))
                }
                _ => None,
            })
            .collect();

        let confirmations = join_all(
            plain
                .iter()
                .map(|(i, email)| confirm_two_factor(&address, *i, email)),
        );
        let races = join_all(
            with_codes
                .iter()
                .map(|(i, email, codes)| race_with_codes(&address, *i, email, codes)),
        );
        let open: Vec<(usize, String)> = ledger
            .invitations
            .iter()
            .enumerate()
            .filter(|(_, i)| !i.accepted)
            .map(|(i, invitation)| (i, invitation.link.clone()))
            .collect();
        // Two invitees' chains of acceptances, side by side.
        let acceptances = join_all(open.chunks(12).map(|chain| accept_in_turn(&address, chain)));
        // Two browse as the viewer, and one as someone who joined by invitation, if anyone has.
        let joined = ledger
            .invitations
            .iter()
            .rev()
            .find(|i| i.accepted)
            .map_or(viewer, |i| i.email.as_str());
        let browsing = join_all(
            [viewer, viewer, joined]
                .into_iter()
                .map(|email| browse(&address, email)),
        );
        let changes = join_all(
            ledger
                .keyholders
                .iter()
                .enumerate()
                .filter(|(_, k)| !k.resets_by_link)
                .map(|(i, k)| change_passwords(&address, i, &k.email, &k.password, round)),
        );
        let resets = join_all(
            reset_links
                .iter()
                .map(|(i, link)| race_to_reset(&address, *i, link, round)),
        );
        let kill_after = Duration::from_millis(rng.random_range(20..800));
        let traffic = join(
            join(join(join(confirmations, races), acceptances), browsing),
            join(changes, resets),
        );
        let kill = async {
            actix_rt::time::sleep(kill_after).await;
        };
        // The kill lands whenever its moment comes, finished traffic or not; traffic still
        // running then sees its connections fail and stops.
        let ((((confirmed, raced), accepted), browsed), (changed, reset)) = {
            let traffic = std::pin::pin!(traffic);
            let kill = std::pin::pin!(kill);
            match futures_util::future::select(traffic, kill).await {
                futures_util::future::Either::Left((done, _)) => {
                    server.kill();
                    done
                }
                futures_util::future::Either::Right(((), traffic)) => {
                    server.kill();
                    traffic.await
                }
            }
        };
        seen.extend(confirmed.into_iter().flatten());
        let raced: Vec<Seen> = raced.into_iter().flatten().collect();
        ledger.races += raced
            .iter()
            .filter(|s| matches!(s, Seen::CodeUsed { .. } | Seen::CodeCutOff { .. }))
            .count() as u64;
        seen.extend(raced);
        let accepted: Vec<Seen> = accepted.into_iter().flatten().collect();
        ledger.invitation_races += accepted
            .iter()
            .filter(|s| {
                matches!(
                    s,
                    Seen::InvitationAccepted { .. } | Seen::InvitationCutOff { .. }
                )
            })
            .count() as u64;
        seen.extend(accepted);
        seen.extend(browsed.into_iter().flatten());
        seen.extend(changed.into_iter().flatten());
        seen.extend(reset.into_iter().flatten());
        if deployment.is_sqlite() {
            assert_eq!(
                integrity_check(&deployment),
                "ok",
                "after kill {}",
                round + 1
            );
        }
    }
    let server = deployment.start(&[]);
    // The server starts on what the last kill left, and answers.
    server.app.client().get("/healthz").await.assert_status(200);
    let wrong = ledger.reconcile(&Db::open(&deployment), std::mem::take(&mut seen));
    assert!(wrong.is_empty(), "after the last kill: {wrong:#?}");
    // The kills must have landed inside flows, or this test showed nothing about them.
    let cut_offs = ledger.confirm_cut_off
        + ledger.codes_cut_off
        + ledger.invitations_cut_off
        + ledger.password_changes_cut_off
        + ledger.resets_cut_off;
    assert!(
        cut_offs > 0,
        "none of the {rounds} kills cut a flow off: they all landed between requests"
    );
    println!(
        "crash safety: {} requests sent, {rounds} SIGKILLs; {} confirmations answered, {} cut off; \
         {} recovery codes raced by two browsers: {} answered, {} cut off; double spends 0; \
         {} invitations raced by two browsers: {} accepted, {} cut off ({} of them found \
         accepted); double joins 0; {} password changes answered, {} cut off; {} reset links \
         raced by two browsers: {} answered, {} cut off; half-changed passwords 0; \
         half-enabled accounts 0; half-accepted invitations 0; integrity_check {}; errors: 0",
        crate::server_process::requests_sent(),
        ledger.confirmed,
        ledger.confirm_cut_off,
        ledger.races,
        ledger.codes_used,
        ledger.codes_cut_off,
        ledger.invitation_races,
        ledger.invitations_accepted,
        ledger.invitations_cut_off,
        ledger.invitations_found_accepted,
        ledger.password_changes,
        ledger.password_changes_cut_off,
        ledger.resets + ledger.resets_cut_off,
        ledger.resets,
        ledger.resets_cut_off,
        if deployment.is_sqlite() {
            "ok"
        } else {
            "n/a (PostgreSQL)"
        },
    );
}

#[actix_rt::test]
async fn a_server_killed_mid_flow_loses_nothing_and_spends_no_code_twice() {
    kill_rounds(3).await;
}

#[actix_rt::test]
#[ignore = "long (about two minutes): run by .ci/reliability"]
async fn a_server_killed_forty_times_under_traffic_loses_nothing() {
    let rounds = std::env::var("TWOFOLD_KILL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    kill_rounds(rounds).await;
}
