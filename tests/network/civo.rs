//! The Civo API client and discovery against a fake Civo API on loopback.

#![cfg(feature = "civo-api")]

use crate::common;

use std::time::{Duration, Instant};

use civo_egress::WarningKind;
use civo_egress::civo::api::{ApiCluster, ApiInstance, ApiLoadBalancer, ApiNetwork, ApiPool};
use civo_egress::civo::{ApiKey, CivoClient, CivoConfig, CivoError, Selection};
use civo_egress::{IpClass, Topology};
use common::civo_api::{Account, FakeCivo, KEY, fixture, not_found_html};
use common::server::Reply;

fn client(fake: &FakeCivo) -> CivoClient {
    CivoClient::builder().api_key(KEY).api_url(fake.url()).region("LON1").build().unwrap()
}

fn expected_account() -> Topology {
    Topology::from_json(include_str!("../fixtures/account-topology.json")).unwrap()
}

/// The key must not show in any rendering of an error.
fn assert_no_key(error: &CivoError) {
    for text in [error.to_string(), format!("{error:?}"), format!("{error:#?}")] {
        assert!(!text.contains(KEY), "key leaked: {text}");
    }
}

#[tokio::test]
async fn discovers_the_fixture_account_exactly() {
    let fake = FakeCivo::account().await;
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    assert_eq!(discovery.topology(), &expected_account(), "{}", discovery.topology().to_json());
    assert_eq!(
        civo_egress::Whitelist::of(discovery.topology()).unwrap().to_string(),
        "74.220.24.10/32\n74.220.24.77/32\n74.220.26.44/32\n"
    );
    let warnings = discovery.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].kind(), WarningKind::PublicIpNodePool);
    assert_eq!(warnings[0].cluster(), Some("prod"));
    assert!(warnings[0].message().contains("74.220.24.77"), "{}", warnings[0]);
    let t = discovery.topology();
    assert_eq!(t.classify_ip("74.220.25.9".parse().unwrap()).class(), IpClass::LoadBalancer);
    assert_eq!(t.classify_ip("74.220.27.5".parse().unwrap()).class(), IpClass::Reserved);
    assert_eq!(t.classify_ip("192.168.1.9".parse().unwrap()).class(), IpClass::LoadBalancer);
}

#[tokio::test]
async fn reads_every_page_and_sends_key_and_region_on_each_request() {
    let fake = FakeCivo::account().await;
    client(&fake).discover(&Selection::all()).await.unwrap();
    let requests = fake.requests();
    // The fake caps pages at one item, so every last page comes back full:
    // the client asks for one more each time (issue 11: `pages` is not
    // trusted alone), and that one is empty.
    assert_eq!(fake.count("/v2/kubernetes/clusters?"), 2 + 1, "{requests:?}");
    assert!(requests.iter().any(|r| r.contains("page=2")), "{requests:?}");
    assert!(requests.iter().any(|r| r.starts_with("/v2/kubernetes/clusters?") && r.contains("page=3")), "{requests:?}");
    assert_eq!(fake.count("/v2/kubernetes/clusters/"), 2, "one instances request per cluster");
    assert_eq!(fake.count("/v2/ips?"), 3 + 1, "three reserved IPs, one a page, then an empty page: {requests:?}");
    assert_eq!(requests.len(), (2 + 1) + 2 + (3 + 1) + 1 + 1, "{requests:?}");
    assert!(requests.iter().all(|r| r.contains("region=LON1")), "{requests:?}");
}

#[tokio::test]
async fn selection_by_name_partial_name_and_id() {
    let fake = FakeCivo::account().await;
    let client = client(&fake);
    let prod = client.discover(&Selection::all().cluster("PROD")).await.unwrap();
    let names: Vec<&str> = prod.topology().clusters().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["prod"]);
    assert_eq!(prod.topology().load_balancers().len(), 1, "standalone LBs stay known");
    assert_eq!(fake.count("/v2/kubernetes/clusters/"), 1, "nodes fetched only for the chosen cluster");

    let staging = client.discover(&Selection::all().cluster("stag")).await.unwrap();
    assert_eq!(staging.topology().clusters()[0].name(), "staging");
    let by_id = client.find_cluster("9b1d7c42-6a0e-4f3b-8d2c-3e5f7a9b1c2d").await.unwrap();
    assert_eq!(by_id.name(), "staging");

    match client.find_cluster("4").await.unwrap_err() {
        CivoError::AmbiguousCluster { matches, .. } => assert_eq!(matches, ["prod", "staging"]),
        other => panic!("{other}"),
    }
    let missing = client.discover(&Selection::all().cluster("nope")).await.unwrap_err();
    assert!(matches!(&missing, CivoError::ClusterNotFound { query, .. } if query == "nope"), "{missing:?}");
    assert!(missing.is_not_found());
}

