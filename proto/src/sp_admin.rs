//! The reference SP's admin API (`/api/admin/...`, table in reference-sp/README.md): the
//! requests an automated set-up sends, mirroring the Identity page, and what the SP answers.
//! Header `Authorization: Bearer {admin token}`; bad input is `400 {"error", "field"}`.
//!
//! Requests keep `plan`, `billing`, `role`, `method`, `product` and `active` as strings: the
//! SP checks them and names the allowed values in its 400, in its own words. Answers use the
//! enums below.
//!
//! Answers that the SP has always written as sorted-key JSON objects declare their fields in
//! alphabetical order, so the bytes on the wire stay the same.

use crate::object::object_only;
use serde::{Deserialize, Serialize};
use sso_secret::Secret;

/// A lower-case wire name enum with its list of names and a parser.
macro_rules! str_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every wire name.
            pub const ALL: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum!(
    /// A workspace's plan (CFG-7: SSO is for enterprise and edu).
    Plan { Enterprise = "enterprise", Edu = "edu", Team = "team" }
);
str_enum!(
    /// How an organisation is billed (CFG-2).
    Billing { Custom = "custom", Unlimited = "unlimited", Other = "other" }
);
str_enum!(
    /// A member's role in an organisation.
    Role { Owner = "owner", Member = "member" }
);
str_enum!(
    /// How a user signs in.
    Method { Password = "password", Social = "social", Sso = "sso", Invited = "invited" }
);
str_enum!(
    /// The two products that share an organisation's identity configuration.
    Product { Workspace = "workspace", Platform = "platform" }
);
str_enum!(
    /// The protocol of an SSO configuration.
    SsoProtocol { Saml = "saml", Oidc = "oidc" }
);
str_enum!(
    /// A domain verification attempt (DV-3/DV-4).
    DomainStatus { Pending = "pending", Verified = "verified", Expired = "expired" }
);

impl DomainStatus {
    /// As the Identity page shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Verified => "Verified",
            Self::Expired => "Expired",
        }
    }
}

// ---- requests ----

/// `POST /api/admin/orgs`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct CreateOrg {
    pub name: String,
    /// [`Plan`] name.
    pub plan: String,
    /// [`Billing`] name.
    pub billing: String,
}

/// `POST /api/admin/test/orgs` (`--test-mode`): an organisation with a chosen id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct CreateOrgWithId {
    /// `[a-z0-9-]{3,64}`.
    pub org_id: String,
    pub name: String,
    pub plan: String,
    pub billing: String,
}

/// `POST /api/admin/orgs/{org}/users`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct AddUser {
    pub email: String,
    /// [`Role`] name.
    pub role: String,
    /// [`Method`] name.
    pub method: String,
    /// Only and always for `method: password`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::secret::serialize_opt"
    )]
    pub password: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
}

/// `POST /api/admin/orgs/{org}/domains`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct AddDomain {
    pub domain: String,
}

/// `PUT /api/admin/orgs/{org}/sso/saml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct PutSaml {
    pub sso_url: String,
    pub certificate_pem: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_entity_id: Option<String>,
    /// The IdP's SingleLogoutService (single logout); absent: sign-out is local only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo_url: Option<String>,
}

/// `PUT /api/admin/orgs/{org}/sso/oidc`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct PutOidc {
    pub idp_name: String,
    pub client_id: String,
    #[serde(serialize_with = "crate::secret::serialize")]
    pub client_secret: Secret,
    pub discovery_url: String,
    /// The authorization response mode the connection asks for: absent is the plain query
    /// response; `query.jwt` asks for a signed JARM response (JWT Secured Authorization
    /// Response Mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_mode: Option<String>,
    /// `code` (absent) or the hybrid flow's `code id_token` / `code id_token token`, whose
    /// answer comes by form_post with an ID token checked before the code is redeemed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_type: Option<String>,
    /// Hybrid flow: the front ID token is a detached signature (FAPI 1 Advanced), so s_hash
    /// is required.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_s_hash: bool,
}

/// `PUT /api/admin/orgs/{org}/sso`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct PutSso {
    pub enabled: bool,
    /// [`Product`] name; `workspace` (both products) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
}

/// `PUT /api/admin/orgs/{org}/enforce`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct PutEnforce {
    pub enforced: bool,
}

/// `PUT /api/admin/orgs/{org}/tile`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct PutTile {
    /// [`Product`] name.
    pub active: String,
}

