//! A fake Civo API on 127.0.0.1: serves the fixtures in
//! `tests/fixtures/civo-api/` with real pagination, checks the bearer key and
//! the region, counts requests, and fails on demand: once (`fail_next`), or
//! for good (`forbid` a list, `under_report_pages` as the API once did).

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::server::{self, Reply, Request};

pub const KEY: &str = "test-key-7f3a9c1e5b";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/civo-api");

pub fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{path}")).unwrap()
}

fn fixture_json(path: &str) -> Value {
    serde_json::from_str(&fixture(path)).unwrap()
}

/// Two K3s-like server CAs (EC P-256, `CN=k3s-server-ca@170000000a` and
/// `...b`), made once with `openssl req -x509 -newkey ec`, with the
/// fingerprint `openssl x509 -noout -fingerprint -sha256` printed for each
/// (in the snapshot's form: lowercase, no colons).
pub const CLUSTER_CAS: [(&str, &str); 2] = [
    (
        "-----BEGIN CERTIFICATE-----
MIIBnTCCAUOgAwIBAgIUD+kQFmefcF+OyUBzTQly2CW/m6UwCgYIKoZIzj0EAwIw
IzEhMB8GA1UEAwwYazNzLXNlcnZlci1jYUAxNzAwMDAwMDBhMCAXDTI2MTIwNjEw
MTE1OFoYDzIxMjYxMTEyMTAxMTU4WjAjMSEwHwYDVQQDDBhrM3Mtc2VydmVyLWNh
QDE3MDAwMDAwMGEwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARa18uGaY5bg5Cb
PluLYwqxDVozymUH4XwOF/nOS/ua/K11efDVMIol+TQ4WtGLQGAivIxAhC7CszX5
9TcPkqzco1MwUTAdBgNVHQ4EFgQUIpZv5M/qhlt10WdT7IS+oGJXkEswHwYDVR0j
BBgwFoAUIpZv5M/qhlt10WdT7IS+oGJXkEswDwYDVR0TAQH/BAUwAwEB/zAKBggq
hkjOPQQDAgNIADBFAiEAu1QXRYOsPSdW7fYsmwtd75UQzWNxeKDyQ1n9hHE35G8C
IAQ/Z1KSjtih5mL2wYMhrKOrW6kHzdeQV2eFJCu5dDW5
-----END CERTIFICATE-----
",
        "sha256:7e8ed5c64b37eb24e09a77b7a71470297b8e4f2c9eaa290834dad87a4ac6d429",
    ),
    (
        "-----BEGIN CERTIFICATE-----
MIIBnTCCAUOgAwIBAgIUOSs0hrF3q4/ANQ2FQMJkfdma/dowCgYIKoZIzj0EAwIw
IzEhMB8GA1UEAwwYazNzLXNlcnZlci1jYUAxNzAwMDAwMDBiMCAXDTI2MTIwNjEw
MTE1OFoYDzIxMjYxMTEyMTAxMTU4WjAjMSEwHwYDVQQDDBhrM3Mtc2VydmVyLWNh
QDE3MDAwMDAwMGIwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQYmBsV5YS1XjzY
HfdqQL7lfj7qZd8wBSqBp5vbJg6LSkdIjCJ1wVPc5pJw0Hu6RPSVc02R1lPzyyaA
tw6hMaKfo1MwUTAdBgNVHQ4EFgQURVszFFxm+I2SNbS4vHKCbJ9nUMAwHwYDVR0j
BBgwFoAURVszFFxm+I2SNbS4vHKCbJ9nUMAwDwYDVR0TAQH/BAUwAwEB/zAKBggq
hkjOPQQDAgNIADBFAiEA8xFDChm35hSrP/Sa9+02M/9jza8LBot6QBACLePuvewC
IF7o/h0rZnvn82Ro7cK45/KVwV7ramcOtPV1skptbkKv
-----END CERTIFICATE-----
",
        "sha256:6a476709d5482aada4a23cda347fb3c8cd54cd044322d5dc5ba48f0a69f2df97",
    ),
];

/// The client key in every kubeconfig [`kubeconfig`] writes: a stand-in
/// for the admin credentials a real one holds, which must never show in a
/// snapshot, an error or a `Debug` output.
pub const CLIENT_KEY_DATA: &str = "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUNsaWVudEtleVNlY3JldA==";

