//! The SP's clock. `--test-mode` can move it (domain-verification expiry without waiting a week).
use std::sync::atomic::{AtomicI64, Ordering};
use time::{Duration, OffsetDateTime};

#[derive(Default)]
pub struct Clock {
    offset_seconds: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }
    pub fn now_unix(&self) -> i64 {
        self.now().unix_timestamp()
    }
    pub fn set_offset(&self, seconds: i64) {
        self.offset_seconds.store(seconds, Ordering::Relaxed);
    }
}

/// `2026-11-23 13:55:01 UTC`: what a user copies into a support request.
pub fn display_utc(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub fn display_unix(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .map(display_utc)
        .unwrap_or_else(|_| unix.to_string())
}
