//! The testcontainers launcher: runs a real SP's command inside a Docker container.
//!
//! No image registry is reachable, so every image is built here from Debian packages:
//! - the base `sso-harness/debian-base:bookworm` is a `debootstrap --variant=minbase` tree
//!   turned into an image with `docker import`;
//! - an SP image `sso-harness/sp:<hash>` is that base plus `apt-get install` of the target's
//!   `packages`, built with `docker build` from a generated Dockerfile. The hash covers the
//!   Dockerfile (so the package list) and the base image's ID, so a changed list or a rebuilt
//!   base gives a new tag and an unchanged one is found again.
//!
//! Images are built lazily on first use, once: a process-wide lock and a lock file serialise
//! builds (a second trial asking for the same image waits and then finds it), and a tag is set
//! only after its build succeeded (`docker tag` of the finished image ID), so a failed build
//! leaves no half-built tag behind.
//!
//! Containers run in the host's network namespace: the SP listens on the same loopback port a
//! process would and reaches the mock IdP on the host's loopback. The trial's private directory
//! is bind-mounted at the same path, so rendered configuration, keys and logs keep their paths.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use testcontainers::core::{Mount, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};
use tokio::process::Command;

use crate::error::{HarnessError, Result};

/// The Debian release of every image; the host's release (Debian's packages are what the
/// process launcher runs too).
pub const SUITE: &str = "bookworm";
/// Tag of the debootstrapped base image.
pub const BASE_IMAGE: &str = "sso-harness/debian-base:bookworm";
/// Repository of the SP images; the tag is a hash of how the image is made.
pub const SP_REPOSITORY: &str = "sso-harness/sp";
/// Bump when the base recipe changes: it is part of the base image's labels and of SP tags.
const RECIPE: &str = "1";
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";
const DEFAULT_SECURITY_MIRROR: &str = "http://deb.debian.org/debian-security";

/// What to run in a container for one trial.
pub struct ContainerRequest<'a> {
    /// Target name, for messages.
    pub target: &'a str,
    /// Debian packages the image needs.
    pub packages: &'a [String],
    /// Already rendered; the first element is the program.
    pub command: &'a [String],
    /// Already rendered.
    pub env: &'a BTreeMap<String, String>,
    /// Bind-mounted at the same path, read-write; the command's working directory.
    pub dir: &'a Path,
}

/// A running container; dropping it stops and removes the container.
pub struct ContainerGuard {
    container: Option<ContainerAsync<GenericImage>>,
    image: String,
    target: String,
}

impl ContainerGuard {
    pub fn id(&self) -> &str {
        self.container.as_ref().map_or("", |c| c.id())
    }

    pub fn image(&self) -> &str {
        &self.image
    }

    /// `Some(description)` once the container's command has exited (with the last lines of
    /// what it wrote to the container's log), `None` while it runs. For readiness loops: a
    /// command that died needs no waiting.
    pub async fn exited(&self) -> Option<String> {
        let c = self.container.as_ref()?;
        match c.is_running().await {
            Ok(true) => None,
            Ok(false) => {
                let code = c
                    .exit_code()
                    .await
                    .ok()
                    .flatten()
                    .map_or_else(|| "?".to_string(), |c| c.to_string());
                let mut out = String::new();
                for bytes in [c.stdout_to_vec().await, c.stderr_to_vec().await]
                    .into_iter()
                    .flatten()
                {
                    out.push_str(&String::from_utf8_lossy(&bytes));
                }
                Some(format!(
                    "container of {} exited with code {code}{}",
                    self.image,
                    tail_lines(&out, 20)
                ))
            }
            Err(e) => Some(format!(
                "cannot inspect the container of {}: {e}",
                self.image
            )),
        }
    }