/// Standard base64, for the kubeconfigs' data fields.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char } else { '=' });
        }
    }
    out
}

/// A kubeconfig as Civo's API sends it for a K3s cluster: the cluster's CA
/// (`ca_pem`) as `certificate-authority-data`, its API server, and an
/// admin user with a client certificate and key.
pub fn kubeconfig(name: &str, master_ip: &str, ca_pem: &str) -> String {
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {ca}\n    server: https://{master_ip}:6443\n  name: {name}\ncontexts:\n- context:\n    cluster: {name}\n    user: {name}\n  name: {name}\ncurrent-context: {name}\nkind: Config\npreferences: {{}}\nusers:\n- name: {name}\n  user:\n    client-certificate-data: {ca}\n    client-key-data: {CLIENT_KEY_DATA}\n",
        ca = base64(ca_pem.as_bytes()),
    )
}

/// The account the fake serves.
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub clusters: Vec<Value>,
    /// Cluster id to its instances.
    pub instances: BTreeMap<String, Value>,
    pub load_balancers: Value,
    pub reserved_ips: Vec<Value>,
    pub networks: Value,
    pub regions: Value,
}

impl Account {
    /// `fixtures/civo-api/account/`.
    pub fn fixture() -> Self {
        let clusters: Vec<Value> = ["kubernetes_clusters_page1.json", "kubernetes_clusters_page2.json"]
            .iter()
            .flat_map(|f| fixture_json(&format!("account/{f}"))["items"].as_array().unwrap().clone())
            .collect();
        let instances = clusters
            .iter()
            .map(|c| {
                let id = c["id"].as_str().unwrap().to_owned();
                let body = fixture_json(&format!("account/kubernetes_cluster_{id}_instances.json"));
                (id, body)
            })
            .collect();
        Self {
            clusters,
            instances,
            load_balancers: fixture_json("account/loadbalancers.json"),
            reserved_ips: fixture_json("account/ips.json")["items"].as_array().unwrap().clone(),
            networks: fixture_json("account/networks.json"),
            regions: fixture_json("account/regions.json"),
        }
    }

    /// `fixtures/civo-api/cases/`: one cluster per case discovery must not
    /// guess (see its README).
    pub fn cases() -> Self {
        let clusters = fixture_json("cases/kubernetes_clusters.json")["items"].as_array().unwrap().clone();
        let instances = clusters
            .iter()
            .map(|c| {
                let id = c["id"].as_str().unwrap().to_owned();
                let body = fixture_json(&format!("cases/kubernetes_cluster_{id}_instances.json"));
                (id, body)
            })
            .collect();
        Self {
            clusters,
            instances,
            load_balancers: fixture_json("cases/loadbalancers.json"),
            reserved_ips: fixture_json("cases/ips.json")["items"].as_array().unwrap().clone(),
            networks: fixture_json("cases/networks.json"),
            regions: fixture_json("account/regions.json"),
        }
    }

    /// The same account, each cluster's `kubeconfig` a realistic one: the
    /// i-th cluster's CA is `CLUSTER_CAS[i % 2]` (the fixtures' own hold a
    /// truncated CA, `LS0tLS1CRUdJTg==`, which is no fingerprint).
    pub fn with_kubeconfigs(mut self) -> Self {
        for (i, cluster) in self.clusters.iter_mut().enumerate() {
            let name = cluster["name"].as_str().unwrap_or("");
            let config = kubeconfig(name, cluster["master_ip"].as_str().unwrap_or(""), CLUSTER_CAS[i % 2].0);
            cluster["kubeconfig"] = Value::String(config);
        }
        self
    }

    /// An account with nothing in it.
    pub fn empty() -> Self {
        Self { load_balancers: json!([]), networks: json!([]), regions: json!([]), ..Self::default() }
    }

    /// `fixtures/civo-api/civogo/`: the Go SDK's own test bodies, placeholders
    /// and all.
    pub fn civogo() -> Self {
        let clusters = fixture_json("civogo/kubernetes_clusters_list.json")["items"].as_array().unwrap().clone();
        let instances = clusters.iter().map(|c| (c["id"].as_str().unwrap().to_owned(), json!(null))).collect();
        Self {
            clusters,
            instances,
            load_balancers: fixture_json("civogo/loadbalancers_list.json"),
            reserved_ips: fixture_json("civogo/ips_list.json")["items"].as_array().unwrap().clone(),
            networks: fixture_json("civogo/networks_list.json"),
            regions: json!([]),
        }
    }

