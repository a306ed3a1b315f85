//! Which OIDC faults apply where. One sign-in is one "response": the faults are chosen when
//! the user is sent back with a code and travel with the code and the access token, so a
//! next-response-only fault breaks exactly one sign-in whatever the RP fetches in between.
//! Only `discovery_issuer_mismatch` belongs to the discovery document instead.

use crate::fault::{Fault, Protocol};
use crate::tenant::Tenant;

use super::claims::ClaimFault;
use super::jwt::Forgery;

/// The faults the answer being built now obeys: the tenant's standing faults plus the
/// next-response-only ones, which are consumed. `wanted` picks the faults this answer owns.
pub fn take(tenant: &mut Tenant, wanted: impl Fn(Fault) -> bool) -> Vec<Fault> {
    let applies = |f: &Fault| f.protocol().applies_to(Protocol::Oidc) && wanted(*f);
    let mut active: Vec<Fault> = tenant.faults.iter().copied().filter(applies).collect();
    let (now, later): (Vec<Fault>, Vec<Fault>) =
        tenant.next_faults.iter().partition(|f| applies(f));
    tenant.next_faults = later;
    for f in now {
        if !active.contains(&f) {
            active.push(f);
        }
    }
    active
}

/// Faults owned by the discovery document.
pub fn for_discovery(f: Fault) -> bool {
    f == Fault::DiscoveryIssuerMismatch
}

/// Faults owned by one sign-in (authorization response, token, ID token, userinfo).
pub fn for_sign_in(f: Fault) -> bool {
    !for_discovery(f)
}

/// How the ID token is signed under `faults`.
pub fn forgery(faults: &[Fault]) -> Forgery {
    faults
        .iter()
        .find_map(|f| match f {
            Fault::IdTokenBadSignature => Some(Forgery::BadSignature),
            Fault::IdTokenAlgNone => Some(Forgery::AlgNone),
            Fault::IdTokenHs256PublicKey => Some(Forgery::Hs256WithPublicKey),
            Fault::IdTokenUnknownKid => Some(Forgery::UnknownKid),
            _ => None,
        })
        .unwrap_or_default()
}

/// The claim faults among `faults`.
pub fn claim_faults(faults: &[Fault]) -> Vec<ClaimFault> {
    faults
        .iter()
        .filter_map(|f| {
            Some(match f {
                Fault::IdTokenWrongIssuer => ClaimFault::WrongIssuer,
                Fault::EntraV1Issuer => ClaimFault::EntraV1Issuer,
                Fault::IdTokenWrongAudience => ClaimFault::WrongAudience,
                Fault::IdTokenMultipleAudiencesNoAzp => ClaimFault::MultipleAudiencesWithoutAzp,
                Fault::IdTokenExpired => ClaimFault::Expired,
                Fault::IdTokenIatFuture => ClaimFault::IssuedInTheFuture,
                Fault::IdTokenNonceMismatch => ClaimFault::NonceMismatch,
                Fault::IdTokenNonceMissing => ClaimFault::NonceMissing,
                Fault::IdTokenMissingSub => ClaimFault::MissingSub,
                Fault::IdTokenMissingEmail => ClaimFault::MissingEmail,
                Fault::IdTokenMissingGivenName => ClaimFault::MissingGivenName,
                Fault::IdTokenMissingFamilyName => ClaimFault::MissingFamilyName,
                Fault::EmailNotVerified => ClaimFault::EmailNotVerified,
                _ => return None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_oidc_fault_has_a_behaviour() {
        for f in Fault::ALL.iter().copied() {
            if f.protocol() != Protocol::Oidc {
                continue;
            }
            let handled = forgery(&[f]) != Forgery::Genuine
                || !claim_faults(&[f]).is_empty()
                || matches!(
                    f,
                    Fault::StateMismatch
                        | Fault::StateMissing
                        | Fault::IdTokenAttackerKey
                        | Fault::UserinfoSubMismatch
                        | Fault::TokenInvalidGrant
                        | Fault::DiscoveryIssuerMismatch
                        | Fault::AuthorizationResponseHeld
                );
            assert!(handled, "OIDC fault {f} does nothing");
        }
    }

    #[test]
    fn next_faults_are_consumed_only_by_their_owner() {
        let spec: crate::tenant::TenantSpec = serde_json::from_str(r#"{"id":"f"}"#).unwrap();
        let mut t = Tenant::from_spec(spec).unwrap();
        t.next_faults = vec![
            Fault::DiscoveryIssuerMismatch,
            Fault::IdTokenAlgNone,
            Fault::Unsigned,
        ];
        assert_eq!(take(&mut t, for_sign_in), vec![Fault::IdTokenAlgNone]);
        assert_eq!(
            take(&mut t, for_discovery),
            vec![Fault::DiscoveryIssuerMismatch]
        );
        assert_eq!(t.next_faults, vec![Fault::Unsigned]);
        assert!(take(&mut t, for_sign_in).is_empty());
    }
}