/// `PUT /api/admin/test/clock` (`--test-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct PutClock {
    pub offset_seconds: i64,
}

/// `PUT /api/admin/test/block-sso-lookup` (`--test-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct PutBlockSsoLookup {
    pub blocked: bool,
}

object_only!(
    CreateOrg,
    CreateOrgWithId,
    AddUser,
    AddDomain,
    PutSaml,
    PutOidc,
    PutSso,
    PutEnforce,
    PutTile,
    PutClock,
    PutBlockSsoLookup,
);

// ---- answers ----

/// The per-product Tile URLs of an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct TileUrls {
    pub platform: String,
    pub workspace: String,
}

/// `201` of `POST /api/admin/orgs` (and `/api/admin/test/orgs`): the URLs an IdP application
/// is registered with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct OrgUrls {
    pub acs_url: String,
    /// CFG-6: the direct sign-in link.
    pub application_link: String,
    pub entity_id: String,
    pub metadata_url: String,
    pub oidc_redirect_uri: String,
    pub org_id: String,
    pub tile_urls: TileUrls,
}

/// Which products have SSO on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct SsoEnabled {
    pub platform: bool,
    pub workspace: bool,
}

/// An organisation's SSO configuration as the admin API shows it: no secret in clear.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "protocol", rename_all = "lowercase")]
pub enum SsoView {
    Saml {
        certificate_sha256: Option<String>,
        idp_entity_id: Option<String>,
        sso_url: String,
    },
    Oidc {
        client_id: String,
        /// Always `[redacted]` on the wire.
        client_secret: Secret,
        discovery_url: String,
        idp_name: String,
    },
}

/// One member of an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Member {
    pub email: String,
    pub role: Role,
    pub method: Method,
    pub has_password: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

/// A domain and its verification attempt (`POST .../domains`, `GET .../domains`,
/// `POST .../domains/{domain}/check`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Domain {
    pub domain: String,
    pub status: DomainStatus,
    /// Where the TXT record goes.
    pub txt_name: String,
    /// What it must hold.
    pub txt_value: String,
    pub started_at: String,
    /// While not verified: when the attempt ends (DV-3).
    pub expires_at: Option<String>,
    pub verified_at: Option<String>,
    /// Why a check did not verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `GET /api/admin/orgs/{org}`: the organisation's state, no secrets. The SP sends it as a
/// sorted-key object (nested objects too).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OrgState {
    #[serde(flatten)]
    pub urls: OrgUrls,
    pub active_tile: Product,
    pub billing: Billing,
    pub domains: Vec<Domain>,
    pub enforced: bool,
    pub members: Vec<Member>,
    pub name: String,
    pub plan: Plan,
    pub sso: Option<SsoView>,
    pub sso_enabled: SsoEnabled,
}

/// `201` of `POST /api/admin/orgs/{org}/users`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct UserAdded {
    pub email: String,
    pub org_id: String,
}

/// One password-reset mail (`GET /api/admin/test/outbox`, `--test-mode`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct OutboxMail {
    /// The one-time reset link.
    pub link: String,
    pub subject: String,
    pub to: String,
}

/// `GET /api/admin/test/last-sso` (`--test-mode`): what the IdP sent in the last SSO sign-in,
/// accepted or not (`null` before any).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum LastSso {
    Saml(LastSamlResponse),
    IdToken(LastIdToken),
    OidcError(LastOidcError),
}

/// A SAML Response as it reached the ACS.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct LastSamlResponse {
    pub org_id: String,
    /// Always `saml`.
    pub protocol: SsoProtocol,
    pub relay_state: Option<String>,
    pub response_xml: String,
}

/// The decoded ID token of an OIDC sign-in (no signature), and why it was refused if it was.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct LastIdToken {
    /// `null` when that part does not decode.
    pub id_token_claims: serde_json::Value,
    pub id_token_header: serde_json::Value,
    pub org_id: String,
    /// Always `oidc`.
    pub protocol: SsoProtocol,
    pub refused: Option<String>,
}

