//! The Web Browser SSO profile's shape rules that samael does not check, over the document as
//! posted (before samael: the same bytes): which children a Response and an assertion may have
//! and how many, the Response's own ID/Version/IssueInstant/Issuer/Status, the assertion's
//! Version, Conditions, AudienceRestriction, AuthnStatement/AuthnContext and attributes, and
//! timestamps that must parse. A careful product refuses every message an honest IdP never
//! sends, so an attacker has no odd shape left to try (scenarios/saml-attacks/).
use std::collections::BTreeMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{ASSERTION_NS, DSIG_NS, PROTOCOL_NS};

const ENTITY_FORMAT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";

/// What may sit directly in a Response, in schema order, and how often.
const RESPONSE_CHILDREN: &[(&str, &str, usize)] = &[
    (ASSERTION_NS, "Issuer", 1),
    (DSIG_NS, "Signature", 1),
    (PROTOCOL_NS, "Extensions", 1),
    (PROTOCOL_NS, "Status", 1),
    (ASSERTION_NS, "Assertion", usize::MAX),
    (ASSERTION_NS, "EncryptedAssertion", usize::MAX),
];
const ASSERTION_CHILDREN: &[(&str, &str, usize)] = &[
    (ASSERTION_NS, "Issuer", 1),
    (DSIG_NS, "Signature", 1),
    (ASSERTION_NS, "Subject", 1),
    (ASSERTION_NS, "Conditions", 1),
    (ASSERTION_NS, "Advice", 1),
    (ASSERTION_NS, "AuthnStatement", 1),
    (ASSERTION_NS, "AttributeStatement", usize::MAX),
];