    /// Stops and removes the container now, reporting a failure (drop only logs it).
    pub async fn remove(mut self) -> Result<()> {
        let Some(c) = self.container.take() else {
            return Ok(());
        };
        c.rm().await.map_err(|e| {
            HarnessError::Target(format!(
                "target {}: cannot remove its container ({}): {e}",
                self.target, self.image
            ))
        })
    }
}

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        let Some(c) = self.container.take() else {
            return;
        };
        // testcontainers removes the container in its own Drop, which needs a Tokio runtime
        // handle; a guard dropped outside one (a runtime being shut down) gets a small one.
        if tokio::runtime::Handle::try_current().is_ok() {
            drop(c);
        } else if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            let _enter = rt.enter();
            drop(c);
        } else {
            tracing::warn!(
                "target {}: no runtime to remove container {}; it is removed by the next harness run",
                self.target,
                c.id()
            );
            std::mem::forget(c);
        }
    }
}

/// Builds (once) and returns the reference of the image with `packages` installed.
pub async fn ensure_image(packages: &[String]) -> Result<String> {
    ensure_image_timed(packages).await.map(|b| b.image)
}

/// What `ensure_image_timed` did: for the `images` command's figures.
#[derive(Debug, Clone)]
pub struct ImageBuild {
    pub image: String,
    /// Time spent building the base image, when it had to be built.
    pub base_built: Option<Duration>,
    /// Time spent building the SP image, when it had to be built.
    pub image_built: Option<Duration>,
    /// Whole call, lock waits included.
    pub total: Duration,
}

/// `ensure_image`, also saying what was built and how long it took.
pub async fn ensure_image_timed(packages: &[String]) -> Result<ImageBuild> {
    ensure_image_inner(packages, true).await
}

/// Image references already ensured by this process, by package list: later trials skip the
/// daemon round trips (an image removed by hand during a run then fails that run's starts).
static KNOWN: std::sync::Mutex<BTreeMap<Vec<String>, String>> =
    std::sync::Mutex::new(BTreeMap::new());

async fn ensure_image_inner(packages: &[String], use_known: bool) -> Result<ImageBuild> {
    let started = Instant::now();
    let packages = normalise_packages(packages)?;
    if use_known {
        let known = KNOWN.lock().ok().and_then(|k| k.get(&packages).cloned());
        if let Some(image) = known {
            return Ok(ImageBuild {
                image,
                base_built: None,
                image_built: None,
                total: started.elapsed(),
            });
        }
    }
    let dockerfile = sp_dockerfile(&packages);
    // Both images present: no lock, so a run is not held up by another run's unrelated build.
    if let Some(base_id) = image_id(BASE_IMAGE).await? {
        let tag = sp_tag(&base_id, &dockerfile);
        if image_id(&tag).await?.is_some() {
            return Ok(remember(packages, tag, None, None, started));
        }
    }
    // One build at a time in this process (tokio lock) and across processes (a lock file);
    // whoever gets the lock second finds the image built.
    static BUILD_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _local = BUILD_LOCK.lock().await;
    let _file = FileLock::acquire().await?;
    let mut base_built = None;
    let base_id = match image_id(BASE_IMAGE).await? {
        Some(id) => id,
        None => {
            let t = Instant::now();
            let id = build_base().await?;
            base_built = Some(t.elapsed());
            id
        }
    };
    let tag = sp_tag(&base_id, &dockerfile);
    let mut image_built = None;
    if image_id(&tag).await?.is_none() {
        let t = Instant::now();
        build_sp_image(&tag, &dockerfile, &packages).await?;
        image_built = Some(t.elapsed());
    }
    Ok(remember(packages, tag, base_built, image_built, started))
}

fn remember(
    packages: Vec<String>,
    image: String,
    base_built: Option<Duration>,
    image_built: Option<Duration>,
    started: Instant,
) -> ImageBuild {
    if let Ok(mut k) = KNOWN.lock() {
        k.insert(packages, image.clone());
    }
    ImageBuild {
        image,
        base_built,
        image_built,
        total: started.elapsed(),
    }
}

