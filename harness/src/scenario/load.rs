//! Loads scenario files into the model: typed, with `file:line:col: message` for every error.
use std::path::{Path, PathBuf};

pub use crate::input::discover::IDP_CHECKS_DIR;
use crate::input::discover::discover;
use crate::input::location::{Located, Location};
use crate::input::places::StepPlaces;
pub use crate::input::yaml::parse_yaml;
use crate::scenario::schema::Scenario;

/// A scenario and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    pub path: PathBuf,
    /// Path under the scenarios root without extension, e.g. `smoke/saml-sign-in`.
    pub id: String,
    pub scenario: Scenario,
    /// Where each step sits in the file, for failure messages.
    pub places: StepPlaces,
}

/// Parses one scenario text; `file` is only used to name locations.
pub fn parse_scenario(text: &str, file: &Path) -> Result<Scenario, Located> {
    let s: Scenario = parse_yaml(text, file)?;
    check_setup(&s, &StepPlaces::find(text, file), file)?;
    if s.steps.is_empty() && s.expect.is_empty() {
        return Err(Located {
            location: Location::start_of(file),
            message: format!(
                "scenario {:?} has no steps and no expectations: it cannot silently do nothing",
                s.scenario
            ),
        });
    }
    Ok(s)
}

/// Reads and parses one file.
pub fn load_file(path: &Path, root: &Path) -> Result<LoadedScenario, Located> {
    let text = crate::input::read::read_text(path)?;
    let mut scenario = parse_scenario(&text, path)?;
    read_forge_template(&mut scenario, &text, path)?;
    let places = StepPlaces::find(&text, path);
    Ok(LoadedScenario {
        path: path.to_path_buf(),
        id: scenario_id(path, root),
        places,
        scenario,
    })
}

/// A file with `variants:` is one scenario per variant (`id/name`); a file without is itself.
/// Templates files of the variants' forges are read here, like the file's own.
pub fn expand_variants(base: LoadedScenario) -> Result<Vec<LoadedScenario>, Located> {
    if base.scenario.variants.is_empty() {
        return Ok(vec![base]);
    }
    let text = crate::input::read::read_text(&base.path)?;
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (i, v) in base.scenario.variants.iter().enumerate() {
        let place = base.places.variants.get(i);
        let at = place
            .map(|p| p.at.clone())
            .unwrap_or_else(|| Location::start_of(&base.path));
        let good_name = !v.name.is_empty()
            && v.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !good_name || !seen.insert(v.name.clone()) {
            return Err(Located {
                location: at,
                message: format!(
                    "variants[{i}].name {:?}: expected lower-case words and dashes, unique in the file",
                    v.name
                ),
            });
        }
        let mut s = base.scenario.clone();
        s.variants = Vec::new();
        s.scenario = format!(
            "{}: {}",
            base.scenario.scenario,
            v.description.as_deref().unwrap_or(&v.name)
        );
        if !v.anchors.is_empty() {
            s.anchors = v.anchors.clone();
        }
        if v.cwe.is_some() {
            s.cwe = v.cwe.clone();
        }
        if !v.cve.is_empty() {
            s.cve = v.cve.clone();
        }
        if v.severity.is_some() {
            s.severity = v.severity;
        }
        if v.remediation.is_some() {
            s.remediation = v.remediation.clone();
        }
        s.requires.extend(v.requires.iter().copied());
        s.tags.extend(v.tags.iter().cloned());
        if v.saml.is_some() {
            s.idp.saml = v.saml.clone();
        }
        if v.oidc.is_some() {
            s.idp.oidc = v.oidc.clone();
        }
        if let Some(f) = &v.faults {
            s.idp.faults = f.clone();
        }
        let mut places = base.places.clone();
        if !v.expect.is_empty() {
            s.expect = v.expect.clone();
            places.expect = place.map(|p| p.expect.clone()).unwrap_or_default();
        }
        if !v.per_target.is_empty() {
            s.per_target = v.per_target.clone();
            places.per_target_expect = s
                .per_target
                .iter()
                .map(|(name, p)| (name.clone(), vec![at.clone(); p.expect.len()]))
                .collect();
        }
        read_forge_template(&mut s, &text, &base.path)?;
        out.push(LoadedScenario {
            path: base.path.clone(),
            id: format!("{}/{}", base.id, v.name),
            scenario: s,
            places,
        });
    }
    Ok(out)
}

