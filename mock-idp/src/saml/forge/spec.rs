//! The `forge` object of the control API and the tenant's SAML options: serde types (unknown
//! fields are errors) and the checks that name the JSON path of a bad field. Checks that need
//! the response itself (does this path match anything?) run as a dry run in `mod.rs`.

use super::attack::{Attack, Needs};
use super::edits::Path;
use crate::error::{Error, Result};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// The attributes `times` may set (created when absent, as SessionNotOnOrAfter usually is).
pub const TIME_ATTRIBUTES: &[&str] = &[
    "IssueInstant",
    "NotBefore",
    "NotOnOrAfter",
    "AuthnInstant",
    "SessionNotOnOrAfter",
];

/// Bound on `times` offsets so date arithmetic never overflows (as the clock API does).
pub const MAX_OFFSET_SECONDS: i64 = 100 * 365 * 24 * 3600;

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ForgeSpec {
    /// What is signed; absent: the tenant's `saml.sign`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign: Option<SignChoice>,
    /// Absent: RSA-SHA256 (RSA-SHA1 with `saml.sha1` or the `sha1_signature` fault).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_algorithm: Option<SignatureAlgorithm>,
    /// Absent: the signature algorithm's hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest_algorithm: Option<DigestAlgorithm>,
    /// Absent: `x509`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_info: Option<KeyInfoChoice>,
    /// Absent: `tenant` (the key faults `unknown_key`, `expired_certificate` and
    /// `key_rotation` still pick which tenant key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<SigningKeyChoice>,
    /// Encrypt the assertion to `sp.certificate_pem` (as the `encrypted_assertion` faults do).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypt: Option<EncryptChoice>,
    /// Layer 1, applied in order before signing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<Edit>,
    /// Attribute path -> seconds from the tenant's now.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub times: BTreeMap<String, i64>,
    /// Layer 3, applied to the signed XML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack: Option<Attack>,
    /// Who the attacker wants to be: what the evil copies say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forged_identity: Option<String>,
    /// Where the parser attacks point (xxe, entity_expansion, xslt_transform).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_url: Option<String>,
    /// A hand-written Response with `{{placeholders}}`, used instead of the built one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// `"assertion" | "response" | "both" | "none"`, or `{"element": "Assertion" | "Response"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignChoice {
    None,
    Assertion,
    Response,
    Both,
}

impl SignChoice {
    pub fn assertion(self) -> bool {
        matches!(self, SignChoice::Assertion | SignChoice::Both)
    }

    pub fn response(self) -> bool {
        matches!(self, SignChoice::Response | SignChoice::Both)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SignChoice::None => "none",
            SignChoice::Assertion => "assertion",
            SignChoice::Response => "response",
            SignChoice::Both => "both",
        }
    }
}