/// Starts `req.command` in a container of the image for `req.packages`. Readiness is the
/// caller's: the container is running when this returns, its command may still be starting.
pub async fn start(req: ContainerRequest<'_>) -> Result<ContainerGuard> {
    let target = req.target;
    let image = ensure_image(req.packages)
        .await
        .map_err(|e| HarnessError::Target(format!("target {target}: {}", strip_target(&e))))?;
    if req.command.is_empty() {
        return Err(HarnessError::Target(format!(
            "target {target}: container command is empty"
        )));
    }
    let dir = req.dir.to_str().ok_or_else(|| {
        HarnessError::Target(format!(
            "target {target}: directory {} is not UTF-8",
            req.dir.display()
        ))
    })?;
    if !req.dir.is_absolute() {
        return Err(HarnessError::Target(format!(
            "target {target}: container directory {dir} must be an absolute path"
        )));
    }
    remove_orphans().await;
    let (repo, tag) = image.split_once(':').unwrap_or((image.as_str(), "latest"));
    let name = format!(
        "sso-harness-{}-{}",
        sanitize_name(target),
        uuid::Uuid::new_v4().simple()
    );
    let mut request = GenericImage::new(repo, tag)
        .with_wait_for(WaitFor::Nothing)
        .with_network("host")
        .with_mount(Mount::bind_mount(dir, dir))
        .with_working_dir(dir)
        .with_cmd(req.command.iter().cloned())
        .with_container_name(name)
        .with_label("sso-harness.target", target)
        .with_startup_timeout(Duration::from_secs(60));
    // The run's labels (its containers are removed when it is stopped, or by the next run
    // when it was killed) and its tag, which the container's processes inherit.
    let run = crate::children::registry::run();
    for (k, v) in run.container_labels() {
        request = request.with_label(k, v);
    }
    for (k, v) in run.env() {
        request = request.with_env_var(k, v);
    }
    for (k, v) in req.env {
        request = request.with_env_var(k, v);
    }
    let container = request.start().await.map_err(|e| {
        HarnessError::Target(format!(
            "target {target}: cannot start a container of {image} running {:?}: {}",
            req.command,
            docker_error(&e)
        ))
    })?;
    Ok(ContainerGuard {
        container: Some(container),
        image,
        target: target.to_string(),
    })
}

/// Sorted, deduplicated, and each a valid Debian package name: the names go into a shell
/// command in the Dockerfile, so nothing else may pass.
fn normalise_packages(packages: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(packages.len());
    for p in packages {
        let valid = p.len() >= 2
            && p.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
        if !valid {
            return Err(HarnessError::Target(format!(
                "packages: {p:?} is not a Debian package name (lowercase letters, digits, + - .)"
            )));
        }
        out.push(p.clone());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn sp_dockerfile(packages: &[String]) -> String {
    let mut f = format!("FROM {BASE_IMAGE}\n");
    if !packages.is_empty() {
        let _ = writeln!(
            f,
            "RUN apt-get update \\\n && apt-get install -y --no-install-recommends {} \\\n && rm -rf /var/lib/apt/lists/*",
            packages.join(" ")
        );
    }
    let _ = writeln!(f, "LABEL sso-harness.packages=\"{}\"", packages.join(" "));
    f
}

/// The SP image's tag: a hash of the recipe version, the base image's ID and the Dockerfile.
fn sp_tag(base_id: &str, dockerfile: &str) -> String {
    format!(
        "{SP_REPOSITORY}:{:016x}",
        fnv1a64(format!("{RECIPE}\n{base_id}\n{dockerfile}").as_bytes())
    )
}

/// FNV-1a, 64 bits: a stable cache key for image tags (std's hasher may change between
/// releases, and a tag is not a security boundary).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn sanitize_name(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn tail_lines(text: &str, n: usize) -> String {
    let text = strip_ansi(text);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    let start = lines.len().saturating_sub(n);
    format!(":\n{}", lines[start..].join("\n"))
}

/// Drops terminal colour sequences (`ESC [ ... letter`) that docker build copies from apt.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn strip_target(e: &HarnessError) -> String {
    match e {
        HarnessError::Target(m) => m.clone(),
        other => other.to_string(),
    }
}

