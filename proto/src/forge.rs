//! The SAML message forge of the mock IdP (`saml.forge` of a tenant spec, `forge` of
//! `POST .../faults/next`): what to edit before signing, how to sign, which attack to apply
//! after, and the attack table (name, CWE, CVE). The mock IdP does the forging
//! (`mock-idp/src/saml/forge/`) and checks what needs more than the types (paths, templates,
//! whether an attack fits the signing); this is only the wire shape and the names.

use crate::names::{self, UnknownName};
use crate::object::object_only;
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
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
    /// Encrypt the Subject's NameID as `EncryptedID`, to `sp.certificate_pem`, before signing
    /// (with `encrypt`'s algorithms, else AES-128-CBC).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub encrypt_name_id: bool,
    /// Encrypt each Attribute as `EncryptedAttribute`, likewise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub encrypt_attributes: bool,
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
#[serde(remote = "Self", deny_unknown_fields)]
struct SignElement {
    element: ElementName,
}

impl<'de> Deserialize<'de> for SignElement {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        SignElement::deserialize(crate::object::ObjectOnly(d))
    }
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
    /// 3DES-CBC content (key wrapped with RSA-OAEP): a weak cipher an SP should refuse.
    #[serde(rename = "tripledes-cbc")]
    TripleDesCbc,
    /// AES-128-CBC content with the key wrapped by RSA PKCS#1 v1.5 (`rsa-1_5`): a padding
    /// oracle an SP should refuse.
    #[serde(rename = "aes128-cbc-rsa1_5")]
    Aes128CbcRsa15,
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

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
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

/// What an attack needs from the signing layer to make sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Needs {
    Nothing,
    AnySignature,
    AssertionSignature,
    ResponseSignature,
}

impl Needs {
    pub fn describe(self) -> &'static str {
        match self {
            Needs::Nothing => "nothing",
            Needs::AnySignature => "a signature (sign: assertion, response or both)",
            Needs::AssertionSignature => "a signed assertion (sign: assertion or both)",
            Needs::ResponseSignature => "a signed Response (sign: response or both)",
        }
    }
}

macro_rules! attacks {
    ($( $variant:ident => $name:literal, $needs:ident, identity: $identity:literal, canary: $canary:literal,
        $cwe:literal, $cve:expr, $desc:literal; )*) => {
        /// An attack, named in snake_case on the wire (`"xsw3"`, `"comment_in_nameid"`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Attack { $( #[serde(rename = $name)] $variant, )* }

        impl Attack {
            pub const ALL: &'static [Attack] = &[ $( Attack::$variant, )* ];

            /// Every wire name, in the order of [`Attack::ALL`].
            pub const NAMES: &'static [&'static str] = &[ $( $name, )* ];

            /// The attack with this exact wire name.
            pub fn from_name(name: &str) -> Option<Attack> {
                match name { $( $name => Some(Attack::$variant), )* _ => None }
            }

            pub fn name(self) -> &'static str {
                match self { $( Attack::$variant => $name, )* }
            }

            pub fn needs(self) -> Needs {
                match self { $( Attack::$variant => Needs::$needs, )* }
            }

            /// Whether the attack writes `forged_identity` somewhere.
            pub fn needs_identity(self) -> bool {
                match self { $( Attack::$variant => $identity, )* }
            }

            /// Whether the attack points at `canary_url`.
            pub fn needs_canary(self) -> bool {
                match self { $( Attack::$variant => $canary, )* }
            }

            pub fn cwe(self) -> &'static str {
                match self { $( Attack::$variant => $cwe, )* }
            }

            pub fn cve(self) -> Option<&'static str> {
                match self { $( Attack::$variant => $cve, )* }
            }

            pub fn description(self) -> &'static str {
                match self { $( Attack::$variant => $desc, )* }
            }
        }
    };
}

