//! The reference SP: an executable model of the documented SSO product. It knows nothing of
//! the harness; the harness reaches it over HTTP like any other SP.
