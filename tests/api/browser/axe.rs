//! The automated accessibility check: axe-core (from the npm registry, installed by the test
//! set-up into `tests/browser-deps/`) injected into the page and run against WCAG 2.x A and
//! AA and axe's best practices.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::driver::{Browser, require_installed};

/// One rule a page breaks.
#[derive(Debug)]
pub struct Violation {
    pub rule: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: String,
    pub help: String,
    /// The offending elements, as CSS selectors.
    pub targets: Vec<String>,
}

impl Violation {
    /// Serious and critical violations keep people out; the suite fails on them.
    pub fn is_blocking(&self) -> bool {
        matches!(self.impact.as_str(), "serious" | "critical")
    }
}

/// The result of checking one page.
#[derive(Debug)]
pub struct Report {
    pub violations: Vec<Violation>,
    /// How many rules the page passes.
    pub passes: usize,
    /// Rules axe could not decide alone (listed for a person to review, not failures).
    pub incomplete: usize,
}

impl Report {
    /// The serious and critical violations.
    pub fn blocking(&self) -> Vec<&Violation> {
        self.violations.iter().filter(|v| v.is_blocking()).collect()
    }

    /// One line per violation, for the test's output.
    pub fn describe(&self) -> String {
        self.violations
            .iter()
            .map(|v| {
                format!(
                    "    {} [{}]: {} ({})",
                    v.rule,
                    v.impact,
                    v.help,
                    v.targets.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn axe_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/browser-deps/node_modules/axe-core/axe.min.js");
        require_installed(&path, "axe-core (npm ci in tests/browser-deps)");
        std::fs::read_to_string(&path).expect("axe-core's script")
    })
}

/// axe-core's version, as its package states it.
pub fn version() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser-deps/node_modules/axe-core/package.json");
    require_installed(&path, "axe-core (npm ci in tests/browser-deps)");
    let package: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("package.json")).expect("JSON");
    package["version"].as_str().unwrap_or("?").to_owned()
}

/// Runs axe-core on the page as it is now. The script is injected through WebDriver, which
/// the page's Content-Security-Policy does not govern: the page itself stays as strict.
pub async fn check(browser: &Browser) -> Report {
    let loaded = browser
        .execute("return typeof window.axe !== 'undefined';", json!([]))
        .await;
    if loaded != json!(true) {
        browser.execute(axe_source(), json!([])).await;
    }
    let result = browser
        .execute_async(
            "var done = arguments[arguments.length - 1];
             axe.run(document, {
               runOnly: { type: 'tag',
                          values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',
                                   'best-practice'] },
               resultTypes: ['violations']
             }).then(function (r) {
               done({
                 passes: r.passes.length,
                 incomplete: r.incomplete.length,
                 violations: r.violations.map(function (v) {
                   return { id: v.id, impact: v.impact, help: v.help,
                            targets: v.nodes.map(function (n) { return n.target.join(' '); }) };
                 })
               });
             }, function (e) { done({ error: String(e) }); });",
            json!([]),
        )
        .await;
    assert!(result.get("error").is_none(), "axe-core failed: {result}");
    let violations = result["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| Violation {
            rule: v["id"].as_str().unwrap_or_default().to_owned(),
            impact: v["impact"].as_str().unwrap_or("unknown").to_owned(),
            help: v["help"].as_str().unwrap_or_default().to_owned(),
            targets: v["targets"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    Report {
        violations,
        passes: result["passes"].as_u64().unwrap_or(0) as usize,
        incomplete: result["incomplete"].as_u64().unwrap_or(0) as usize,
    }
}