attacks! {
    Xsw1 => "xsw1", ResponseSignature, identity: true, canary: false, "CWE-347", None,
        "XSW1: the signed Response, its signature removed, is appended inside the Signature of an evil Response (new ID, forged identity) that keeps the original signature";
    Xsw2 => "xsw2", ResponseSignature, identity: true, canary: false, "CWE-347", None,
        "XSW2: as xsw1, but the original Response sits before the Signature as its sibling (a detached signature)";
    Xsw3 => "xsw3", AssertionSignature, identity: true, canary: false, "CWE-347", None,
        "XSW3: an evil unsigned copy of the assertion (new ID, forged identity) is inserted before the signed one";
    Xsw4 => "xsw4", AssertionSignature, identity: true, canary: false, "CWE-347", None,
        "XSW4: the signed assertion becomes the last child of an evil unsigned copy (new ID, forged identity) that takes its place";
    Xsw5 => "xsw5", AssertionSignature, identity: true, canary: false, "CWE-347", None,
        "XSW5: the evil assertion (new ID, forged identity) keeps the original Signature; an unsigned copy of the original is appended to the Response";
    Xsw6 => "xsw6", AssertionSignature, identity: true, canary: false, "CWE-347", None,
        "XSW6: the evil assertion keeps the original Signature, and the unsigned original sits inside that Signature";
    Xsw7 => "xsw7", AssertionSignature, identity: true, canary: false, "CWE-347", None,
        "XSW7: an evil unsigned copy with the same ID goes into a samlp:Extensions element (lax schema) before the signed assertion";
    Xsw8 => "xsw8", AssertionSignature, identity: true, canary: false, "CWE-347", None,
        "XSW8: the assertion itself says the forged identity and keeps its Signature; the unsigned original (same ID) sits in a ds:Object inside that Signature";
    DuplicateAssertion => "duplicate_assertion", AssertionSignature, identity: true, canary: false, "CWE-347", Some("CVE-2022-41912"),
        "the genuine signed assertion, then an unsigned copy (new ID) that names the forged identity";
    SignatureExclusion => "signature_exclusion", Nothing, identity: false, canary: false, "CWE-347", None,
        "every ds:Signature removed (and, with forged_identity, every NameID and matching attribute value says it)";
    CommentInNameid => "comment_in_nameid", AnySignature, identity: true, canary: false, "CWE-436", Some("CVE-2017-11427"),
        "an empty comment splits the signed NameID (and equal attribute values) after the forged identity, which must be a prefix of the genuine one: c14n drops comments, so the signature holds, and a reader of the first text node sees the forged identity";
    CdataInNameid => "cdata_in_nameid", AnySignature, identity: true, canary: false, "CWE-436", None,
        "the signed NameID (and equal attribute values) is split into text and a CDATA section after the forged identity, which must be a prefix of the genuine one: c14n reads both as text, a reader of text nodes only sees the forged identity";
    PiInNameid => "pi_in_nameid", AnySignature, identity: true, canary: false, "CWE-347", Some("CVE-2025-54419"),
        "the signed NameID (and equal attribute values) keeps the forged identity, which must be a proper prefix of the genuine one, as text and hides the rest in a processing instruction: xml-crypto's c14n writes a PI's data as plain text, so its digest holds, and a reader that skips PIs (node-saml before 5.1.0, via xml2js) sees the forged identity; a conformant c14n keeps the PI, so the digest fails there";
    AdviceWrapping => "advice_wrapping", AssertionSignature, identity: true, canary: false, "CWE-347", None,
        "the genuine signed assertion moves into saml:Advice of an evil unsigned assertion (new ID, forged identity) that takes its place";
    ResponseInAdvice => "response_in_advice", ResponseSignature, identity: true, canary: false, "CWE-347", Some("CVE-2025-47949"),
        "an evil Response (new ID) carries the genuine Response's Signature; its evil unsigned assertion (new ID, forged identity) holds the genuine Response, its signature removed, in saml:Advice: a verifier that finds the referenced ID anywhere checks the genuine one, a reader of Response/Assertion takes the evil one";
    CommentInDigestValue => "comment_in_digest_value", AnySignature, identity: true, canary: false, "CWE-347", Some("CVE-2025-29775"),
        "the signed element is edited to the forged identity and a comment holding its new digest is put before the genuine DigestValue text: c14n drops the comment (SignatureValue still verifies), a reader of the first child node takes the comment's digest, which matches";
    SecondSignedInfo => "second_signed_info", AssertionSignature, identity: true, canary: false, "CWE-347", Some("CVE-2025-29774"),
        "the evil assertion (new ID, forged identity) carries the original Signature plus a second SignedInfo that references it with a correct digest; the unsigned original follows it";
    TwoRoots => "two_roots", AssertionSignature, identity: true, canary: false, "CWE-347", Some("CVE-2022-39299"),
        "the genuine signed assertion as the document's first top-level element, then an evil unsigned Response (forged identity) as a second one: not well-formed";
    SignedElementInIssuer => "signed_element_in_issuer", AnySignature, identity: true, canary: false, "CWE-347", None,
        "an evil copy of the signed element (new ID, forged identity, a junk Signature of its own) holds the genuine signed element inside its Issuer";
    AttackerKeyValue => "attacker_key_value", AnySignature, identity: true, canary: false, "CWE-347", Some("CVE-2024-32962"),
        "the forged identity, re-signed with an attacker key the metadata never lists, shipped as ds:RSAKeyValue (no certificate)";
    DoctypeFakeAssertion => "doctype_fake_assertion", AnySignature, identity: true, canary: false, "CWE-436", Some("CVE-2025-25291"),
        "the genuine signed response behind a DOCTYPE whose internal subset declares an entity holding an evil assertion (forged identity): content only to a parser that reads the DTD as markup, or to a text search";
    NamespaceConfusion => "namespace_confusion", AssertionSignature, identity: true, canary: false, "CWE-436", Some("CVE-2025-25292"),
        "an evil unprefixed <Assertion> (no namespace declared) before the signed one, and a DOCTYPE ATTLIST that gives Assertion the SAML namespace as a #FIXED default xmlns: only a parser applying DTD defaults sees a SAML assertion there";
    NestedAfterSubject => "nested_after_subject", AssertionSignature, identity: true, canary: false, "CWE-347", None,
        "the ninth wrapping permutation: the evil assertion (new ID, forged identity) carries the original Signature, and the unsigned original (its own ID) is nested in it right after the evil Subject";
    SecondSignedAssertion => "second_signed_assertion", AssertionSignature, identity: true, canary: false, "CWE-347", None,
        "an evil assertion (new ID, forged identity) signed with an attacker key the metadata never lists (its certificate in KeyInfo) is put before the genuine signed one: two signed assertions, one signature by the trusted key";
    ConcealedResponse => "concealed_response", ResponseSignature, identity: true, canary: false, "CWE-347", None,
        "the genuine signed Response, untouched, is concealed as the last child of an evil unsigned Response (new ID, forged identity): the whole message verifies, the root is not what was signed";
    DoctypeIdAttribute => "doctype_id_attribute", AssertionSignature, identity: true, canary: false, "CWE-436", Some("CVE-2025-23369"),
        "a DOCTYPE ATTLIST declares Assertion/@ID an ID; the genuine signed assertion moves into samlp:Extensions and an evil copy with the same ID takes its place: an ID table filled from the DTD (libxml2) finds the genuine one first, a reader of Response/Assertion takes the evil one";
    Xxe => "xxe", Nothing, identity: false, canary: true, "CWE-611", None,
        "a DOCTYPE with an external parameter entity and an external general entity at canary_url; the general entity is referenced in the Response's Issuer";
    EntityExpansion => "entity_expansion", Nothing, identity: false, canary: true, "CWE-776", None,
        "billion laughs bounded at 100,000 copies (5 levels of 10), whose top entity also references an external entity at canary_url; referenced in the Response's Issuer";
    XsltTransform => "xslt_transform", AnySignature, identity: false, canary: true, "CWE-918", None,
        "an XSLT transform whose stylesheet loads document(canary_url) is put first in the first Reference's Transforms (the signature no longer verifies; a vulnerable SP fetches the canary while processing the Reference)";
    Junk => "junk", Nothing, identity: false, canary: false, "CWE-20", None,
        "SAMLResponse is not base64 at all";
    Truncated => "truncated", Nothing, identity: false, canary: false, "CWE-20", None,
        "SAMLResponse is the base64 of the first half of the XML";
    WrongEncoding => "wrong_encoding", Nothing, identity: false, canary: false, "CWE-172", None,
        "the XML as ISO-8859-1 bytes under a UTF-8 declaration (non-ASCII text, and a trailing comment with \u{e9}, are single bytes: never UTF-8)";
}

