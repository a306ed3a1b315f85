//! The SAML message forge: responses an attacker would send, made by the IdP so that an SP's
//! signature handling can be tested for the bypasses that matter.
//!
//! Three layers, each a function over the XML tree:
//! 1. **edits** (before signing): remove, empty, set, duplicate or insert any element or
//!    attribute by path, and per-field times as offsets from the tenant's now;
//! 2. **signing**: what is signed, the algorithms, the KeyInfo, which key;
//! 3. **attack** (after signing): one named transform of the signed XML (`attack.rs`).
//!
//! A hand-written template can replace the built Response. Tenants carry a standing forge in
//! `saml.forge`; `POST .../faults/next` can give one for the next response only.

pub mod attack;
pub mod c14n;
pub mod ctx;
pub mod dom;
pub mod dsig;
pub mod edits;
pub mod pi;
pub mod spec;
pub mod template;

pub use proto::forge::{Attack, AttackInfo, ForgeRecord, ForgeSpec};

use super::encrypt::{Cipher, Transport};
use super::issue::{self as genuine, IdpView, Prepared, TAMPERED_EMAIL};
use super::response::{Encryption, Shape};
use super::xml::NS_SAML;
use crate::error::{Error, Result};
use crate::fault::Fault;
use crate::keys::HashAlg;
use crate::profile::ProfileBehaviour as _;
use crate::record::pretty_xml;
use crate::tenant::{PendingAuthn, SignMode, Tenant, UserRecord};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ctx::{Ctx, Identifiers, Plan};
use dom::{Document, Element};
use spec::{EncryptChoice, KeyInfoChoice, SignChoice, SignatureAlgorithm, SigningKeyChoice, join};
use std::collections::HashMap;

/// A forged response, ready to post.
#[derive(Debug, Clone)]
pub struct Forged {
    pub acs_url: String,
    /// The SAMLResponse form value: base64, except for the `junk` attack.
    pub saml_response: String,
    /// The message as the SP decodes it (lossy for `wrong_encoding`).
    pub decoded: String,
    pub record: ForgeRecord,
    /// The session the prepared response names (before any edit), for single logout.
    pub session: Option<crate::tenant::SamlSession>,
}

pub fn sign_choice(mode: SignMode) -> SignChoice {
    match mode {
        SignMode::Assertion => SignChoice::Assertion,
        SignMode::Response => SignChoice::Response,
        SignMode::Both => SignChoice::Both,
    }
}

fn algorithms(choice: EncryptChoice) -> (Cipher, Transport) {
    match choice {
        EncryptChoice::Aes128Cbc => (Cipher::Aes128Cbc, Transport::RsaOaep),
        EncryptChoice::Aes256Gcm => (Cipher::Aes256Gcm, Transport::RsaOaep),
        EncryptChoice::TripleDesCbc => (Cipher::TripleDesCbc, Transport::RsaOaep),
        EncryptChoice::Aes128CbcRsa15 => (Cipher::Aes128Cbc, Transport::Rsa15),
    }
}

/// `forge.encrypt` / `forge.encrypt_name_id` / `forge.encrypt_attributes` to the SP's certificate.
fn encryption_to_sp(idp: &IdpView, choice: EncryptChoice, field: &str) -> Result<Encryption> {
    let pem = idp.sp.certificate_pem.as_deref().ok_or_else(|| {
        Error::BadRequest(format!(
            "forge.{field} needs the SP certificate: set sp.certificate_pem"
        ))
    })?;
    let recipient_cert = openssl::x509::X509::from_pem(pem.as_bytes())
        .map_err(|_| Error::BadRequest("sp.certificate_pem is not a certificate".into()))?;
    let (cipher, transport) = algorithms(choice);
    Ok(Encryption {
        cipher,
        transport,
        recipient_cert,
    })
}