    /// A generated account of `clusters` clusters with three nodes each and
    /// `load_balancers` LoadBalancers spread over them.
    pub fn generated(clusters: usize, load_balancers: usize) -> Self {
        let mut account =
            Self { regions: json!([]), networks: json!([]), load_balancers: json!([]), ..Self::default() };
        let mut networks = Vec::new();
        for i in 0..clusters {
            let (id, net) = (format!("cluster-{i:04}"), format!("net-{i:04}"));
            let (hi, lo) = (i / 250, i % 250);
            let master = format!("74.{}.{hi}.{}", 220 + (i % 3), lo + 1);
            account.clusters.push(json!({"id": id, "name": format!("c{i}"), "status": "ACTIVE", "cluster_type": "k3s",
                "cni_plugin": "flannel", "master_ip": master, "network_id": net, "legacy": false, "pools": []}));
            let nodes: Vec<Value> = (0..3)
                .map(|n| json!({"id": format!("{id}-n{n}"), "hostname": format!("c{i}-node-{n}"),
                    "private_ip": format!("10.{hi}.{lo}.{}", n + 3), "public_ip": if n == 0 { master.clone() } else { String::new() }}))
                .collect();
            account.instances.insert(id, Value::Array(nodes));
            networks.push(json!({"id": net, "name": net, "cidr": format!("10.{hi}.{lo}.0/24")}));
        }
        account.networks = Value::Array(networks);
        let lbs: Vec<Value> = (0..load_balancers)
            .map(|j| {
                json!({"id": format!("lb-{j}"), "name": format!("lb-{j}"),
                "public_ip": format!("91.{}.{}.{}", j / 65536, (j / 256) % 256, j % 256),
                "cluster_id": format!("cluster-{:04}", j % clusters.max(1))})
            })
            .collect();
        account.load_balancers = Value::Array(lbs);
        account
    }
}

#[derive(Default)]
struct State {
    account: Account,
    key: String,
    region: String,
    /// Regions served besides `region`, each its own account.
    others: BTreeMap<String, Account>,
    /// `(path prefix, n, reply, seen)`: every n-th request gets the reply.
    periodic: Vec<(String, usize, Reply, usize)>,
    max_per_page: usize,
    /// Report one page fewer than there are (at least 1).
    under_report: bool,
    /// Paths answered 403 every time.
    forbidden: Vec<String>,
    failures: VecDeque<(String, Reply)>,
    requests: Vec<String>,
}

/// A running fake Civo API.
#[derive(Clone)]
pub struct FakeCivo {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FakeCivo {
    /// Serves `account` for the key [`KEY`] in region LON1; lists hold at
    /// most `max_per_page` items a page.
    pub async fn start(account: Account, max_per_page: usize) -> Self {
        Self::start_in(account, max_per_page, "LON1").await
    }

    /// As [`start`](Self::start), in `region` (other regions are refused).
    pub async fn start_in(account: Account, max_per_page: usize, region: &str) -> Self {
        Self::start_regions(vec![(region, account)], max_per_page).await
    }

    /// Serves each `(region, account)`; `/v2/regions` answers the first
    /// account's `regions`. Regions not listed are refused.
    pub async fn start_regions(regions: Vec<(&str, Account)>, max_per_page: usize) -> Self {
        let mut regions = regions.into_iter();
        let (region, account) = regions.next().expect("one region at least");
        let others = regions.map(|(r, a)| (r.to_owned(), a)).collect();
        let state = Arc::new(Mutex::new(State {
            account,
            key: KEY.into(),
            region: region.into(),
            others,
            max_per_page,
            ..State::default()
        }));
        let shared = Arc::clone(&state);
        let addr = server::serve(move |request| answer(&shared, request)).await;
        Self { addr, state }
    }

