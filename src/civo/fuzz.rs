//! The fuzz targets' entries into the Civo layer (only under `--cfg
//! fuzzing`): every body the API may send, the Civo CLI's config, and
//! discovery's assembly. Each panics when a property fails: that is what
//! the fuzzer looks for.

#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;
use std::sync::OnceLock;

use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

use super::assemble::{Fetched, RegionLists, assemble};
use super::client::{CivoClient, Failure};
use super::config::CivoConfig;
use super::error::CivoError;
use super::models::{ApiCluster, ApiInstance, ApiLoadBalancer, ApiNetwork, ApiRegion, ApiReservedIp, Page};
use crate::{Topology, Validation};

/// The key every harness's client holds: no error may ever show it.
const KEY: &str = "fuzzsecretkey0123456789";

fn client() -> &'static CivoClient {
    static CLIENT: OnceLock<CivoClient> = OnceLock::new();
    CLIENT.get_or_init(|| {
        CivoClient::builder().api_key(KEY).api_url("http://127.0.0.1:9").region("LON1").build().expect("a valid client") // ok: fixed settings
    })
}

/// Panics when `error`, its `Debug` or any of its causes shows the key.
fn keeps_the_key(error: &CivoError, what: &str) {
    let mut texts = vec![error.to_string(), format!("{error:?}")];
    let mut cause = std::error::Error::source(error);
    while let Some(c) = cause {
        texts.push(c.to_string());
        cause = c.source();
    }
    if texts.iter().any(|t| t.contains(KEY)) {
        panic!("{what}: the key shows in {texts:?}"); // ok: the fuzz oracle
    }
}

/// Any bytes as every body the API sends: the page envelope of each
/// paginated list, each plain list, and an error body under every status
/// the client treats apart. Parsed or refused, never a panic; no error
/// shows the key, even when the body carries it.
pub(crate) fn bodies(data: &[u8]) {
    let client = client();
    macro_rules! decode {
        ($($t:ty),+) => {$(
            if let Err(e) = client.fuzz_decode::<$t>(data) {
                keeps_the_key(&e, stringify!($t));
            }
        )+};
    }
    decode!(
        Page<ApiCluster>,
        Page<ApiInstance>,
        Page<ApiReservedIp>,
        Vec<ApiNetwork>,
        Vec<ApiLoadBalancer>,
        Vec<ApiInstance>,
        Vec<ApiRegion>,
        ApiCluster
    );
    let mut headers = HeaderMap::new();
    if let Some(value) = data.get(..data.len().min(40)).and_then(|b| HeaderValue::from_bytes(b).ok()) {
        headers.insert(RETRY_AFTER, value);
    }
    for status in [300, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503] {
        let error = match client.fuzz_status_error(status, &headers, data) {
            Failure::Retry { error, wait } => {
                if wait > std::time::Duration::from_secs(3600) {
                    panic!("status {status}: a retry waits {wait:?}"); // ok: the fuzz oracle
                }
                error
            }
            Failure::Final(error) => error,
        };
        keeps_the_key(&error, &format!("status {status}"));
    }
}

/// Any text as the Civo CLI's `~/.civo.json`: settings or an error that
/// says where it is wrong, never what it holds; the key it names never
/// shows in the settings' or a client's `Debug`.
pub(crate) fn cli_config(text: &str) {
    match CivoConfig::from_cli_text(text, Path::new("/fuzz/.civo.json")) {
        Err(e) => {
            // Where it is wrong, in words and numbers of ours only: nothing
            // of the file's content.
            let message = e.to_string();
            let said = message.strip_prefix("civo config /fuzz/.civo.json: not a Civo CLI config: ");
            if !said.is_some_and(|rest| rest.chars().all(|c| c.is_ascii_alphanumeric() || " ,".contains(c))) {
                panic!("an unexpected config error: {message}"); // ok: the fuzz oracle
            }
        }
        Ok(config) => {
            let Some(key) = config.api_key().map(|k| k.expose().to_owned()) else { return };
            let public = [config.region().unwrap_or_default(), config.api_url().unwrap_or_default()];
            if key.len() < 12 || public.iter().any(|p| p.contains(&key)) || "ApiKey(***)CivoConfig".contains(&key) {
                return;
            }
            if format!("{config:?}").contains(&key) {
                panic!("the config's Debug shows its key"); // ok: the fuzz oracle
            }
            if let Ok(client) = CivoClient::builder().config(config).build()
                && format!("{client:?}").contains(&key)
            {
                panic!("the client's Debug shows its key"); // ok: the fuzz oracle
            }
        }
    }
}