fn plan(idp: &IdpView, prepared: &Prepared, spec: &ForgeSpec, faults: &[Fault]) -> Result<Plan> {
    let shape: &Shape = &prepared.shape;
    let sign = match (&shape.signing, faults.contains(&Fault::Unsigned)) {
        (_, true) | (None, _) => SignChoice::None,
        (Some(_), false) => spec.sign.unwrap_or(sign_choice(idp.saml.sign)),
    };
    let signing_key = spec.signing_key.unwrap_or(SigningKeyChoice::Tenant);
    let key = match signing_key {
        SigningKeyChoice::Attacker => idp.keys.unknown()?,
        // The key faults (unknown_key, expired_certificate, key_rotation) chose this one.
        SigningKeyChoice::Tenant => shape
            .signing
            .as_ref()
            .map_or_else(|| idp.keys.primary.clone(), |s| s.key.clone()),
    };
    let sha1 = shape
        .signing
        .as_ref()
        .is_some_and(|s| s.hash == HashAlg::Sha1);
    let signature = spec.signature_algorithm.unwrap_or(if sha1 {
        SignatureAlgorithm::RsaSha1
    } else {
        SignatureAlgorithm::RsaSha256
    });
    let encryption = match (&shape.encryption, spec.encrypt) {
        (Some(e), _) => Some(e.clone()),
        (None, Some(choice)) => Some(encryption_to_sp(idp, choice, "encrypt")?),
        (None, None) => None,
    };
    let identifiers = if spec.encrypt_name_id || spec.encrypt_attributes {
        let choice = spec.encrypt.unwrap_or(EncryptChoice::Aes128Cbc);
        let field = if spec.encrypt_name_id {
            "encrypt_name_id"
        } else {
            "encrypt_attributes"
        };
        Some(Identifiers {
            name_id: spec.encrypt_name_id,
            attributes: spec.encrypt_attributes,
            to: encryption_to_sp(idp, choice, field)?,
        })
    } else {
        None
    };
    Ok(Plan {
        sign,
        key,
        signing_key,
        signature,
        digest: spec.digest_algorithm.unwrap_or(signature.digest()),
        key_info: spec.key_info.unwrap_or(KeyInfoChoice::X509),
        encryption,
        identifiers,
    })
}

/// The value of one template placeholder (`template::PLACEHOLDERS`) for this response.
fn placeholder(
    idp: &IdpView,
    user: &UserRecord,
    prepared: &Prepared,
    spec: &ForgeSpec,
    name: &str,
) -> Option<String> {
    let p = &prepared.params;
    let rfc = crate::clock::rfc3339;
    Some(match name {
        "issuer" => p.issuer.clone(),
        "destination" | "acs_url" | "recipient" => prepared.acs_url.clone(),
        "acs_url_upper_path" => case_changed(&prepared.acs_url, false),
        "acs_url_upper_host" => case_changed(&prepared.acs_url, true),
        "audience" => p.audience.clone(),
        "nameid" | "email" => p
            .nameid
            .as_ref()
            .map_or_else(|| user.user.email.clone(), |n| n.value.clone()),
        "nameid_format" => idp.profile.nameid_format().to_string(),
        "uid" => user.uid.clone(),
        "given_name" => user.user.given_name.clone(),
        "family_name" => user.user.family_name.clone(),
        "forged_identity" => spec.forged_identity.clone().unwrap_or_default(),
        "response_id" => p.response_id.clone(),
        "assertion_id" => p.assertion_id.clone(),
        "session_index" => p.session_index.clone(),
        "in_response_to" => p.in_response_to.clone().unwrap_or_default(),
        "not_before" => rfc(p.not_before),
        "not_on_or_after" => rfc(p.not_on_or_after),
        _ => return None,
    })
}

/// `url` with its scheme and host (`host`) or its path (else) in upper case, the rest as is:
/// a URL that differs from the ACS URL only in letter case (SAML-SP-53). The text is edited,
/// not re-serialised, because a URL parser would lower-case the host again.
fn case_changed(url: &str, host: bool) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    let (path, query) = tail.split_at(path_end);
    let sep = if scheme.is_empty() { "" } else { "://" };
    if host {
        format!(
            "{}{sep}{}{tail}",
            scheme.to_uppercase(),
            authority.to_uppercase()
        )
    } else {
        format!("{scheme}{sep}{authority}{}{query}", path.to_uppercase())
    }
}

/// The unsigned starting point: the built Response, or the rendered template.
fn base_document(
    idp: &IdpView,
    user: &UserRecord,
    prepared: &Prepared,
    spec: &ForgeSpec,
) -> Result<Document> {
    let Some(t) = &spec.template else {
        let xml = super::response::build(&prepared.params, &Shape::default())?;
        return dom::parse(&xml);
    };
    let lookup = |name: &str| placeholder(idp, user, prepared, spec, name);
    let xml = template::render(
        t,
        &template::Values {
            lookup: &lookup,
            now: idp.now,
        },
    )
    .map_err(|e| Error::BadRequest(format!("forge.template: {e}")))?;
    dom::parse(&xml).map_err(|e| Error::BadRequest(format!("forge.template: {e}")))
}

