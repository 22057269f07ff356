//! [`CivoClient`]: a small, strict client of the Civo API.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{StreamExt, TryStreamExt, stream};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use url::Url;

use super::config::{ApiKey, CivoConfig};
use super::error::CivoError;
use super::models::{
    ApiCluster, ApiErrorBody, ApiInstance, ApiLoadBalancer, ApiNetwork, ApiRegion, ApiReservedIp, Page,
};
use crate::cause::Cause;
use crate::http::{self, BodyError, UrlProblem};

/// The public Civo API.
pub const DEFAULT_API_URL: &str = "https://api.civo.com";
/// The region used when neither the caller, nor `CIVO_REGION`, nor the Civo
/// CLI config names one.
pub const DEFAULT_REGION: &str = "LON1";

/// Pages of a list fetched at once, so a large account does not trip the
/// rate limit with a burst.
const CONCURRENT_PAGES: usize = 8;
/// A hostile or broken `pages` value must not make us loop for ever.
const MAX_PAGES: u32 = 1000;

/// A client of the Civo API: cheap to clone (an `Arc` inside), safe to share
/// between tasks. Requires a tokio runtime.
///
/// Every request carries the key as a bearer token and the region as
/// `?region=`; every request has a timeout, and every public call a
/// deadline covering its retries. 429 and 5xx answers are retried with
/// backoff, honouring `Retry-After` and `x-ratelimit-reset`, within the
/// deadline.
///
/// ```no_run
/// # async fn run() -> Result<(), civo_egress::civo::CivoError> {
/// use civo_egress::civo::CivoClient;
/// let client = CivoClient::builder().api_key("my-key").region("LON1").build()?;
/// assert_eq!(client.region(), "LON1");
/// for cluster in client.list_clusters().await? {
///     println!("{} leaves from {}", cluster.name(), cluster.master_ip());
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CivoClient {
    shared: Arc<Shared>,
    region: Arc<str>,
    /// No region was given: not by the builder, `CIVO_REGION` or the Civo
    /// CLI config.
    region_defaulted: bool,
}

struct Shared {
    http: reqwest::Client,
    base: Url,
    key: ApiKey,
    request_timeout: Duration,
    deadline: Duration,
    max_body_bytes: usize,
    max_retries: u32,
    page_size: u32,
}

impl fmt::Debug for CivoClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CivoClient")
            .field("api_url", &self.shared.base.as_str())
            .field("region", &&*self.region)
            .field("region_defaulted", &self.region_defaulted)
            .field("api_key", &self.shared.key)
            .finish_non_exhaustive()
    }
}

/// Builds a [`CivoClient`]. Unset values come from a [`CivoConfig`] if one
/// is given, else the defaults.
#[must_use]
#[derive(Debug, Clone)]
pub struct CivoClientBuilder {
    api_key: Option<ApiKey>,
    api_url: Option<String>,
    region: Option<String>,
    request_timeout: Duration,
    deadline: Duration,
    max_body_bytes: usize,
    max_retries: u32,
    page_size: u32,
}

impl Default for CivoClientBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            api_url: None,
            region: None,
            request_timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(30),
            max_body_bytes: 16 << 20,
            max_retries: 3,
            page_size: 100,
        }
    }
}

impl CivoClientBuilder {
    /// Fills what is not set yet from `config` (the environment and the
    /// Civo CLI config).
    pub fn config(mut self, config: CivoConfig) -> Self {
        self.api_key = self.api_key.or(config.api_key);
        self.api_url = self.api_url.or(config.api_url);
        self.region = self.region.or(config.region);
        self
    }

