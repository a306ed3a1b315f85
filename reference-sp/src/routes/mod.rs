//! The HTTP surface: admin API, test controls, browser pages and SSO endpoints.
mod admin_api;
mod identity;
mod login;
mod sso;
mod test_api;

use crate::state::AppState;
use axum::Router;
use std::sync::Arc;

pub type Shared = Arc<AppState>;

pub fn router(state: Shared) -> Router {
    let mut app = Router::new()
        .merge(admin_api::routes())
        .merge(login::routes())
        .merge(identity::routes())
        .merge(sso::routes());
    // Without --test-mode these routes do not exist at all (404).
    if state.test_mode {
        app = app.merge(test_api::routes());
    }
    app.with_state(state)
}
