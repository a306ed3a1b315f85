//! SAML single logout on the wire: which binding carries a logout message to the SP
//! (`sp.slo_binding`) and how the mock IdP shapes the LogoutRequest and LogoutResponse it
//! sends (`saml.logout` of a tenant spec). The mock IdP builds and signs the messages; this is
//! only their wire shape.

use crate::object::object_only;
use serde::{Deserialize, Serialize};

/// How a logout message travels through the browser to the SP's SingleLogoutService.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SloBinding {
    /// An auto-submitting form; the message carries an enveloped XML signature.
    #[default]
    Post,
    /// A redirect whose query carries the deflated message, `SigAlg` and `Signature`.
    Redirect,
}

/// The signature a logout message carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogoutSignature {
    /// Signed with the tenant's key (what the SP trusts).
    #[default]
    Genuine,
    /// No signature at all.
    None,
    /// Signed with the tenant's key, then the signature value changed (it no longer verifies).
    Bad,
    /// Signed with a key the SP was never given.
    AttackerKey,
}

/// `saml.logout`: what the next logout messages say. Every field is optional; an empty one is
/// the genuine message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct LogoutForge {
    #[serde(default)]
    pub signature: LogoutSignature,
    /// LogoutRequest: `NotOnOrAfter`, in seconds from the tenant's now (absent: +5 minutes;
    /// negative: already expired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_on_or_after_seconds: Option<i64>,
    /// `Version` of both messages (absent: `2.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The `ID` of both messages (absent: a fresh, well-formed one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The `Issuer` of both messages (absent: the tenant's entity ID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// LogoutRequest: the NameID to sign out (absent: the one the IdP's last response for the
    /// signed-in user carried).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_id: Option<String>,
    /// LogoutRequest: the SessionIndex (absent: the last response's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_index: Option<String>,
    /// LogoutResponse: `InResponseTo` (absent: the ID of the SP's LogoutRequest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_response_to: Option<String>,
    /// LogoutResponse: the top-level status code URI (absent: Success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The binding to the SP, replacing `sp.slo_binding` for this message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<SloBinding>,
}

object_only!(LogoutForge);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_genuine_and_unknown_fields_are_errors() {
        let f: LogoutForge = serde_json::from_str("{}").unwrap();
        assert_eq!(f, LogoutForge::default());
        assert_eq!(f.signature, LogoutSignature::Genuine);
        let e = serde_json::from_str::<LogoutForge>(r#"{"signatur": "none"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `signatur`"), "{e}");
        let f: LogoutForge =
            serde_json::from_str(r#"{"signature": "attacker_key", "binding": "redirect"}"#)
                .unwrap();
        assert_eq!(f.signature, LogoutSignature::AttackerKey);
        assert_eq!(f.binding, Some(SloBinding::Redirect));
    }
}
