//! IdP profiles: which real IdP a tenant imitates. The names are the wire contract's
//! (`proto::Profile`); what a profile does is decided here: the issuer format, the NameID
//! format and the attribute names of SAML responses ([`ProfileBehaviour`]).

use sha2::Digest as _;

pub use proto::profile::{Profile, closest};

pub const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
pub const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
pub const ATTRNAME_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified";
pub const ATTRNAME_URI: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";
pub const ATTRNAME_BASIC: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";

const CLAIMS: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/";

/// The SAML attribute names a profile uses for the user's core properties.
#[derive(Debug, Clone, Copy)]
pub struct AttributeNames {
    pub name_format: &'static str,
    pub email: &'static str,
    pub given_name: &'static str,
    pub family_name: &'static str,
    /// Display name; `None` when the profile sends none.
    pub display_name: Option<&'static str>,
    pub groups: &'static str,
    /// Okta's example sends an empty `nickname`: kept so SPs see the seed's exact shape.
    pub empty_nickname: bool,
}

/// A GUID derived from the tenant id, stable across restarts (Entra tenant id style).
pub fn tenant_guid(tenant: &str) -> String {
    let h = hex::encode(sha2::Sha256::digest(tenant.as_bytes()));
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// What a profile does. A trait because the enum is the wire contract's type: bring it in
/// scope (`use crate::profile::ProfileBehaviour as _`) to call these on a `Profile`.
pub trait ProfileBehaviour {
    /// The SAML entity ID (Issuer) of a tenant; `prefix` is `{base}t/{id}`.
    fn saml_entity_id(self, tenant: &str, prefix: &str) -> String;
    fn nameid_format(self) -> &'static str;
    /// Okta writes `Format="...:entity"` on its Issuer; the others leave it out.
    fn issuer_format(self) -> Option<&'static str>;
    fn attribute_names(self) -> AttributeNames;
    /// Entra's display name claim is the UPN, not a full name.
    fn display_name_is_upn(self) -> bool;
}

impl ProfileBehaviour for Profile {
    fn saml_entity_id(self, tenant: &str, prefix: &str) -> String {
        match self {
            Profile::Okta => format!("http://www.okta.com/exk{}", short_hash(tenant)),
            Profile::Entra => format!("https://sts.windows.net/{}/", tenant_guid(tenant)),
            Profile::Google => format!("https://accounts.google.com/o/saml2?idpid={tenant}"),
            Profile::Keycloak => format!("{prefix}/realms/{tenant}"),
            Profile::Authentik | Profile::Generic => format!("{prefix}/saml/metadata"),
        }
    }

    fn nameid_format(self) -> &'static str {
        match self {
            Profile::Okta => NAMEID_UNSPECIFIED,
            _ => NAMEID_EMAIL,
        }
    }

    fn issuer_format(self) -> Option<&'static str> {
        match self {
            Profile::Okta => Some("urn:oasis:names:tc:SAML:2.0:nameid-format:entity"),
            _ => None,
        }
    }

    fn attribute_names(self) -> AttributeNames {
        match self {
            Profile::Okta => AttributeNames {
                name_format: ATTRNAME_UNSPECIFIED,
                email: "email",
                given_name: "given_name",
                family_name: "family_name",
                display_name: Some("name"),
                groups: "groups",
                empty_nickname: true,
            },
            Profile::Entra | Profile::Generic => AttributeNames {
                name_format: ATTRNAME_URI,
                email: concat!(
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/",
                    "emailaddress"
                ),
                given_name: concat!(
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/",
                    "givenname"
                ),
                family_name: concat!(
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/",
                    "surname"
                ),
                display_name: Some(concat!(
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/",
                    "name"
                )),
                groups: "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
                empty_nickname: false,
            },
            Profile::Authentik => AttributeNames {
                name_format: ATTRNAME_URI,
                email: concat!(
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/",
                    "emailaddress"
                ),
                given_name: concat!(
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/",
                    "givenname"
                ),
                family_name: concat!(
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/",
                    "surname"
                ),
                display_name: Some(concat!(
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/",
                    "name"
                )),
                groups: "http://schemas.xmlsoap.org/claims/Group",
                empty_nickname: false,
            },
            Profile::Google => AttributeNames {
                name_format: ATTRNAME_UNSPECIFIED,
                email: "email",
                given_name: "first_name",
                family_name: "last_name",
                display_name: None,
                groups: "groups",
                empty_nickname: false,
            },
            Profile::Keycloak => AttributeNames {
                name_format: ATTRNAME_BASIC,
                email: "email",
                given_name: "firstName",
                family_name: "lastName",
                display_name: None,
                groups: "Role",
                empty_nickname: false,
            },
        }
    }

    fn display_name_is_upn(self) -> bool {
        self == Profile::Entra
    }
}

/// The claim URI prefix the entra/generic/authentik profiles use.
pub fn claims_prefix() -> &'static str {
    CLAIMS
}

fn short_hash(s: &str) -> String {
    hex::encode(&sha2::Sha256::digest(s.as_bytes())[..9])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_issuer_is_sts_with_guid() {
        let id = Profile::Entra.saml_entity_id("acme", "http://x/t/acme");
        assert!(id.starts_with("https://sts.windows.net/"), "{id}");
        assert_eq!(id.len(), "https://sts.windows.net/".len() + 36 + 1);
    }

    #[test]
    fn okta_uses_unspecified_nameid_and_seed_attribute_names() {
        assert_eq!(Profile::Okta.nameid_format(), NAMEID_UNSPECIFIED);
        let a = Profile::Okta.attribute_names();
        assert_eq!((a.given_name, a.family_name), ("given_name", "family_name"));
        assert!(a.empty_nickname);
        assert!(
            Profile::Generic
                .attribute_names()
                .given_name
                .starts_with(claims_prefix())
        );
    }
}
