//! The README's test command, `.ci/run` and the GitHub workflow must stay one and the same:
//! CI proves only what the README tells a user to run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

fn repo_file(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The commands of the README's first code block, in order.
fn readme_commands() -> Vec<String> {
    let readme = repo_file("README.md");
    let block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README.md has no ```sh block");
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn readme_opens_with_exactly_two_commands() {
    let readme = repo_file("README.md");
    let first_block = readme.find("```sh").expect("no command block");
    let before: Vec<&str> = readme[..first_block]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(
        before.len() <= 2,
        "the two commands must open the README, found first: {before:?}"
    );
    let commands = readme_commands();
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert!(commands[0].contains("main-job"), "{}", commands[0]);
    for gate in [
        "scripts/setup",
        "cargo fmt --all --check",
        "cargo clippy --workspace --all-targets -- -D warnings",
        "cargo test --workspace",
    ] {
        assert!(commands[1].contains(gate), "test command lacks `{gate}`");
    }
}

#[test]
fn ci_runs_the_readme_test_command_verbatim() {
    let test_command = &readme_commands()[1];
    let ci = repo_file(".ci/run");
    let last = ci
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap();
    assert_eq!(last, test_command, ".ci/run's command differs from README");
    let workflow = repo_file(".github/workflows/ci.yml");
    assert!(
        workflow.lines().any(|l| l.trim() == "bash .ci/run'"),
        "ci.yml must run .ci/run"
    );
    // An unprivileged job container cannot start dockerd: the job runs on the runner VM and
    // starts Debian with the VM's Docker.
    assert!(
        !workflow
            .lines()
            .any(|l| l.trim_start() == "container:" || l.starts_with("    container:")),
        "ci.yml must not run the job in a `container:`"
    );
    assert!(workflow.contains("/var/run/docker.sock:/var/run/docker.sock"));
}

#[test]
fn generated_output_is_ignored() {
    let ignore = repo_file(".gitignore");
    for line in ["/target/", "/reports/*", "!/reports/README.md"] {
        assert!(ignore.lines().any(|l| l.trim() == line), "missing {line}");
    }
}

/// The step vocabulary is defined once (`Step::VOCABULARY`); its documentation is a table row
/// per key in scenarios/README.md, and a key that is added without a row (or a row left for a
/// removed key) fails here.
#[test]
fn every_step_kind_is_documented_once() {
    let doc = repo_file("scenarios/README.md");
    let documented: Vec<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .flat_map(|rest| {
            // `a` / `b` rows document two keys
            let cell = rest.split(" |").next().unwrap_or_default();
            cell.split(" / ")
                .map(|k| k.trim_matches('`').to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    for (key, _, _) in harness::scenario::schema::Step::VOCABULARY {
        assert!(
            documented.iter().any(|d| d == key),
            "step `{key}` has no row in scenarios/README.md"
        );
    }
}