impl Serialize for SignChoice {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignElement {
    element: ElementName,
}

#[derive(Deserialize)]
enum ElementName {
    Assertion,
    Response,
}

impl<'de> Deserialize<'de> for SignChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SignChoice;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "\"assertion\", \"response\", \"both\", \"none\" or {\"element\": \"Assertion\" | \"Response\"}",
                )
            }

            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<SignChoice, E> {
                match v {
                    "assertion" => Ok(SignChoice::Assertion),
                    "response" => Ok(SignChoice::Response),
                    "both" => Ok(SignChoice::Both),
                    "none" => Ok(SignChoice::None),
                    other => Err(E::unknown_variant(
                        other,
                        &["assertion", "response", "both", "none"],
                    )),
                }
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<SignChoice, A::Error> {
                let e = SignElement::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(match e.element {
                    ElementName::Assertion => SignChoice::Assertion,
                    ElementName::Response => SignChoice::Response,
                })
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum SignatureAlgorithm {
    #[serde(rename = "rsa-sha1")]
    RsaSha1,
    #[serde(rename = "rsa-sha256")]
    RsaSha256,
    #[serde(rename = "rsa-sha384")]
    RsaSha384,
    #[serde(rename = "rsa-sha512")]
    RsaSha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DigestAlgorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl SignatureAlgorithm {
    pub fn digest(self) -> DigestAlgorithm {
        match self {
            SignatureAlgorithm::RsaSha1 => DigestAlgorithm::Sha1,
            SignatureAlgorithm::RsaSha256 => DigestAlgorithm::Sha256,
            SignatureAlgorithm::RsaSha384 => DigestAlgorithm::Sha384,
            SignatureAlgorithm::RsaSha512 => DigestAlgorithm::Sha512,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyInfoChoice {
    /// `ds:X509Data/ds:X509Certificate`: the signing key's certificate.
    X509,
    /// `ds:KeyValue/ds:RSAKeyValue` (modulus and exponent), no certificate.
    RsaKeyValue,
    /// No `ds:KeyInfo`.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SigningKeyChoice {
    /// The tenant's key (the one its metadata lists).
    Tenant,
    /// A key the metadata never lists (the tenant's "unknown" key), its own certificate in
    /// KeyInfo: what an attacker signs with.
    Attacker,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum EncryptChoice {
    #[serde(rename = "aes128-cbc")]
    Aes128Cbc,
    #[serde(rename = "aes256-gcm")]
    Aes256Gcm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EditOp {
    Remove,
    Empty,
    Set,
    Duplicate,
    Insert,
}

/// Where `insert` puts an `xml` fragment: inside the addressed element (`first`, `last`) or
/// beside it (`before`, `after`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    First,
    Last,
    Before,
    After,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    pub op: EditOp,
    pub path: String,
    /// New text or attribute value (`set`, `insert`; `duplicate`: the copy's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `insert`: a fragment to insert (prefixes resolve as at the insertion point).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xml: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
}

/// Joins a JSON path prefix and a field (`saml.forge` + `edits[0].path`).
pub fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

fn check_identity(value: &str) -> bool {
    !value.trim().is_empty() && !value.chars().any(char::is_control)
}

/// A canary URL ends up inside DTD literals and an XPath string: absolute http(s), and no
/// quote of either kind.
pub fn check_canary(value: &str) -> std::result::Result<(), String> {
    let url =
        url::Url::parse(value).map_err(|e| format!("'{value}' is not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL".into());
    }
    if value.contains(['"', '\'', '<', '>', '%', ' ']) {
        return Err("must not contain quotes, <, >, % or spaces".into());
    }
    Ok(())
}

impl ForgeSpec {
    /// Checks that need no response. `sign` is what will actually be signed (this spec's
    /// `sign`, else the tenant's).
    pub fn check_fields(&self, prefix: &str, sign: SignChoice) -> Result<()> {
        let at = |f: &str| join(prefix, f);
        if let Some(attack) = self.attack {
            let needs = attack.needs();
            let ok = match needs {
                Needs::Nothing => true,
                Needs::AnySignature => sign != SignChoice::None,
                Needs::AssertionSignature => sign.assertion(),
                Needs::ResponseSignature => sign.response(),
            };
            if !ok {
                return Err(Error::bad_input(
                    at("attack"),
                    format!(
                        "{} needs {} (this response signs: {})",
                        attack.name(),
                        needs.describe(),
                        sign.as_str()
                    ),
                ));
            }
            if attack.needs_identity() {
                match &self.forged_identity {
                    None => {
                        return Err(Error::bad_input(
                            at("forged_identity"),
                            format!("{} needs the identity the evil copy names", attack.name()),
                        ));
                    }
                    Some(v) if !check_identity(v) => {
                        return Err(Error::bad_input(
                            at("forged_identity"),
                            "must be non-empty text without control characters",
                        ));
                    }
                    Some(_) => {}
                }
            }
            if attack.needs_canary() {
                let url = self.canary_url.as_deref().ok_or_else(|| {
                    Error::bad_input(
                        at("canary_url"),
                        format!("{} needs the canary URL it points at", attack.name()),
                    )
                })?;
                check_canary(url).map_err(|e| Error::bad_input(at("canary_url"), e))?;
            }
        }
        if let Some(v) = &self.forged_identity
            && !check_identity(v)
        {
            return Err(Error::bad_input(
                at("forged_identity"),
                "must be non-empty text without control characters",
            ));
        }
        if let Some(url) = &self.canary_url {
            check_canary(url).map_err(|e| Error::bad_input(at("canary_url"), e))?;
        }
        // Every signature/digest combination is allowed on purpose: mixed ones (an
        // rsa-sha256 signature over sha1 digests) are a test in themselves.
        if sign == SignChoice::None
            && (self.signing_key.is_some() || self.key_info.is_some())
            && self.attack != Some(Attack::AttackerKeyValue)
        {
            return Err(Error::bad_input(
                at("sign"),
                "is none, so signing_key and key_info would have no effect",
            ));
        }
        for (i, edit) in self.edits.iter().enumerate() {
            let here = |f: &str| at(&format!("edits[{i}].{f}"));
            let path = Path::parse(&edit.path).map_err(|e| Error::bad_input(here("path"), e))?;
            let needs_value =
                matches!(edit.op, EditOp::Set) || (edit.op == EditOp::Insert && edit.xml.is_none());
            if needs_value && edit.value.is_none() {
                return Err(Error::bad_input(
                    here("value"),
                    format!("{:?} needs a value", edit.op).to_lowercase(),
                ));
            }
            if matches!(edit.op, EditOp::Remove | EditOp::Empty) && edit.value.is_some() {
                return Err(Error::bad_input(
                    here("value"),
                    format!("{:?} takes no value", edit.op).to_lowercase(),
                ));
            }
            if edit.xml.is_some() {
                if edit.op != EditOp::Insert {
                    return Err(Error::bad_input(here("xml"), "only insert takes xml"));
                }
                if edit.value.is_some() {
                    return Err(Error::bad_input(
                        here("value"),
                        "give value or xml, not both",
                    ));
                }
                if path.attr.is_some() {
                    return Err(Error::bad_input(
                        here("path"),
                        "xml is inserted at an element, not an attribute",
                    ));
                }
            }
            if edit.position.is_some() && edit.op != EditOp::Insert {
                return Err(Error::bad_input(
                    here("position"),
                    "only insert takes a position",
                ));
            }
        }
        for (key, offset) in &self.times {
            let here = format!("{}[{key:?}]", at("times"));
            let path = Path::parse(key).map_err(|e| Error::bad_input(&here, e))?;
            match path.attr.as_deref() {
                Some(a) if TIME_ATTRIBUTES.contains(&a) => {}
                Some(a) => {
                    return Err(Error::bad_input(
                        &here,
                        format!("@{a} is not a time; one of {}", TIME_ATTRIBUTES.join(", ")),
                    ));
                }
                None => {
                    return Err(Error::bad_input(
                        &here,
                        "a times path ends with the @attribute that holds the time",
                    ));
                }
            }
            if offset.abs() > MAX_OFFSET_SECONDS {
                return Err(Error::bad_input(&here, "must be within +-100 years"));
            }
        }
        if let Some(t) = &self.template {
            super::template::check(t).map_err(|e| Error::bad_input(at("template"), e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> ForgeSpec {
        crate::control::from_json(json.as_bytes()).unwrap()
    }

    fn path_of(json: &str) -> String {
        let bytes = format!("{{\"forge\": {json}}}");
        #[derive(Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Body {
            forge: ForgeSpec,
        }
        match crate::control::from_json::<Body>(bytes.as_bytes()) {
            Err(Error::BadInput { path, .. }) => path,
            Ok(b) => match b.forge.check_fields("forge", SignChoice::Assertion) {
                Err(Error::BadInput { path, .. }) => path,
                other => panic!("{json}: {other:?}"),
            },
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn sign_reads_a_word_or_an_element() {
        assert_eq!(spec(r#"{"sign":"both"}"#).sign, Some(SignChoice::Both));
        assert_eq!(
            spec(r#"{"sign":{"element":"Response"}}"#).sign,
            Some(SignChoice::Response)
        );
        assert_eq!(
            path_of(r#"{"sign":{"element":"Subject"}}"#),
            "forge.sign.element"
        );
        assert_eq!(
            path_of(r#"{"sign":{"elemnt":"Response"}}"#),
            "forge.sign.elemnt"
        );
        assert_eq!(path_of(r#"{"sign":"everything"}"#), "forge.sign");
    }

    #[test]
    fn bad_fields_name_their_path() {
        assert_eq!(
            path_of(r#"{"signature_algorithm":"rsa-md5"}"#),
            "forge.signature_algorithm"
        );
        assert_eq!(
            path_of(
                r#"{"edits":[{"op":"set","path":"Response/@ID","value":"x"},{"op":"zap","path":"x"}]}"#
            ),
            "forge.edits[1].op"
        );
        assert_eq!(
            path_of(r#"{"edits":[{"op":"set","path":"Nope/X","value":"x"}]}"#),
            "forge.edits[0].path"
        );
        assert_eq!(
            path_of(r#"{"edits":[{"op":"set","path":"Assertion/Subject/NameID"}]}"#),
            "forge.edits[0].value"
        );
        assert_eq!(
            path_of(r#"{"edits":[{"op":"remove","path":"Assertion","value":"x"}]}"#),
            "forge.edits[0].value"
        );
        assert_eq!(
            path_of(r#"{"times":{"Assertion/Conditions":60}}"#),
            "forge.times[\"Assertion/Conditions\"]"
        );
        assert_eq!(
            path_of(r#"{"times":{"Assertion/@IssueInstant":99999999999}}"#),
            "forge.times[\"Assertion/@IssueInstant\"]"
        );
        assert_eq!(path_of(r#"{"attack":"xsw9"}"#), "forge.attack");
        assert_eq!(
            path_of(r#"{"attack":"xsw1","forged_identity":"a@b.c"}"#),
            "forge.attack"
        );
        assert_eq!(path_of(r#"{"attack":"xsw3"}"#), "forge.forged_identity");
        assert_eq!(path_of(r#"{"attack":"xxe"}"#), "forge.canary_url");
        assert_eq!(
            path_of(r#"{"attack":"xxe","canary_url":"http://x/'a"}"#),
            "forge.canary_url"
        );
        assert_eq!(path_of(r#"{"attck":"xxe"}"#), "forge.attck");
        assert_eq!(
            path_of(r#"{"template":"<r>{{nope}}</r>"}"#),
            "forge.template"
        );
    }

    #[test]
    fn yaml_reads_the_same_shape() {
        let s: ForgeSpec = serde_yaml_ng::from_str(
            "sign: {element: Assertion}\nattack: xsw3\nforged_identity: alice@acme.test\ntimes:\n  Assertion/@IssueInstant: -5\n",
        )
        .unwrap();
        assert_eq!(s.sign, Some(SignChoice::Assertion));
        assert_eq!(s.attack, Some(Attack::Xsw3));
        assert_eq!(s.times["Assertion/@IssueInstant"], -5);
        assert!(serde_yaml_ng::from_str::<ForgeSpec>("sign: {element: Foo}\n").is_err());
    }

    #[test]
    fn a_good_spec_passes_and_round_trips() {
        let s = spec(
            r#"{"sign":"assertion","signature_algorithm":"rsa-sha256","digest_algorithm":"sha1","key_info":"x509",
               "signing_key":"tenant","edits":[{"op":"set","path":"Assertion/Subject/NameID","value":"x"}],
               "times":{"Assertion/Conditions/@NotOnOrAfter":-3600},"attack":"xsw3",
               "forged_identity":"alice@acme.test","canary_url":"http://127.0.0.1:9/x"}"#,
        );
        s.check_fields("forge", SignChoice::Assertion).unwrap();
        let back: ForgeSpec = serde_json::from_value(serde_json::to_value(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }
}
