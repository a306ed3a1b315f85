//! The forge's wire form is `proto::oidc_forge` (one definition for the control API, its
//! clients and the YAML files); here are what needs the forge itself: laying specs over each
//! other (a key that cannot sign a later alg is dropped), expanding presets and the checks
//! that name the JSON path of a bad field.

use crate::error::{Error, Result};

pub use proto::oidc_forge::{
    AudienceForm, ClaimOp, ClaimSource, ClaimSourceKind, ForgeSpec, HashClaim, HeaderSpec,
    IssParam, IssuerVariant, JarmSpec, JwsSpec, KeyChoice, SignatureMode, TokenError,
};

fn at(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

/// A later layer that changes `alg` without naming a key must not inherit a key that cannot
/// sign that alg (a fault's `none` under a forge's HS256): the key then follows the alg.
fn forget_unfit_key(spec: &mut JwsSpec, alg_changed: bool) {
    if alg_changed && matches!(super::jws::plan(spec), Err(super::jws::PlanError::Key(_))) {
        spec.key = None;
    }
}

/// Laying JWS specs over each other and checking them (behaviour the wire type cannot have).
pub trait JwsForge {
    /// `over` wins member by member.
    fn overlay(&mut self, over: &JwsSpec);
    fn validate(&self, path: &str) -> Result<()>;
}

impl JwsForge for JwsSpec {
    fn overlay(&mut self, over: &JwsSpec) {
        self.header.overlay(&over.header);
        if over.key.is_some() {
            self.key = over.key;
        }
        if over.signature.is_some() {
            self.signature = over.signature;
        }
        forget_unfit_key(self, over.header.alg.is_some() && over.key.is_none());
    }

    fn validate(&self, path: &str) -> Result<()> {
        super::jws::plan(self).map(|_| ()).map_err(|e| {
            let field = match &e {
                super::jws::PlanError::Key(_) => "key",
                super::jws::PlanError::Alg(_) => "header.alg",
                super::jws::PlanError::Embed(_) => "header",
            };
            Error::bad_input(at(path, field), e.to_string())
        })
    }
}

/// Laying forges over each other, presets, checks and the keys a forge needs published.
pub trait Forge {
    /// `over` wins member by member; operation lists add up (`self`'s first).
    fn overlay(&mut self, over: &ForgeSpec);
    /// The spec with its preset expanded: the catalogue entry, then this spec's own members.
    fn expanded(&self) -> Result<ForgeSpec>;
    /// Everything serde cannot check: the preset exists, keys fit algorithms, numbers are in
    /// range, URLs parse. `path` prefixes every reported path (`oidc_clients[0].forge`).
    fn validate(&self, path: &str) -> Result<()>;
    /// The extra keys the OP must publish because this spec signs with them (PS256, ES256,
    /// EdDSA with `key: op`), for the ID token or the userinfo JWT.
    fn publishes(&self) -> Vec<super::keys::Published>;
}

impl Forge for ForgeSpec {
    fn overlay(&mut self, over: &ForgeSpec) {
        self.header.overlay(&over.header);
        if over.key.is_some() {
            self.key = over.key;
        }
        if over.signature.is_some() {
            self.signature = over.signature;
        }
        let mut jws = self.id_token_jws();
        forget_unfit_key(&mut jws, over.header.alg.is_some() && over.key.is_none());
        self.key = jws.key;
        self.claims.extend(over.claims.iter().cloned());
        self.front_claims.extend(over.front_claims.iter().cloned());
        self.refresh_claims
            .extend(over.refresh_claims.iter().cloned());
        self.token_response
            .extend(over.token_response.iter().cloned());
        if over.token_error.is_some() {
            self.token_error.clone_from(&over.token_error);
        }
        self.userinfo.extend(over.userinfo.iter().cloned());
        match (&mut self.userinfo_jwt, &over.userinfo_jwt) {
            (Some(mine), Some(theirs)) => mine.overlay(theirs),
            (mine @ None, Some(theirs)) => *mine = Some(theirs.clone()),
            _ => {}
        }
        match (&mut self.jarm, &over.jarm) {
            (Some(mine), Some(theirs)) => {
                let mut jws = mine.jws();
                jws.overlay(&theirs.jws());
                mine.header = jws.header;
                mine.key = jws.key;
                mine.signature = jws.signature;
                mine.claims.extend(theirs.claims.iter().cloned());
            }
            (mine @ None, Some(theirs)) => *mine = Some(theirs.clone()),
            _ => {}
        }
        if over.authorization_error.is_some() {
            self.authorization_error
                .clone_from(&over.authorization_error);
        }
        if over.authorization_iss.is_some() {
            self.authorization_iss = over.authorization_iss;
        }
        if over.allow_code_reuse.is_some() {
            self.allow_code_reuse = over.allow_code_reuse;
        }
        if over.canary_url.is_some() {
            self.canary_url.clone_from(&over.canary_url);
        }
        if over.post_logout_state.is_some() {
            self.post_logout_state.clone_from(&over.post_logout_state);
        }
        if over.jwe.is_some() {
            self.jwe.clone_from(&over.jwe);
        }
        self.claim_sources
            .extend(over.claim_sources.iter().cloned());
        // The preset is expanded by `expanded`; the overlay keeps the last name for the log.
        if over.preset.is_some() {
            self.preset.clone_from(&over.preset);
        }
    }

    fn expanded(&self) -> Result<ForgeSpec> {
        let mut out = match &self.preset {
            Some(name) => super::catalogue::preset(name).ok_or_else(|| {
                Error::bad_input(
                    "preset",
                    format!("unknown preset '{name}' (mock-idp oidc-forge --list)"),
                )
            })?,
            None => ForgeSpec::default(),
        };
        out.overlay(self);
        Ok(out)
    }

    fn validate(&self, path: &str) -> Result<()> {
        let spec = self.expanded().map_err(|e| match e {
            Error::BadInput { path: p, message } => Error::bad_input(at(path, &p), message),
            other => other,
        })?;
        if let Some(url) = &spec.canary_url {
            url::Url::parse(url).map_err(|e| {
                Error::bad_input(
                    at(path, "canary_url"),
                    format!("'{url}' is not an absolute URL: {e}"),
                )
            })?;
        }
        spec.id_token_jws().validate(path)?;
        if let Some(jwt) = &spec.userinfo_jwt {
            jwt.validate(&at(path, "userinfo_jwt"))?;
        }
        if let Some(jarm) = &spec.jarm {
            jarm.jws().validate(&at(path, "jarm"))?;
        }
        validate_claim_sources(&spec.claim_sources, &at(path, "claim_sources"))?;
        if let Some(e) = &spec.token_error
            && !(400..=599).contains(&e.status)
        {
            return Err(Error::bad_input(
                at(path, "token_error.status"),
                format!("{} is not an error status (400-599)", e.status),
            ));
        }
        let no_ops = Vec::new();
        for (list, ops) in [
            ("claims", &spec.claims),
            ("front_claims", &spec.front_claims),
            ("refresh_claims", &spec.refresh_claims),
            ("token_response", &spec.token_response),
            ("userinfo", &spec.userinfo),
            (
                "jarm.claims",
                spec.jarm.as_ref().map_or(&no_ops, |j| &j.claims),
            ),
        ] {
            for (i, op) in ops.iter().enumerate() {
                if op.name().is_empty() {
                    return Err(Error::bad_input(
                        format!("{}[{i}].name", at(path, list)),
                        "must not be empty",
                    ));
                }
            }
        }
        Ok(())
    }

    fn publishes(&self) -> Vec<super::keys::Published> {
        let Ok(spec) = self.expanded() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let jarm = spec.jarm.as_ref().map(JarmSpec::jws);
        for jws in std::iter::once(spec.id_token_jws())
            .chain(spec.userinfo_jwt.clone())
            .chain(jarm)
            .chain(spec.claim_sources.iter().filter_map(|c| c.jwt.clone()))
        {
            if let Ok(plan) = super::jws::plan(&jws)
                && let Some(p) = plan.published()
                && !out.contains(&p)
            {
                out.push(p);
            }
        }
        out
    }
}

/// A source needs a name of its own and at least one claim; `sub` stays in the answer (it
/// binds the answer to the ID token), an endpoint is an absolute URL of a distributed source.
fn validate_claim_sources(sources: &[ClaimSource], path: &str) -> Result<()> {
    let mut names = std::collections::BTreeSet::new();
    for (i, src) in sources.iter().enumerate() {
        let here = |field: &str| format!("{path}[{i}].{field}");
        if src.name.is_empty() {
            return Err(Error::bad_input(here("name"), "must not be empty"));
        }
        if !names.insert(src.name.as_str()) {
            return Err(Error::bad_input(
                here("name"),
                format!("'{}' names an earlier source too", src.name),
            ));
        }
        if src.claims.is_empty() {
            return Err(Error::bad_input(
                here("claims"),
                "name at least one claim the source carries",
            ));
        }
        for reserved in ["sub", "_claim_names", "_claim_sources"] {
            if src.claims.contains_key(reserved) {
                return Err(Error::bad_input(
                    here("claims"),
                    format!("'{reserved}' stays in the answer itself; a source cannot carry it"),
                ));
            }
        }
        if let Some(jwt) = &src.jwt {
            jwt.validate(&here("jwt"))?;
        }
        match (&src.endpoint, src.kind) {
            (Some(_), ClaimSourceKind::Aggregated) => {
                return Err(Error::bad_input(
                    here("endpoint"),
                    "only a distributed source has an endpoint (this one is aggregated)",
                ));
            }
            (Some(url), ClaimSourceKind::Distributed) => {
                url::Url::parse(url).map_err(|e| {
                    Error::bad_input(
                        here("endpoint"),
                        format!("'{url}' is not an absolute URL: {e}"),
                    )
                })?;
            }
            (None, _) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn a_jwe_member_survives_the_overlay_on_a_preset() {
        let over = parse(json!({"preset": "alg_none", "jwe": {"flip_tag": true}})).unwrap();
        let mut base = ForgeSpec::default();
        base.overlay(&over);
        assert_eq!(base.jwe.map(|j| j.flip_tag), Some(true));
        let mut kept = over.clone();
        kept.overlay(&parse(json!({"claims": []})).unwrap());
        assert!(kept.jwe.is_some(), "a later forge without jwe keeps it");
    }

    fn parse(v: Value) -> std::result::Result<ForgeSpec, String> {
        crate::control::from_json::<ForgeSpec>(v.to_string().as_bytes()).map_err(|e| match e {
            Error::BadInput { path, message } => format!("{path}: {message}"),
            other => other.to_string(),
        })
    }

    #[test]
    fn the_briefs_example_parses() {
        let s = parse(json!({
            "header": {"alg": "none"}, "signature": "empty", "key": "none",
            "claims": [{"op": "set", "name": "aud", "value": ["x", "y"]}],
            "token_response": [{"op": "remove", "name": "token_type"}],
            "userinfo": [{"op": "duplicate", "name": "sub"}],
            "canary_url": "http://127.0.0.1:9/canary"
        }))
        .unwrap();
        assert_eq!(s.header.alg.as_deref(), Some("none"));
        assert_eq!(
            s.claims[0],
            ClaimOp::Set {
                name: "aud".into(),
                value: json!(["x", "y"])
            }
        );
        s.validate("").unwrap();
    }

    #[test]
    fn null_and_absent_kid_differ() {
        let absent = parse(json!({"header": {"alg": "RS256"}})).unwrap();
        let null = parse(json!({"header": {"kid": null}})).unwrap();
        let text = parse(json!({"header": {"kid": "x"}})).unwrap();
        assert_eq!(absent.header.kid, None);
        assert_eq!(null.header.kid, Some(None));
        assert_eq!(text.header.kid, Some(Some("x".into())));
        let back: ForgeSpec = serde_json::from_value(serde_json::to_value(&null).unwrap()).unwrap();
        assert_eq!(back, null, "round trip keeps the null");
    }

    #[test]
    fn unknown_members_are_refused_with_their_path() {
        let e = parse(json!({"header": {"alg": "none", "algo": 1}})).unwrap_err();
        assert!(e.starts_with("header"), "{e}");
        assert!(e.contains("algo"), "{e}");
        let e =
            parse(json!({"claims": [{"op": "set", "name": "a", "value": 1, "x": 2}]})).unwrap_err();
        assert!(e.starts_with("claims[0]"), "{e}");
        let e = parse(json!({"claims": [{"op": "sett", "name": "a"}]})).unwrap_err();
        assert!(e.starts_with("claims[0]"), "{e}");
        let e = parse(json!({"key": "opp"})).unwrap_err();
        assert!(e.starts_with("key"), "{e}");
    }

    #[test]
    fn semantic_errors_name_their_path() {
        let check = |v: Value| parse(v).unwrap().validate("forge").unwrap_err().to_string();
        assert!(check(json!({"preset": "nope"})).starts_with("forge.preset"));
        assert!(check(json!({"canary_url": "not a url"})).starts_with("forge.canary_url"));
        assert!(
            check(json!({"header": {"alg": "ES256"}, "key": "op_public_as_hmac_pem"}))
                .starts_with("forge.key")
        );
        assert!(
            check(json!({"token_error": {"status": 200}})).starts_with("forge.token_error.status")
        );
        assert!(
            check(json!({"userinfo_jwt": {"header": {"alg": "HS256"}, "key": "attacker"}}))
                .starts_with("forge.userinfo_jwt.key")
        );
        assert!(
            check(json!({"claims": [{"op": "remove", "name": ""}]}))
                .starts_with("forge.claims[0].name")
        );
        let src = |extra: Value| {
            let mut v =
                json!({"name": "src1", "kind": "aggregated", "claims": {"phone_number": "1"}});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            json!({"claim_sources": [v]})
        };
        parse(src(json!({}))).unwrap().validate("forge").unwrap();
        assert!(
            check(src(json!({"claims": {}}))).starts_with("forge.claim_sources[0].claims"),
            "a source without claims"
        );
        assert!(check(src(json!({"claims": {"sub": "x"}}))).contains("'sub' stays"));
        assert!(
            check(src(json!({"endpoint": "http://x.test/c"})))
                .starts_with("forge.claim_sources[0].endpoint")
        );
        assert!(
            check(src(json!({"kind": "distributed", "endpoint": "not a url"})))
                .starts_with("forge.claim_sources[0].endpoint")
        );
        assert!(
            check(src(
                json!({"jwt": {"header": {"alg": "HS256"}, "key": "attacker"}})
            ))
            .starts_with("forge.claim_sources[0].jwt.key")
        );
        let two = json!({"claim_sources": [
            {"name": "s", "kind": "aggregated", "claims": {"a": 1}},
            {"name": "s", "kind": "distributed", "claims": {"b": 1}}]});
        assert!(check(two).starts_with("forge.claim_sources[1].name"));
        let e = parse(src(json!({"kind": "embedded"}))).unwrap_err();
        assert!(e.starts_with("claim_sources[0]"), "{e}");
    }

    #[test]
    fn a_new_alg_drops_only_a_key_that_cannot_sign_it() {
        let kept =
            parse(json!({"preset": "hs256_op_public_pkcs1_pem", "header": {"alg": "HS256"}}))
                .unwrap()
                .expanded()
                .unwrap();
        assert_eq!(kept.key, Some(KeyChoice::OpPublicAsHmacPkcs1Pem));
        let mut a = parse(json!({"key": "attacker"})).unwrap();
        a.overlay(&parse(json!({"header": {"alg": "nOnE"}})).unwrap());
        assert_eq!(
            a.key, None,
            "attacker cannot sign none: the default follows the alg"
        );
        a.validate("").unwrap();
        let mut b = parse(json!({"key": "attacker"})).unwrap();
        b.overlay(&parse(json!({"header": {"alg": "ES256"}})).unwrap());
        assert_eq!(
            b.key,
            Some(KeyChoice::Attacker),
            "an attacker ES256 key exists"
        );
    }

    #[test]
    fn overlay_lets_the_later_spec_win_and_adds_lists() {
        let mut a =
            parse(json!({"header": {"alg": "none"}, "claims": [{"op": "remove", "name": "a"}]}))
                .unwrap();
        let b = parse(json!({"header": {"kid": null}, "key": "attacker", "header2": 1}));
        assert!(b.is_err());
        let b = parse(
            json!({"header": {"alg": "RS256", "kid": null}, "key": "attacker",
            "claims": [{"op": "remove", "name": "b"}]}),
        )
        .unwrap();
        a.overlay(&b);
        assert_eq!(a.header.alg.as_deref(), Some("RS256"));
        assert_eq!(a.header.kid, Some(None));
        assert_eq!(a.key, Some(KeyChoice::Attacker));
        assert_eq!(a.claims.len(), 2);
    }
}
