//! A small WebDriver client for headless Chromium: Debian's `chromedriver`, started on a free
//! port for each browser, driven over its W3C HTTP API with `awc`, plus the few Chrome
//! DevTools commands that WebDriver lacks (viewport size, clipboard permission, downloads),
//! which chromedriver forwards through `goog/cdp/execute`.
//!
//! Each [`Browser`] is one chromedriver process, one Chromium with a fresh profile and one
//! WebDriver session; dropping it ends the session and stops chromedriver, even when the test
//! panicked.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// Where Debian's packages put the browser and its driver; `CHROMIUM` and `CHROMEDRIVER`
/// override them.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The W3C name of the key under which an element reference travels.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The desktop width the suite browses at; [`Browser::set_width`] changes it.
pub const DESKTOP: u32 = 1280;
/// A small phone's width.
pub const PHONE: u32 = 375;
/// The viewport's height while browsing (screenshots take the whole page).
const VIEWPORT_HEIGHT: u32 = 800;

/// How long finding an element waits for it to appear (WebDriver's implicit wait).
const IMPLICIT_WAIT_MS: u64 = 2000;
/// How often and how many times to poll for something the page is about to do.
const POLL: Duration = Duration::from_millis(100);
const POLL_ATTEMPTS: u32 = 150;

/// WebDriver key codes.
pub mod keys {
    pub const TAB: &str = "\u{E004}";
    pub const ENTER: &str = "\u{E007}";
    pub const SHIFT: &str = "\u{E008}";
}

/// A headless Chromium driven over WebDriver.
pub struct Browser {
    http: awc::Client,
    /// `http://127.0.0.1:{port}/session/{id}`.
    session: String,
    session_id: String,
    port: u16,
    chromedriver: Child,
    width: std::cell::Cell<u32>,
    /// The profile, the downloads folder and chromedriver's log.
    dir: tempfile::TempDir,
}

/// An element of the current page.
#[derive(Clone, Debug)]
pub struct Element(String);

fn executable(var: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.exists(),
        "{} not found: the test set-up (.ci/test) installs Debian's chromium and \
         chromium-driver; set {var} to use another one",
        path.display()
    );
    path
}

/// Reads chromedriver's standard output for the port it chose ("ChromeDriver was started
/// successfully on port 41497."), waiting at most a minute, then keeps draining it.
fn reported_port(chromedriver: &mut Child) -> u16 {
    let stdout = chromedriver.stdout.take().expect("chromedriver's output");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split("started successfully on port ").nth(1) {
                let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let _ = tx.send(port.parse::<u16>().ok());
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(Some(port)) => port,
        other => {
            let _ = chromedriver.kill();
            panic!("chromedriver did not report its port: {other:?}")
        }
    }
}

