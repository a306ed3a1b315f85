//! Turns a tenant, a user, an optional AuthnRequest and the active faults into a finished
//! Response. This is where every SAML fault is decided; `response.rs` only writes XML.

use super::encrypt::{Cipher, Transport};
use super::response::{
    self, Attribute, Encryption, NameId, ResponseParams, STATUS_AUTHN_FAILED, STATUS_RESPONDER,
    Shape, Signing, Status,
};
use crate::error::{Error, Result};
use crate::fault::Fault;
use crate::keys::{HashAlg, TenantKeys};
use crate::profile::{ATTRNAME_UNSPECIFIED, Profile, ProfileBehaviour as _};
use crate::tenant::{
    PendingAuthn, SamlOptions, SamlSession, SignMode, SpSpec, Tenant, UserRecord, random_id,
};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

pub const WRONG_AUDIENCE: &str = "urn:mock-idp:wrong-audience";
pub const WRONG_RECIPIENT: &str = "https://wrong-recipient.invalid/acs";
pub const WRONG_DESTINATION: &str = "https://wrong-destination.invalid/acs";
pub const WRONG_ISSUER: &str = "https://wrong-issuer.invalid/idp";
pub const TAMPERED_EMAIL: &str = "mallory@tampered.invalid";

/// What a tenant needs to answer, copied out of its lock so signing runs without it.
#[derive(Debug, Clone)]
pub struct IdpView {
    pub profile: Profile,
    pub entity_id: String,
    pub sp: SpSpec,
    pub saml: SamlOptions,
    pub now: OffsetDateTime,
    pub keys: Arc<TenantKeys>,
}

impl IdpView {
    pub fn of(tenant: &Tenant, base: &str) -> Self {
        Self {
            profile: tenant.profile,
            entity_id: tenant.saml_entity_id(base),
            sp: tenant.sp.clone(),
            saml: tenant.saml.clone(),
            now: tenant.clock.now(),
            keys: tenant.keys.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Issued {
    pub xml: String,
    pub acs_url: String,
    /// What a LogoutRequest for this sign-in names (None without a NameID).
    pub session: Option<SamlSession>,
}

impl ResponseParams {
    /// The session this response opens at the SP, as single logout names it.
    pub fn session(&self) -> Option<SamlSession> {
        self.nameid.as_ref().map(|n| SamlSession {
            name_id: n.value.clone(),
            name_id_format: n.format.to_string(),
            session_index: self.session_index.clone(),
        })
    }
}

/// The address a `changed_email` response carries: same person, new mailbox.
pub fn changed_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{local}.changed@{domain}"),
        None => format!("{email}.changed"),
    }
}

fn other_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{local}.alias@{domain}"),
        None => format!("{email}.alias"),
    }
}

fn attributes(
    profile: Profile,
    user: &UserRecord,
    email: &str,
    faults: &[Fault],
) -> Vec<Attribute> {
    let names = profile.attribute_names();
    let attr = |name: &str, values: Vec<String>| Attribute {
        name: name.to_string(),
        name_format: names.name_format,
        values,
    };
    let u = &user.user;
    let mut out = Vec::new();
    let multiple = faults.contains(&Fault::MultipleEmails);
    let emails = if multiple {
        vec![email.to_string(), other_email(email)]
    } else {
        vec![email.to_string()]
    };
    // Okta's seed example carries the email only in the NameID.
    if profile != Profile::Okta || multiple {
        out.push(attr(names.email, emails));
    }
    if !faults.contains(&Fault::NoNameAttributes) {
        let full = format!("{} {}", u.given_name, u.family_name)
            .trim()
            .to_string();
        let display = if profile.display_name_is_upn() {
            u.attributes
                .get("upn")
                .and_then(|v| v.first())
                .cloned()
                .unwrap_or_else(|| email.to_string())
        } else {
            full
        };
        let given =
            (!u.given_name.is_empty()).then(|| attr(names.given_name, vec![u.given_name.clone()]));
        let family = (!u.family_name.is_empty())
            .then(|| attr(names.family_name, vec![u.family_name.clone()]));
        let display = names
            .display_name
            .filter(|_| !display.is_empty())
            .map(|n| attr(n, vec![display]));
        if profile == Profile::Okta {
            // The order of the seed's example: name, family_name, nickname, given_name.
            out.extend(display);
            out.extend(family);
            if names.empty_nickname {
                out.push(attr("nickname", vec![String::new()]));
            }
            out.extend(given);
        } else {
            out.extend(given);
            out.extend(family);
            out.extend(display);
        }
    }
    if !u.groups.is_empty() {
        out.push(attr(names.groups, u.groups.clone()));
    }
    out.push(Attribute {
        name: "uid".into(),
        name_format: ATTRNAME_UNSPECIFIED,
        values: vec![user.uid.clone()],
    });
    for (name, values) in &u.attributes {
        out.push(Attribute {
            name: name.clone(),
            name_format: ATTRNAME_UNSPECIFIED,
            values: values.clone(),
        });
    }
    out
}

/// Builds and signs one Response.
pub fn issue(
    idp: &IdpView,
    user: &UserRecord,
    request: Option<&PendingAuthn>,
    faults: &[Fault],
) -> Result<Issued> {
    let p = prepare(idp, user, request, faults)?;
    Ok(Issued {
        xml: response::build(&p.params, &p.shape)?,
        session: p.params.session(),
        acs_url: p.acs_url,
    })
}