/// Layer 1 on `doc`; an error names the spec field (`edits[2].path`) and says why.
/// Edit values and fragments may hold `{{placeholders}}` (the ACS URL is known only now).
fn layer1(
    doc: &mut Document,
    spec: &ForgeSpec,
    values: &template::Values<'_>,
) -> Result<(), (String, String)> {
    let now = values.now;
    let root = doc
        .root_mut()
        .ok_or_else(|| ("template".to_string(), "no root element".to_string()))?;
    for (i, edit) in spec.edits.iter().enumerate() {
        let mut edit = edit.clone();
        if let Some(v) = &edit.value {
            edit.value = Some(
                template::render_value(v, values).map_err(|e| (format!("edits[{i}].value"), e))?,
            );
        }
        if let Some(x) = &edit.xml {
            edit.xml =
                Some(template::render(x, values).map_err(|e| (format!("edits[{i}].xml"), e))?);
        }
        edits::apply(root, &edit).map_err(|e| (format!("edits[{i}].path"), e))?;
    }
    for (key, offset) in &spec.times {
        let field = format!("times[{key:?}]");
        let path = edits::Path::parse(key).map_err(|e| (field.clone(), e))?;
        let at = now + time::Duration::seconds(*offset);
        edits::set_time(root, &path, &crate::clock::rfc3339(at)).map_err(|e| (field, e))?;
    }
    Ok(())
}

/// Builds, edits, signs and attacks one response.
pub fn issue(
    idp: &IdpView,
    user: &UserRecord,
    request: Option<&PendingAuthn>,
    faults: &[Fault],
    spec: &ForgeSpec,
) -> Result<Forged> {
    let prepared = genuine::prepare(idp, user, request, faults)?;
    let mut doc = base_document(idp, user, &prepared, spec)?;
    let lookup = |name: &str| placeholder(idp, user, &prepared, spec, name);
    let values = template::Values {
        lookup: &lookup,
        now: idp.now,
    };
    layer1(&mut doc, spec, &values)
        .map_err(|(field, e)| Error::BadRequest(format!("forge.{field}: {e}")))?;
    let plan = plan(idp, &prepared, spec, faults)?;
    let genuine_identity = doc
        .root()
        .and_then(|r| r.find(&|e| e.is(NS_SAML, "NameID")))
        .map_or_else(|| user.user.email.clone(), Element::text);
    let mut ctx = Ctx {
        plan: plan.clone(),
        idp,
        forged: spec.forged_identity.clone(),
        genuine: genuine_identity,
        canary: spec.canary_url.clone(),
        plain: HashMap::new(),
    };
    ctx.sign_and_encrypt(&mut doc, &plan)?;
    if faults.contains(&Fault::Tampered)
        && let Some(n) = doc
            .root_mut()
            .and_then(|r| r.find_mut(&|e| e.is(NS_SAML, "NameID")))
    {
        n.set_text(TAMPERED_EMAIL);
    }
    if let Some(a) = spec.attack {
        attack::apply(a, &mut doc, &mut ctx, spec)?;
    }
    let xml = dom::write(&doc);
    let (saml_response, decoded) = match attack::on_bytes(spec.attack, &xml) {
        Some(pair) => pair,
        None => (B64.encode(xml.as_bytes()), xml),
    };
    let record = ForgeRecord {
        attack: spec.attack,
        cwe: spec.attack.map(|a| a.cwe().to_string()),
        cve: spec.attack.and_then(Attack::cve).map(str::to_string),
        forged_identity: spec.forged_identity.clone(),
        sign: plan.sign,
        signature_algorithm: plan.signature,
        digest_algorithm: plan.digest,
        key_info: if spec.attack == Some(Attack::AttackerKeyValue) {
            KeyInfoChoice::RsaKeyValue
        } else {
            plan.key_info
        },
        signing_key: if spec.attack == Some(Attack::AttackerKeyValue) {
            SigningKeyChoice::Attacker
        } else {
            plan.signing_key
        },
        encrypted: plan.encryption.is_some(),
        template: spec.template.is_some(),
        edits: spec.edits.len() + spec.times.len(),
    };
    Ok(Forged {
        session: prepared.params.session(),
        acs_url: prepared.acs_url,
        saml_response,
        decoded,
        record,
    })
}