/// `idp.saml.forge.template_file`: the hand-written Response, read now (bounded, a regular
/// file under the scenario's directory) so a missing file fails `check`, not a trial.
fn read_forge_template(s: &mut Scenario, text: &str, path: &Path) -> Result<(), Located> {
    let Some(forge) = s.idp.saml.as_mut().and_then(|o| o.forge.as_mut()) else {
        return Ok(());
    };
    let Some(rel) = &forge.template_file else {
        return Ok(());
    };
    let file = path.parent().unwrap_or(Path::new(".")).join(rel);
    let xml = crate::input::read::read_text(&file).map_err(|e| Located {
        location: key_location(text, path, "template_file"),
        message: format!("forge.template_file: {}: {}", file.display(), e.message),
    })?;
    forge.spec.template = Some(xml);
    Ok(())
}

/// The first line that sets `key:`, for errors about a value the loader reads later.
fn key_location(text: &str, path: &Path, key: &str) -> Location {
    text.lines()
        .enumerate()
        .find_map(|(i, l)| {
            let col = l.find(&format!("{key}:"))?;
            Some(Location::new(path, i + 1, col + 1))
        })
        .unwrap_or_else(|| Location::start_of(path))
}

/// `setup` takes only steps that do not drive the browser.
fn check_setup(s: &Scenario, places: &StepPlaces, path: &Path) -> Result<(), Located> {
    for (i, step) in s.setup.iter().enumerate() {
        if let Some(kind) = step.first_browser_step() {
            return Err(Located {
                location: places
                    .setup
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| Location::start_of(path)),
                message: format!(
                    "setup[{i}]: `{kind}` drives the browser: it belongs in `steps`, not in `setup` (setup takes: {})",
                    crate::scenario::schema::Step::setup_kinds().join(", ")
                ),
            });
        }
    }
    Ok(())
}

