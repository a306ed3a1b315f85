//! Headless Chromium through WebDriver: the chromedriver process, a pool of reused sessions,
//! and the few browser primitives the steps need (all waits poll with a timeout).
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::children::guard::ChildGuard;
use crate::error::{HarnessError, Result};

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Flags measured to work headless, as root, with no display (ARCHITECTURE.md).
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
];

/// How long a wait sleeps between two looks at the page. Each look is a WebDriver round trip
/// that costs the browser CPU, and a page that is not ready yet is usually still loading.
pub const POLL: Duration = Duration::from_millis(50);

fn browser_err(what: &str) -> impl Fn(fantoccini::error::CmdError) -> HarnessError + '_ {
    move |e| HarnessError::Browser(format!("{what}: {e}"))
}

/// A chromedriver child process; dropping it kills it and the Chromium processes it started.
pub struct Chromedriver {
    _child: ChildGuard,
    /// Chromium's TMPDIR, removed after the child is stopped (fields drop in order).
    _tmp: crate::children::registry::Scratch,
    url: String,
}

impl Chromedriver {
    pub async fn start(scratch: &Path) -> Result<Self> {
        let port = crate::net::free_port()?;
        let home = scratch.join("home");
        crate::children::private::create_dir(&home, None)
            .map_err(|e| HarnessError::io(&home, e))?;
        let tmp_dir = crate::children::registry::run()
            .short_tmp()
            .map_err(|e| HarnessError::Browser(format!("temporary directory: {e}")))?;
        let tmp = tmp_dir.path().to_path_buf();
        let mut cmd = Command::new(CHROMEDRIVER);
        // Tagged: every Chromium process (and its crash handler, which leaves the tree)
        // inherits the run's tag and is found by it. Chromium's own temporary directories go
        // into the run's scratch directory too (TMPDIR), and are removed with it.
        crate::children::registry::run().tag(&mut cmd);
        cmd.arg(format!("--port={port}"))
            .env("TMPDIR", &tmp)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_RUNTIME_DIR", &home)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = ChildGuard::new(
            cmd.spawn()
                .map_err(|e| HarnessError::Browser(format!("cannot start {CHROMEDRIVER}: {e}")))?,
        );
        let driver = Self {
            _child: child,
            _tmp: tmp_dir,
            url: format!("http://127.0.0.1:{port}"),
        };
        driver.wait_ready().await?;
        Ok(driver)
    }

    async fn wait_ready(&self) -> Result<()> {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{}/status", self.url)).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(HarnessError::Browser(format!(
                    "chromedriver did not answer on {} within 20 s",
                    self.url
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

fn epoch_ms(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Several TLS back-ends are linked (ring and aws-lc-rs); rustls wants one chosen per process.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A pool of WebDriver sessions reused across trials.
pub struct BrowserPool {
    webdriver_url: String,
    /// `None` when an external WebDriver is used.
    _driver: Option<Chromedriver>,
    scratch: PathBuf,
    _scratch_guard: Option<crate::children::registry::Scratch>,
    idle: Mutex<Vec<Session>>,
    permits: std::sync::Arc<Semaphore>,
    created: std::sync::atomic::AtomicUsize,
    pub chromium_version: Mutex<Option<String>>,
}

impl BrowserPool {
    /// Starts chromedriver, or uses `webdriver_url` when given. `size` sessions at most.
    pub async fn new(size: usize, webdriver_url: Option<String>) -> Result<Self> {
        install_crypto_provider();
        // Profiles hold cookies and sessions of every sign-in: private, in the run directory.
        let guard = crate::children::registry::run()
            .scratch("sso-harness-browser-")
            .map_err(|e| HarnessError::Browser(format!("scratch dir: {e}")))?;
        let scratch = guard.path().to_path_buf();
        let (url, driver) = match webdriver_url {
            Some(u) => (u.trim_end_matches('/').to_string(), None),
            None => {
                let d = Chromedriver::start(&scratch).await?;
                (d.url().to_string(), Some(d))
            }
        };
        Ok(Self {
            webdriver_url: url,
            _driver: driver,
            scratch,
            _scratch_guard: Some(guard),
            idle: Mutex::new(Vec::new()),
            permits: std::sync::Arc::new(Semaphore::new(size.max(1))),
            created: Default::default(),
            chromium_version: Mutex::new(None),
        })
    }

    /// A clean session: reused from the pool or new.
    pub async fn checkout(&self) -> Result<PooledSession> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| HarnessError::Browser(format!("pool closed: {e}")))?;
        let reused = self.idle.lock().ok().and_then(|mut v| v.pop());
        let session = match reused {
            Some(s) => s,
            None => self.new_session().await?,
        };
        Ok(PooledSession {
            session: Some(session),
            _permit: permit,
        })
    }

    /// Returns a session after clearing cookies and storage; a broken session is closed.
    pub async fn checkin(&self, mut pooled: PooledSession) {
        let Some(mut s) = pooled.session.take() else {
            return;
        };
        match s.reset().await {
            Ok(()) => {
                if let Ok(mut v) = self.idle.lock() {
                    v.push(s);
                }
            }
            Err(e) => {
                tracing::warn!("dropping a browser session that could not be reset: {e}");
                let _ = s.client.close().await;
            }
        }
    }

    /// A session outside the pool's limit, for a trial's second browser; close it after.
    pub async fn extra_session(&self) -> Result<Session> {
        self.new_session().await
    }

    /// Starts `n` browsers at once and keeps them idle, so that the first trials do not each
    /// wait for one. A browser that fails to start is left for `checkout` to report.
    pub async fn warm(&self, n: usize) {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..n {
            set.spawn(open_session(
                self.webdriver_url.clone(),
                self.next_profile(),
            ));
        }
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(Ok(s)) => {
                    self.note_version(&s);
                    if let Ok(mut v) = self.idle.lock() {
                        v.push(s);
                    }
                }
                Ok(Err(e)) => tracing::warn!("could not start a browser ahead of time: {e}"),
                Err(e) => tracing::warn!("could not start a browser ahead of time: {e}"),
            }
        }
    }

    /// A new profile directory, made private (0700) here rather than by Chromium.
    fn next_profile(&self) -> PathBuf {
        let n = self
            .created
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = self.scratch.join(format!("profile-{n}"));
        if let Err(e) = crate::children::private::create_dir(&dir, None) {
            tracing::warn!("browser profile {}: {e}", dir.display());
        }
        dir
    }

    fn note_version(&self, s: &Session) {
        if let Some(v) = s
            .client
            .capabilities()
            .and_then(|c| c.get("browserVersion"))
            .and_then(Value::as_str)
        {
            if let Ok(mut slot) = self.chromium_version.lock() {
                *slot = Some(format!("Chromium {v}"));
            }
        }
    }

    async fn new_session(&self) -> Result<Session> {
        let s = open_session(self.webdriver_url.clone(), self.next_profile()).await?;
        self.note_version(&s);
        Ok(s)
    }

    /// Closes every idle session (chromedriver ends their browsers).
    pub async fn shutdown(&self) {
        let sessions: Vec<Session> = self
            .idle
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        for s in sessions {
            let _ = s.client.close().await;
        }
    }
}

