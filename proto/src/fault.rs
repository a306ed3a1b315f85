//! Every way a mock IdP tenant can be told to misbehave. One enum for both protocols so the
//! control API, the CLI, the exchange log and clients share one list; the mock IdP implements
//! the behaviour of each fault, this is only its name, protocol and description.

use crate::names::{self, UnknownName};
use serde::{Deserialize, Serialize};

/// Which protocol a fault breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    Saml,
    Oidc,
    /// Applies to whichever protocol answers next.
    Any,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Saml => "saml",
            Protocol::Oidc => "oidc",
            Protocol::Any => "any",
        }
    }

    /// Whether a fault of protocol `self` affects a response of protocol `answering`.
    pub fn applies_to(self, answering: Protocol) -> bool {
        self == Protocol::Any || self == answering
    }
}

macro_rules! faults {
    ($( $variant:ident => $name:literal, $proto:ident, $desc:literal; )*) => {
        /// A fault, named in snake_case on the wire (`"unsigned"`, `"wrong_audience"`, ...).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Fault { $( #[serde(rename = $name)] $variant, )* }

        impl Fault {
            pub const ALL: &'static [Fault] = &[ $( Fault::$variant, )* ];

            /// Every wire name, in the order of [`Fault::ALL`].
            pub const NAMES: &'static [&'static str] = &[ $( $name, )* ];

            pub fn name(self) -> &'static str {
                match self { $( Fault::$variant => $name, )* }
            }

            pub fn protocol(self) -> Protocol {
                match self { $( Fault::$variant => Protocol::$proto, )* }
            }

            pub fn description(self) -> &'static str {
                match self { $( Fault::$variant => $desc, )* }
            }

            /// The fault with this exact wire name.
            pub fn from_name(name: &str) -> Option<Fault> {
                match name { $( $name => Some(Fault::$variant), )* _ => None }
            }
        }
    };
}

faults! {
    // SAML signature and key faults
    Unsigned => "unsigned", Saml, "the response and assertion carry no signature";
    UnknownKey => "unknown_key", Saml, "signed by a second key the SP does not know (\"Invalid thumbprint\")";
    ExpiredCertificate => "expired_certificate", Saml, "signed by a key whose certificate expired yesterday (not the tenant's current certificate)";
    KeyRotation => "key_rotation", Saml, "metadata lists the current and a new certificate; responses are signed with the new one";
    Sha1Signature => "sha1_signature", Saml, "signed with RSA-SHA1 and SHA-1 digests instead of SHA-256";
    Tampered => "tampered", Saml, "the NameID is changed after signing, so the digest no longer matches";
    // SAML content faults
    WrongAudience => "wrong_audience", Saml, "Audience is urn:mock-idp:wrong-audience instead of the SP's entity ID";
    WrongRecipient => "wrong_recipient", Saml, "SubjectConfirmationData Recipient is not the SP's ACS URL";
    WrongDestination => "wrong_destination", Saml, "Response Destination is not the SP's ACS URL";
    WrongIssuer => "wrong_issuer", Saml, "Issuer is not the tenant's entity ID";
    NotYetValid => "not_yet_valid", Saml, "Conditions NotBefore is one hour in the future";
    ExpiredAssertion => "expired_assertion", Saml, "NotOnOrAfter (Conditions and SubjectConfirmationData) is one hour in the past";
    InResponseToMismatch => "in_response_to_mismatch", Saml, "InResponseTo names a request the SP never sent";
    Unsolicited => "unsolicited", Saml, "no InResponseTo: an IdP-initiated response even when the SP sent a request";
    Replay => "replay", Saml, "re-sends the tenant's previous response verbatim";
    StatusResponder => "status_responder", Saml, "status urn:oasis:names:tc:SAML:2.0:status:Responder, no assertion";
    StatusAuthnFailed => "status_authn_failed", Saml, "status Responder with second-level AuthnFailed, no assertion";
    EncryptedAssertion => "encrypted_assertion", Saml, "assertion encrypted to the SP certificate: RSA-OAEP key transport + AES-128-CBC";
    EncryptedAssertionGcm => "encrypted_assertion_gcm", Saml, "assertion encrypted to the SP certificate: RSA-OAEP key transport + AES-256-GCM";
    MultipleEmails => "multiple_emails", Saml, "the email attribute carries two different addresses";
    MissingNameid => "missing_nameid", Saml, "the Subject has no NameID";
    NoNameAttributes => "no_name_attributes", Saml, "no given name, family name or display name attributes";
    SsoUrl404 => "sso_url_404", Saml, "the SSO URL answers 404 (Entra profile: \"The sts.windows.net page cannot be found\")";
    // both protocols
    ChangedEmail => "changed_email", Any, "the user's email is answered as a new address; the stable uid/sub stays the same";
    UserNotAssigned => "user_not_assigned", Any, "after login the IdP shows an access-denied page (#access-denied) instead of answering";
    SlowResponse => "slow_response", Any, "the IdP waits 5 seconds before answering";
    // OIDC token faults
    IdTokenBadSignature => "id_token_bad_signature", Oidc, "ID token signature bytes are corrupted";
    IdTokenAlgNone => "id_token_alg_none", Oidc, "ID token with alg none and an empty signature";
    IdTokenHs256PublicKey => "id_token_hs256_public_key", Oidc, "ID token HS256-signed with the RSA public key (PEM) as the HMAC secret";
    IdTokenUnknownKid => "id_token_unknown_kid", Oidc, "ID token signed by a key whose kid is not in the JWKS";
    IdTokenAttackerKey => "id_token_attacker_key", Oidc, "ID token RS256-signed by an attacker's key (in no JWKS) under the OP's kid";
    IdTokenWrongIssuer => "id_token_wrong_issuer", Oidc, "ID token iss differs from the discovery issuer";
    IdTokenWrongAudience => "id_token_wrong_audience", Oidc, "ID token aud is not the client ID";
    IdTokenMultipleAudiencesNoAzp => "id_token_multiple_audiences_no_azp", Oidc, "ID token aud lists the client and another party, without azp";
    IdTokenExpired => "id_token_expired", Oidc, "ID token exp is in the past";
    IdTokenIatFuture => "id_token_iat_future", Oidc, "ID token iat is one hour in the future";
    IdTokenNonceMismatch => "id_token_nonce_mismatch", Oidc, "ID token nonce differs from the request's nonce";
    IdTokenNonceMissing => "id_token_nonce_missing", Oidc, "ID token has no nonce although the request sent one";
    StateMismatch => "state_mismatch", Oidc, "the authorization response carries another state than the request";
    StateMissing => "state_missing", Oidc, "the authorization response carries no state although the request sent one";
    IdTokenMissingSub => "id_token_missing_sub", Oidc, "ID token without sub";
    IdTokenMissingEmail => "id_token_missing_email", Oidc, "ID token without email";
    IdTokenMissingGivenName => "id_token_missing_given_name", Oidc, "ID token without given_name";
    IdTokenMissingFamilyName => "id_token_missing_family_name", Oidc, "ID token without family_name";
    EmailNotVerified => "email_not_verified", Oidc, "email_verified is false";
    UserinfoSubMismatch => "userinfo_sub_mismatch", Oidc, "userinfo answers another sub than the ID token";
    TokenInvalidGrant => "token_invalid_grant", Oidc, "the token endpoint answers 400 invalid_grant";
    DiscoveryIssuerMismatch => "discovery_issuer_mismatch", Oidc, "discovery document's issuer differs from the URL it was fetched from";
    EntraV1Issuer => "entra_v1_issuer", Oidc, "ID token iss is the Entra v1 form https://sts.windows.net/<tenant-id>/";
    SamlResponseHeld => "saml_response_held", Saml, "the Response is not posted: the IdP's page shows its POST form (form#held-response) without submitting it, for carrying into another browser";
    AuthorizationResponseHeld => "authorization_response_held", Oidc, "the authorization response is shown as a link (a#held-response) instead of a redirect, for carrying into another browser";
}

