//! The config-template admin driver: a real SP (Apache + mod_auth_mellon, mod_auth_openidc,
//! Shibboleth) is configured the way its administrator would do it, by writing its
//! configuration files, here rendered from the trial's values, and then (re)starting it.
use std::path::{Path, PathBuf};

use tokio::sync::Mutex;

use crate::children::private::{self, SpUser};
use crate::error::{HarnessError, Result};
use crate::input::template::{Template, Vars};
use crate::target::descriptor::{Launch, TemplateFile};
use crate::target::spawn::{SpProcess, start_sp_process};

/// Files the driver writes into the trial's private directory before rendering templates.
pub const SP_KEY_FILE: &str = "sp-key.pem";
pub const SP_CERT_FILE: &str = "sp-cert.pem";
pub const IDP_METADATA_FILE: &str = "idp-metadata.xml";
pub const IDP_CERT_FILE: &str = "idp-cert.pem";

/// One trial's instance of a config-template SP: its directory, its templates and the
/// running process (none until SSO is configured).
pub struct ConfigTemplateSp {
    pub target: String,
    /// Where the target file lives: template paths are relative to it.
    pub target_dir: PathBuf,
    pub files: Vec<TemplateFile>,
    pub launch: Launch,
    pub sp_dir: PathBuf,
    /// The SP's unprivileged user, when the harness is root: owner of everything written.
    pub owner: Option<SpUser>,
    pub running: Mutex<Option<SpProcess>>,
}

impl ConfigTemplateSp {
    /// Renders every file from `vars`, then stops the running SP (if any) and starts it again.
    pub async fn apply(&self, vars: &Vars) -> Result<String> {
        self.write_credentials(vars).await?;
        for f in &self.files {
            let src = self.target_dir.join(&f.template);
            let text = crate::input::read::read_text(&src)
                .map_err(|e| HarnessError::Target(format!("{}: template {e}", self.target)))?;
            let rendered = render_file(&src, &text, vars)?;
            let out = self.sp_dir.join(&f.output);
            if let Some(parent) = out.parent() {
                self.create_dir(parent)?;
            }
            self.write_file(&out, rendered.as_bytes())?;
        }
        let mut running = self.running.lock().await;
        // The old process must be gone before the new one binds the same port.
        drop(running.take());
        *running = Some(start_sp_process(&self.target, &self.launch, &self.sp_dir, vars).await?);
        Ok(format!(
            "rendered {} file(s) into {} and started the SP",
            self.files.len(),
            self.sp_dir.display()
        ))
    }

    /// The SP's own key pair (once per trial) and, for SAML, the IdP's metadata and certificate.
    async fn write_credentials(&self, vars: &Vars) -> Result<()> {
        self.create_dir(&self.sp_dir.join("logs"))?;
        self.create_dir(&self.sp_dir.join("run"))?;
        let key_path = self.sp_dir.join(SP_KEY_FILE);
        if !key_path.exists() {
            let key = mock_idp::keys::SigningKey::generate(
                &format!("{} SP", self.target),
                mock_idp::keys::Validity::Current,
            )
            .map_err(|e| HarnessError::Target(format!("{}: SP key: {e}", self.target)))?;
            let pem = key
                .private_key()
                .private_key_to_pem_pkcs8()
                .map_err(|e| HarnessError::Target(format!("{}: SP key: {e}", self.target)))?;
            self.write_file(&key_path, &pem)?;
            self.write_file(&self.sp_dir.join(SP_CERT_FILE), key.cert_pem.as_bytes())?;
        }
        if let Ok(cert) = vars.get("idp.certificate_pem") {
            self.write_file(&self.sp_dir.join(IDP_CERT_FILE), cert.as_bytes())?;
        }
        if let Ok(url) = vars.get("idp.metadata_url") {
            let body = fetch(url).await.map_err(|e| {
                HarnessError::Target(format!("{}: IdP metadata {url}: {e}", self.target))
            })?;
            self.write_file(&self.sp_dir.join(IDP_METADATA_FILE), body.as_bytes())?;
        }
        Ok(())
    }

    /// A directory of the trial's private directory (and any missing parent in it): 0700,
    /// the SP user's.
    fn create_dir(&self, dir: &Path) -> Result<()> {
        private::create_dir_under(&self.sp_dir, dir, self.owner)
            .map_err(|e| HarnessError::io(dir, e))
    }

    /// A file of the trial's private directory: 0600 from its creation, the SP user's,
    /// replaced atomically when rendered again.
    fn write_file(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        private::write_file(path, bytes, self.owner).map_err(|e| HarnessError::io(path, e))
    }
}

async fn fetch(url: &str) -> std::result::Result<String, String> {
    let resp = reqwest::get(url).await.map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    resp.text().await.map_err(|e| e.to_string())
}

/// Renders a configuration file line by line, so an unknown placeholder is reported with its
/// line (Apache's `%{VAR}` must be written `%{{VAR}}`).
pub fn render_file(path: &Path, text: &str, vars: &Vars) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let at = |e: String| HarnessError::Template(format!("{}:{}: {e}", path.display(), i + 1));
        let t = Template::parse(line).map_err(at)?;
        out.push_str(&t.render(vars).map_err(at)?);
    }
    Ok(out)
}