impl Browser {
    /// Starts chromedriver and a new headless Chromium with an empty profile, at desktop width.
    pub async fn launch() -> Self {
        let chromium = executable("CHROMIUM", CHROMIUM);
        let chromedriver_path = executable("CHROMEDRIVER", CHROMEDRIVER);
        let dir = tempfile::tempdir().expect("temp dir");
        // chromedriver picks a free port itself and says which: no port is chosen here and
        // then lost to another process before chromedriver binds it.
        let mut chromedriver = Command::new(chromedriver_path)
            .arg("--port=0")
            .arg(format!(
                "--log-path={}",
                dir.path().join("chromedriver.log").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let port = reported_port(&mut chromedriver);
        let http = awc::Client::builder()
            .timeout(Duration::from_secs(120))
            .finish();
        let mut browser = Self {
            http,
            session: String::new(),
            session_id: String::new(),
            port,
            chromedriver,
            width: std::cell::Cell::new(DESKTOP),
            dir,
        };
        browser.wait_until_ready().await;

        let profile = browser.dir.path().join("profile");
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "pageLoadStrategy": "normal",
                "goog:loggingPrefs": { "browser": "ALL" },
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": [
                        "--headless=new",
                        // Root in a container has no user namespaces for the sandbox.
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-dev-shm-usage",
                        // Nothing outside this machine is reachable: no background fetches.
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--disable-quic",
                        "--no-first-run",
                        "--hide-scrollbars",
                        "--force-color-profile=srgb",
                        "--font-render-hinting=none",
                        format!("--user-data-dir={}", profile.display()),
                        "--window-size=1280,800",
                    ],
                },
            }}
        });
        let answer = browser
            .command("POST", &format!("{}/session", browser.root()), capabilities)
            .await;
        browser.session_id = answer["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"))
            .to_owned();
        browser.session = format!("{}/session/{}", browser.root(), browser.session_id);
        // Finding an element waits a little for the page that is loading.
        browser
            .post(
                "/timeouts",
                json!({ "implicit": IMPLICIT_WAIT_MS, "script": 60000 }),
            )
            .await;
        browser.set_width(DESKTOP).await;
        let downloads = browser.downloads_dir();
        std::fs::create_dir_all(&downloads).expect("downloads folder");
        browser
            .cdp(
                "Browser.setDownloadBehavior",
                json!({ "behavior": "allow", "downloadPath": downloads }),
            )
            .await;
        browser
    }

    fn root(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn wait_until_ready(&mut self) {
        for _ in 0..POLL_ATTEMPTS {
            if let Some(status) = self.chromedriver.try_wait().expect("chromedriver state") {
                panic!("chromedriver exited: {status}");
            }
            let ready = match self
                .http
                .get(format!("{}/status", self.root()))
                .send()
                .await
            {
                Ok(mut res) => res
                    .json::<Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == json!(true)),
                Err(_) => false,
            };
            if ready {
                return;
            }
            actix_rt::time::sleep(POLL).await;
        }
        panic!("chromedriver did not get ready");
    }

    /// Sends one WebDriver command and returns its `value`, panicking with the driver's
    /// message on an error.
    async fn command(&self, method: &str, url: &str, body: Value) -> Value {
        let value = self.try_command(method, url, body).await;
        match value {
            Ok(value) => value,
            Err(error) => panic!("WebDriver {method} {url}: {error}"),
        }
    }

    async fn try_command(&self, method: &str, url: &str, body: Value) -> Result<Value, Value> {
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url),
        };
        let mut res = if method == "POST" {
            request.send_json(&body).await
        } else {
            request.send().await
        }
        .unwrap_or_else(|e| panic!("chromedriver answers {method} {url}: {e}"));
        let bytes = res
            .body()
            .limit(256 * 1024 * 1024)
            .await
            .expect("chromedriver's answer");
        let answer: Value = serde_json::from_slice(&bytes).expect("JSON from chromedriver");
        let value = answer.get("value").cloned().unwrap_or(Value::Null);
        if res.status().is_success() {
            Ok(value)
        } else {
            Err(json!({ "error": value["error"], "message": value["message"] }))
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command("POST", &format!("{}{path}", self.session), body)
            .await
    }

    async fn get(&self, path: &str) -> Value {
        self.command("GET", &format!("{}{path}", self.session), Value::Null)
            .await
    }

    /// Runs a Chrome DevTools Protocol command on the page.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.post("/goog/cdp/execute", json!({ "cmd": cmd, "params": params }))
            .await
    }

    /// Opens a URL and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.get("/url")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The current URL's path.
    pub async fn path(&self) -> String {
        let url = self.url().await;
        let after_scheme = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
        after_scheme
            .find('/')
            .map_or_else(|| "/".to_owned(), |at| after_scheme[at..].to_owned())
    }

    /// Waits until the browser has arrived at `path` and the page has loaded.
    #[track_caller]
    pub fn wait_for_path<'a>(
        &'a self,
        path: &'a str,
    ) -> impl std::future::Future<Output = ()> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let mut last = String::new();
            for _ in 0..POLL_ATTEMPTS {
                last = self.path().await;
                if last == path
                    && self.execute("return document.readyState", json!([])).await
                        == json!("complete")
                {
                    return;
                }
                actix_rt::time::sleep(POLL).await;
            }
            panic!("{caller}: expected to arrive at {path}, still at {last}");
        }
    }

    /// Waits until an element matching `css` is on the page (up to ten implicit waits), and
    /// returns it.
    #[track_caller]
    pub fn wait_for<'a>(&'a self, css: &'a str) -> impl std::future::Future<Output = Element> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            for _ in 0..10 {
                if let Some(element) = self.try_find(css).await {
                    return element;
                }
                actix_rt::time::sleep(POLL).await;
            }
            panic!("{caller}: nothing matches {css:?} on {}", self.path().await);
        }
    }

    /// Waits until the first element matching `css` reads `text` (the page may still be the
    /// previous one, at the same address, when a form was just sent).
    #[track_caller]
    pub fn wait_for_text<'a>(
        &'a self,
        css: &'a str,
        text: &'a str,
    ) -> impl std::future::Future<Output = ()> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let mut last = String::new();
            for _ in 0..POLL_ATTEMPTS {
                // The element may belong to a page being replaced (a stale element): then the
                // next round finds the new page's.
                if let Some(element) = self.try_find(css).await
                    && let Some(read) = self.try_text_of(&element).await
                {
                    last = read;
                    if last == text {
                        return;
                    }
                }
                actix_rt::time::sleep(POLL).await;
            }
            panic!("{caller}: {css} reads {last:?}, not {text:?}");
        }
    }

    /// Runs a script in the page: `arguments` holds `args`.
    pub async fn execute(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    /// Runs a script that reports its result by calling its last argument.
    pub async fn execute_async(&self, script: &str, args: Value) -> Value {
        self.post("/execute/async", json!({ "script": script, "args": args }))
            .await
    }

    /// The first element matching a CSS selector (waiting briefly for it).
    pub async fn find(&self, css: &str) -> Element {
        match self.try_find(css).await {
            Some(element) => element,
            None => panic!("no element matches {css:?} on {}", self.path().await),
        }
    }

    /// The first element matching a CSS selector, if any.
    pub async fn try_find(&self, css: &str) -> Option<Element> {
        self.find_by("css selector", css).await
    }

    async fn find_by(&self, using: &str, value: &str) -> Option<Element> {
        let url = format!("{}/element", self.session);
        let found = self
            .try_command("POST", &url, json!({ "using": using, "value": value }))
            .await
            .ok()?;
        Some(Element(found[ELEMENT].as_str()?.to_owned()))
    }

    /// Every element matching a CSS selector.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let found = self
            .post(
                "/elements",
                json!({ "using": "css selector", "value": css }),
            )
            .await;
        found
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|e| e[ELEMENT].as_str())
                    .map(|id| Element(id.to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The visible button or link whose text is `text`, as a person finds it.
    pub async fn button_or_link(&self, text: &str) -> Element {
        assert!(!text.contains('\''), "no quotes in {text:?}");
        let xpath =
            format!("//*[self::button or self::a][normalize-space()='{text}'][not(@hidden)]");
        match self.find_by("xpath", &xpath).await {
            Some(element) => element,
            None => panic!("no button or link {text:?} on {}", self.path().await),
        }
    }

    /// The input labelled `label` (by its `<label for>`), inside `scope` (a CSS selector).
    pub async fn field(&self, scope: &str, label: &str) -> Element {
        let labels = self
            .execute(
                "var scope = document.querySelector(arguments[0]), text = arguments[1];
                 if (!scope) return [];
                 return Array.prototype.filter.call(scope.querySelectorAll('label'),
                     function (l) { return l.textContent.trim() === text; })
                   .map(function (l) { return l.control; })
                   .filter(function (c) { return c; });",
                json!([scope, label]),
            )
            .await;
        let labels = labels.as_array().cloned().unwrap_or_default();
        if labels.len() != 1 {
            panic!(
                "expected one field labelled {label:?} in {scope} on {}, found {}",
                self.path().await,
                labels.len()
            );
        }
        Element(
            labels[0][ELEMENT]
                .as_str()
                .expect("an element reference")
                .to_owned(),
        )
    }

    /// Types into the field labelled `label`, as a person does after clicking it.
    pub async fn fill_in(&self, label: &str, text: &str) {
        self.fill_in_within("main", label, text).await;
    }

    /// Types into the field labelled `label` inside `scope`.
    pub async fn fill_in_within(&self, scope: &str, label: &str, text: &str) {
        let field = self.field(scope, label).await;
        self.element_post(&field, "/clear", json!({})).await;
        self.element_post(&field, "/value", json!({ "text": text }))
            .await;
    }

    /// Clicks the button or link whose text is `text`.
    pub async fn click_on(&self, text: &str) {
        let target = self.button_or_link(text).await;
        self.click(&target).await;
    }

    /// Waits for the page's confirmation dialog (`window.confirm`), accepts or dismisses it,
    /// and returns what it asked.
    pub async fn answer_dialog(&self, accept: bool) -> String {
        let url = format!("{}/alert/text", self.session);
        for _ in 0..POLL_ATTEMPTS {
            if let Ok(text) = self.try_command("GET", &url, Value::Null).await {
                let answer = if accept {
                    "/alert/accept"
                } else {
                    "/alert/dismiss"
                };
                self.post(answer, json!({})).await;
                return text.as_str().unwrap_or_default().to_owned();
            }
            actix_rt::time::sleep(POLL).await;
        }
        panic!("the page asked nothing");
    }

    /// Clicks an element.
    pub async fn click(&self, element: &Element) {
        self.element_post(element, "/click", json!({})).await;
    }

    async fn element_post(&self, element: &Element, what: &str, body: Value) -> Value {
        self.post(&format!("/element/{}{what}", element.0), body)
            .await
    }

    /// An element's rendered text.
    pub async fn text_of(&self, element: &Element) -> String {
        self.get(&format!("/element/{}/text", element.0))
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// An element's rendered text, or `None` if the element is gone (its page was replaced).
    async fn try_text_of(&self, element: &Element) -> Option<String> {
        let url = format!("{}/element/{}/text", self.session, element.0);
        let value = self.try_command("GET", &url, Value::Null).await.ok()?;
        Some(value.as_str().unwrap_or_default().to_owned())
    }

    /// The rendered text of the first element matching `css`, found again if the page was
    /// being replaced when it was first found.
    pub async fn text(&self, css: &str) -> String {
        for _ in 0..POLL_ATTEMPTS {
            if let Some(text) = self.try_text_of(&self.find(css).await).await {
                return text;
            }
            actix_rt::time::sleep(POLL).await;
        }
        panic!(
            "the text of {css:?} could not be read on {}",
            self.path().await
        );
    }

    /// The whole page's rendered text.
    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    /// Presses keys one after the other on whatever has the focus, as a keyboard does.
    pub async fn press(&self, keys: &[&str]) {
        let mut actions = Vec::new();
        for key in keys {
            for c in key.chars() {
                actions.push(json!({ "type": "keyDown", "value": c.to_string() }));
                actions.push(json!({ "type": "keyUp", "value": c.to_string() }));
            }
        }
        self.post(
            "/actions",
            json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] }),
        )
        .await;
        self.command("DELETE", &format!("{}/actions", self.session), Value::Null)
            .await;
    }

    /// Presses Shift+Tab.
    pub async fn press_shift_tab(&self) {
        let actions = json!([
            { "type": "keyDown", "value": keys::SHIFT },
            { "type": "keyDown", "value": keys::TAB },
            { "type": "keyUp", "value": keys::TAB },
            { "type": "keyUp", "value": keys::SHIFT },
        ]);
        self.post(
            "/actions",
            json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] }),
        )
        .await;
    }

    /// Types text on whatever has the focus.
    pub async fn type_text(&self, text: &str) {
        self.press(&[text]).await;
    }

    /// Whether the focused element matches `css`.
    pub async fn focus_is_on(&self, css: &str) -> bool {
        self.execute(
            "var el = document.activeElement; return !!el && el.matches(arguments[0]);",
            json!([css]),
        )
        .await
            == json!(true)
    }

    /// A short description of the focused element, for messages.
    pub async fn focused(&self) -> String {
        self.execute(
            "var el = document.activeElement;
             if (!el || el === document.body) return 'nothing';
             var text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim();
             return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' ' + JSON.stringify(text);",
            json!([]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Whether the focused element shows that it has the focus (an outline or a ring).
    pub async fn focus_is_visible(&self) -> bool {
        self.execute(
            "var el = document.activeElement;
             if (!el || el === document.body) return false;
             var s = getComputedStyle(el);
             var outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
             return outline || (s.boxShadow && s.boxShadow !== 'none');",
            json!([]),
        )
        .await
            == json!(true)
    }

    /// Sets the viewport's width (the height follows the page in screenshots). Below 600 px
    /// the browser behaves as a phone: touch, the viewport meta tag, overlay scrollbars.
    pub async fn set_width(&self, width: u32) {
        self.width.set(width);
        self.set_viewport(width, VIEWPORT_HEIGHT).await;
    }

    async fn set_viewport(&self, width: u32, height: u32) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({
                "width": width,
                "height": height,
                "deviceScaleFactor": 1,
                "mobile": width < 600,
            }),
        )
        .await;
    }

    /// The viewport as it is now, as a PNG.
    pub async fn screenshot(&self) -> Vec<u8> {
        let encoded = self.get("/screenshot").await;
        data_encoding::BASE64
            .decode(encoded.as_str().expect("base64 PNG").as_bytes())
            .expect("a PNG")
    }

    /// The whole page at the current width, as a PNG: the viewport grows to the page's height
    /// for the picture, then returns to its size.
    pub async fn full_page_screenshot(&self) -> Vec<u8> {
        let width = self.width.get();
        let height = self
            .execute(
                "return Math.ceil(Math.max(document.documentElement.scrollHeight,
                                           document.body.scrollHeight));",
                json!([]),
            )
            .await
            .as_u64()
            .unwrap_or(u64::from(VIEWPORT_HEIGHT));
        let height = u32::try_from(height).unwrap_or(VIEWPORT_HEIGHT).max(200);
        self.set_viewport(width, height).await;
        let png = self.screenshot().await;
        self.set_viewport(width, VIEWPORT_HEIGHT).await;
        png
    }

    /// Lets the page use the clipboard, as a person allows it when the browser asks.
    pub async fn allow_clipboard(&self, origin: &str) {
        self.cdp(
            "Browser.grantPermissions",
            json!({
                "origin": origin,
                "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
            }),
        )
        .await;
    }

    /// The text on the clipboard.
    pub async fn clipboard_text(&self) -> String {
        let answer = self
            .execute_async(
                "var done = arguments[arguments.length - 1];
                 navigator.clipboard.readText().then(
                   function (text) { done({ text: text }); },
                   function (error) { done({ error: String(error) }); });",
                json!([]),
            )
            .await;
        match answer["text"].as_str() {
            Some(text) => text.to_owned(),
            None => panic!("the clipboard could not be read: {answer}"),
        }
    }

    /// Where the browser saves downloads.
    pub fn downloads_dir(&self) -> PathBuf {
        self.dir.path().join("downloads")
    }

    /// Waits for a downloaded file to be complete and returns its contents.
    pub async fn downloaded(&self, name: &str) -> String {
        let path = self.downloads_dir().join(name);
        for _ in 0..POLL_ATTEMPTS {
            // Chromium writes to a `.crdownload` file and renames it when done.
            if let Ok(text) = std::fs::read_to_string(&path) {
                return text;
            }
            actix_rt::time::sleep(POLL).await;
        }
        let found: Vec<_> = std::fs::read_dir(self.downloads_dir())
            .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        panic!("no download {name}; the folder holds {found:?}");
    }

    /// Adds a virtual authenticator (the WebDriver extension of WebAuthn, §11) standing for the
    /// device's own fingerprint reader: CTAP2, built in, keeping discoverable credentials and
    /// verifying its user, who always consents, so a passkey ceremony completes without any
    /// dialog. Returns its id. From then on Chromium sends this session's WebAuthn requests to
    /// virtual authenticators only.
    pub async fn add_virtual_authenticator(&self) -> String {
        let id = self
            .post(
                "/webauthn/authenticator",
                json!({
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": true,
                    "hasUserVerification": true,
                    "isUserConsenting": true,
                    "isUserVerified": true,
                }),
            )
            .await;
        match id.as_str() {
            Some(id) => id.to_owned(),
            None => panic!("no authenticator id: {id}"),
        }
    }

    /// Removes a virtual authenticator, with every credential it holds. With none left, a
    /// WebAuthn request waits (until its own timeout) for one to be added, as Chromium waits
    /// for a security key to be plugged in.
    pub async fn remove_virtual_authenticator(&self, id: &str) {
        self.command(
            "DELETE",
            &format!("{}/webauthn/authenticator/{id}", self.session),
            Value::Null,
        )
        .await;
    }

    /// The credentials a virtual authenticator holds, as WebDriver reports them: each with
    /// `credentialId` (base64url), `isResidentCredential`, `rpId`, `signCount` and
    /// `userHandle` (base64url).
    pub async fn virtual_credentials(&self, id: &str) -> Vec<Value> {
        let credentials = self
            .get(&format!("/webauthn/authenticator/{id}/credentials"))
            .await;
        match credentials.as_array() {
            Some(list) => list.clone(),
            None => panic!("no list of credentials: {credentials}"),
        }
    }

    /// The messages the page logged at error level (script errors, CSP violations, failed
    /// loads) since the last call.
    pub async fn console_errors(&self) -> Vec<String> {
        let entries = self.post("/se/log", json!({ "type": "browser" })).await;
        entries
            .as_array()
            .map(|list| {
                list.iter()
                    .filter(|e| e["level"] == json!("SEVERE"))
                    .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// chromedriver's log, for a failing test's output.
    fn log_tail(&self, lines: usize) -> String {
        let log =
            std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// Ends the WebDriver session (Chromium quits) with a plain blocking request: `Drop` cannot
/// await, and the session must end even when the test panicked.
fn delete_session(port: u16, session_id: &str) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let request = format!(
        "DELETE /session/{session_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return;
    }
    // Read the whole answer (chromedriver answers once Chromium has quit), going by its
    // Content-Length: chromedriver may keep the connection open.
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&answer);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if answer.len() >= end + 4 + length {
                break;
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- the last lines of chromedriver's log ---\n{}",
                self.log_tail(60)
            );
        }
        if !self.session_id.is_empty() {
            delete_session(self.port, &self.session_id);
        }
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
    }
}

/// Fails the test when one of the suite's dependencies is missing: the test set-up installs
/// them, so a missing one is a broken set-up, not a reason to skip.
pub fn require_installed(path: &Path, what: &str) {
    assert!(
        path.exists(),
        "{} not found: the test set-up (.ci/test) installs {what}",
        path.display()
    );
}