    /// The API key.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey::new(key));
        self
    }

    /// The API base URL (default [`DEFAULT_API_URL`]). `https://` only,
    /// except `http://` to a loopback host.
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = Some(url.into());
        self
    }

    /// The region sent with every request. It wins over a
    /// [`CivoConfig`]'s (`CIVO_REGION`, then the Civo CLI config's
    /// `meta.default_region`); without any, [`DEFAULT_REGION`].
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The timeout of one HTTP request, body included (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The deadline of one public call or one discovery, retries included
    /// (default 30 s).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The largest body accepted (default 16 MiB).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// How often a 429 or 5xx answer is retried (default 3).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Items asked for per page of a list (default 100).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// Checks the settings and builds the client. Makes no connection.
    ///
    /// # Errors
    ///
    /// [`CivoError::MissingApiKey`] without a key;
    /// [`CivoError::InvalidRegion`] for a region that is no region code;
    /// [`CivoError::InvalidUrl`] for an unparsable URL, or plain `http://` to
    /// a host that is not loopback; [`CivoError::Tls`] when TLS cannot be set
    /// up (no CA certificates on the system).
    pub fn build(self) -> Result<CivoClient, CivoError> {
        let key = self.api_key.filter(|k| !k.expose().is_empty()).ok_or(CivoError::MissingApiKey)?;
        let url_text = self.api_url.unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        let invalid =
            |reason: String, source: Option<Cause>| CivoError::InvalidUrl { url: url_text.clone(), reason, source };
        let mut base = http::checked_url(&url_text, false).map_err(|problem| match problem {
            UrlProblem::Unparsable(e) => invalid(e.to_string(), Some(Cause::new(e))),
            UrlProblem::Insecure => invalid(
                "only https:// is allowed (plain http:// only to a loopback host): the API key would cross the network in clear text".into(),
                None,
            ),
        })?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = http::client_from(None, self.request_timeout)
            .map_err(|e| CivoError::Tls { message: e.message().to_owned(), source: e.cause() })?;
        let region = self.region.filter(|r| !r.trim().is_empty()).map(|r| check_region(&r)).transpose()?;
        let region_defaulted = region.is_none();
        let region = region.unwrap_or_else(|| DEFAULT_REGION.to_owned());
        Ok(CivoClient {
            shared: Arc::new(Shared {
                http,
                base,
                key,
                request_timeout: self.request_timeout,
                deadline: self.deadline,
                max_body_bytes: self.max_body_bytes,
                max_retries: self.max_retries,
                page_size: self.page_size,
            }),
            region: region.into(),
            region_defaulted,
        })
    }
}

/// One attempt's failure: worth retrying after `wait`, or final.
pub(super) enum Failure {
    Retry { error: CivoError, wait: Duration },
    Final(CivoError),
}

/// What the fuzz target reaches of a client: decoding a body, and the
/// error of a status with its body.
#[cfg(fuzzing)]
impl CivoClient {
    pub(super) fn fuzz_decode<T: DeserializeOwned>(&self, body: &[u8]) -> Result<T, CivoError> {
        self.decode(&["kubernetes", "clusters"], body)
    }

    pub(super) fn fuzz_status_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Failure {
        self.status_error(status, headers, body, &["kubernetes", "clusters"], 1)
    }
}

impl CivoClient {
    /// Starts a builder.
    pub fn builder() -> CivoClientBuilder {
        CivoClientBuilder::default()
    }

    /// A client configured from the environment and the Civo CLI config
    /// ([`CivoConfig::from_env`]): the key from `CIVO_TOKEN` or the CLI
    /// config, as the `civo` command finds it; the region from
    /// `CIVO_REGION`, else the CLI config; the URL from `CIVO_API_URL`, else
    /// the CLI config.
    ///
    /// # Errors
    ///
    /// As [`CivoConfig::from_env`] and [`CivoClientBuilder::build`].
    pub fn from_env() -> Result<Self, CivoError> {
        Self::builder().config(CivoConfig::from_env()?).build()
    }

    /// The same client, asking about another region.
    #[must_use]
    pub fn with_region(&self, region: &str) -> Self {
        Self { shared: Arc::clone(&self.shared), region: region.into(), region_defaulted: false }
    }