/// The daemon's own message when there is one (testcontainers wraps it in its error chain).
fn docker_error(e: &testcontainers::TestcontainersError) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

/// Runs the docker CLI; the error names what failed and carries its output's last lines.
async fn docker(args: &[&str], what: &str) -> Result<String> {
    let out = Command::new("docker")
        .args(args)
        // The classic builder honours `--network host`; BuildKit would need buildx here.
        .env("DOCKER_BUILDKIT", "0")
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| {
            HarnessError::Target(format!(
                "{what}: cannot run `docker` ({e}); run scripts/setup"
            ))
        })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).trim().to_string());
    }
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Err(HarnessError::Target(format!(
        "{what}: `docker {}` failed ({}){}",
        args.first().copied().unwrap_or(""),
        out.status,
        tail_lines(&text, 25)
    )))
}

/// The image's ID, `None` when the daemon has no such image.
async fn image_id(reference: &str) -> Result<Option<String>> {
    let out = Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", reference])
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| {
            HarnessError::Target(format!(
                "image {reference}: cannot run `docker` ({e}); run scripts/setup"
            ))
        })?;
    if out.status.success() {
        return Ok(Some(
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        ));
    }
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("No such image") || err.contains("No such object") {
        Ok(None)
    } else {
        Err(HarnessError::Target(format!(
            "image {reference}: the Docker daemon did not answer ({}); run scripts/setup",
            err.trim()
        )))
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// Proxy settings of this process, handed to debootstrap (by inheritance) and to builds.
fn proxy_build_args() -> Vec<String> {
    ["http_proxy", "https_proxy", "no_proxy"]
        .iter()
        .filter_map(|k| {
            let v = std::env::var(k).ok()?;
            Some(format!("{k}={v}"))
        })
        .collect()
}

async fn build_base() -> Result<String> {
    let what = format!("base image {BASE_IMAGE}");
    let mirror = env_or("SSO_HARNESS_DEBIAN_MIRROR", DEFAULT_MIRROR);
    let security = env_or(
        "SSO_HARNESS_DEBIAN_SECURITY_MIRROR",
        DEFAULT_SECURITY_MIRROR,
    );
    // Large (about 200 MB) and short-lived: /var/tmp rather than a possibly small /tmp.
    let work = tempfile::Builder::new()
        .prefix("sso-harness-base-")
        .tempdir_in("/var/tmp")
        .map_err(|e| HarnessError::io("/var/tmp", e))?;
    let rootfs = work.path().join("rootfs");
    let rootfs_s = rootfs.to_string_lossy().into_owned();
    let out = Command::new("debootstrap")
        .args(["--variant=minbase", SUITE, &rootfs_s, &mirror])
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| {
            HarnessError::Target(format!(
                "{what}: cannot run debootstrap ({e}); run scripts/setup"
            ))
        })?;
    if !out.status.success() {
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        // debootstrap keeps its detailed log inside the tree.
        if let Ok(log) = std::fs::read_to_string(rootfs.join("debootstrap/debootstrap.log")) {
            text.push_str(&log);
        }
        return Err(HarnessError::Target(format!(
            "{what}: debootstrap {SUITE} from {mirror} failed ({}){}",
            out.status,
            tail_lines(&text, 25)
        )));
    }
    prepare_rootfs(&rootfs, &mirror, &security)?;
    let tarball = work.path().join("rootfs.tar");
    let tar = Command::new("tar")
        .args(["--numeric-owner", "-C", &rootfs_s, "-cf"])
        .arg(&tarball)
        .arg(".")
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| HarnessError::Target(format!("{what}: cannot run tar: {e}")))?;
    if !tar.status.success() {
        return Err(HarnessError::Target(format!(
            "{what}: tar of the debootstrapped tree failed: {}",
            String::from_utf8_lossy(&tar.stderr).trim()
        )));
    }
    let tarball_s = tarball.to_string_lossy().into_owned();
    let recipe_label = format!("LABEL sso-harness.recipe={RECIPE}");
    let id = docker(
        &[
            "import",
            "--change",
            "ENV DEBIAN_FRONTEND=noninteractive",
            "--change",
            &recipe_label,
            &tarball_s,
        ],
        &what,
    )
    .await?;
    // Tag only the finished image: a failure above leaves no tag.
    docker(&["tag", &id, BASE_IMAGE], &what).await?;
    Ok(id)
}

