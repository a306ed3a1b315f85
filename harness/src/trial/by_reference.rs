//! What the trial's OIDC client registers about passing its authorization requests by
//! reference (`idp.oidc.require_par`, `idp.oidc.request_object`). The mock OP then refuses
//! the loose requests of an RP that pushes nothing and hosts no request object, so a
//! sign-in that completes is one that went by reference.
use proto::idp::AuthRequestRules;

use crate::scenario::schema::{OidcOptions, RequestObjectAlg};
use crate::trial::ctx::TrialCtx;
use crate::trial::failure::StepFailure;

impl TrialCtx<'_> {
    /// The rules for the client `configure_sso: oidc` registers; `None` when the scenario
    /// asks for neither PAR nor request objects.
    pub(crate) fn auth_request_rules(
        &self,
        opts: &OidcOptions,
    ) -> Result<Option<AuthRequestRules>, StepFailure> {
        let alg = opts.request_object.as_ref().map(|r| r.alg);
        if !opts.require_par && alg.is_none() {
            return Ok(None);
        }
        // RS256 objects are verified with the keys the RP publishes.
        let jwks_uri = match alg {
            Some(RequestObjectAlg::Rs256) => Some(
                self.vars
                    .get("sp.oidc_jwks_uri")
                    .map(str::to_string)
                    .map_err(|_| {
                        StepFailure::broken(format!(
                            "idp.oidc.request_object asks for RS256 request objects, and target {} \
                         declares no sp.oidc_jwks_uri (where the RP publishes its keys)",
                            self.target.name
                        ))
                    })?,
            ),
            _ => None,
        };
        Ok(Some(AuthRequestRules {
            require_pushed_authorization_requests: opts.require_par,
            require_request_object: alg.is_some(),
            request_object_signing_alg: alg.map(|a| a.as_str().to_string()),
            jwks_uri,
        }))
    }
}