/// A new WebDriver session on a Chromium with its own profile directory.
async fn open_session(webdriver_url: String, profile: PathBuf) -> Result<Session> {
    let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        // Only network events feed the HTTP timeline; page events would only be carried
        // over DevTools, logged and thrown away.
        json!({
            "binary": CHROMIUM,
            "args": args,
            "perfLoggingPrefs": { "enableNetwork": true, "enablePage": false },
        }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({ "performance": "ALL" }));
    let builder = ClientBuilder::rustls()
        .map_err(|e| HarnessError::Browser(format!("TLS set-up: {e}")))?
        .capabilities(caps)
        .connect(&webdriver_url)
        .await;
    let client = builder.map_err(|e| {
        HarnessError::Browser(format!("new WebDriver session on {webdriver_url}: {e}"))
    })?;
    let id = client
        .session_id()
        .await
        .map_err(browser_err("session id"))?
        .unwrap_or_default();
    Ok(Session {
        client,
        id,
        webdriver_url,
        http: reqwest::Client::new(),
        origins: BTreeSet::new(),
        request_methods: Default::default(),
        pending_documents: Default::default(),
        page_stale: false,
    })
}

/// A session borrowed from the pool.
pub struct PooledSession {
    session: Option<Session>,
    _permit: OwnedSemaphorePermit,
}

impl PooledSession {
    pub fn get(&mut self) -> Result<&mut Session> {
        self.session
            .as_mut()
            .ok_or_else(|| HarnessError::Browser("session already returned".into()))
    }
}