    /// The region this client asks about.
    #[must_use]
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Whether [`region`](Self::region) is [`DEFAULT_REGION`] because
    /// nothing named one: not the builder's
    /// [`region`](CivoClientBuilder::region), not `CIVO_REGION`, not the
    /// Civo CLI config's `meta.default_region`. Discovery then warns
    /// ([`WarningKind::RegionDefaulted`](crate::WarningKind::RegionDefaulted))
    /// when it finds no cluster: the account may have clusters in another
    /// region.
    ///
    /// ```
    /// use civo_egress::civo::CivoClient;
    /// let client = CivoClient::builder().api_key("my-key").build()?; // no connection
    /// assert_eq!((client.region(), client.region_was_defaulted()), ("LON1", true));
    /// assert!(!client.with_region("LON1").region_was_defaulted());
    /// # Ok::<(), civo_egress::civo::CivoError>(())
    /// ```
    #[must_use]
    pub const fn region_was_defaulted(&self) -> bool {
        self.region_defaulted
    }

    pub(crate) fn new_deadline(&self) -> Instant {
        far_instant(self.shared.deadline)
    }

    pub(crate) fn deadline_length(&self) -> Duration {
        self.shared.deadline
    }

    /// Every Kubernetes cluster of the region, all pages.
    ///
    /// # Errors
    ///
    /// Any [`CivoError`] of a request, or [`CivoError::Timeout`] at the
    /// deadline.
    pub async fn list_clusters(&self) -> Result<Vec<ApiCluster>, CivoError> {
        self.clusters_by(self.new_deadline()).await
    }

    /// One cluster by id.
    ///
    /// # Errors
    ///
    /// [`CivoError::NotFound`] for an unknown id; as
    /// [`list_clusters`](Self::list_clusters) otherwise.
    pub async fn get_cluster(&self, id: &str) -> Result<ApiCluster, CivoError> {
        self.get(&["kubernetes", "clusters", id], &[], self.new_deadline()).await
    }

    /// The cluster named `name_or_id`, with the Civo CLI's rules: an exact
    /// (case-insensitive) name or an exact id wins; else the one cluster whose
    /// name or id contains it.
    ///
    /// # Errors
    ///
    /// [`CivoError::ClusterNotFound`], [`CivoError::AmbiguousCluster`] (with
    /// the names that match), or as [`list_clusters`](Self::list_clusters).
    pub async fn find_cluster(&self, name_or_id: &str) -> Result<ApiCluster, CivoError> {
        let clusters = self.list_clusters().await?;
        pick_cluster(&clusters, name_or_id).cloned()
    }

    /// The nodes of a cluster, with their private IPs.
    ///
    /// # Errors
    ///
    /// As [`get_cluster`](Self::get_cluster).
    pub async fn cluster_instances(&self, cluster_id: &str) -> Result<Vec<ApiInstance>, CivoError> {
        self.instances_by(cluster_id, self.new_deadline()).await
    }

    /// Every LoadBalancer of the region.
    ///
    /// # Errors
    ///
    /// As [`list_clusters`](Self::list_clusters).
    pub async fn load_balancers(&self) -> Result<Vec<ApiLoadBalancer>, CivoError> {
        self.load_balancers_by(self.new_deadline()).await
    }

    /// Every reserved IP of the region, all pages.
    ///
    /// # Errors
    ///
    /// As [`list_clusters`](Self::list_clusters).
    pub async fn reserved_ips(&self) -> Result<Vec<ApiReservedIp>, CivoError> {
        self.reserved_ips_by(self.new_deadline()).await
    }

    /// Every private network of the region.
    ///
    /// # Errors
    ///
    /// As [`list_clusters`](Self::list_clusters).
    pub async fn networks(&self) -> Result<Vec<ApiNetwork>, CivoError> {
        self.networks_by(self.new_deadline()).await
    }

    /// Every region, with its features.
    ///
    /// # Errors
    ///
    /// As [`list_clusters`](Self::list_clusters).
    pub async fn regions(&self) -> Result<Vec<ApiRegion>, CivoError> {
        self.regions_by(self.new_deadline()).await
    }

    pub(crate) async fn regions_by(&self, deadline: Instant) -> Result<Vec<ApiRegion>, CivoError> {
        self.get_list(&["regions"], deadline).await
    }

    pub(crate) async fn clusters_by(&self, deadline: Instant) -> Result<Vec<ApiCluster>, CivoError> {
        self.get_all(&["kubernetes", "clusters"], deadline).await
    }