/// A list the key may not read (`403`), or the list (empty when it does
/// not parse).
fn lists<T: serde::de::DeserializeOwned>(raw: &[u8]) -> Option<Vec<T>> {
    if raw == b"403" { None } else { Some(serde_json::from_slice(raw).unwrap_or_default()) }
}

/// Bytes as what discovery fetched from up to three regions (LON1, FRA1,
/// NYC1; sections split at two NUL bytes), each a cluster list, each
/// cluster's instances (or `404`), the networks, LoadBalancers and reserved
/// IPs (or `403`), split at one NUL byte; assembled: the snapshot it makes
/// reads back, strictly, equal; every cluster asked about is either in it
/// or left out, never dropped, also when names repeat across regions.
pub(crate) fn assembly(data: &[u8]) {
    const CODES: [&str; 3] = ["LON1", "FRA1", "NYC1"];
    let mut regions = Vec::new();
    let mut chosen = Vec::new();
    for (r, section) in split_sections(data).into_iter().take(CODES.len()).enumerate() {
        let Some((lists, instances)) = region(CODES[r], section) else { return };
        chosen.extend(instances.into_iter().enumerate().map(|(cluster, instances)| Fetched {
            region: r,
            cluster,
            instances,
        }));
        regions.push(lists);
    }
    if regions.is_empty() {
        return;
    }
    let several = regions.len() > 1 || data.first().is_some_and(|b| b % 2 == 1);
    let asked = chosen.len();
    let assembled = assemble(&regions, chosen, false, several, Vec::new());
    let topology = assembled.topology;
    let json = topology.to_json();
    let back = Topology::from_json_with(&json, Validation::strict())
        .unwrap_or_else(|e| panic!("discovery wrote a snapshot it cannot read: {e}\n{json}")); // ok: the fuzz oracle
    if back != topology {
        panic!("the snapshot reads back different:\n{json}"); // ok: the fuzz oracle
    }
    if topology.clusters().len() + topology.left_out().len() != asked {
        let (built, left) = (topology.clusters().len(), topology.left_out().len());
        panic!("{asked} clusters asked, {built} built, {left} left out: one was dropped silently"); // ok: the fuzz oracle
    }
}

/// `data` cut at each pair of NUL bytes.
fn split_sections(data: &[u8]) -> Vec<&[u8]> {
    let mut sections = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(2).position(|w| w == [0, 0]) {
        sections.push(&rest[..at]);
        rest = &rest[at + 2..];
    }
    sections.push(rest);
    sections
}

/// One region's lists and each of its clusters' instances, from a section.
fn region(code: &str, section: &[u8]) -> Option<(RegionLists, Vec<Option<Vec<ApiInstance>>>)> {
    let mut parts = section.split(|&b| b == 0);
    let mut next = || parts.next().unwrap_or_default();
    let clusters = serde_json::from_slice::<Vec<ApiCluster>>(next()).ok().filter(|c| c.len() <= 16)?;
    let instances: Vec<Option<Vec<ApiInstance>>> = clusters
        .iter()
        .map(|_| {
            let raw = next();
            if raw == b"404" { None } else { Some(serde_json::from_slice(raw).unwrap_or_default()) }
        })
        .collect();
    let networks: Option<Vec<ApiNetwork>> = lists(next());
    let load_balancers: Option<Vec<ApiLoadBalancer>> = lists(next());
    let reserved_ips: Option<Vec<ApiReservedIp>> = lists(next());
    let lists = RegionLists { code: code.into(), defaulted: false, clusters, load_balancers, reserved_ips, networks };
    Some((lists, instances))
}