/// The trial's private directory for an SP (0700, under the run directory). When the harness
/// runs as root and the target names the `user` its workers drop to, the directory is that
/// user's (still 0700: only root and the SP's user can read it) and the run directory lets
/// that user through to it.
pub fn make_sp_dir(
    target: &str,
    user: Option<&str>,
) -> Result<(crate::children::registry::Scratch, Option<SpUser>)> {
    let run = crate::children::registry::run();
    let dir = run
        .scratch(&format!("sso-sp-{target}-"))
        .map_err(|e| HarnessError::Target(format!("{target}: private directory: {e}")))?;
    let owner = match user {
        Some(name) if private::running_as_root() => Some(SpUser::lookup(name).ok_or_else(|| {
            HarnessError::Target(format!(
                "{target}: launch.process.user {name:?} is not a user of this machine (/etc/passwd)"
            ))
        })?),
        _ => None,
    };
    if let Some(u) = owner {
        private::give_to(dir.path(), Some(u)).map_err(|e| HarnessError::io(dir.path(), e))?;
        run.let_through(u)
            .map_err(|e| HarnessError::Target(format!("{target}: run directory: {e}")))?;
    }
    Ok((dir, owner))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    /// What the report of the careful user found: a key and a rendered apache2.conf with
    /// secrets readable by everyone, in a directory anyone could write.
    #[tokio::test]
    async fn every_file_and_dir_of_a_trial_is_private() {
        let (dir, owner) = make_sp_dir("modes", Some("www-data")).unwrap();
        if private::running_as_root() {
            if let Some(u) = SpUser::lookup("www-data") {
                assert_eq!(owner, Some(u));
            }
        }
        let templates = tempfile::tempdir().unwrap();
        std::fs::write(
            templates.path().join("apache2.conf"),
            "Listen {sp.port}\nOIDCCryptoPassphrase {sp.passphrase}\n",
        )
        .unwrap();
        std::fs::write(templates.path().join("page.shtml"), "<p>hi</p>\n").unwrap();
        let files = vec![
            TemplateFile {
                template: "apache2.conf".into(),
                output: "apache2.conf".into(),
            },
            TemplateFile {
                template: "page.shtml".into(),
                output: "htdocs/secure/index.shtml".into(),
            },
        ];
        let sp = ConfigTemplateSp {
            target: "modes".into(),
            target_dir: templates.path().to_path_buf(),
            files,
            launch: Launch::Url(Template::parse("http://127.0.0.1/").unwrap()),
            sp_dir: dir.path().to_path_buf(),
            owner,
            running: Default::default(),
        };
        let mut vars = Vars::default();
        vars.set("sp.port", "1");
        vars.set("sp.passphrase", "pp-secret");
        vars.set("idp.certificate_pem", "-----BEGIN CERTIFICATE-----\n");
        // Rendering succeeds; starting fails (a URL target starts nothing): the files stay.
        let e = sp.apply(&vars).await.unwrap_err().to_string();
        assert!(e.contains("only process and container launches"), "{e}");
        assert_eq!(mode(dir.path()), 0o700);
        for d in ["logs", "run", "htdocs", "htdocs/secure"] {
            assert_eq!(mode(&dir.path().join(d)), 0o700, "{d}");
        }
        for f in [
            SP_KEY_FILE,
            SP_CERT_FILE,
            IDP_CERT_FILE,
            "apache2.conf",
            "htdocs/secure/index.shtml",
        ] {
            let p = dir.path().join(f);
            assert_eq!(mode(&p), 0o600, "{f}");
            if let Some(u) = owner {
                assert_eq!(std::fs::metadata(&p).unwrap().uid(), u.uid, "{f}");
            }
        }
        // Rendering again (SSO reconfigured) keeps every mode.
        let _ = sp.apply(&vars).await;
        assert_eq!(mode(&dir.path().join("apache2.conf")), 0o600);
        // The run directory lets only the SP's group through, and lists nothing.
        let run_dir = dir.path().parent().unwrap().to_path_buf();
        assert_eq!(
            mode(&run_dir) & 0o066,
            0,
            "others may never list or write it"
        );
        if owner.is_none() {
            assert_eq!(mode(&run_dir), 0o700);
        }
        drop(dir);
        // The last scratch directory of this test process takes the run directory along.
        assert!(!run_dir.exists());
    }

    #[test]
    fn renders_lines_and_names_the_line_of_a_bad_placeholder() {
        let mut vars = Vars::default();
        vars.set("sp.port", "8080");
        let ok = render_file(
            Path::new("a.conf"),
            "Listen 127.0.0.1:{sp.port}\nRewriteCond %{{HTTP_HOST}}\n",
            &vars,
        )
        .unwrap();
        assert_eq!(ok, "Listen 127.0.0.1:8080\nRewriteCond %{HTTP_HOST}\n");
        let e = render_file(Path::new("a.conf"), "x\nRewriteCond %{HTTP_HOST}\n", &vars)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("a.conf:2: unknown placeholder {HTTP_HOST}"),
            "{e}"
        );
        let e = render_file(Path::new("a.conf"), "x\ny\n{sp.dir}\n", &vars)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("a.conf:3: "), "{e}");
    }
}