impl Fault {
    /// The listing entry of this fault, as `GET /_control/faults` answers it.
    pub fn info(self) -> FaultInfo {
        FaultInfo {
            name: self.name().to_string(),
            protocol: self.protocol(),
            description: self.description().to_string(),
        }
    }
}

/// The known fault name nearest to `name`, if it is close enough to be a typo
/// (`closest("unsinged") == Some("unsigned")`); an exact name is its own closest.
pub fn closest(name: &str) -> Option<&'static str> {
    names::closest(name, Fault::NAMES)
}

impl std::str::FromStr for Fault {
    type Err = UnknownName;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Fault::from_name(name).ok_or_else(|| UnknownName {
            what: "fault",
            name: name.to_string(),
            suggestion: closest(name),
        })
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One entry of `GET /_control/faults`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultInfo {
    pub name: String,
    pub protocol: Protocol,
    pub description: String,
}

/// Every fault's listing entry, in the order of [`Fault::ALL`].
pub fn infos() -> Vec<FaultInfo> {
    Fault::ALL.iter().map(|f| f.info()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_listing_names() {
        assert_eq!(Fault::ALL.len(), Fault::NAMES.len());
        for (f, name) in Fault::ALL.iter().zip(Fault::NAMES) {
            assert_eq!(f.name(), *name);
            let wire = serde_json::to_string(f).unwrap();
            assert_eq!(wire, format!("\"{}\"", f.name()));
            let back: Fault = serde_json::from_str(&wire).unwrap();
            assert_eq!(back, *f);
            assert_eq!(Fault::from_name(name), Some(*f));
            assert_eq!(name.parse::<Fault>(), Ok(*f));
        }
    }

    #[test]
    fn unknown_name_is_an_error_with_a_suggestion() {
        assert!(serde_json::from_str::<Fault>("\"unsinged\"").is_err());
        assert_eq!(Fault::from_name("unsinged"), None);
        let e = "unsinged".parse::<Fault>().unwrap_err();
        assert_eq!(e.suggestion, Some("unsigned"));
        assert!(e.to_string().contains("did you mean `unsigned`"), "{e}");
        assert_eq!(closest("id_token_alg_nnoe"), Some("id_token_alg_none"));
        assert_eq!(
            "completely-else".parse::<Fault>().unwrap_err().suggestion,
            None
        );
    }

    #[test]
    fn infos_list_every_fault_with_its_protocol() {
        let all = infos();
        assert_eq!(all.len(), Fault::ALL.len());
        let wire = serde_json::to_value(&all).unwrap();
        assert_eq!(wire[0]["name"], "unsigned");
        assert_eq!(wire[0]["protocol"], "saml");
        let back: Vec<FaultInfo> = serde_json::from_value(wire).unwrap();
        assert_eq!(back, all);
    }
}
