//! Every way a tenant can be told to misbehave. The list (names, protocols, descriptions) is
//! the wire contract's, `proto::fault`; each protocol module implements the behaviour of its
//! own faults.

pub use proto::fault::{Fault, FaultInfo, Protocol, closest, infos};

/// One line per fault, as `mock-idp faults` prints it.
pub fn listing() -> String {
    let width = Fault::ALL.iter().map(|f| f.name().len()).max().unwrap_or(0);
    Fault::ALL
        .iter()
        .map(|f| {
            format!(
                "{:<width$}  {:<4}  {}\n",
                f.name(),
                f.protocol().as_str(),
                f.description()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_has_one_aligned_line_per_fault() {
        let text = listing();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), Fault::ALL.len());
        assert!(lines[0].starts_with("unsigned "), "{}", lines[0]);
        let column = lines[0].find("saml").unwrap();
        assert!(lines.iter().all(|l| l.len() > column));
    }
}