/// One document load as the browser saw it (from Chrome's performance log).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct HttpEvent {
    pub url: String,
    /// 0: the browser sent the request but got no answer (DNS, refused, reset).
    pub status: u16,
    pub method: Option<String>,
    pub mime: Option<String>,
    /// Milliseconds since the trial started.
    pub at_ms: u64,
}

pub struct Session {
    /// Prefer the methods below: they first replace the last trial's page (`page_stale`);
    /// use the client directly only after one of them (e.g. `wait_element`) has run.
    pub client: Client,
    id: String,
    webdriver_url: String,
    http: reqwest::Client,
    /// Origins visited since the last reset, whose storage must be cleared.
    origins: BTreeSet<String>,
    /// HTTP method per DevTools request ID (the request and its response may come in
    /// different log batches).
    request_methods: std::collections::HashMap<String, String>,
    /// Document requests sent and not yet answered (DevTools request IDs): a navigation the
    /// page started (a form post, a redirect chain) that has not reached its next document.
    pending_documents: std::collections::HashMap<String, String>,
    /// The page is still the last trial's (reset leaves it). Until the next `goto`, questions
    /// about the page are answered as about:blank would answer them, and anything that acts on
    /// the page (click, fill, script, screenshot) first loads about:blank. A trial that starts
    /// by opening a URL (nearly all do) never pays for that extra page load.
    page_stale: bool,
}

impl Session {
    pub async fn close(self) {
        let _ = self.client.close().await;
    }

    pub async fn goto(&mut self, url: &str) -> Result<()> {
        if let Ok(u) = url::Url::parse(url) {
            self.origins.insert(u.origin().ascii_serialization());
        }
        self.page_stale = false;
        self.client
            .goto(url)
            .await
            .map_err(|e| HarnessError::Browser(format!("open {url}: {e}")))
    }

    /// Replaces the last trial's page, if it is still shown, by an empty one.
    async fn fresh_page(&mut self) -> Result<()> {
        if self.page_stale {
            self.client
                .goto("about:blank")
                .await
                .map_err(browser_err("about:blank"))?;
            self.page_stale = false;
        }
        Ok(())
    }

    /// Runs a script in the page (WebDriver's execute/sync).
    pub async fn execute(&mut self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.fresh_page().await?;
        self.client
            .execute(script, args)
            .await
            .map_err(|e| HarnessError::Browser(e.to_string()))
    }

    pub async fn current_url(&mut self) -> Result<String> {
        if self.page_stale {
            return Ok("about:blank".into());
        }
        let u = self
            .client
            .current_url()
            .await
            .map_err(browser_err("current URL"))?;
        self.origins.insert(u.origin().ascii_serialization());
        Ok(u.to_string())
    }