/// Checks the posted Response at `now` (the SP's clock) with `skew` seconds of tolerance.
pub fn check(xml: &str, now: OffsetDateTime, skew: i64, sp_entity_id: &str) -> Result<(), String> {
    let mut reader = NsReader::from_str(xml);
    // (namespace, local) of the open elements
    let mut stack: Vec<(String, String)> = Vec::new();
    // Parallel to `stack`: for an open Response or assertion, the children seen so far
    // (index in its table, count); None for every other element.
    let mut frames: Vec<Option<Vec<(usize, usize)>>> = Vec::new();
    let mut f = Facts::default();
    loop {
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("the SAML response is not well-formed XML: {e}"))?;
        let ns = match resolved {
            ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
            _ => String::new(),
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if let (Some((_, parent)), Some(Some(seen))) = (stack.last(), frames.last_mut()) {
                    let (what, table) = if parent == "Response" {
                        ("Response", RESPONSE_CHILDREN)
                    } else {
                        ("assertion", ASSERTION_CHILDREN)
                    };
                    child_in_order(what, table, seen, &ns, &local)?;
                }
                f.element(&stack, &ns, &local, e, now, skew)?;
                if ns == ASSERTION_NS && local == "NameID" {
                    name_id(e, sp_entity_id)?;
                }
                if matches!(event, Event::Start(_)) {
                    let is_frame = (ns == PROTOCOL_NS && local == "Response" && stack.is_empty())
                        || (ns == ASSERTION_NS && local == "Assertion");
                    stack.push((ns, local));
                    frames.push(is_frame.then(Vec::new));
                }
            }
            Event::End(_) => {
                stack.pop();
                frames.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    f.finish()
}

fn child_in_order(
    what: &str,
    table: &[(&str, &str, usize)],
    seen: &mut Vec<(usize, usize)>,
    ns: &str,
    local: &str,
) -> Result<(), String> {
    let Some(i) = table.iter().position(|(n, l, _)| *n == ns && *l == local) else {
        return Err(format!(
            "the {what} contains a <{local}> element (namespace {ns:?}), which the SAML schema does not allow there"
        ));
    };
    match seen.last_mut() {
        Some((j, count)) if *j == i => {
            *count += 1;
            if *count > table[i].2 {
                return Err(format!("the {what} carries more than one <{local}>"));
            }
        }
        Some((j, _)) if *j > i => {
            return Err(format!(
                "the {what}'s <{local}> is out of the order the SAML schema requires"
            ));
        }
        _ => seen.push((i, 1)),
    }
    Ok(())
}

#[derive(Default)]
struct Facts {
    response_issuer: bool,
    status: bool,
    status_code: bool,
    response_signed_destination: (bool, bool),
    conditions: usize,
    audience_restrictions: usize,
    authn_statements: usize,
    authn_contexts: usize,
    attribute_statements_empty: bool,
    attribute_names: BTreeMap<String, usize>,
}

impl Facts {
    fn element(
        &mut self,
        stack: &[(String, String)],
        ns: &str,
        local: &str,
        e: &BytesStart<'_>,
        now: OffsetDateTime,
        skew: i64,
    ) -> Result<(), String> {
        let attr = |name: &str| -> Option<String> {
            e.attributes()
                .flatten()
                .find(|a| a.key.as_ref() == name.as_bytes())
                .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
        };
        let parent = stack.last().map(|(n, l)| (n.as_str(), l.as_str()));
        match (ns, local) {
            (PROTOCOL_NS, "Response") if stack.is_empty() => {
                header("Response", &attr, now, skew)?;
                self.response_signed_destination.1 =
                    attr("Destination").is_some_and(|d| !d.is_empty());
            }
            (ASSERTION_NS, "Assertion") => {
                header("assertion", &attr, now, skew)?;
            }
            (ASSERTION_NS, "Issuer") => {
                if let Some(format) = attr("Format") {
                    if format != ENTITY_FORMAT {
                        return Err(format!(
                            "an Issuer's Format is {format:?}; an IdP's Issuer is an entity ID ({ENTITY_FORMAT})"
                        ));
                    }
                }
                if matches!(parent, Some((PROTOCOL_NS, "Response"))) && stack.len() == 1 {
                    self.response_issuer = true;
                }
            }
            (DSIG_NS, "Signature") if stack.len() == 1 => self.response_signed_destination.0 = true,
            (PROTOCOL_NS, "Status") if stack.len() == 1 => self.status = true,
            (PROTOCOL_NS, "StatusCode") if matches!(parent, Some((PROTOCOL_NS, "Status"))) => {
                self.status_code = true
            }
            (ASSERTION_NS, "Conditions") => {
                self.conditions += 1;
                for a in ["NotBefore", "NotOnOrAfter"] {
                    if let Some(v) = attr(a) {
                        instant(&format!("Conditions {a}"), &v)?;
                    }
                }
            }
            (ASSERTION_NS, "AudienceRestriction") => self.audience_restrictions += 1,
            (ASSERTION_NS, "AuthnStatement") => {
                self.authn_statements += 1;
                if let Some(v) = attr("SessionNotOnOrAfter") {
                    let t = instant("AuthnStatement SessionNotOnOrAfter", &v)?;
                    if t <= now {
                        return Err(format!(
                            "the IdP's session for this sign-in ended already (SessionNotOnOrAfter {v})"
                        ));
                    }
                }
            }
            (ASSERTION_NS, "AuthnContext") => self.authn_contexts += 1,
            (ASSERTION_NS, "AttributeStatement") => {
                // Set back to false by its first Attribute.
                self.attribute_statements_empty = true;
            }
            (ASSERTION_NS, "Attribute") => {
                self.attribute_statements_empty = false;
                let name = attr("Name").unwrap_or_default();
                *self.attribute_names.entry(name).or_default() += 1;
            }
            (ASSERTION_NS, "SubjectConfirmationData") => {
                for a in ["NotBefore", "NotOnOrAfter"] {
                    if let Some(v) = attr(a) {
                        instant(&format!("SubjectConfirmationData {a}"), &v)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(self) -> Result<(), String> {
        if !self.response_issuer {
            return Err(
                "the Response names no Issuer (this SP requires the IdP's entity ID there)".into(),
            );
        }
        if !self.status || !self.status_code {
            return Err("the Response has no Status with a StatusCode".into());
        }
        if self.response_signed_destination.0 && !self.response_signed_destination.1 {
            return Err("the Response is signed but names no Destination".into());
        }
        if self.conditions != 1 {
            return Err("the assertion must carry exactly one Conditions element".into());
        }
        if self.audience_restrictions == 0 {
            return Err(
                "the assertion has no AudienceRestriction: it could be meant for any SP".into(),
            );
        }
        if self.authn_statements != 1 || self.authn_contexts != 1 {
            return Err(
                "the assertion must carry exactly one AuthnStatement with an AuthnContext".into(),
            );
        }
        if self.attribute_statements_empty {
            return Err("the assertion has an AttributeStatement without any Attribute".into());
        }
        if let Some((name, _)) = self.attribute_names.iter().find(|(_, n)| **n > 1) {
            return Err(format!("the attribute {name:?} appears more than once"));
        }
        Ok(())
    }
}

/// The NameID must be meant for this SP and be an email address by its Format: this product
/// reads the user's email from it (a transient or persistent ID is never one).
fn name_id(e: &BytesStart<'_>, sp_entity_id: &str) -> Result<(), String> {
    let attr = |name: &str| -> Option<String> {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name.as_bytes())
            .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
    };
    if let Some(q) = attr("SPNameQualifier") {
        if q != sp_entity_id {
            return Err(format!(
                "the NameID is qualified for another SP (SPNameQualifier {q:?}, this SP is {sp_entity_id:?})"
            ));
        }
    }
    match attr("Format").as_deref() {
        None
        | Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
        | Some("urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified") => Ok(()),
        Some(other) => Err(format!(
            "the NameID's Format is {other:?}; this SP asks for an email address (urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress)"
        )),
    }
}

/// ID, Version 2.0 and an IssueInstant that parses and is not ahead of the SP's clock.
fn header(
    what: &str,
    attr: &dyn Fn(&str) -> Option<String>,
    now: OffsetDateTime,
    skew: i64,
) -> Result<(), String> {
    if attr("ID").is_none_or(|id| id.is_empty()) {
        return Err(format!("the {what} has no ID"));
    }
    match attr("Version").as_deref() {
        Some("2.0") => {}
        other => return Err(format!("the {what}'s Version is {other:?}, not \"2.0\"")),
    }
    let issued = attr("IssueInstant").ok_or_else(|| format!("the {what} has no IssueInstant"))?;
    let t = instant(&format!("{what} IssueInstant"), &issued)?;
    if t > now + time::Duration::seconds(skew) {
        return Err(format!("the {what} was issued in the future ({issued})"));
    }
    Ok(())
}

fn instant(what: &str, v: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(v, &Rfc3339).map_err(|_| format!("the {what} {v:?} is not a UTC time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r" Version="2.0" IssueInstant="2026-01-01T00:00:00.5Z" Destination="http://sp/acs"><saml:Issuer>idp</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion ID="_a" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>idp</saml:Issuer><saml:Subject/><saml:Conditions NotBefore="2025-12-31T23:55:00Z" NotOnOrAfter="2026-01-01T00:05:00Z"><saml:AudienceRestriction><saml:Audience>sp</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="2026-01-01T00:00:00Z"><saml:AuthnContext/></saml:AuthnStatement><saml:AttributeStatement><saml:Attribute Name="uid"/></saml:AttributeStatement></saml:Assertion></samlp:Response>"#;

    fn at() -> OffsetDateTime {
        OffsetDateTime::parse("2026-01-01T00:00:30Z", &Rfc3339).unwrap()
    }

    fn err(xml: &str) -> String {
        check(xml, at(), 60, "sp").unwrap_err()
    }

    #[test]
    fn a_response_an_idp_sends_passes() {
        check(GOOD, at(), 60, "sp").unwrap();
    }

    #[test]
    fn each_odd_shape_is_refused_with_its_reason() {
        let cases = [
            (GOOD.replace("<samlp:Status>", "<samlp:Bogus/><samlp:Status>"), "does not allow"),
            (GOOD.replace(r#"ID="_r" "#, ""), "Response has no ID"),
            (GOOD.replace(r#"Version="2.0" IssueInstant="2026-01-01T00:00:00Z""#, r#"Version="1.1" IssueInstant="2026-01-01T00:00:00Z""#), "Version"),
            (GOOD.replace("2026-01-01T00:00:00.5Z", "2026-01-01T02:00:00Z"), "in the future"),
            (GOOD.replace("2026-01-01T00:00:00.5Z", "soon"), "not a UTC time"),
            (GOOD.replace("<saml:Issuer>idp</saml:Issuer><samlp:Status>", "<samlp:Status>"), "names no Issuer"),
            (GOOD.replace(r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>"#, ""), "StatusCode"),
            (GOOD.replace("<saml:AudienceRestriction><saml:Audience>sp</saml:Audience></saml:AudienceRestriction>", ""), "AudienceRestriction"),
            (GOOD.replace("<saml:AuthnContext/>", ""), "AuthnContext"),
            (GOOD.replace(r#"<saml:Attribute Name="uid"/>"#, r#"<saml:Attribute Name="uid"/><saml:Attribute Name="uid"/>"#), "more than once"),
            (GOOD.replace(r#"<saml:Attribute Name="uid"/>"#, ""), "without any Attribute"),
            (GOOD.replace("</saml:AuthnStatement>", "</saml:AuthnStatement><saml:Subject/>"), "out of the order"),
            (GOOD.replace("<saml:Issuer>idp</saml:Issuer><saml:Subject/>", "<saml:Issuer Format=\"urn:x\">idp</saml:Issuer><saml:Subject/>"), "Format"),
            (GOOD.replace(r#"AuthnInstant="2026-01-01T00:00:00Z""#, r#"AuthnInstant="2026-01-01T00:00:00Z" SessionNotOnOrAfter="2026-01-01T00:00:00Z""#), "ended already"),
        ];
        for (xml, want) in cases {
            assert_ne!(xml, GOOD, "{want}: the edit did not apply");
            let e = err(&xml);
            assert!(e.contains(want), "{want}: {e}");
        }
        let subject = "<saml:Subject/>";
        for (nameid, want) in [
            (
                r#"<saml:Subject><saml:NameID SPNameQualifier="other">a@b</saml:NameID></saml:Subject>"#,
                "another SP",
            ),
            (
                r#"<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient">x</saml:NameID></saml:Subject>"#,
                "Format",
            ),
        ] {
            let e = err(&GOOD.replace(subject, nameid));
            assert!(e.contains(want), "{want}: {e}");
        }
        let ok = GOOD.replace(subject, r#"<saml:Subject><saml:NameID SPNameQualifier="sp" Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">a@b</saml:NameID></saml:Subject>"#);
        check(&ok, at(), 60, "sp").unwrap();
        let two_conditions =
            GOOD.replace("</saml:Conditions>", "</saml:Conditions><saml:Conditions/>");
        assert!(err(&two_conditions).contains("more than one <Conditions>"));
    }
}