    pub(crate) async fn instances_by(&self, id: &str, deadline: Instant) -> Result<Vec<ApiInstance>, CivoError> {
        self.get_list(&["kubernetes", "clusters", id, "instances"], deadline).await
    }

    pub(crate) async fn load_balancers_by(&self, deadline: Instant) -> Result<Vec<ApiLoadBalancer>, CivoError> {
        self.get_list(&["loadbalancers"], deadline).await
    }

    pub(crate) async fn reserved_ips_by(&self, deadline: Instant) -> Result<Vec<ApiReservedIp>, CivoError> {
        self.get_all(&["ips"], deadline).await
    }

    pub(crate) async fn networks_by(&self, deadline: Instant) -> Result<Vec<ApiNetwork>, CivoError> {
        self.get_list(&["networks"], deadline).await
    }

    /// A plain-array endpoint; `null` is an empty list.
    async fn get_list<T: DeserializeOwned>(&self, path: &[&str], deadline: Instant) -> Result<Vec<T>, CivoError> {
        Ok(self.get::<Option<Vec<T>>>(path, &[], deadline).await?.unwrap_or_default())
    }

    /// Every item of a paginated list: the first page says how many pages
    /// there are, the rest are fetched concurrently. `pages` is not trusted
    /// alone (the API once under-reported it by one): while the last page
    /// came back full, the next one is asked for too, within
    /// [`MAX_PAGES`].
    async fn get_all<T: DeserializeOwned + Default>(
        &self,
        path: &[&str],
        deadline: Instant,
    ) -> Result<Vec<T>, CivoError> {
        let per_page = self.shared.page_size.to_string();
        let page_query = |page: u32| [("page", page.to_string()), ("per_page", per_page.clone())];
        let first: Page<T> = self.get(path, &page_query(1), deadline).await?;
        if first.pages > MAX_PAGES {
            return Err(CivoError::Decode {
                endpoint: endpoint(path),
                path: "pages".into(),
                message: format!("{} pages is more than the {MAX_PAGES} this client reads", first.pages),
                source: None,
            });
        }
        // The server may cap per_page below what was asked: its own figure
        // says what a full page is.
        let full = |page: &Page<T>| {
            let size = if page.per_page > 0 { page.per_page } else { self.shared.page_size };
            !page.items.is_empty() && page.items.len() >= usize::try_from(size).unwrap_or(usize::MAX)
        };
        let mut last_full = full(&first);
        let mut items = first.items;
        let rest: Vec<Page<T>> = stream::iter(2..=first.pages)
            .map(|page| {
                let query = page_query(page);
                async move { self.get::<Page<T>>(path, &query, deadline).await }
            })
            .buffered(CONCURRENT_PAGES)
            .try_collect()
            .await?;
        if let Some(last) = rest.last() {
            last_full = full(last);
        }
        items.extend(rest.into_iter().flat_map(|p| p.items));
        let mut page = first.pages.max(1);
        while last_full && page < MAX_PAGES {
            page += 1;
            let next: Page<T> = self.get(path, &page_query(page), deadline).await?;
            // A server that answers a page past the end with another page
            // (its last, say) is not read twice.
            if next.page != 0 && next.page != page {
                break;
            }
            last_full = full(&next);
            items.extend(next.items);
        }
        Ok(items)
    }