/// Files the base image needs beyond debootstrap's tree.
fn prepare_rootfs(rootfs: &Path, mirror: &str, security: &str) -> Result<()> {
    let write = |rel: &str, text: String| -> Result<PathBuf> {
        let p = rootfs.join(rel);
        std::fs::write(&p, text).map_err(|e| HarnessError::io(&p, e))?;
        Ok(p)
    };
    // Same suites as the host: security fixes and updates, not only the release.
    write(
        "etc/apt/sources.list",
        format!(
            "deb {mirror} {SUITE} main\ndeb {mirror} {SUITE}-updates main\ndeb {security} {SUITE}-security main\n"
        ),
    )?;
    write(
        "etc/apt/apt.conf.d/90sso-harness",
        "APT::Install-Recommends \"false\";\nAPT::Install-Suggests \"false\";\nAcquire::Retries \"3\";\n"
            .to_string(),
    )?;
    // Package scripts must not start services at build time: the harness starts the SP itself.
    let policy = write("usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n".to_string())?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| HarnessError::io(&policy, e))?;
    for dir in ["var/cache/apt/archives", "var/lib/apt/lists"] {
        let d = rootfs.join(dir);
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                if e.path().is_file() {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
    Ok(())
}

async fn build_sp_image(tag: &str, dockerfile: &str, packages: &[String]) -> Result<()> {
    let what = format!("image {tag} (packages: {})", packages.join(" "));
    let work = tempfile::Builder::new()
        .prefix("sso-harness-build-")
        .tempdir()
        .map_err(|e| HarnessError::io(std::env::temp_dir(), e))?;
    let df = work.path().join("Dockerfile");
    std::fs::write(&df, dockerfile).map_err(|e| HarnessError::io(&df, e))?;
    let iidfile = work.path().join("image-id");
    let iid_s = iidfile.to_string_lossy().into_owned();
    let ctx = work.path().to_string_lossy().into_owned();
    let mut args = vec![
        "build".to_string(),
        // apt-get reaches the mirror through the host's network, as the host's apt does.
        "--network".into(),
        "host".into(),
        "--force-rm".into(),
        "--iidfile".into(),
        iid_s,
    ];
    for a in proxy_build_args() {
        args.push("--build-arg".into());
        args.push(a);
    }
    args.push(ctx);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    docker(&args, &what).await?;
    let id = std::fs::read_to_string(&iidfile).map_err(|e| HarnessError::io(&iidfile, e))?;
    docker(&["tag", id.trim(), tag], &what).await?;
    Ok(())
}

/// Removes containers started by harness processes that no longer exist (killed before their
/// guards ran). Once per process, in case this process did not start through the CLI (which
/// reaps at its start).
async fn remove_orphans() {
    static DONE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    DONE.get_or_init(|| async {
        let _ = tokio::task::spawn_blocking(|| crate::children::registry::run().reap_stale()).await;
    })
    .await;
}

/// An exclusive lock on a file shared by every harness process on this machine, so that two
/// runs never build the same image at once.
struct FileLock(#[allow(dead_code)] std::fs::File);

impl FileLock {
    async fn acquire() -> Result<Self> {
        let path = std::env::temp_dir().join("sso-harness-image-build.lock");
        tokio::task::spawn_blocking(move || {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| HarnessError::io(&path, e))?;
            // Released when the file is closed (FileLock dropped), also if the process dies.
            #[allow(clippy::incompatible_msrv)]
            f.lock().map_err(|e| HarnessError::io(&path, e))?;
            Ok(FileLock(f))
        })
        .await
        .map_err(|e| HarnessError::Target(format!("image build lock: {e}")))?
    }
}

/// Which launcher starts a `process:` / `container:` target, when the user overrides its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Launcher {
    Process,
    Container,
}