    /// The fixture account, paginated one cluster a page as its files are.
    pub async fn account() -> Self {
        Self::start(Account::fixture(), 1).await
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next request whose path starts with `path` gets `reply`
    /// (failures queue up in order).
    pub fn fail_next(&self, path: &str, reply: Reply) {
        self.state.lock().unwrap().failures.push_back((path.into(), reply));
    }

    /// Every `n`-th request whose path starts with `path` gets `reply`
    /// (the 1st, the n+1-th...), from now on.
    pub fn fail_every(&self, path: &str, n: usize, reply: Reply) {
        self.state.lock().unwrap().periodic.push((path.into(), n.max(1), reply, 0));
    }

    /// Every request whose path is `path` gets a 403 (the key's team member
    /// lacks that permission), from now on.
    pub fn forbid(&self, path: &str) {
        self.state.lock().unwrap().forbidden.push(path.into());
    }

    /// Paginated lists say there is one page fewer than there is (the
    /// API's old off-by-one), never fewer than 1.
    pub fn under_report_pages(&self) {
        self.state.lock().unwrap().under_report = true;
    }

    /// Changes the account served (the first region's) from the next
    /// request on: a cluster scaled, its gateway replaced...
    pub fn edit_account(&self, edit: impl FnOnce(&mut Account)) {
        edit(&mut self.state.lock().unwrap().account);
    }

    /// Every request target received so far.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn count(&self, path_prefix: &str) -> usize {
        self.requests().iter().filter(|t| t.starts_with(path_prefix)).count()
    }
}

fn answer(state: &Mutex<State>, request: &Request) -> Reply {
    let mut state = state.lock().unwrap();
    state.requests.push(request.target.clone());
    if let Some(i) = state.failures.iter().position(|(path, _)| request.path().starts_with(path.as_str())) {
        return state.failures.remove(i).map(|(_, reply)| reply).unwrap();
    }
    for (path, n, reply, seen) in &mut state.periodic {
        if request.path().starts_with(path.as_str()) {
            *seen += 1;
            if (*seen - 1) % *n == 0 {
                return reply.clone();
            }
        }
    }
    let authorized = request
        .header("authorization")
        .and_then(|h| h.split_once(' '))
        .is_some_and(|(scheme, key)| scheme.eq_ignore_ascii_case("bearer") && key == state.key);
    if !authorized {
        return Reply::json(401, fixture("civogo/error_401.json"));
    }
    let region = request.query("region").unwrap_or_default();
    let account = if region == state.region {
        &state.account
    } else if let Some(account) = state.others.get(region) {
        account
    } else {
        return Reply::json(
            400,
            r#"{"code":"region_not_found","reason":"The region you requested could not be found"}"#,
        );
    };
    // `forbid("/v2/ips")` everywhere, `forbid("FRA1:/v2/ips")` in FRA1 only.
    let forbidden = |p: &String| p == request.path() || *p == format!("{region}:{}", request.path());
    if state.forbidden.iter().any(forbidden) {
        return Reply::json(403, fixture("cases/error_403.json"));
    }
    let under = state.under_report;
    let segments: Vec<&str> = request.path().trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["v2", "kubernetes", "clusters"] => paginate(&account.clusters, request, state.max_per_page, under),
        ["v2", "kubernetes", "clusters", id] => match account.clusters.iter().find(|c| c["id"] == *id) {
            Some(cluster) => Reply::json(200, cluster.to_string()),
            None => not_found_html(),
        },
        ["v2", "kubernetes", "clusters", id, "instances"] => match account.instances.get(*id) {
            Some(instances) => Reply::json(200, instances.to_string()),
            None => not_found_html(),
        },
        ["v2", "loadbalancers"] => Reply::json(200, account.load_balancers.to_string()),
        ["v2", "ips"] => paginate(&account.reserved_ips, request, state.max_per_page, under),
        ["v2", "networks"] => Reply::json(200, account.networks.to_string()),
        ["v2", "regions"] => Reply::json(200, state.account.regions.to_string()),
        _ => not_found_html(),
    }
}

/// Civo answers an unknown path with a web page, not JSON.
pub fn not_found_html() -> Reply {
    Reply::text(404, "text/html", "<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>")
}

fn paginate(items: &[Value], request: &Request, max_per_page: usize, under_report: bool) -> Reply {
    let per_page = request.query("per_page").and_then(|p| p.parse().ok()).unwrap_or(20usize).clamp(1, max_per_page);
    let page = request.query("page").and_then(|p| p.parse().ok()).unwrap_or(1usize).max(1);
    let pages = items.len().div_ceil(per_page).max(1);
    let pages = if under_report { (pages - 1).max(1) } else { pages };
    let slice: Vec<&Value> = items.iter().skip((page - 1) * per_page).take(per_page).collect();
    Reply::json(200, json!({"page": page, "per_page": per_page, "pages": pages, "items": slice}).to_string())
}