    /// GETs `/v2/{path}` with the region and `query`, retrying 429, 5xx and
    /// a request that timed out, until `deadline`.
    async fn get<T: DeserializeOwned>(
        &self,
        path: &[&str],
        query: &[(&str, String)],
        deadline: Instant,
    ) -> Result<T, CivoError> {
        let mut url = self.shared.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push("v2").extend(path);
        }
        url.query_pairs_mut().append_pair("region", &self.region).extend_pairs(query.iter().map(|(k, v)| (*k, v)));
        // The deadline passed, or too close for another try: how long it
        // really took, and the deadline.
        let started = deadline.checked_sub(self.shared.deadline);
        let overdue = || CivoError::Timeout {
            after: started.map_or(self.shared.deadline, |s| s.elapsed()),
            deadline: Some(self.shared.deadline),
        };
        let mut retries = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(overdue());
            }
            match self.attempt(url.clone(), path, remaining, retries).await {
                Ok(value) => return Ok(value),
                Err(Failure::Retry { error, wait })
                    if retries < self.shared.max_retries && Instant::now() + wait < deadline =>
                {
                    drop(error);
                    retries += 1;
                    tokio::time::sleep(wait).await;
                }
                // Retries were left, the deadline was not.
                Err(Failure::Retry { error: CivoError::Timeout { .. }, .. }) if retries < self.shared.max_retries => {
                    return Err(overdue());
                }
                Err(Failure::Retry { error, .. } | Failure::Final(error)) => return Err(error),
            }
        }
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        url: Url,
        path: &[&str],
        remaining: Duration,
        retries: u32,
    ) -> Result<T, Failure> {
        let timeout = self.shared.request_timeout.min(remaining);
        let request = self.shared.http.get(url).bearer_auth(self.shared.key.expose()).timeout(timeout).send();
        // A request that timed out is retried like a 5xx (a hung connection
        // is transient), within the deadline.
        let timed_out =
            || Failure::Retry { error: CivoError::Timeout { after: timeout, deadline: None }, wait: backoff(retries) };
        let response = match tokio::time::timeout(timeout, request).await {
            Err(_) => return Err(timed_out()),
            Ok(Err(e)) if e.is_timeout() => return Err(timed_out()),
            Ok(Err(e)) => return Err(Failure::Final(self.connect_error(e))),
            Ok(Ok(response)) => response,
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = match tokio::time::timeout(timeout, http::read_capped(response, self.shared.max_body_bytes)).await {
            Err(_) | Ok(Err(BodyError::Timeout)) => return Err(timed_out()),
            Ok(Err(BodyError::TooLarge)) => {
                return Err(Failure::Final(CivoError::TooLarge {
                    endpoint: endpoint(path),
                    limit: self.shared.max_body_bytes,
                }));
            }
            Ok(Err(BodyError::Broken(e))) => return Err(Failure::Final(self.connect_error(e))),
            Ok(Ok(body)) => body,
        };
        if (200..300).contains(&status) {
            return self.decode(path, &body).map_err(Failure::Final);
        }
        Err(self.status_error(status, &headers, &body, path, retries))
    }

    fn decode<T: DeserializeOwned>(&self, path: &[&str], body: &[u8]) -> Result<T, CivoError> {
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        serde_path_to_error::deserialize(&mut deserializer).map_err(|e| CivoError::Decode {
            endpoint: endpoint(path),
            path: self.redact(&e.path().to_string()),
            message: self.redact(&e.inner().to_string()),
            source: Some(Cause::scrubbed(e.into_inner(), self.shared.key.expose())),
        })
    }

    fn connect_error(&self, error: reqwest::Error) -> CivoError {
        CivoError::Connect {
            message: self.redact(&http::describe(&error)),
            source: Cause::scrubbed(error, self.shared.key.expose()),
        }
    }

    fn status_error(&self, status: u16, headers: &HeaderMap, body: &[u8], path: &[&str], retries: u32) -> Failure {
        let parsed: ApiErrorBody = serde_json::from_slice(body).unwrap_or_default();
        let said = |fallback: &str| {
            let text = [&parsed.reason, &parsed.result, &parsed.code].into_iter().find(|s| !s.is_empty());
            self.redact(text.map_or(fallback, |s| s.as_str()))
        };
        let error = match status {
            401 => CivoError::Unauthorized { message: said("requires_authentication") },
            403 => CivoError::Forbidden { message: said("forbidden") },
            404 => CivoError::NotFound { path: endpoint(path) },
            429 => {
                let wait = retry_wait(headers, retries);
                return Failure::Retry { error: CivoError::RateLimited { retry_after: Some(wait) }, wait };
            }
            _ if !parsed.code.is_empty() => {
                CivoError::Api { status, code: self.redact(&parsed.code), reason: said("") }
            }
            // Redact before cutting: a key split by the cut would survive.
            _ => CivoError::Status {
                status,
                excerpt: http::excerpt(self.redact(&String::from_utf8_lossy(body)).as_bytes(), 200),
            },
        };
        if status >= 500 { Failure::Retry { error, wait: retry_wait(headers, retries) } } else { Failure::Final(error) }
    }

    /// Removes the key from text that came from a server or a library.
    fn redact(&self, text: &str) -> String {
        let key = self.shared.key.expose();
        if key.is_empty() { text.to_owned() } else { text.replace(key, "***") }
    }
}