impl std::str::FromStr for Launcher {
    type Err = HarnessError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "process" => Ok(Launcher::Process),
            "container" => Ok(Launcher::Container),
            other => Err(HarnessError::Target(format!(
                "launcher must be `process` or `container`, not {other:?}"
            ))),
        }
    }
}

/// `SSO_HARNESS_LAUNCHER` (process or container), for `cargo test`; unset or empty is none.
pub fn launcher_from_env() -> Result<Option<Launcher>> {
    match std::env::var("SSO_HARNESS_LAUNCHER") {
        Ok(v) if !v.trim().is_empty() => v
            .parse()
            .map(Some)
            .map_err(|e| HarnessError::Target(format!("SSO_HARNESS_LAUNCHER: {e}"))),
        _ => Ok(None),
    }
}

/// Starts `target` with `launcher` whatever its file says, when it is a process or container
/// target (builtin and URL targets are left as they are). Returns whether anything changed.
pub fn apply_launcher(
    target: &mut crate::target::descriptor::TargetDescriptor,
    launcher: Launcher,
) -> bool {
    use crate::target::descriptor::Launch;
    target.launch = match (launcher, &target.launch) {
        (Launcher::Container, Launch::Process(p)) => Launch::Container(p.clone()),
        (Launcher::Process, Launch::Container(p)) => Launch::Process(p.clone()),
        _ => return false,
    };
    true
}

/// Figures of the `images` command.
#[derive(Debug, Clone)]
pub struct Figures {
    pub image: String,
    pub packages: Vec<String>,
    /// Base image build, when it had to be built.
    pub base_build: Option<Duration>,
    /// SP image build, when it had to be built.
    pub image_build: Option<Duration>,
    /// `ensure_image` once both exist, asking the daemon: the first trial of a run pays it.
    pub cached_lookup: Duration,
    /// From `start` to the first answer of Apache in the container.
    pub start_to_ready: Duration,
    /// Stopping and removing that container.
    pub remove: Duration,
}