/// An OIDC error the IdP sent back instead of a code.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct LastOidcError {
    pub error: String,
    pub error_description: String,
    pub org_id: String,
    /// Always `oidc`.
    pub protocol: SsoProtocol,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_are_objects_with_known_fields() {
        let b: CreateOrg =
            serde_json::from_value(json!({"name": "A", "plan": "team", "billing": "other"}))
                .unwrap();
        assert_eq!(b.plan, "team");
        let e = serde_json::from_value::<CreateOrg>(json!(["A", "team", "other"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected an object (CreateOrg)"), "{e}");
        assert!(serde_json::from_value::<PutTile>(json!({"active": "x", "a": 1})).is_err());
    }

    #[test]
    fn request_secrets_leave_only_as_requests() {
        let u = AddUser {
            email: "o@x.test".into(),
            role: "owner".into(),
            method: "password".into(),
            password: Some("pw-canary".into()),
            given_name: None,
            family_name: None,
        };
        assert_eq!(
            serde_json::to_string(&u).unwrap(),
            r#"{"email":"o@x.test","role":"owner","method":"password","password":"[redacted]"}"#
        );
        assert!(
            crate::secret::to_request_json(&u)
                .unwrap()
                .contains("pw-canary")
        );
    }

    #[test]
    fn org_urls_serialize_in_sorted_key_order() {
        let u = OrgUrls {
            acs_url: "a".into(),
            application_link: "l".into(),
            entity_id: "e".into(),
            metadata_url: "m".into(),
            oidc_redirect_uri: "r".into(),
            org_id: "o".into(),
            tile_urls: TileUrls {
                platform: "p".into(),
                workspace: "w".into(),
            },
        };
        let direct = serde_json::to_string(&u).unwrap();
        let sorted = serde_json::to_value(&u).unwrap().to_string();
        assert_eq!(direct, sorted);
        // The other answers that used to be `json!` objects.
        fn same<T: Serialize>(v: &T) {
            let direct = serde_json::to_string(v).unwrap();
            assert_eq!(direct, serde_json::to_value(v).unwrap().to_string());
        }
        same(&UserAdded {
            email: "e".into(),
            org_id: "o".into(),
        });
        same(&OutboxMail {
            link: "l".into(),
            subject: "s".into(),
            to: "t".into(),
        });
        same(&LastSamlResponse {
            org_id: "o".into(),
            protocol: SsoProtocol::Saml,
            relay_state: None,
            response_xml: "x".into(),
        });
        same(&LastIdToken {
            id_token_claims: json!({"b": 1, "a": 2}),
            id_token_header: json!({"alg": "RS256"}),
            org_id: "o".into(),
            protocol: SsoProtocol::Oidc,
            refused: Some("r".into()),
        });
        same(&LastOidcError {
            error: "e".into(),
            error_description: "d".into(),
            org_id: "o".into(),
            protocol: SsoProtocol::Oidc,
        });
        same(&SsoEnabled {
            platform: true,
            workspace: false,
        });
    }

    #[test]
    fn sso_view_is_tagged_by_protocol_and_redacts() {
        let v = SsoView::Oidc {
            client_id: "c".into(),
            client_secret: "cs-canary".into(),
            discovery_url: "d".into(),
            idp_name: "n".into(),
        };
        let wire = serde_json::to_value(&v).unwrap();
        assert_eq!(wire["protocol"], "oidc");
        assert_eq!(wire["client_secret"], "[redacted]");
    }

    #[test]
    fn last_sso_shapes_are_told_apart() {
        let s: LastSso = serde_json::from_value(json!({
            "protocol": "saml", "org_id": "o", "response_xml": "<x/>", "relay_state": null
        }))
        .unwrap();
        assert!(matches!(s, LastSso::Saml(_)));
        let t: LastSso = serde_json::from_value(json!({
            "protocol": "oidc", "org_id": "o", "id_token_header": {"alg": "RS256"},
            "id_token_claims": null, "refused": "no email"
        }))
        .unwrap();
        assert!(matches!(t, LastSso::IdToken(_)));
        let e: LastSso = serde_json::from_value(json!({
            "protocol": "oidc", "org_id": "o", "error": "access_denied", "error_description": "d"
        }))
        .unwrap();
        assert!(matches!(e, LastSso::OidcError(_)));
    }

    #[test]
    fn enum_names_parse_and_print() {
        assert_eq!(Plan::parse("edu"), Some(Plan::Edu));
        assert_eq!(Plan::parse("Edu"), None);
        assert_eq!(Method::ALL, ["password", "social", "sso", "invited"]);
        assert_eq!(
            serde_json::to_string(&DomainStatus::Verified).unwrap(),
            "\"verified\""
        );
        assert_eq!(DomainStatus::Expired.label(), "Expired");
    }
}