pub fn scenario_id(path: &Path, root: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let rel = rel.with_extension("");
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Loads every scenario under `root`: the good ones and every error. Scenario ids are
/// relative to the nearest enclosing `scenarios/` directory, so `--scenarios scenarios/smoke`
/// and the whole pack name a trial the same way (`smoke/x`).
pub fn load_dir(root: &Path) -> (Vec<LoadedScenario>, Vec<Located>) {
    let dir = if root.is_dir() {
        root
    } else {
        root.parent().unwrap_or(root)
    };
    let base = dir
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "scenarios"))
        .unwrap_or(dir);
    let found = discover(root);
    let mut ok = Vec::new();
    let mut errors = found.errors;
    for p in found.files {
        match load_file(&p, base).and_then(expand_variants) {
            Ok(s) => ok.extend(s),
            Err(e) => errors.push(e),
        }
    }
    (ok, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse_scenario(text, Path::new("x.yaml"))
            .unwrap_err()
            .to_string()
    }

    const GOOD: &str = "scenario: s\nidp:\n  users: [{email: a@acme.test}]\nsetup:\n  - verify_domain: acme.test\n  - configure_sso: saml\nsteps:\n  - open: \"{sp.login_url}\"\n  - fill: {selector: 'input[name=email]', value: '{user.email}'}\n  - click: '#continue'\n  - idp_login: {}\n  - expect: {signed_in_as: '{user.email}'}\n";

    #[test]
    fn good_file_parses() {
        let s = parse_scenario(GOOD, Path::new("x.yaml")).unwrap();
        assert_eq!(s.steps.len(), 5);
        assert_eq!(s.setup.len(), 2);
    }

    #[test]
    fn unknown_step_gets_location_and_suggestion() {
        let e = err(&GOOD.replace("- click:", "- clik:"));
        assert!(e.starts_with("x.yaml:10:5: "), "{e}");
        assert!(
            e.contains("unknown step 'clik' (did you mean 'click'?)"),
            "{e}"
        );
    }

    #[test]
    fn unknown_key_gets_location_and_suggestion() {
        let e = err(&GOOD.replace("scenario: s", "scenario: s\ncovres: [LOGIN-1]"));
        assert!(e.starts_with("x.yaml:2:1: "), "{e}");
        assert!(
            e.contains("unknown key 'covres' (did you mean 'covers'?)"),
            "{e}"
        );
        let e = err(&GOOD.replace("signed_in_as:", "signed_in_az:"));
        assert!(e.contains("did you mean 'signed_in_as'"), "{e}");
        assert!(e.starts_with("x.yaml:12:"), "{e}");
    }

    #[test]
    fn unknown_placeholder_is_a_load_error() {
        let e = err(&GOOD.replace("{sp.login_url}", "{sp.logn_url}"));
        assert!(e.starts_with("x.yaml:8:"), "{e}");
        assert!(e.contains("did you mean {sp.login_url}"), "{e}");
    }

    #[test]
    fn interleaved_flows_parse() {
        let text = "scenario: s\nsetup:\n  - repeat: {times: 3, steps: [{add_domain: 'd{n}.acme.test'}]}\n  - use_org: Other\nsteps:\n  - use_browser: owner\n  - advance_clock: {by: 8d, on: target}\n  - check_domain: {domain: acme.test, expect: expired}\n  - expect: {status: 404}\n";
        let s = parse_scenario(text, Path::new("x.yaml")).unwrap();
        assert_eq!(s.setup.len(), 2);
        assert_eq!(s.steps.len(), 4);
        let e = err(&text.replace("times: 3", "tims: 3"));
        assert!(e.contains("did you mean 'times'"), "{e}");
    }

    #[test]
    fn idp_checks_are_not_loaded_as_sp_scenarios() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("scenarios");
        std::fs::create_dir_all(root.join("smoke")).unwrap();
        std::fs::create_dir_all(root.join(IDP_CHECKS_DIR)).unwrap();
        std::fs::write(root.join("smoke/a.yaml"), GOOD).unwrap();
        std::fs::write(
            root.join(IDP_CHECKS_DIR).join("oidc.yaml"),
            "protocol: oidc\nchecks: []\n",
        )
        .unwrap();
        let (ok, errors) = load_dir(&root);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].id, "smoke/a");
        // The shipped tree too: no SP scenario comes from idp-checks/.
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let (ok, _) = load_dir(&shipped);
        assert!(ok.iter().all(|s| !s.id.starts_with(IDP_CHECKS_DIR)));
        assert!(!ok.is_empty());
    }

    #[test]
    fn a_forge_template_file_is_read_at_load_time() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "{GOOD}idp:\n  users: [{{email: a@acme.test}}]\n  saml:\n    forge:\n      template_file: evil.xml\n"
        )
        .replace("idp:\n  users: [{email: a@acme.test}]\nsetup", "setup");
        let file = dir.path().join("s.yaml");
        std::fs::write(&file, &text).unwrap();
        let e = load_file(&file, dir.path()).unwrap_err().to_string();
        assert!(e.contains("forge.template_file"), "{e}");
        assert!(e.contains(":15:7:") && e.contains("evil.xml"), "{e}");
        std::fs::write(
            dir.path().join("evil.xml"),
            "<Response>{{nameid}}</Response>",
        )
        .unwrap();
        let s = load_file(&file, dir.path()).unwrap();
        let forge = s.scenario.idp.saml.unwrap().forge.unwrap();
        assert_eq!(
            forge.spec.template.as_deref(),
            Some("<Response>{{nameid}}</Response>")
        );
    }

    #[test]
    fn nothing_to_do_is_an_error() {
        let e = err("scenario: empty\n");
        assert!(e.contains("cannot silently do nothing"), "{e}");
        let e = err("scenario: s\nsteps:\n  - expect: {screenshot: true}\n");
        assert!(e.contains("asserts nothing"), "{e}");
    }

    #[test]
    fn bad_values_are_located() {
        let e = err(&GOOD.replace("scenario: s", "scenario: s\ncovers: [login-1]"));
        assert!(e.contains("FAMILY-N"), "{e}");
        let e = err(&GOOD.replace("scenario: s", "scenario: s\nrequires: [odic]"));
        assert!(e.contains("did you mean 'oidc'"), "{e}");
    }

    #[test]
    fn a_variants_oidc_replaces_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let text = "scenario: s\nidp:\n  protocol: oidc\n  users: [{email: a@acme.test}]\n  oidc: {scopes: [openid], forge: {preset: alg_none}}\nsetup:\n  - connect: oidc\nsteps:\n  - start_login: {}\nexpect: {rejected: true}\nvariants:\n  - name: file-forge\n  - name: own-forge\n    oidc: {forge: {preset: jku_header_attacker, canary_url: \"{canary.url}\"}}\n";
        let file = dir.path().join("s.yaml");
        std::fs::write(&file, text).unwrap();
        let all = expand_variants(load_file(&file, dir.path()).unwrap()).unwrap();
        let preset = |i: usize| {
            all[i]
                .scenario
                .idp
                .oidc
                .as_ref()
                .and_then(|o| o.forge.as_ref())
                .and_then(|f| f.spec.preset.clone())
        };
        assert_eq!(all[0].id, "s/file-forge");
        assert_eq!(preset(0).as_deref(), Some("alg_none"));
        assert_eq!(preset(1).as_deref(), Some("jku_header_attacker"));
        // `oidc` replaces the whole of idp.oidc: the file's scopes are not kept.
        assert_eq!(all[1].scenario.idp.oidc.as_ref().unwrap().scopes, None);
        let bad = text.replace("preset: jku_header_attacker", "preset: jku_header");
        std::fs::write(&file, bad).unwrap();
        let e = load_file(&file, dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("forge.preset") && e.contains("jku_header"),
            "{e}"
        );
    }
}