/// Everything a Response says and how it is signed and encrypted, decided from the tenant,
/// the request and the faults, before any XML is written (the forge starts from here too).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub params: ResponseParams,
    pub shape: Shape,
    pub acs_url: String,
}

pub fn prepare(
    idp: &IdpView,
    user: &UserRecord,
    request: Option<&PendingAuthn>,
    faults: &[Fault],
) -> Result<Prepared> {
    let has = |f: Fault| faults.contains(&f);
    let acs = idp
        .sp
        .acs_url
        .clone()
        .or_else(|| request.and_then(|r| r.acs_url.clone()))
        .ok_or_else(|| {
            Error::BadRequest(
                "no ACS URL known: set the tenant's sp.acs_url or send AssertionConsumerServiceURL"
                    .into(),
            )
        })?;
    let audience = idp
        .sp
        .entity_id
        .clone()
        .or_else(|| request.and_then(|r| r.sp_issuer.clone()))
        .unwrap_or_else(|| acs.clone());
    let now = idp.now;
    let in_response_to = if has(Fault::Unsolicited) {
        None
    } else if has(Fault::InResponseToMismatch) {
        Some(random_id("_never-sent-"))
    } else {
        request.and_then(|r| r.request_id.clone())
    };
    // Saturating: the tenant clock may sit at the edge of the representable range.
    let (not_before, not_on_or_after) = if has(Fault::NotYetValid) {
        (
            now.saturating_add(Duration::hours(1)),
            now.saturating_add(Duration::hours(2)),
        )
    } else if has(Fault::ExpiredAssertion) {
        (
            now.saturating_sub(Duration::hours(2)),
            now.saturating_sub(Duration::hours(1)),
        )
    } else {
        (
            now.saturating_sub(Duration::minutes(5)),
            now.saturating_add(Duration::minutes(5)),
        )
    };
    let status = if has(Fault::StatusAuthnFailed) {
        Status {
            code: STATUS_RESPONDER,
            sub_code: Some(STATUS_AUTHN_FAILED),
        }
    } else if has(Fault::StatusResponder) {
        Status {
            code: STATUS_RESPONDER,
            sub_code: None,
        }
    } else {
        Status::success()
    };
    let email = if has(Fault::ChangedEmail) {
        changed_email(&user.user.email)
    } else {
        user.user.email.clone()
    };
    let params = ResponseParams {
        response_id: random_id("_r"),
        assertion_id: random_id("_a"),
        issuer: if has(Fault::WrongIssuer) {
            WRONG_ISSUER.to_string()
        } else {
            idp.entity_id.clone()
        },
        issuer_format: idp.profile.issuer_format(),
        destination: Some(if has(Fault::WrongDestination) {
            WRONG_DESTINATION.to_string()
        } else {
            acs.clone()
        }),
        in_response_to,
        issue_instant: now,
        status,
        nameid: (!has(Fault::MissingNameid)).then(|| NameId {
            value: email.clone(),
            format: idp.profile.nameid_format(),
        }),
        recipient: if has(Fault::WrongRecipient) {
            WRONG_RECIPIENT.to_string()
        } else {
            acs.clone()
        },
        audience: if has(Fault::WrongAudience) {
            WRONG_AUDIENCE.to_string()
        } else {
            audience
        },
        not_before,
        not_on_or_after,
        authn_instant: now,
        session_index: random_id("_s"),
        attributes: attributes(idp.profile, user, &email, faults),
    };
    let signing = if has(Fault::Unsigned) {
        None
    } else {
        let key = if has(Fault::UnknownKey) {
            idp.keys.unknown()?
        } else if has(Fault::ExpiredCertificate) {
            idp.keys.expired()?
        } else if has(Fault::KeyRotation) {
            idp.keys.rotated()?
        } else {
            idp.keys.primary.clone()
        };
        let hash = if idp.saml.sha1 || has(Fault::Sha1Signature) {
            HashAlg::Sha1
        } else {
            HashAlg::Sha256
        };
        Some(Signing {
            key,
            hash,
            assertion: matches!(idp.saml.sign, SignMode::Assertion | SignMode::Both),
            response: matches!(idp.saml.sign, SignMode::Response | SignMode::Both),
        })
    };
    let cipher = if has(Fault::EncryptedAssertionGcm) {
        Some(Cipher::Aes256Gcm)
    } else if has(Fault::EncryptedAssertion) {
        Some(Cipher::Aes128Cbc)
    } else {
        None
    };
    let encryption = match cipher {
        None => None,
        Some(cipher) => {
            let pem = idp.sp.certificate_pem.as_deref().ok_or_else(|| {
                Error::BadRequest(
                    "an encrypted_assertion fault needs the SP certificate: set sp.certificate_pem"
                        .into(),
                )
            })?;
            let recipient_cert = openssl::x509::X509::from_pem(pem.as_bytes())
                .map_err(|_| Error::BadRequest("sp.certificate_pem is not a certificate".into()))?;
            Some(Encryption {
                cipher,
                transport: Transport::RsaOaep,
                recipient_cert,
            })
        }
    };
    let shape = Shape {
        signing,
        encryption,
        tamper_nameid: has(Fault::Tampered).then(|| TAMPERED_EMAIL.to_string()),
    };
    Ok(Prepared {
        params,
        shape,
        acs_url: acs,
    })
}
