//! Per-tenant clock: the tenant's "now" is the real time plus an offset, so expiry can be
//! tested by moving one tenant's time without touching the others or the machine.

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
        OffsetDateTime::now_utc() + time::Duration::seconds(self.offset_seconds)
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
    fn formats_utc_with_millis() {
        let at = time::macros::datetime!(2025-02-03 21:25:48.584 UTC);
        assert_eq!(rfc3339(at), "2025-02-03T21:25:48.584Z");
    }
}
