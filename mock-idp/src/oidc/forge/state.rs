//! The forge's per-tenant state, a leaf the tenant's OIDC state can own without depending on
//! the forging (which reads the tenant).

use std::collections::BTreeSet;
use std::sync::Arc;

use proto::oidc_forge::{ForgeSpec, ProviderSettings, Published};

use super::keys::ForgeKeys;
use crate::oidc::jwt::SigningKey;

/// Per-tenant forge state; lives in `TenantOidc`, so deleting the tenant forgets it.
#[derive(Debug, Default)]
pub struct TenantForge {
    /// Every sign-in until changed.
    pub standing: Option<Arc<ForgeSpec>>,
    /// The next sign-in only.
    pub next: Option<Arc<ForgeSpec>>,
    /// Made on first use.
    pub keys: Option<Arc<ForgeKeys>>,
    pub provider: ProviderSettings,
    /// Old signing keys a rotation kept in the JWKS.
    pub retired: Vec<SigningKey>,
    /// Extra keys a forge has asked for: once published they stay published, as an OP's
    /// keys would (a consumed next-sign-in forge must not take its key out of the JWKS).
    pub asked: BTreeSet<Published>,
}
