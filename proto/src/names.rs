//! Names on the wire (faults, profiles) checked offline, with a "did you mean" for typos.

/// A name that is not one of the known ones, with the closest known name when one is near
/// enough to be a plausible typo.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{name}`{}", hint(.suggestion))]
pub struct UnknownName {
    /// What kind of name: `fault`, `profile`.
    pub what: &'static str,
    pub name: String,
    pub suggestion: Option<&'static str>,
}

fn hint(suggestion: &Option<&'static str>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    }
}

/// The candidate nearest to `name` (Damerau-Levenshtein, case-insensitive), if it is within
/// typo distance: a third of the longer word, at least 2. An exact match is its own closest.
pub fn closest(name: &str, candidates: &[&'static str]) -> Option<&'static str> {
    let wanted = name.trim().to_ascii_lowercase();
    let (distance, best) = candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(&wanted, c), *c))
        .min_by_key(|(d, _)| *d)?;
    let limit = (wanted.chars().count().max(best.chars().count()) / 3).max(2);
    (distance <= limit).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        let names = ["unsigned", "unknown_key", "wrong_audience"];
        assert_eq!(closest("unsinged", &names), Some("unsigned"));
        assert_eq!(closest("Wrong_Audience", &names), Some("wrong_audience"));
        assert_eq!(closest("unsigned", &names), Some("unsigned"));
        assert_eq!(closest("teleport", &names), None);
        assert_eq!(closest("x", &[]), None);
    }

    #[test]
    fn message_carries_the_hint() {
        let e = UnknownName {
            what: "fault",
            name: "unsinged".into(),
            suggestion: Some("unsigned"),
        };
        assert_eq!(
            e.to_string(),
            "unknown fault `unsinged` (did you mean `unsigned`?)"
        );
        let e = UnknownName {
            suggestion: None,
            ..e
        };
        assert_eq!(e.to_string(), "unknown fault `unsinged`");
    }
}
