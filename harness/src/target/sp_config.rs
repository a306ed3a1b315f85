//! The config-template admin driver: a real SP (Apache + mod_auth_mellon, mod_auth_openidc,
//! Shibboleth) is configured the way its administrator would do it, by writing its
//! configuration files, here rendered from the trial's values, and then (re)starting it.
use std::path::{Path, PathBuf};

use tokio::sync::Mutex;

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
    pub running: Mutex<Option<SpProcess>>,
}

impl ConfigTemplateSp {
    /// Renders every file from `vars`, then stops the running SP (if any) and starts it again.
    pub async fn apply(&self, vars: &Vars) -> Result<String> {
        self.write_credentials(vars).await?;
        for f in &self.files {
            let src = self.target_dir.join(&f.template);
            let text = std::fs::read_to_string(&src).map_err(|e| HarnessError::io(&src, e))?;
            let rendered = render_file(&src, &text, vars)?;
            let out = self.sp_dir.join(&f.output);
            if let Some(parent) = out.parent() {
                create_dir(parent)?;
            }
            write_file(&out, &rendered)?;
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
        create_dir(&self.sp_dir.join("logs"))?;
        create_dir(&self.sp_dir.join("run"))?;
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
            write_file(&key_path, &String::from_utf8_lossy(&pem))?;
            write_file(&self.sp_dir.join(SP_CERT_FILE), &key.cert_pem)?;
        }
        if let Ok(cert) = vars.get("idp.certificate_pem") {
            write_file(&self.sp_dir.join(IDP_CERT_FILE), cert)?;
        }
        if let Ok(url) = vars.get("idp.metadata_url") {
            let body = fetch(url).await.map_err(|e| {
                HarnessError::Target(format!("{}: IdP metadata {url}: {e}", self.target))
            })?;
            write_file(&self.sp_dir.join(IDP_METADATA_FILE), &body)?;
        }
        Ok(())
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

/// Apache and shibd drop to www-data: the private directory and its files must be readable.
fn create_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).map_err(|e| HarnessError::io(dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777))
        .map_err(|e| HarnessError::io(dir, e))
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).map_err(|e| HarnessError::io(path, e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
        .map_err(|e| HarnessError::io(path, e))
}

/// The trial's private directory for an SP, readable by the SP's unprivileged workers.
pub fn make_sp_dir(target: &str) -> Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("sso-sp-{target}-"))
        .tempdir()
        .map_err(|e| HarnessError::Target(format!("{target}: private directory: {e}")))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(|e| HarnessError::io(dir.path(), e))?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

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
