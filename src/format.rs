//! How times and waits read on pages and in emails.

/// "45 seconds", "2 minutes", "1 hour".
pub fn wait(secs: i64) -> String {
    let secs = secs.max(1);
    let (n, unit) = if secs < 90 {
        (secs, "second")
    } else if secs < 90 * 60 {
        ((secs + 30) / 60, "minute")
    } else {
        ((secs + 1800) / 3600, "hour")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// A Unix time as a date and time in UTC without the zone's name, for tables whose heading
/// says "(UTC)".
pub fn time_in_utc_column(unix: i64) -> String {
    let format = ::time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    ::time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// A Unix time as a date and time in UTC, as the pages show it.
pub fn time(unix: i64) -> String {
    let format = ::time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    ::time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// A browser as people name it, from its User-Agent header: "Chrome 156 on Linux",
/// "Safari 17 on iPhone", "Firefox 128 on Windows". What is not recognised is shown by its
/// first product token ("curl 8", "twofold user reset-2fa" for the command line), never as the
/// raw header.
pub fn browser(user_agent: &str) -> String {
    let ua = user_agent.trim();
    if ua.is_empty() {
        return "Unknown browser".into();
    }
    if ua.starts_with("twofold ") {
        // The operator's command line records itself so.
        return ua.into();
    }
    let version = |marker: &str| -> Option<String> {
        let rest = &ua[ua.find(marker)? + marker.len()..];
        let major: String = rest.chars().take_while(char::is_ascii_digit).collect();
        Some(major)
    };
    let named = |name: &str, marker: &str| -> Option<String> {
        version(marker).map(|v| {
            if v.is_empty() {
                name.to_owned()
            } else {
                format!("{name} {v}")
            }
        })
    };
    let browser = named("Edge", "Edg/")
        .or_else(|| named("Opera", "OPR/"))
        .or_else(|| named("Samsung Internet", "SamsungBrowser/"))
        .or_else(|| named("Firefox", "Firefox/"))
        .or_else(|| named("Firefox", "FxiOS/"))
        .or_else(|| named("Headless Chrome", "HeadlessChrome/"))
        .or_else(|| named("Chrome", "CriOS/"))
        .or_else(|| named("Chromium", "Chromium/"))
        .or_else(|| named("Chrome", "Chrome/"))
        .or_else(|| {
            ua.contains("Safari/")
                .then(|| named("Safari", "Version/"))
                .flatten()
        });
    let system = [
        ("Windows NT", "Windows"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("CrOS", "ChromeOS"),
        ("Android", "Android"),
        ("Mac OS X", "macOS"),
        ("Macintosh", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(marker, _)| ua.contains(marker))
    .map(|(_, name)| name);
    match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(browser), None) => browser,
        (None, system) => {
            // An HTTP tool or a bot: its first product token, name and major version.
            let token = ua.split_whitespace().next().unwrap_or(ua);
            let (name, version) = token.split_once('/').unwrap_or((token, ""));
            let name: String = name.chars().take(40).collect();
            if name.is_empty() {
                return "Unknown browser".into();
            }
            let major: String = version.chars().take_while(char::is_ascii_digit).collect();
            let tool = if major.is_empty() {
                name
            } else {
                format!("{name} {major}")
            };
            match system {
                Some(system) => format!("{tool} on {system}"),
                None => tool,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_named_as_people_name_them() {
        for (ua, expected) in [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/156.0.8078.73 Safari/537.36",
                "Chrome 156 on Linux",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 HeadlessChrome/156.0.0.0 Safari/537.36",
                "Headless Chrome 156 on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like \
                 Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
                "Edge 131 on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 \
                 Firefox/133.0",
                "Firefox 133 on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari 17 on iPhone",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like \
                 Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
                "Samsung Internet 25 on Android",
            ),
            ("curl/8.5.0", "curl 8"),
            ("twofold-tests", "twofold-tests"),
            ("twofold user reset-2fa", "twofold user reset-2fa"),
            ("", "Unknown browser"),
        ] {
            assert_eq!(browser(ua), expected, "{ua}");
        }
    }

    #[test]
    fn waits_read_naturally() {
        assert_eq!(wait(1), "1 second");
        assert_eq!(wait(45), "45 seconds");
        assert_eq!(wait(120), "2 minutes");
        assert_eq!(wait(3600), "60 minutes");
        assert_eq!(wait(7200), "2 hours");
    }

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(time(0), "1970-01-01 00:00 UTC");
    }

    proptest::proptest! {
        /// A User-Agent is whatever a client sends: any text gets a name, never a panic, and
        /// never more than a line's worth.
        #[test]
        fn any_user_agent_is_named(ua in proptest::prelude::any::<String>()) {
            let name = browser(&ua);
            proptest::prop_assert!(!name.is_empty());
        }
    }
}
