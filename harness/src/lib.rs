//! The harness: YAML scenarios drive a real browser through a target SP and assert outcomes.
