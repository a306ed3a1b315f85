//! What a security scenario says about itself for the report and the coverage tables: the
//! anchor rows it covers (`SAML-SP-18`, `OIDC-RP-23`), its CWE and CVEs, a severity for an SP
//! that fails it, and a one-line remediation. Checked when the file is loaded.
use std::fmt;

use serde::{Deserialize, Serialize};

/// A row of the anchor tables (`scenarios/ANCHORS.md`): `SAML-SP-n` or `OIDC-RP-n`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct AnchorId(pub String);

impl AnchorId {
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = ["SAML-SP-", "OIDC-RP-"].iter().any(|p| {
            s.strip_prefix(p).is_some_and(|n| {
                (2..=3).contains(&n.len()) && n.chars().all(|c| c.is_ascii_digit())
            })
        });
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(format!(
                "anchor {s:?} is not a row of the anchor tables (SAML-SP-07, OIDC-RP-23: two or three digits)"
            ))
        }
    }

    /// `SAML-SP` or `OIDC-RP`.
    pub fn table(&self) -> &str {
        self.0.get(..7).unwrap_or_default()
    }
}

impl fmt::Display for AnchorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AnchorId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// How bad it is when an SP fails the scenario; `control` marks a positive control (a correct
/// SP must accept it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
    Control,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
            Severity::Control => "control",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `CWE-347` / `CVE-2022-41912`: the prefix, a dash, digits (and for a CVE, year-number).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct WeaknessId(pub String);

impl WeaknessId {
    pub fn parse(s: &str) -> Result<Self, String> {
        let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
        let ok = match s.split('-').collect::<Vec<_>>().as_slice() {
            ["CWE", n] => digits(n),
            ["CVE", y, n] => y.len() == 4 && digits(y) && n.len() >= 4 && digits(n),
            _ => false,
        };
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(format!(
                "{s:?} is neither a CWE (CWE-347) nor a CVE (CVE-2022-41912)"
            ))
        }
    }
}

impl fmt::Display for WeaknessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for WeaknessId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_ids_are_rows_of_the_two_tables() {
        for ok in ["SAML-SP-01", "SAML-SP-111", "OIDC-RP-23"] {
            assert_eq!(AnchorId::parse(ok).unwrap().0, ok);
        }
        for bad in [
            "SAML-SP-1",
            "SAML-SP-x1",
            "SAML-IDP-01",
            "OIDC-RP-",
            "saml-sp-01",
            "SAML-SP-1111",
        ] {
            assert!(AnchorId::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(AnchorId::parse("OIDC-RP-05").unwrap().table(), "OIDC-RP");
    }

    #[test]
    fn weakness_ids_are_cwes_or_cves() {
        for ok in ["CWE-347", "CVE-2022-41912", "CVE-2025-29775"] {
            assert!(WeaknessId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["CWE347", "CWE-", "CVE-22-41912", "CVE-2022-1", "cwe-347"] {
            assert!(WeaknessId::parse(bad).is_err(), "{bad}");
        }
    }
}