    /// Polls until `selector` matches a displayed element.
    pub async fn wait_element(
        &mut self,
        selector: &str,
        timeout: Duration,
    ) -> Result<fantoccini::elements::Element> {
        self.fresh_page().await?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(el) = self.client.find(Locator::Css(selector)).await {
                if el.is_displayed().await.unwrap_or(true) {
                    return Ok(el);
                }
            }
            if Instant::now() >= deadline {
                let url = self.current_url().await.unwrap_or_default();
                return Err(HarnessError::Step(format!(
                    "no element matches {selector:?} after {} ms (page {url})",
                    timeout.as_millis()
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Clicks the first element matching `selector` as soon as WebDriver can click it,
    /// polling while it is absent, hidden or replaced. WebDriver's click checks that the
    /// element is displayed itself, so the wait costs two round trips when the page is
    /// ready (find, click) instead of three.
    pub async fn click_when_ready(&mut self, selector: &str, timeout: Duration) -> Result<()> {
        use fantoccini::error::{CmdError, ErrorStatus};
        self.fresh_page().await?;
        let deadline = Instant::now() + timeout;
        let mut last: Option<String>;
        loop {
            match self.client.find(Locator::Css(selector)).await {
                Ok(el) => match el.click().await {
                    Ok(()) => {
                        // WebDriver may answer a click before the navigation it starts (a form
                        // post the server is slow to answer) is under way; the next step could
                        // then race it. Asking for the URL waits for navigations chromedriver
                        // knows to be pending, and gives a just-started one time to show.
                        if let Ok(u) = self.client.current_url().await {
                            self.origins.insert(u.origin().ascii_serialization());
                        }
                        return Ok(());
                    }
                    Err(CmdError::Standard(e))
                        if matches!(
                            e.error,
                            ErrorStatus::ElementNotInteractable
                                | ErrorStatus::StaleElementReference
                        ) =>
                    {
                        last = Some(e.to_string());
                    }
                    Err(e) => {
                        return Err(HarnessError::Step(format!("click {selector:?}: {e}")));
                    }
                },
                Err(_) => last = None,
            }
            if Instant::now() >= deadline {
                let url = self.current_url().await.unwrap_or_default();
                return Err(HarnessError::Step(match last {
                    Some(e) => format!(
                        "click {selector:?}: not clickable after {} ms: {e} (page {url})",
                        timeout.as_millis()
                    ),
                    None => format!(
                        "no element matches {selector:?} after {} ms (page {url})",
                        timeout.as_millis()
                    ),
                }));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Whether `selector` matches now (no waiting).
    pub async fn has_element(&mut self, selector: &str) -> bool {
        if self.page_stale {
            return false;
        }
        self.client.find(Locator::Css(selector)).await.is_ok()
    }

    /// The element's text, if it is on the page now.
    pub async fn element_text(&mut self, selector: &str) -> Option<String> {
        if self.page_stale {
            return None;
        }
        let el = self.client.find(Locator::Css(selector)).await.ok()?;
        el.text().await.ok()
    }

    /// The visible text of the page.
    pub async fn page_text(&mut self) -> Result<String> {
        if self.page_stale {
            return Ok(String::new());
        }
        let v = self
            .client
            .execute(
                "return document.body ? document.body.innerText : document.documentElement.textContent || '';",
                vec![],
            )
            .await
            .map_err(browser_err("page text"))?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    pub async fn screenshot(&mut self) -> Result<Vec<u8>> {
        self.fresh_page().await?;
        self.client
            .screenshot()
            .await
            .map_err(browser_err("screenshot"))
    }

    /// Whether a document request the page sent has not been answered yet (as of the last
    /// `drain_http`): a navigation is under way and the page shown is about to change.
    pub fn navigation_pending(&self) -> bool {
        !self.pending_documents.is_empty()
    }

    /// The URLs of the document requests still pending.
    pub fn pending_urls(&self) -> Vec<String> {
        self.pending_documents.values().cloned().collect()
    }

    /// `document.readyState` of the page shown (`complete` once loaded); empty when the
    /// browser cannot answer (a page being replaced).
    pub async fn ready_state(&mut self) -> String {
        if self.page_stale {
            return "complete".into();
        }
        self.client
            .execute("return document.readyState;", vec![])
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Document loads since the last call (Chrome performance log; empty elsewhere).
    pub async fn drain_http(&mut self, since: Instant) -> Vec<HttpEvent> {
        let url = format!("{}/session/{}/se/log", self.webdriver_url, self.id);
        let Ok(resp) = self
            .http
            .post(url)
            .json(&json!({ "type": "performance" }))
            .send()
            .await
        else {
            return Vec::new();
        };
        let Ok(body) = resp.json::<Value>().await else {
            return Vec::new();
        };
        // The log is drained when something needs it (an expectation on the status, the end
        // of the trial), not after every step: each event's time comes from the log entry's
        // own timestamp (milliseconds since the epoch), taken relative to `since`.
        let now_ms = epoch_ms(std::time::SystemTime::now());
        let since_ms =
            now_ms.saturating_sub(u64::try_from(since.elapsed().as_millis()).unwrap_or(0));
        let requests = &mut self.request_methods;
        let mut out = Vec::new();
        for entry in body["value"].as_array().into_iter().flatten() {
            let Some(msg) = entry["message"].as_str() else {
                continue;
            };
            let Ok(msg) = serde_json::from_str::<Value>(msg) else {
                continue;
            };
            let at_ms = entry["timestamp"]
                .as_u64()
                .or_else(|| entry["timestamp"].as_f64().map(|t| t as u64))
                .unwrap_or(now_ms)
                .saturating_sub(since_ms);
            let params = &msg["message"]["params"];
            match msg["message"]["method"].as_str() {
                Some("Network.requestWillBeSent") => {
                    if let (Some(id), Some(m)) = (
                        params["requestId"].as_str(),
                        params["request"]["method"].as_str(),
                    ) {
                        requests.insert(id.to_string(), m.to_string());
                        let u = params["request"]["url"].as_str().unwrap_or_default();
                        // Chromium's own pages (chrome://new-tab-page-third-party/ when a
                        // session starts) are requested too and never answered in this log.
                        let web = u.starts_with("http://") || u.starts_with("https://");
                        if params["type"] == "Document" && web {
                            self.pending_documents.insert(id.to_string(), u.to_string());
                        }
                    }
                }
                Some("Network.loadingFailed") => {
                    if let Some(id) = params["requestId"].as_str() {
                        // A page the browser set out to load but got no answer for (a host
                        // that resolves nowhere, a refused port) was still visited: the
                        // navigation is the evidence `no_redirect` needs. A navigation
                        // replaced by the next one (ERR_ABORTED) went nowhere.
                        let aborted = params["errorText"] == "net::ERR_ABORTED";
                        if let Some(url) = self.pending_documents.remove(id) {
                            if !aborted {
                                out.push(HttpEvent {
                                    url,
                                    status: 0,
                                    method: requests.get(id).cloned(),
                                    mime: None,
                                    at_ms,
                                });
                            }
                        }
                    }
                }
                Some("Network.responseReceived")
                    if params["type"] == "Document"
                        && params["response"]["url"]
                            .as_str()
                            .is_some_and(|u| u.starts_with("http")) =>
                {
                    if let Some(id) = params["requestId"].as_str() {
                        self.pending_documents.remove(id);
                    }
                    let r = &params["response"];
                    out.push(HttpEvent {
                        url: r["url"].as_str().unwrap_or_default().to_string(),
                        status: r["status"]
                            .as_u64()
                            .and_then(|s| u16::try_from(s).ok())
                            .unwrap_or(0),
                        method: params["requestId"]
                            .as_str()
                            .and_then(|id| requests.get(id).cloned()),
                        mime: r["mimeType"].as_str().map(str::to_string),
                        at_ms,
                    });
                }
                _ => {}
            }
        }
        for e in &out {
            if let Ok(u) = url::Url::parse(&e.url) {
                self.origins.insert(u.origin().ascii_serialization());
            }
        }
        out
    }

    async fn cdp(&self, cmd: &str, params: Value) -> Result<()> {
        let url = format!(
            "{}/session/{}/goog/cdp/execute",
            self.webdriver_url, self.id
        );
        let r = self
            .http
            .post(url)
            .json(&json!({ "cmd": cmd, "params": params }))
            .send()
            .await
            .map_err(|e| HarnessError::Browser(format!("CDP {cmd}: {e}")))?;
        if r.status().is_success() {
            Ok(())
        } else {
            Err(HarnessError::Browser(format!(
                "CDP {cmd}: HTTP {}",
                r.status()
            )))
        }
    }

    /// Forgets everything the last trial left: cookies of every origin, storage of every
    /// origin visited, the performance log, and (lazily, see `page_stale`) the page.
    pub async fn reset(&mut self) -> Result<()> {
        self.pending_documents.clear();
        let origins = std::mem::take(&mut self.origins);
        if self
            .cdp("Network.clearBrowserCookies", json!({}))
            .await
            .is_ok()
        {
            for origin in &origins {
                self.cdp(
                    "Storage.clearDataForOrigin",
                    json!({ "origin": origin, "storageTypes": "local_storage,session_storage,indexeddb,cache_storage" }),
                )
                .await?;
            }
        } else {
            // Not Chrome: visit each origin, delete its cookies, clear its storage.
            for origin in &origins {
                self.client
                    .goto(origin)
                    .await
                    .map_err(browser_err("reset: open origin"))?;
                self.client
                    .delete_all_cookies()
                    .await
                    .map_err(browser_err("reset: delete cookies"))?;
                self.client
                    .execute("localStorage.clear(); sessionStorage.clear();", vec![])
                    .await
                    .map_err(browser_err("reset: clear storage"))?;
            }
        }
        // Navigating to about:blank costs the browser about as much CPU as a real page, and
        // the next trial's first step nearly always opens a page of its own.
        self.page_stale = true;
        let _ = self.drain_http(Instant::now()).await;
        self.request_methods.clear();
        Ok(())
    }
}
