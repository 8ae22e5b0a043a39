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

/// A Unix time as a date and time in UTC, as the pages show it.
pub fn time(unix: i64) -> String {
    let format = ::time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    ::time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