object_only!(ForgeSpec, Edit);

impl Attack {
    /// The listing entry of this attack, as `GET /_control/forge/attacks` answers it.
    pub fn info(self) -> AttackInfo {
        AttackInfo {
            name: self.name().to_string(),
            description: self.description().to_string(),
            cwe: self.cwe().to_string(),
            cve: self.cve().map(str::to_string),
            needs: self.needs(),
            forged_identity: self.needs_identity(),
            canary_url: self.needs_canary(),
        }
    }
}

/// The known attack name nearest to `name`, if it is close enough to be a typo.
pub fn closest(name: &str) -> Option<&'static str> {
    names::closest(name, Attack::NAMES)
}

impl std::str::FromStr for Attack {
    type Err = UnknownName;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Attack::from_name(name).ok_or_else(|| UnknownName {
            what: "attack",
            name: name.to_string(),
            suggestion: closest(name),
        })
    }
}

impl std::fmt::Display for Attack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One entry of `GET /_control/forge/attacks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackInfo {
    pub name: String,
    pub description: String,
    pub cwe: String,
    pub cve: Option<String>,
    /// What must be signed for the attack to make sense.
    pub needs: Needs,
    /// Whether the attack needs `forged_identity`.
    pub forged_identity: bool,
    /// Whether the attack needs `canary_url`.
    pub canary_url: bool,
}

/// Every attack's listing entry, in the order of [`Attack::ALL`].
pub fn infos() -> Vec<AttackInfo> {
    Attack::ALL.iter().map(|a| a.info()).collect()
}

/// What the exchange log says about a forged response (`Exchange.forge`), next to the
/// decoded message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgeRecord {
    pub attack: Option<Attack>,
    pub cwe: Option<String>,
    pub cve: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forged_identity: Option<String>,
    pub sign: SignChoice,
    pub signature_algorithm: SignatureAlgorithm,
    pub digest_algorithm: DigestAlgorithm,
    pub key_info: KeyInfoChoice,
    pub signing_key: SigningKeyChoice,
    pub encrypted: bool,
    pub template: bool,
    /// How many edits and times were applied.
    pub edits: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sign_reads_a_word_or_an_element() {
        let s: ForgeSpec = serde_json::from_value(json!({"sign": "both"})).unwrap();
        assert_eq!(s.sign, Some(SignChoice::Both));
        let s: ForgeSpec =
            serde_json::from_value(json!({"sign": {"element": "Response"}})).unwrap();
        assert_eq!(s.sign, Some(SignChoice::Response));
        for bad in [
            json!({"sign": {"element": "Subject"}}),
            json!({"sign": {"elemnt": "Response"}}),
            json!({"sign": "everything"}),
            json!({"sign": [{"element": "Response"}]}),
        ] {
            assert!(
                serde_json::from_value::<ForgeSpec>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_forge_spec_is_an_object_only_and_round_trips() {
        let e = serde_json::from_value::<ForgeSpec>(json!([]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected an object (ForgeSpec)"), "{e}");
        let e = serde_json::from_value::<ForgeSpec>(json!({"edits": [["set", "x"]]}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected an object (Edit)"), "{e}");
        assert!(serde_json::from_value::<ForgeSpec>(json!({"attck": "xsw1"})).is_err());
        let s: ForgeSpec = serde_json::from_value(json!({
            "sign": "assertion", "signature_algorithm": "rsa-sha512", "digest_algorithm": "sha1",
            "key_info": "rsa_key_value", "signing_key": "attacker", "encrypt": "aes256-gcm",
            "edits": [{"op": "insert", "path": "Assertion/Subject", "xml": "<x/>", "position": "first"}],
            "times": {"Assertion/@IssueInstant": -5}, "attack": "xsw3",
            "forged_identity": "alice@acme.test", "canary_url": "http://127.0.0.1:9/x",
            "template": "<r/>"}))
        .unwrap();
        let back: ForgeSpec = serde_json::from_value(serde_json::to_value(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn attack_names_are_unique_and_checked_offline() {
        assert_eq!(Attack::ALL.len(), Attack::NAMES.len());
        for (a, name) in Attack::ALL.iter().zip(Attack::NAMES) {
            assert_eq!(a.name(), *name);
            assert_eq!(serde_json::to_value(a).unwrap(), json!(name));
            assert_eq!(name.parse::<Attack>(), Ok(*a));
            assert!(a.cwe().starts_with("CWE-"));
            assert!(a.cve().is_none_or(|c| c.starts_with("CVE-")));
        }
        let e = "xsw33".parse::<Attack>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown attack `xsw33` (did you mean `xsw3`?)"
        );
        assert_eq!(infos().len(), Attack::ALL.len());
    }
}
