//! Per-tenant clock: the tenant's "now" is the real time plus an offset, so expiry can be
//! tested by moving one tenant's time without touching the others or the machine.
//!
//! The control API bounds the offset (`proto::idp::MAX_CLOCK_OFFSET_SECONDS`), and the
//! arithmetic here and on every date derived from "now" saturates at the representable range
//! instead of panicking, whatever offset reaches it.

use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    pub offset_seconds: i64,
}

impl Clock {
    pub fn new(offset_seconds: i64) -> Self {
        Self { offset_seconds }
    }

    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc().saturating_add(time::Duration::seconds(self.offset_seconds))
    }
}

/// SAML and the exchange log use RFC 3339 UTC with milliseconds, like the IdPs we imitate.
pub fn rfc3339(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_moves_now() {
        let later = Clock::new(3600).now() - OffsetDateTime::now_utc();
        assert!(later.whole_seconds() >= 3599 && later.whole_seconds() <= 3601);
    }

    #[test]
    fn any_offset_gives_a_time_never_a_panic() {
        for offset in [i64::MAX, i64::MIN, i64::MAX / 2, -(i64::MAX / 2)] {
            let now = Clock::new(offset).now();
            // Formatting and the usual derived dates must not panic either.
            assert!(!rfc3339(now).is_empty());
            let _ = now.saturating_add(time::Duration::hours(2));
            let _ = now.saturating_sub(time::Duration::hours(2));
            let _ = now.unix_timestamp().saturating_add(3600);
        }
        assert!(Clock::new(i64::MAX).now() > Clock::new(0).now());
        assert!(Clock::new(i64::MIN).now() < Clock::new(0).now());
    }

    #[test]
    fn formats_utc_with_millis() {
        let at = time::macros::datetime!(2025-02-03 21:25:48.584 UTC);
        assert_eq!(rfc3339(at), "2025-02-03T21:25:48.584Z");
    }
}