fn endpoint(path: &[&str]) -> String {
    format!("/v2/{}", path.join("/"))
}

/// `now + after`, or a century from now when that overflows: a huge
/// deadline means "no deadline", not a panic.
pub(crate) fn far_instant(after: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(after).unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// How long to wait before retry number `retries + 1`: `Retry-After` (seconds
/// or an HTTP date), else `x-ratelimit-reset` (epoch seconds), else a backoff
/// that doubles from 250 ms; never more than a minute.
fn retry_wait(headers: &HeaderMap, retries: u32) -> Duration {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let now = SystemTime::now();
    let wait = if let Some(value) = header(RETRY_AFTER.as_str()) {
        match (value.parse::<u64>(), httpdate::parse_http_date(value)) {
            (Ok(seconds), _) => Duration::from_secs(seconds),
            (_, Ok(when)) => when.duration_since(now).unwrap_or_default(),
            _ => backoff(retries),
        }
    } else if let Some(reset) = header("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok()) {
        Duration::from_secs(reset).saturating_sub(now.duration_since(UNIX_EPOCH).unwrap_or_default())
    } else {
        backoff(retries)
    };
    wait.min(Duration::from_secs(60))
}

fn backoff(retries: u32) -> Duration {
    Duration::from_millis(250) * 2u32.saturating_pow(retries.min(4))
}

/// The longest region code accepted; Civo's are like `LON1`, `FRA1`.
const MAX_REGION_LEN: usize = 32;

/// `code`, trimmed, if it has the shape of a region code: a letter, then
/// letters, digits or `-`, at most [`MAX_REGION_LEN`] characters.
pub(crate) fn check_region(code: &str) -> Result<String, CivoError> {
    let trimmed = code.trim();
    let reason = if trimmed.len() > MAX_REGION_LEN {
        Some(format!("longer than {MAX_REGION_LEN} characters ({} bytes)", code.len()))
    } else if !trimmed.starts_with(|c: char| c.is_ascii_alphabetic()) {
        Some("a region code starts with a letter, like LON1".to_owned())
    } else if !trimmed.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Some("a region code holds letters, digits and '-' only, like LON1".to_owned())
    } else {
        None
    };
    match reason {
        None => Ok(trimmed.to_owned()),
        Some(reason) => {
            let shown: String = code.chars().take(MAX_REGION_LEN).collect();
            let shown = if shown.len() < code.len() { format!("{shown}...") } else { shown };
            Err(CivoError::InvalidRegion { region: shown, reason })
        }
    }
}

/// The Civo CLI's rules for finding a cluster by name or id.
pub(crate) fn pick_cluster<'a>(clusters: &'a [ApiCluster], query: &str) -> Result<&'a ApiCluster, CivoError> {
    let wanted = query.trim();
    if let Some(exact) = clusters.iter().find(|c| c.id == wanted || c.name.eq_ignore_ascii_case(wanted)) {
        return Ok(exact);
    }
    let lower = wanted.to_lowercase();
    let partial: Vec<&ApiCluster> =
        clusters.iter().filter(|c| c.id.contains(wanted) || c.name.to_lowercase().contains(&lower)).collect();
    match partial.as_slice() {
        [one] => Ok(one),
        [] => Err(CivoError::ClusterNotFound { query: query.to_owned() }),
        many => Err(CivoError::AmbiguousCluster {
            query: query.to_owned(),
            matches: many.iter().map(|c| c.name.clone()).collect(),
        }),
    }
}

#[cfg(test)]
pub(crate) fn retry_wait_for_tests(headers: &HeaderMap, retries: u32) -> Duration {
    retry_wait(headers, retries)
}
