//! The `forge` object of the control API and the tenant's SAML options: serde types (unknown
//! fields are errors) and the checks that name the JSON path of a bad field. Checks that need
//! the response itself (does this path match anything?) run as a dry run in `mod.rs`.

use super::edits::Path;
use crate::error::{Error, Result};
use proto::idp::MAX_CLOCK_OFFSET_SECONDS;

pub use proto::forge::{
    Attack, DigestAlgorithm, Edit, EditOp, EncryptChoice, ForgeSpec, KeyInfoChoice, Needs,
    Position, SignChoice, SignatureAlgorithm, SigningKeyChoice, TIME_ATTRIBUTES,
};

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

/// Checks that need no response. `sign` is what will actually be signed (the spec's `sign`,
/// else the tenant's).
pub fn check_fields(spec: &ForgeSpec, prefix: &str, sign: SignChoice) -> Result<()> {
    let at = |f: &str| join(prefix, f);
    if let Some(attack) = spec.attack {
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
            match &spec.forged_identity {
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
            let url = spec.canary_url.as_deref().ok_or_else(|| {
                Error::bad_input(
                    at("canary_url"),
                    format!("{} needs the canary URL it points at", attack.name()),
                )
            })?;
            check_canary(url).map_err(|e| Error::bad_input(at("canary_url"), e))?;
        }
    }
    if let Some(v) = &spec.forged_identity
        && !check_identity(v)
    {
        return Err(Error::bad_input(
            at("forged_identity"),
            "must be non-empty text without control characters",
        ));
    }
    if let Some(url) = &spec.canary_url {
        check_canary(url).map_err(|e| Error::bad_input(at("canary_url"), e))?;
    }
    // Every signature/digest combination is allowed on purpose: mixed ones (an
    // rsa-sha256 signature over sha1 digests) are a test in themselves.
    if sign == SignChoice::None
        && (spec.signing_key.is_some() || spec.key_info.is_some())
        && spec.attack != Some(Attack::AttackerKeyValue)
    {
        return Err(Error::bad_input(
            at("sign"),
            "is none, so signing_key and key_info would have no effect",
        ));
    }
    for (i, edit) in spec.edits.iter().enumerate() {
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
    for (key, offset) in &spec.times {
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
        if offset.abs() > MAX_CLOCK_OFFSET_SECONDS {
            return Err(Error::bad_input(&here, "must be within +-100 years"));
        }
    }
    if let Some(t) = &spec.template {
        super::template::check(t).map_err(|e| Error::bad_input(at("template"), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde::Deserialize;

    /// As the control API parses: the path of the first bad field.
    fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T> {
        let mut de = serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(&mut de)
            .map_err(|e| Error::bad_input(e.path().to_string(), e.inner().to_string()))
    }

    fn spec(json: &str) -> ForgeSpec {
        parse(json).unwrap()
    }

    fn path_of(json: &str) -> String {
        let bytes = format!("{{\"forge\": {json}}}");
        #[derive(Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Body {
            forge: ForgeSpec,
        }
        match parse::<Body>(&bytes) {
            Err(Error::BadInput { path, .. }) => path,
            Ok(b) => match check_fields(&b.forge, "forge", SignChoice::Assertion) {
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
        check_fields(&s, "forge", SignChoice::Assertion).unwrap();
        let back: ForgeSpec = serde_json::from_value(serde_json::to_value(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }
}