/// Builds the images for `packages` if missing (after removing their tags when `cold`),
/// then starts Apache from them once, measuring each step.
pub async fn measure(packages: &[String], cold: bool) -> Result<Figures> {
    let packages = normalise_packages(packages)?;
    if cold {
        if let Some(base_id) = image_id(BASE_IMAGE).await? {
            let tag = sp_tag(&base_id, &sp_dockerfile(&packages));
            if image_id(&tag).await?.is_some() {
                docker(&["rmi", &tag], "removing the SP image").await?;
            }
            // Only untags it when other SP images still use it; the next build makes a new one.
            docker(&["rmi", BASE_IMAGE], "removing the base image").await?;
        }
    }
    let built = ensure_image_inner(&packages, false).await?;
    // What the first trial of a run pays when the images exist (later ones use KNOWN).
    let cached_lookup = ensure_image_inner(&packages, false).await?.total;

    let dir = tempfile::tempdir().map_err(|e| HarnessError::io(std::env::temp_dir(), e))?;
    let d = dir.path();
    let io = |p: &Path, e| HarnessError::io(p, e);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).map_err(|e| io(d, e))?;
    let htdocs = d.join("htdocs");
    std::fs::create_dir(&htdocs).map_err(|e| io(&htdocs, e))?;
    let index = htdocs.join("index.html");
    std::fs::write(&index, "ready\n").map_err(|e| io(&index, e))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| HarnessError::Target(format!("no free loopback port: {e}")))?
        .port();
    let conf = d.join("apache2.conf");
    std::fs::write(&conf, minimal_apache_conf(d, port)).map_err(|e| io(&conf, e))?;
    let command = vec![
        "apache2".to_string(),
        "-f".into(),
        conf.display().to_string(),
        "-DFOREGROUND".into(),
    ];
    let url = format!("http://127.0.0.1:{port}/index.html");
    let http = reqwest::Client::new();
    let t = Instant::now();
    let guard = start(ContainerRequest {
        target: "images",
        packages: &packages,
        command: &command,
        env: &BTreeMap::new(),
        dir: d,
    })
    .await?;
    let deadline = t + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(&url).send().await {
            if r.status().is_success() {
                break;
            }
        }
        if let Some(exit) = guard.exited().await {
            return Err(HarnessError::Target(format!("images: Apache {exit}")));
        }
        if Instant::now() >= deadline {
            return Err(HarnessError::Target(format!(
                "images: {url} did not answer within 30 s"
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let start_to_ready = t.elapsed();
    let t = Instant::now();
    guard.remove().await?;
    let remove = t.elapsed();
    Ok(Figures {
        image: built.image,
        packages,
        base_build: built.base_built,
        image_build: built.image_built,
        cached_lookup,
        start_to_ready,
        remove,
    })
}

/// A minimal Apache configuration serving `dir/htdocs` on 127.0.0.1:`port` from `dir`
/// (pid file, error log): for the container test and the `images` figures.
pub fn minimal_apache_conf(dir: &Path, port: u16) -> String {
    let d = dir.display();
    format!(
        "ServerName 127.0.0.1\n\
         Listen 127.0.0.1:{port}\n\
         LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n\
         LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n\
         User www-data\n\
         Group www-data\n\
         DefaultRuntimeDir {d}\n\
         PidFile {d}/apache2.pid\n\
         ErrorLog {d}/error.log\n\
         DocumentRoot {d}/htdocs\n\
         <Directory {d}/htdocs>\n  Require all granted\n</Directory>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_are_checked_sorted_and_deduplicated() {
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            normalise_packages(&p(&["libapache2-mod-auth-mellon", "apache2", "apache2"])).unwrap(),
            p(&["apache2", "libapache2-mod-auth-mellon"])
        );
        for bad in ["apache2; rm -rf /", "Apache2", "a", "-x", "x y", "x\ny"] {
            let err = normalise_packages(&p(&[bad])).unwrap_err().to_string();
            assert!(err.contains("not a Debian package name"), "{bad}: {err}");
        }
    }

    #[test]
    fn tag_depends_on_packages_not_their_order() {
        let a = sp_dockerfile(&normalise_packages(&["b1".into(), "a1".into()]).unwrap());
        let b = sp_dockerfile(&normalise_packages(&["a1".into(), "b1".into()]).unwrap());
        let c = sp_dockerfile(&normalise_packages(&["a1".into()]).unwrap());
        assert_eq!(fnv1a64(a.as_bytes()), fnv1a64(b.as_bytes()));
        assert_ne!(fnv1a64(a.as_bytes()), fnv1a64(c.as_bytes()));
        assert!(a.contains("apt-get install -y --no-install-recommends a1 b1"));
    }

    #[test]
    fn output_tails_lose_colour_codes() {
        let t = tail_lines(
            "a\n\u{1b}[91mE: Unable to locate package x\n\u{1b}[0mdone\n",
            2,
        );
        assert_eq!(t, ":\nE: Unable to locate package x\ndone");
    }

    #[test]
    fn fnv_matches_reference_values() {
        // Published FNV-1a 64 test vectors: the tag must not change between builds.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
