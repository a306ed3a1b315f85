//! The names of the IdP profiles a tenant imitates. What a profile does (issuer format,
//! NameID format, attribute names, OIDC URL layout) is the mock IdP's business; the wire only
//! carries the name.

use crate::names::{self, UnknownName};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    Okta,
    Entra,
    Google,
    Authentik,
    Keycloak,
    #[default]
    Generic,
}

impl Profile {
    pub const ALL: &'static [Profile] = &[
        Profile::Okta,
        Profile::Entra,
        Profile::Google,
        Profile::Authentik,
        Profile::Keycloak,
        Profile::Generic,
    ];

    /// Every wire name, in the order of [`Profile::ALL`].
    pub const NAMES: &'static [&'static str] = &[
        "okta",
        "entra",
        "google",
        "authentik",
        "keycloak",
        "generic",
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Okta => "okta",
            Profile::Entra => "entra",
            Profile::Google => "google",
            Profile::Authentik => "authentik",
            Profile::Keycloak => "keycloak",
            Profile::Generic => "generic",
        }
    }

    /// The profile with this exact wire name.
    pub fn from_name(name: &str) -> Option<Profile> {
        Profile::ALL.iter().copied().find(|p| p.as_str() == name)
    }
}

/// The known profile name nearest to `name`, if it is close enough to be a typo.
pub fn closest(name: &str) -> Option<&'static str> {
    names::closest(name, Profile::NAMES)
}

impl std::str::FromStr for Profile {
    type Err = UnknownName;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Profile::from_name(name).ok_or_else(|| UnknownName {
            what: "profile",
            name: name.to_string(),
            suggestion: closest(name),
        })
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_on_the_wire() {
        assert_eq!(Profile::ALL.len(), Profile::NAMES.len());
        for (p, name) in Profile::ALL.iter().zip(Profile::NAMES) {
            assert_eq!(p.as_str(), *name);
            assert_eq!(serde_json::to_string(p).unwrap(), format!("\"{name}\""));
            assert_eq!(name.parse::<Profile>(), Ok(*p));
        }
    }

    #[test]
    fn typos_get_a_suggestion() {
        let e = "oktaa".parse::<Profile>().unwrap_err();
        assert_eq!(e.suggestion, Some("okta"));
        assert_eq!(closest("keycloack"), Some("keycloak"));
        assert_eq!(closest("adfs-on-prem"), None);
        assert!(serde_json::from_str::<Profile>("\"oktaa\"").is_err());
    }
}