#[tokio::test]
async fn single_endpoints_parse() {
    let fake = FakeCivo::account().await;
    let client = client(&fake);
    let cluster = client.get_cluster("5e0c6a3e-2d4f-4b8a-9a59-0c1f3f0e7a11").await.unwrap();
    assert_eq!(cluster.master_ip(), "74.220.24.10");
    assert!(cluster.pools().iter().any(|p| p.public_ip_node_pool()));
    let regions = client.regions().await.unwrap();
    assert!(regions.iter().any(|r| r.code() == "LON1" && r.features().public_ip_node_pools()));
    assert_eq!(client.reserved_ips().await.unwrap().len(), 3);
    assert_eq!(client.networks().await.unwrap().len(), 2);
    assert_eq!(client.load_balancers().await.unwrap().len(), 4);
    assert_eq!(client.cluster_instances("9b1d7c42-6a0e-4f3b-8d2c-3e5f7a9b1c2d").await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized_and_never_shown() {
    let fake = FakeCivo::account().await;
    let wrong = format!("{KEY}-revoked");
    let client = CivoClient::builder().api_key(&wrong).api_url(fake.url()).build().unwrap();
    let error = client.list_clusters().await.unwrap_err();
    assert!(
        matches!(&error, CivoError::Unauthorized { message, .. } if message == "requires_authentication"),
        "{error}"
    );
    assert!(error.is_auth());
    assert_eq!(error.status(), Some(401));
    assert!(!error.to_string().contains(&wrong) && !format!("{error:?}").contains(&wrong));
    assert!(!format!("{client:?}").contains(&wrong), "{client:?}");
}

#[tokio::test]
async fn an_unknown_region_is_an_api_error() {
    let fake = FakeCivo::account().await;
    let error = client(&fake).with_region("NYC9").networks().await.unwrap_err();
    assert!(matches!(&error, CivoError::Api { status: 400, code, .. } if code == "region_not_found"), "{error}");
}

#[tokio::test]
async fn each_failure_is_a_typed_error() {
    let fake = FakeCivo::account().await;
    let client = client(&fake);
    type Check = fn(&CivoError) -> bool;
    let cases: Vec<(Reply, Check)> = vec![
        (not_found_html(), |e| {
            matches!(e, CivoError::NotFound { path, .. } if path == "/v2/networks") && e.is_not_found()
        }),
        (
            Reply::json(403, r#"{"code":"forbidden","reason":"key lacks permission"}"#),
            |e| matches!(e, CivoError::Forbidden { message, .. } if message == "key lacks permission"),
        ),
        (
            Reply::json(409, fixture("civogo/error_409.json")),
            |e| matches!(e, CivoError::Api { status: 409, code, .. } if code == "database_duplicate_cluster_name_not_allowed"),
        ),
        (
            Reply::text(418, "text/plain", "I'm a teapot ".repeat(100)),
            |e| matches!(e, CivoError::Status { status: 418, excerpt, .. } if excerpt.chars().count() <= 201),
        ),
        (
            Reply::json(200, r#"[{"id": "n1", "default": "maybe"}]"#),
            |e| matches!(e, CivoError::Decode { path, endpoint, .. } if path == "[0].default" && endpoint == "/v2/networks"),
        ),
        (Reply::json(200, r#"[{"id": "n1", "cidr": "#), |e| matches!(e, CivoError::Decode { .. })),
        (Reply::CloseMidBody { declared: 500, sent: br#"[{"id": "n1""#.to_vec() }, |e| {
            matches!(e, CivoError::Connect { .. }) && e.is_connect()
        }),
        (Reply::json(200, r#"{"not": "a list"}"#), |e| matches!(e, CivoError::Decode { path, .. } if path == ".")),
    ];
    for (reply, check) in cases {
        let description = format!("{reply:?}");
        fake.fail_next("/v2/networks", reply);
        let error = client.networks().await.unwrap_err();
        assert!(check(&error), "{description:.80}: {error:?}");
        assert_no_key(&error);
    }
}

#[tokio::test]
async fn too_large_bodies_are_refused() {
    let fake = FakeCivo::account().await;
    let client = CivoClient::builder().api_key(KEY).api_url(fake.url()).max_body_bytes(1 << 20).build().unwrap();
    fake.fail_next("/v2/networks", Reply::Huge { total: 64 << 20 });
    let error = client.networks().await.unwrap_err();
    assert!(matches!(&error, CivoError::TooLarge { limit, .. } if *limit == 1 << 20), "{error}");
    fake.fail_next("/v2/networks", Reply::HugeChunked { total: 4 << 20 });
    assert!(matches!(client.networks().await.unwrap_err(), CivoError::TooLarge { .. }));
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried() {
    let fake = FakeCivo::account().await;
    let client = client(&fake);
    fake.fail_next("/v2/networks", Reply::json(429, "{}").with_header("Retry-After", "1"));
    let started = Instant::now();
    assert_eq!(client.networks().await.unwrap().len(), 2);
    assert!(started.elapsed() >= Duration::from_millis(900), "Retry-After honoured: {:?}", started.elapsed());
    assert_eq!(fake.count("/v2/networks"), 2);

    fake.fail_next("/v2/networks", Reply::json(500, r#"{"code":"internal","reason":"oops"}"#));
    fake.fail_next("/v2/networks", Reply::text(502, "text/html", "<html>bad gateway</html>"));
    assert_eq!(client.networks().await.unwrap().len(), 2);
    assert_eq!(fake.count("/v2/networks"), 5);

    let reset = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 1;
    fake.fail_next("/v2/ips", Reply::json(429, "{}").with_header("x-ratelimit-reset", &reset.to_string()));
    assert_eq!(client.reserved_ips().await.unwrap().len(), 3);
}

#[tokio::test]
async fn retries_stop_at_the_deadline_and_say_when_to_retry() {
    let fake = FakeCivo::account().await;
    let client =
        CivoClient::builder().api_key(KEY).api_url(fake.url()).deadline(Duration::from_secs(20)).build().unwrap();
    fake.fail_next("/v2/networks", Reply::json(429, "{}").with_header("Retry-After", "30"));
    let started = Instant::now();
    let error = client.networks().await.unwrap_err();
    assert!(matches!(error, CivoError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(30)));
    assert!(error.is_rate_limited());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
    assert!(error.to_string().contains("retry in 30 s"), "{error}");
    // Sleeping until the deadline would take 20 s; giving up at once takes none.
    assert!(started.elapsed() < Duration::from_secs(10), "no sleep past the deadline");

    for _ in 0..4 {
        fake.fail_next("/v2/networks", Reply::json(503, "{}"));
    }
    let error = client.networks().await.unwrap_err();
    assert!(matches!(error, CivoError::Status { status: 503, .. }), "{error}");
}

#[tokio::test]
async fn a_silent_server_times_out_within_the_deadline() {
    let fake = FakeCivo::account().await;
    let client = CivoClient::builder()
        .api_key(KEY)
        .api_url(fake.url())
        .request_timeout(Duration::from_millis(300))
        .deadline(Duration::from_secs(1))
        .build()
        .unwrap();
    // A request that times out is retried, so the server stays silent.
    for _ in 0..5 {
        fake.fail_next("/v2/networks", Reply::Silence);
    }
    let started = Instant::now();
    let error = client.networks().await.unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
    // Stopped by the deadline: it says how long it really took, and the deadline.
    let CivoError::Timeout { after, deadline, .. } = &error else { panic!("{error:?}") };
    assert_eq!(*deadline, Some(Duration::from_secs(1)), "{error}");
    assert!(*after >= Duration::from_millis(500), "{error}");
    assert!(error.to_string().contains("(the deadline is 1000 ms)"), "{error}");

    for _ in 0..5 {
        fake.fail_next("/v2/loadbalancers", Reply::Silence);
    }
    let started = Instant::now();
    let error = client.discover(&Selection::all()).await.unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = CivoClient::builder().api_key(KEY).api_url(url).build().unwrap();
    let error = client.networks().await.unwrap_err();
    assert!(matches!(error, CivoError::Connect { .. }), "{error}");
    assert!(error.is_connect());
    assert_no_key(&error);
    // The cause is the HTTP client's error, with the io error under it.
    let http = cause::<reqwest::Error>(&error).expect("reqwest error");
    assert!(http.is_connect());
    let io = cause::<std::io::Error>(&error).expect("io error");
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
}

/// The first error of type `E` in the `source()` chain of `error`.
fn cause<'a, E: std::error::Error + 'static>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a E> {
    let mut link = error.source();
    while let Some(e) = link {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        link = e.source();
    }
    None
}

#[test]
fn an_unreadable_cli_config_keeps_the_reader_error() {
    let dir = std::env::temp_dir().join(format!("civo-egress-config-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let error =
        CivoConfig::from_vars(|name| (name == "CIVO_CONFIG").then(|| dir.to_str().unwrap().to_owned())).unwrap_err();
    assert!(matches!(error, CivoError::Config { .. }) && error.is_config(), "{error}");
    // A directory is refused before it is read: the capped reader says why.
    let why = cause::<civo_egress::LocalFileError>(&error);
    assert!(matches!(why, Some(civo_egress::LocalFileError::NotRegular { .. })), "{error:?}");
}

#[tokio::test]
async fn a_decode_error_keeps_the_json_error() {
    let fake = FakeCivo::account().await;
    fake.fail_next("/v2/networks", Reply::json(200, r#"[{"id": "n1", "default": "maybe"}]"#));
    let error = client(&fake).networks().await.unwrap_err();
    assert!(cause::<serde_json::Error>(&error).is_some_and(serde_json::Error::is_data), "{error:?}");
}

#[test]
fn plain_http_to_a_remote_host_is_refused_before_connecting() {
    for url in ["http://api.civo.com", "http://74.220.24.10:8080", "ftp://127.0.0.1", "https//api.civo.com", ""] {
        let error = CivoClient::builder().api_key(KEY).api_url(url).build().unwrap_err();
        assert!(matches!(error, CivoError::InvalidUrl { .. }), "{url}: {error}");
        assert_no_key(&error);
    }
    assert!(CivoClient::builder().api_key(KEY).api_url("https://api.civo.com").build().is_ok());
    assert!(matches!(CivoClient::builder().api_url("https://api.civo.com").build(), Err(CivoError::MissingApiKey)));
    assert!(matches!(CivoClient::builder().api_key("  ").build(), Err(CivoError::MissingApiKey)));
    let unparsable = CivoClient::builder().api_key(KEY).api_url("https//api.civo.com").build().unwrap_err();
    assert!(unparsable.is_config());
    assert!(std::error::Error::source(&unparsable).is_some(), "the URL parser's error: {unparsable:?}");
}

#[tokio::test]
async fn civogo_fixtures_parse_and_their_placeholders_become_warnings() {
    let fake = FakeCivo::start(Account::civogo(), 20).await;
    let client = client(&fake);
    let clusters = client.list_clusters().await.unwrap();
    assert_eq!(clusters[0].master_ip(), "your.cluster.ip.address");
    let discovery = client.discover(&Selection::all()).await.unwrap();
    assert!(discovery.topology().clusters().is_empty(), "a placeholder egress IP is no egress IP");
    let kinds: Vec<WarningKind> = discovery.warnings().iter().map(|w| w.kind()).collect();
    assert!(kinds.contains(&WarningKind::InvalidValue), "{:?}", discovery.warnings());
    let placeholder = discovery.warnings().iter().find(|w| w.message().contains("your.cluster.ip.address"));
    assert!(placeholder.is_some(), "{:?}", discovery.warnings());
    // 0.0.0.0/0 never becomes a network that swallows every address.
    assert_eq!(discovery.topology().classify_ip("8.8.8.8".parse().unwrap()).class(), IpClass::Public);

    for (file, parse) in [
        (
            "civogo/kubernetes_cluster_get.json",
            (|s| serde_json::from_str::<ApiCluster>(s).map(|_| ())) as fn(&str) -> _,
        ),
        ("civogo/kubernetes_pool_get.json", |s| serde_json::from_str::<ApiPool>(s).map(|_| ())),
        ("civogo/loadbalancer_get.json", |s| serde_json::from_str::<ApiLoadBalancer>(s).map(|_| ())),
        ("civogo/instance_create.json", |s| serde_json::from_str::<ApiInstance>(s).map(|_| ())),
        ("civogo/networks_list.json", |s| serde_json::from_str::<Vec<ApiNetwork>>(s).map(|_| ())),
        ("civogo/ips_list.json", |s| serde_json::from_str::<serde_json::Value>(s).map(|_| ())),
    ] {
        parse(&fixture(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    let pool: ApiPool = serde_json::from_str(&fixture("civogo/kubernetes_pool_get.json")).unwrap();
    assert_eq!(pool.instances()[0].private_ip(), "192.168.1.16");
}

#[tokio::test]
async fn discovery_warns_about_clusters_it_cannot_trust() {
    let mut account = Account::fixture();
    account.clusters[0]["status"] = "BUILDING".into();
    account.clusters[0]["cni_plugin"] = "cilium".into();
    account.clusters[0]["legacy"] = "true".into();
    account.clusters[1]["master_ip"] = serde_json::Value::Null;
    account.networks[1]["cidr"] = "0.0.0.0/0".into();
    let fake = FakeCivo::start(account, 1).await;
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    let kinds: Vec<(Option<&str>, WarningKind)> =
        discovery.warnings().iter().map(|w| (w.cluster(), w.kind())).collect();
    for expected in [
        (Some("prod"), WarningKind::NotActive),
        (Some("prod"), WarningKind::EgressUnmeasured),
        (Some("prod"), WarningKind::Legacy),
        (Some("prod"), WarningKind::Network),
        (Some("staging"), WarningKind::NoEgressIp),
    ] {
        assert!(kinds.contains(&expected), "{expected:?} in {kinds:?}");
    }
    let t = discovery.topology();
    assert_eq!(t.clusters().len(), 1);
    assert!(t.clusters()[0].network_cidrs().is_empty());
    assert_eq!(t.classify_ip("1.1.1.1".parse().unwrap()).class(), IpClass::Public);
    assert!(
        t.load_balancers().iter().any(|lb| lb.name() == "staging-traefik-traefik"),
        "LBs of a left-out cluster stay known"
    );
}

#[test]
fn config_comes_from_the_environment_and_the_cli_file() {
    let dir = std::env::temp_dir().join(format!("civo-egress-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(".civo.json");
    std::fs::write(
        &file,
        r#"{"apikeys": {"work": "file-key", "home": "other"}, "meta": {"current_apikey": "work", "default_region": "FRA1", "url": "https://api.example.test"}}"#,
    )
    .unwrap();
    let home = dir.to_str().unwrap().to_owned();
    let vars = |pairs: Vec<(&'static str, String)>| {
        move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
    };

    let from_file = CivoConfig::from_vars(vars(vec![("HOME", home.clone())])).unwrap();
    assert_eq!(from_file.api_key(), Some(&ApiKey::new("file-key")));
    assert_eq!((from_file.region(), from_file.api_url()), (Some("FRA1"), Some("https://api.example.test")));
    assert!(!format!("{from_file:?}").contains("file-key"));

    let from_env = CivoConfig::from_vars(vars(vec![
        ("HOME", home.clone()),
        ("CIVO_TOKEN", "env-key".into()),
        ("CIVO_API_URL", "http://127.0.0.1:9".into()),
    ]))
    .unwrap();
    assert_eq!(from_env.api_key(), Some(&ApiKey::new("env-key")));
    assert_eq!(from_env.api_url(), Some("http://127.0.0.1:9"));

    let named = CivoConfig::from_vars(vars(vec![("CIVO_CONFIG", file.to_str().unwrap().into())])).unwrap();
    assert_eq!(named.api_key(), Some(&ApiKey::new("file-key")));

    let nothing = CivoConfig::from_vars(vars(vec![("HOME", "/nonexistent".into())])).unwrap();
    assert_eq!(nothing.api_key(), None);
    assert!(matches!(CivoClient::builder().config(nothing).build(), Err(CivoError::MissingApiKey)));

    let missing = CivoConfig::from_vars(vars(vec![("CIVO_CONFIG", "/nonexistent/civo.json".into())])).unwrap_err();
    assert!(matches!(missing, CivoError::Config { .. }), "{missing}");
    let broken = dir.join("broken.json");
    std::fs::write(&broken, r#"{"apikeys": "secret-in-the-wrong-place"}"#).unwrap();
    let error = CivoConfig::from_vars(vars(vec![("CIVO_CONFIG", broken.to_str().unwrap().into())])).unwrap_err();
    assert!(!error.to_string().contains("secret-in-the-wrong-place"), "{error}");
}

#[test]
fn clients_and_errors_are_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<CivoClient>();
    assert_send_sync::<CivoError>();
    assert_send_sync::<civo_egress::civo::Discovery>();
    assert_send_sync::<civo_egress::civo::Discovery>();
    assert_send_sync::<civo_egress::civo::CivoClientBuilder>();
    assert_send_sync::<CivoConfig>();
    assert_send_sync::<ApiKey>();
    assert_send_sync::<Selection>();
    assert_send_sync::<WarningKind>();
    assert_send_sync::<ApiCluster>();
    assert_send_sync::<civo_egress::civo::api::ApiReservedIp>();
    assert_send_sync::<civo_egress::civo::api::ApiRegion>();
    fn assert_send<T: Send>(_: &T) {}
    let client = CivoClient::builder().api_key(KEY).build().unwrap();
    assert_send(&client.discover(&Selection::all()));
    assert_send(&client.list_clusters());
}

// ---- Issue 11: what the API says, said; partial failures; the region ----

/// (cluster, kind) of every warning, in order.
fn kinds(discovery: &civo_egress::civo::Discovery) -> Vec<(Option<String>, WarningKind)> {
    discovery.warnings().iter().map(|w| (w.cluster().map(str::to_owned), w.kind())).collect()
}

fn ip(text: &str) -> std::net::IpAddr {
    text.parse().unwrap()
}

#[tokio::test]
async fn the_cases_account_says_what_the_model_does_not_cover() {
    let fake = FakeCivo::start(Account::cases(), 20).await;
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    let found = kinds(&discovery);
    let expected: Vec<(Option<String>, WarningKind)> = [
        ("edge", WarningKind::NodePending), // pub02 is BUILDING: no private IP yet, left out
        ("edge", WarningKind::PublicIpNodePool),
        ("edge", WarningKind::PublicIpPending),
        ("talos", WarningKind::Talos),
        ("vlan", WarningKind::VlanConnected),
        ("v6", WarningKind::Ipv6Unmeasured),
        ("moved", WarningKind::GatewayMissing),
        ("scaling", WarningKind::NotActive),
        ("scaling", WarningKind::NotReady),
        ("scaling", WarningKind::NodePending), // scl03 is BUILDING: no private IP yet
        ("handmade", WarningKind::UnflaggedPublicIp),
    ]
    .into_iter()
    .map(|(c, k)| (Some(c.to_owned()), k))
    .collect();
    let mut sorted_found = found.clone();
    sorted_found.sort_by_key(|(c, k)| (c.clone(), k.as_str()));
    let mut sorted_expected = expected.clone();
    sorted_expected.sort_by_key(|(c, k)| (c.clone(), k.as_str()));
    assert_eq!(sorted_found, sorted_expected, "{:#?}", discovery.warnings());

    let t = discovery.topology();
    assert_eq!(t.clusters().len(), 7, "every case is discovered, none left out");
    // The flagged pool's node egresses from its own IP; the unflagged node
    // with a hand-made public IP is kept in the egress set; nothing IPv6.
    assert_eq!(
        civo_egress::Whitelist::of(t).unwrap().to_string(),
        [
            "74.220.30.10/32",
            "74.220.30.21/32",
            "74.220.31.10/32",
            "74.220.32.10/32",
            "74.220.33.10/32",
            "74.220.34.10/32",
            "74.220.35.10/32",
            "74.220.36.10/32",
            "74.220.36.50/32",
            ""
        ]
        .join("\n")
    );
    let edge = t.cluster("edge").unwrap();
    assert_eq!(edge.egress_ips(), [ip("74.220.30.10"), ip("74.220.30.21")]);
    assert_eq!(edge.nodes().len(), 2, "the BUILDING node has no private IP yet");
    // Talos: its own pod and service CIDRs, not K3s's.
    let talos = t.cluster("talos").unwrap();
    assert_eq!(talos.pod_cidrs(), ["10.244.0.0/16".parse::<ipnet::IpNet>().unwrap()]);
    assert_eq!(talos.service_cidrs(), ["10.96.0.0/12".parse::<ipnet::IpNet>().unwrap()]);
    let pod = t.classify_ip(ip("10.244.3.7"));
    assert_eq!((pod.class(), pod.clusters()), (IpClass::Pod, &["talos".to_owned()][..]));
    assert_eq!(t.classify_ip(ip("10.96.0.10")).class(), IpClass::Service);
    assert_eq!(t.cluster("edge").unwrap().pod_cidrs(), [civo_egress::K3S_POD_CIDR]);
    // The gateway-less cluster keeps master_ip as its egress IP (with the warning).
    assert_eq!(t.cluster("moved").unwrap().egress_ips(), [ip("74.220.34.10")]);
    assert_eq!(t.classify_ip(ip("74.220.36.50")).class(), IpClass::Egress);
    assert_eq!(t.classify_ip(ip("2a0a:6040:c1a0::10")).class(), IpClass::Public, "IPv6 egress is not guessed");

    // The warnings name what they are about (values, not prose).
    let text = |kind: WarningKind| {
        discovery.warnings().iter().find(|w| w.kind() == kind).map(|w| w.message().to_owned()).unwrap()
    };
    assert!(text(WarningKind::NotReady).contains("WorkerNodesReady"), "{}", text(WarningKind::NotReady));
    assert!(!text(WarningKind::NotReady).contains("ControlPlaneReady"), "only the conditions not true");
    assert!(text(WarningKind::PublicIpPending).contains("9f8e7d6c-2222-4b5a-9c8d-000000000002"));
    assert!(text(WarningKind::UnflaggedPublicIp).contains("74.220.36.50"));
    assert!(text(WarningKind::GatewayMissing).contains("74.220.34.10"));
}

#[tokio::test]
async fn a_public_pool_asking_for_more_nodes_than_it_has_is_pending() {
    // Scaling up: every node the pool has is ACTIVE with its IP, but its
    // count asks for one more, whose IP nobody knows yet.
    let mut account = Account::fixture();
    account.clusters[0]["pools"][1]["count"] = 2.into();
    let fake = FakeCivo::start(account, 1).await;
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    let found = kinds(&discovery);
    assert!(found.contains(&(Some("prod".into()), WarningKind::PublicIpPending)), "{found:?}");
    assert!(found.contains(&(Some("prod".into()), WarningKind::PublicIpNodePool)), "{found:?}");
    let prod = discovery.topology().cluster("prod").unwrap();
    assert_eq!(prod.egress_ips(), [ip("74.220.24.10"), ip("74.220.24.77")]);
}

#[tokio::test]
async fn required_pools_alone_flag_a_pool() {
    // Where the API says it only in required_pools[], the flag still counts:
    // h5j6k's IP is its own egress IP, not an unflagged oddity.
    let mut account = Account::fixture();
    account.clusters[0]["pools"][1]["public_ip_node_pool"] = false.into();
    let fake = FakeCivo::start(account, 1).await;
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    let found = kinds(&discovery);
    assert_eq!(found, [(Some("prod".into()), WarningKind::PublicIpNodePool)], "{:?}", discovery.warnings());
    // And where neither says it, the node's own IP is kept, with a warning.
    let mut account = Account::fixture();
    account.clusters[0]["pools"][1]["public_ip_node_pool"] = false.into();
    account.clusters[0]["required_pools"][1]["public_ip_node_pool"] = false.into();
    let fake = FakeCivo::start(account, 1).await;
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    assert_eq!(kinds(&discovery), [(Some("prod".into()), WarningKind::UnflaggedPublicIp)]);
    assert_eq!(discovery.topology().classify_ip(ip("74.220.24.77")).class(), IpClass::Egress);
}

#[tokio::test]
async fn an_under_reported_page_count_loses_nothing() {
    let fake = FakeCivo::account().await;
    fake.under_report_pages();
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    assert_eq!(discovery.topology(), &expected_account(), "{}", discovery.topology().to_json());
    // Clusters: page 1 says pages 1 but is full, so page 2, full, then page 3.
    assert_eq!(fake.count("/v2/kubernetes/clusters?"), 3, "{:?}", fake.requests());
    assert_eq!(client(&fake).reserved_ips().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_server_that_repeats_its_last_page_is_not_read_twice() {
    // Asked for page 2 of one, a server that answers page 1 again (it clamps
    // the page number) must not duplicate the items.
    let fake = FakeCivo::start(Account::fixture(), 100).await;
    let client = CivoClient::builder().api_key(KEY).api_url(fake.url()).region("LON1").page_size(2).build().unwrap();
    let page1 = fixture("account/kubernetes_clusters_page1.json").replace(r#""per_page": 1"#, r#""per_page": 2"#);
    let both: serde_json::Value = {
        let mut v: serde_json::Value = serde_json::from_str(&page1).unwrap();
        let second: serde_json::Value =
            serde_json::from_str(&fixture("account/kubernetes_clusters_page2.json")).unwrap();
        v["items"].as_array_mut().unwrap().push(second["items"][0].clone());
        v["pages"] = 1.into();
        v
    };
    fake.fail_next("/v2/kubernetes/clusters", Reply::json(200, both.to_string()));
    fake.fail_next("/v2/kubernetes/clusters", Reply::json(200, both.to_string()));
    let clusters = client.list_clusters().await.unwrap();
    assert_eq!(clusters.iter().map(|c| c.name()).collect::<Vec<_>>(), ["prod", "staging"]);
    assert_eq!(fake.count("/v2/kubernetes/clusters?"), 2, "{:?}", fake.requests());
}

#[tokio::test]
async fn a_cluster_deleted_meanwhile_is_left_out_not_fatal() {
    let mut account = Account::fixture();
    account.instances.remove("9b1d7c42-6a0e-4f3b-8d2c-3e5f7a9b1c2d");
    let fake = FakeCivo::start(account, 1).await;
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    let found = kinds(&discovery);
    assert!(found.contains(&(Some("staging".into()), WarningKind::ClusterGone)), "{found:?}");
    let t = discovery.topology();
    assert_eq!(t.clusters().iter().map(|c| c.name()).collect::<Vec<_>>(), ["prod"]);
    assert_eq!(civo_egress::Whitelist::of(t).unwrap().to_string(), "74.220.24.10/32\n74.220.24.77/32\n");
    assert_eq!(t.classify_ip(ip("74.220.26.200")).class(), IpClass::LoadBalancer, "its LB is still listed");
    // Named alone, it is a discovery with no cluster and the warning.
    let alone = client(&fake).discover(&Selection::all().cluster("staging")).await.unwrap();
    assert!(alone.topology().clusters().is_empty());
    assert_eq!(kinds(&alone), [(Some("staging".into()), WarningKind::ClusterGone)]);
}

#[tokio::test]
async fn a_list_the_key_may_not_read_degrades_only_what_it_holds() {
    let fake = FakeCivo::account().await;
    fake.forbid("/v2/ips");
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    let found = kinds(&discovery);
    assert!(found.contains(&(None, WarningKind::ReservedIpsUnknown)), "{found:?}");
    let t = discovery.topology();
    assert_eq!(t.clusters().len(), 2);
    assert!(t.reserved_ips().is_empty());
    assert_eq!(t.classify_ip(ip("74.220.27.5")).class(), IpClass::Public, "cannot say reserved");
    assert_eq!(
        civo_egress::Whitelist::of(t).unwrap().to_string(),
        "74.220.24.10/32\n74.220.24.77/32\n74.220.26.44/32\n",
        "the whitelist does not depend on the reserved IPs"
    );

    let fake = FakeCivo::account().await;
    fake.forbid("/v2/loadbalancers");
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    assert!(kinds(&discovery).contains(&(None, WarningKind::LoadBalancersUnknown)));
    let t = discovery.topology();
    assert_eq!(t.clusters().len(), 2);
    assert_eq!(t.classify_ip(ip("74.220.25.1")).class(), IpClass::Public, "cannot say load-balancer");
    assert_eq!(t.classify_ip(ip("192.168.10.2")).class(), IpClass::NodeNetwork);

    let fake = FakeCivo::account().await;
    fake.forbid("/v2/networks");
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    let found = kinds(&discovery);
    assert!(found.contains(&(None, WarningKind::NetworksUnknown)), "{found:?}");
    assert!(!found.iter().any(|(_, k)| *k == WarningKind::Network), "said once for the account: {found:?}");
    let t = discovery.topology();
    assert!(t.clusters().iter().all(|c| c.network_cidrs().is_empty()));
    assert_eq!(t.classify_ip(ip("192.168.10.9")).class(), IpClass::Private);
}

#[tokio::test]
async fn authentication_the_cluster_list_and_server_errors_still_fail() {
    let fake = FakeCivo::account().await;
    fake.fail_next("/v2/kubernetes/clusters/5e0c", Reply::json(401, fixture("civogo/error_401.json")));
    let error = client(&fake).discover(&Selection::all()).await.unwrap_err();
    assert!(matches!(error, CivoError::Unauthorized { .. }), "{error}");

    let fake = FakeCivo::account().await;
    fake.forbid("/v2/kubernetes/clusters");
    let error = client(&fake).discover(&Selection::all()).await.unwrap_err();
    assert!(matches!(error, CivoError::Forbidden { .. }), "nothing to discover without the clusters: {error}");

    let fake = FakeCivo::account().await;
    for _ in 0..4 {
        fake.fail_next("/v2/ips", Reply::text(503, "text/plain", "down"));
    }
    let error = client(&fake).discover(&Selection::all()).await.unwrap_err();
    assert!(matches!(error, CivoError::Status { status: 503, .. }), "a 5xx is no permission answer: {error}");
}

#[tokio::test]
async fn a_defaulted_region_with_no_cluster_says_so() {
    let fake = FakeCivo::start(Account::empty(), 20).await;
    let defaulted = CivoClient::builder().api_key(KEY).api_url(fake.url()).build().unwrap();
    assert!(defaulted.region_was_defaulted());
    let discovery = defaulted.discover(&Selection::all()).await.unwrap();
    assert!(discovery.topology().clusters().is_empty());
    assert_eq!(kinds(&discovery), [(None, WarningKind::RegionDefaulted)]);

    // Named anywhere (the builder, the selection, CIVO_REGION), the region
    // is a choice: an empty region is said, not blamed on the default.
    let empty = [(None, WarningKind::RegionEmpty)];
    let chosen = client(&fake).discover(&Selection::all()).await.unwrap();
    assert_eq!(kinds(&chosen), empty, "{:?}", chosen.warnings());
    assert!(chosen.warnings()[0].message().contains("LON1"), "{}", chosen.warnings()[0]);
    let selected = defaulted.discover(&Selection::all().region("LON1")).await.unwrap();
    assert_eq!(kinds(&selected), empty, "{:?}", selected.warnings());
    let url = fake.url();
    let env = CivoConfig::from_vars(|name| match name {
        "CIVO_TOKEN" => Some(KEY.to_owned()),
        "CIVO_REGION" => Some("LON1".to_owned()),
        "CIVO_API_URL" => Some(url.clone()),
        _ => None,
    })
    .unwrap();
    let from_env = CivoClient::builder().config(env).build().unwrap();
    assert!(!from_env.region_was_defaulted());
    assert_eq!(kinds(&from_env.discover(&Selection::all()).await.unwrap()), empty);

    // A defaulted region with clusters is no reason to warn.
    let fake = FakeCivo::account().await;
    let defaulted = CivoClient::builder().api_key(KEY).api_url(fake.url()).build().unwrap();
    let discovery = defaulted.discover(&Selection::all()).await.unwrap();
    assert!(!kinds(&discovery).iter().any(|(_, k)| *k == WarningKind::RegionDefaulted));
}

#[test]
fn civo_region_comes_after_the_caller_and_before_the_cli_config() {
    let dir = std::env::temp_dir().join(format!("civo-egress-region-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(".civo.json"),
        r#"{"apikeys": {"work": "file-key"}, "meta": {"current_apikey": "work", "default_region": "FRA1"}}"#,
    )
    .unwrap();
    let home = dir.to_str().unwrap().to_owned();
    let config = |region: Option<&str>| {
        let home = home.clone();
        let region = region.map(str::to_owned);
        CivoConfig::from_vars(move |name| match name {
            "HOME" => Some(home.clone()),
            "CIVO_REGION" => region.clone(),
            _ => None,
        })
        .unwrap()
    };
    assert_eq!(config(Some("NYC1")).region(), Some("NYC1"), "CIVO_REGION beats default_region");
    assert_eq!(config(Some("  ")).region(), Some("FRA1"), "a blank CIVO_REGION is unset");
    assert_eq!(config(None).region(), Some("FRA1"));
    let build = |builder: civo_egress::civo::CivoClientBuilder| builder.api_key(KEY).build().unwrap();
    let from_env = build(CivoClient::builder().config(config(Some("NYC1"))));
    assert_eq!((from_env.region(), from_env.region_was_defaulted()), ("NYC1", false));
    let explicit = build(CivoClient::builder().region("PHX1").config(config(Some("NYC1"))));
    assert_eq!(explicit.region(), "PHX1", "the caller's region beats CIVO_REGION");
    let later = build(CivoClient::builder().config(config(Some("NYC1"))).region("PHX1"));
    assert_eq!(later.region(), "PHX1");
    let file = build(CivoClient::builder().config(config(None)));
    assert_eq!((file.region(), file.region_was_defaulted()), ("FRA1", false));
    let none = CivoConfig::from_vars(|_| None).unwrap();
    assert_eq!(none.region(), None);
    let defaulted = build(CivoClient::builder().config(none));
    assert_eq!((defaulted.region(), defaulted.region_was_defaulted()), (civo_egress::civo::DEFAULT_REGION, true));
}

#[tokio::test]
async fn the_region_from_civo_region_reaches_every_request() {
    let fake = FakeCivo::start_in(Account::fixture(), 1, "FRA1").await;
    let url = fake.url();
    let env = CivoConfig::from_vars(|name| match name {
        "CIVO_TOKEN" => Some(KEY.to_owned()),
        "CIVO_REGION" => Some("FRA1".to_owned()),
        "CIVO_API_URL" => Some(url.clone()),
        _ => None,
    })
    .unwrap();
    let client = CivoClient::builder().config(env).build().unwrap();
    let discovery = client.discover(&Selection::all()).await.unwrap();
    assert_eq!(discovery.topology().clusters().len(), 2);
    assert!(fake.requests().iter().all(|r| r.contains("region=FRA1")), "{:?}", fake.requests());
    // The selection's region beats the client's.
    let error = client.discover(&Selection::all().region("LON1")).await.unwrap_err();
    assert!(matches!(&error, CivoError::Api { status: 400, code, .. } if code == "region_not_found"), "{error}");
}

#[test]
fn warning_kinds_have_stable_names() {
    let names = [
        (WarningKind::NotActive, "not-active"),
        (WarningKind::NotReady, "not-ready"),
        (WarningKind::NoEgressIp, "no-egress-ip"),
        (WarningKind::GatewayMissing, "gateway-missing"),
        (WarningKind::Legacy, "legacy"),
        (WarningKind::EgressUnmeasured, "egress-unmeasured"),
        (WarningKind::Talos, "talos"),
        (WarningKind::PublicIpNodePool, "public-ip-node-pool"),
        (WarningKind::PublicIpPending, "public-ip-pending"),
        (WarningKind::UnflaggedPublicIp, "unflagged-public-ip"),
        (WarningKind::ClusterGone, "cluster-gone"),
        (WarningKind::ReservedIpsUnknown, "reserved-ips-unknown"),
        (WarningKind::LoadBalancersUnknown, "load-balancers-unknown"),
        (WarningKind::NetworksUnknown, "networks-unknown"),
        (WarningKind::Network, "network"),
        (WarningKind::VlanConnected, "vlan-connected"),
        (WarningKind::Ipv6Unmeasured, "ipv6-unmeasured"),
        (WarningKind::RegionDefaulted, "region-defaulted"),
        (WarningKind::InvalidValue, "invalid-value"),
    ];
    for (kind, name) in names {
        assert_eq!(kind.as_str(), name);
        assert_eq!(kind.to_string(), name);
        assert_eq!(name.parse::<WarningKind>().unwrap(), kind);
        assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{name}\""));
        assert_eq!(serde_json::from_str::<WarningKind>(&format!("\"{name}\"")).unwrap(), kind);
    }
    let error = "pending".parse::<WarningKind>().unwrap_err();
    assert_eq!((error.what(), error.value()), ("warning kind", "pending"));
}

#[test]
fn the_new_fields_parse_leniently() {
    let cluster: ApiCluster = serde_json::from_str(
        r#"{"ready": null, "conditions": null, "required_pools": [{"id": "p", "count": "2", "public_ip_node_pool": "true"}]}"#,
    )
    .unwrap();
    assert_eq!(cluster.ready(), None);
    assert!(cluster.conditions().is_empty());
    assert!(cluster.required_pools()[0].public_ip_node_pool());
    let cluster: ApiCluster = serde_json::from_str(
        r#"{"ready": false, "conditions": [{"type": "WorkerNodesReady", "status": false, "reason": null}]}"#,
    )
    .unwrap();
    assert_eq!(cluster.ready(), Some(false));
    assert!(!cluster.conditions()[0].is_true());
    assert_eq!(cluster.conditions()[0].kind(), "WorkerNodesReady");
    for (vlan, connected) in [
        ("120", true),
        ("\"vlan-7\"", true),
        ("{\"id\": 7}", true),
        ("0", false),
        ("\"\"", false),
        ("null", false),
        ("\"0\"", false),
    ] {
        let network: Vec<ApiNetwork> = serde_json::from_str(&format!(r#"[{{"id": "n", "vlan_id": {vlan}}}]"#)).unwrap();
        assert_eq!(network[0].is_vlan_connected(), connected, "{vlan}");
    }
    let instance: ApiInstance = serde_json::from_str(r#"{"hostname": "n1", "ipv6": null}"#).unwrap();
    assert_eq!(instance.ipv6(), "");
}