/// Checks a spec for a tenant: its fields, then a dry run of layer 1 (and the template) on
/// an unsigned response for a stand-in sign-in, so a path that matches nothing is a 400 now
/// rather than a failed sign-in later. `prefix` is the spec's JSON path (`saml.forge`).
pub fn check(tenant: &Tenant, spec: &ForgeSpec, base: &str, prefix: &str) -> Result<()> {
    let sign = spec.sign.unwrap_or(sign_choice(tenant.saml.sign));
    spec::check_fields(spec, prefix, sign)?;
    let mut view = IdpView::of(tenant, base);
    if view.sp.acs_url.is_none() {
        view.sp.acs_url = Some("https://sp.invalid/acs".into());
    }
    let user = tenant.users.first().cloned().unwrap_or_else(|| UserRecord {
        uid: "u-check".into(),
        user: crate::tenant::User {
            email: "user@example.test".into(),
            ..Default::default()
        },
    });
    let request = PendingAuthn {
        request_id: Some("_check".into()),
        acs_url: None,
        sp_issuer: None,
        relay_state: None,
    };
    let prepared = genuine::prepare(&view, &user, Some(&request), &[])?;
    let mut doc = base_document(&view, &user, &prepared, spec)
        .map_err(|e| Error::bad_input(join(prefix, "template"), e.to_string()))?;
    let lookup = |name: &str| placeholder(&view, &user, &prepared, spec, name);
    let values = template::Values {
        lookup: &lookup,
        now: view.now,
    };
    layer1(&mut doc, spec, &values)
        .map_err(|(field, e)| Error::bad_input(join(prefix, &field), e))?;
    // What is signed must carry the ID its Reference names (a template may forget it, an
    // edit may remove it).
    let field = join(
        prefix,
        if spec.template.is_some() {
            "template"
        } else {
            "sign"
        },
    );
    let root = doc
        .root()
        .ok_or_else(|| Error::bad_input(&field, "no root element"))?;
    if sign.response() && root.attr("ID").is_none() {
        return Err(Error::bad_input(
            &field,
            "the Response to sign has no ID attribute",
        ));
    }
    let assertion = root
        .elements()
        .find_map(|c| c.find(&|e| e.local == "Assertion"));
    if sign.assertion() && assertion.is_some_and(|a| a.attr("ID").is_none()) {
        return Err(Error::bad_input(
            &field,
            "the Assertion to sign has no ID attribute",
        ));
    }
    Ok(())
}

/// What the SSO answer posts and logs.
#[derive(Debug)]
pub struct Delivery {
    pub acs_url: String,
    pub saml_response: String,
    /// For the exchange log: pretty XML for a genuine or edit-only response; the exact text
    /// for an attack (indenting it would hide what the attack is).
    pub decoded: String,
    pub forge: Option<ForgeRecord>,
    pub session: Option<crate::tenant::SamlSession>,
}

/// Signs the response (genuine, or forged when a forge spec is in force) off the async
/// workers.
pub async fn deliver(
    view: IdpView,
    user: UserRecord,
    pending: Option<PendingAuthn>,
    faults: Vec<Fault>,
    forge: Option<ForgeSpec>,
) -> Result<Delivery> {
    tokio::task::spawn_blocking(move || match forge {
        None => {
            let issued = genuine::issue(&view, &user, pending.as_ref(), &faults)?;
            Ok(Delivery {
                saml_response: B64.encode(issued.xml.as_bytes()),
                decoded: pretty_xml(&issued.xml),
                acs_url: issued.acs_url,
                forge: None,
                session: issued.session,
            })
        }
        Some(spec) => {
            let f = issue(&view, &user, pending.as_ref(), &faults, &spec)?;
            Ok(Delivery {
                decoded: if f.record.attack.is_some() {
                    f.decoded
                } else {
                    pretty_xml(&f.decoded)
                },
                saml_response: f.saml_response,
                acs_url: f.acs_url,
                forge: Some(f.record),
                session: f.session,
            })
        }
    })
    .await
    .map_err(|e| Error::Config(format!("signing failed: {e}")))?
}
