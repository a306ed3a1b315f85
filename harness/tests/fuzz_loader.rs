//! The loader never panics: thousands of seeded random mutations of valid files.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::Path;

use harness::input::template::Template;
use harness::scenario::load::{parse_scenario, parse_yaml};
use harness::target::descriptor::TargetDescriptor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SEEDS: &[&str] = &[
    include_str!("../../scenarios/product/sp-initiated-saml.yaml"),
    include_str!("../../scenarios/product/idp-initiated-tile.yaml"),
    include_str!("../../scenarios/product/saml-wrong-signature.yaml"),
    include_str!("../../targets/reference-sp.yaml"),
    include_str!("../../targets/staging.example.yaml"),
    include_str!("selftest/page-pass.yaml"),
];

const ALPHABET: &[u8] = b"{}[]:-'\"\n #!&*|>%@?,.\\\t0123456789abcxyz_~";

fn mutate(rng: &mut StdRng, text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..rng.random_range(1..6) {
        if bytes.is_empty() {
            bytes.push(b'{');
        }
        let at = rng.random_range(0..bytes.len());
        match rng.random_range(0..7) {
            0 => {
                let end = (at + rng.random_range(1..20)).min(bytes.len());
                bytes.drain(at..end);
            }
            1 => {
                for _ in 0..rng.random_range(1..8) {
                    bytes.insert(at, ALPHABET[rng.random_range(0..ALPHABET.len())]);
                }
            }
            2 => bytes.truncate(at),
            3 => {
                // duplicate a slice elsewhere
                let end = (at + rng.random_range(1..40)).min(bytes.len());
                let piece = bytes[at..end].to_vec();
                let to = rng.random_range(0..bytes.len());
                for (i, b) in piece.into_iter().enumerate() {
                    bytes.insert(to + i, b);
                }
            }
            4 => bytes[at] = ALPHABET[rng.random_range(0..ALPHABET.len())],
            5 => {
                // nest deeply
                let n = rng.random_range(1..300);
                for _ in 0..n {
                    bytes.insert(at, b'[');
                }
            }
            _ => bytes.insert(at, rng.random::<u8>()),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn random_mutations_never_panic_and_errors_are_located() {
    let mut rng = StdRng::seed_from_u64(0x5eed_cafe);
    let file = Path::new("fuzz.yaml");
    let mut errors = 0;
    for i in 0..6000 {
        let seed = SEEDS[i % SEEDS.len()];
        let text = mutate(&mut rng, seed);
        if let Err(e) = parse_scenario(&text, file) {
            errors += 1;
            let s = e.to_string();
            assert!(
                s.starts_with("fuzz.yaml:"),
                "unlocated error {s:?} for input {text:?}"
            );
            assert!(!e.message.is_empty());
        }
        let _ = parse_yaml::<TargetDescriptor>(&text, file);
        for line in text.lines().take(5) {
            let _ = Template::parse(line);
        }
    }
    // the mutations must actually exercise the error paths
    assert!(
        errors > 3000,
        "only {errors} of 6000 mutated inputs were errors"
    );
}
