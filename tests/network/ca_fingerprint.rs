//! Rule 3 of issue 19's building blocks: a cluster's CA fingerprint, as
//! discovery records it from the kubeconfig the Civo API sends (never
//! keeping that kubeconfig, which holds admin credentials), as a kubeconfig
//! file states it, and what `prove` makes of a pod's service-account CA
//! against it.

use crate::common;
use crate::common::temp::TempDir;

use civo_egress::civo::{CivoClient, Selection};
use civo_egress::kubeconfig::Kubeconfig;
use civo_egress::resolve::{Vantage, VantageProof, prove};
use civo_egress::{CaFingerprint, Topology};
use common::civo_api::{Account, CLIENT_KEY_DATA, CLUSTER_CAS, FakeCivo, KEY, base64, kubeconfig};
use serde_json::{Value, json};

const PROD: &str = "5e0c6a3e-2d4f-4b8a-9a59-0c1f3f0e7a11";
const STAGING: &str = "9b1d7c42-6a0e-4f3b-8d2c-3e5f7a9b1c2d";

fn client(fake: &FakeCivo) -> CivoClient {
    CivoClient::builder().api_key(KEY).api_url(fake.url()).region("LON1").build().unwrap()
}

fn fingerprint(i: usize) -> CaFingerprint {
    CLUSTER_CAS[i].1.parse().unwrap()
}

/// Neither the kubeconfig nor its client key shows in `text`.
fn assert_no_kubeconfig(text: &str) {
    assert!(!text.contains(CLIENT_KEY_DATA), "the client key leaked: {text}");
    assert!(!text.contains("kubeconfig"), "the kubeconfig leaked: {text}");
    assert!(!text.contains(&base64(CLUSTER_CAS[0].0.as_bytes())[..40]), "the CA data was kept: {text}");
}

#[tokio::test]
async fn discover_records_each_clusters_ca_fingerprint_and_drops_the_kubeconfig() {
    let fake = FakeCivo::start(Account::fixture().with_kubeconfigs(), 1).await;
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    let topology = discovery.topology();
    assert_eq!(topology.select(PROD).unwrap().ca_fingerprint(), Some(fingerprint(0)));
    assert_eq!(topology.select(STAGING).unwrap().ca_fingerprint(), Some(fingerprint(1)));
    let json = topology.to_json();
    let snapshot: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(snapshot["clusters"][0]["ca_fingerprint"], CLUSTER_CAS[0].1);
    assert_eq!(snapshot["clusters"][1]["ca_fingerprint"], CLUSTER_CAS[1].1);
    assert_eq!(&Topology::from_json(&json).unwrap(), topology, "the snapshot reads back");
    assert_no_kubeconfig(&json);
    assert_no_kubeconfig(&format!("{discovery:?}"));
    assert_no_kubeconfig(&format!("{discovery:#?}"));
    for warning in discovery.warnings() {
        assert_no_kubeconfig(&warning.to_string());
    }
    // The raw model keeps the fingerprint only.
    let api = client(&fake).find_cluster("prod").await.unwrap();
    assert_eq!(api.ca_fingerprint(), Some(fingerprint(0)));
    assert_no_kubeconfig(&format!("{api:?}"));
}

#[tokio::test]
async fn a_pod_of_the_cluster_is_proven_and_one_of_another_cluster_is_not() {
    let fake = FakeCivo::start(Account::fixture().with_kubeconfigs(), 1).await;
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    let prod = discovery.topology().select(PROD).unwrap();
    let cas: Vec<CaFingerprint> = prod.ca_fingerprint().into_iter().collect();
    // A pod of prod: its service-account ca.crt is prod's CA.
    assert_eq!(prove(Vantage::Pod, Some(CLUSTER_CAS[0].0), &cas), VantageProof::Proven);
    // A CI runner's pod in staging, asked about prod: never a pod of prod.
    let runner = prove(Vantage::Pod, Some(CLUSTER_CAS[1].0), &cas);
    assert_eq!(runner, VantageProof::OtherCluster);
    assert_eq!(runner.vantage(), Vantage::Host);
    assert!(runner.warning().unwrap().message().contains("--vantage pod"));
    // An old snapshot, without fingerprints: a pod, unproven.
    assert_eq!(prove(Vantage::Pod, Some(CLUSTER_CAS[0].0), &[]), VantageProof::Unproven);
}

#[tokio::test]
async fn a_kubeconfig_without_a_usable_ca_is_no_fingerprint_and_no_failure() {
    // The fixtures' own kubeconfigs hold a truncated CA ("-----BEGIN").
    let fake = FakeCivo::account().await;
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    assert!(discovery.topology().clusters().iter().all(|c| c.ca_fingerprint().is_none()));
    assert!(!discovery.topology().to_json().contains("ca_fingerprint"), "absent, not null");
    assert_eq!(discovery.warnings().len(), 1, "no warning for it: {:?}", discovery.warnings());

    let bad_ca = kubeconfig(
        "prod",
        "74.220.24.10",
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
    );
    let garbage = [
        Value::Null,
        json!(""),
        json!(42),
        json!({"clusters": []}),
        json!(["a"]),
        json!("YAML_VERSION_OF_KUBECONFIG_HERE\n"),
        json!("certificate-authority-data: !!!"),
        Value::String(bad_ca),
    ];
    for value in garbage {
        let mut account = Account::fixture();
        for cluster in &mut account.clusters {
            cluster["kubeconfig"] = value.clone();
        }
        account.clusters[1].as_object_mut().unwrap().remove("kubeconfig");
        let fake = FakeCivo::start(account, 1).await;
        let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
        let topology = discovery.topology();
        assert_eq!(topology.clusters().len(), 2, "{value}");
        assert!(topology.clusters().iter().all(|c| c.ca_fingerprint().is_none()), "{value}");
        assert_no_kubeconfig(&topology.to_json());
    }
}

/// A kubeconfig whose cluster `prod` names its CA by `ca_line` (indented
/// under `cluster:`), or none.
fn with_ca(ca_line: &str) -> String {
    format!(
        "clusters:\n- name: prod\n  cluster:\n    server: https://74.220.24.10:6443\n{ca_line}contexts:\n- name: prod\n  context:\n    cluster: prod\n    user: prod\ncurrent-context: prod\n"
    )
}

#[test]
fn a_kubeconfig_states_its_cluster_ca_by_data_or_by_file() {
    let civo = Kubeconfig::from_yaml(&kubeconfig("prod", "74.220.24.10", CLUSTER_CAS[0].0)).unwrap();
    assert_eq!(civo.ca_fingerprints(None).unwrap(), [fingerprint(0)]);
    assert_eq!(civo.ca_fingerprints(Some("prod")).unwrap(), [fingerprint(0)]);
    let bundle = base64(format!("{}{}", CLUSTER_CAS[1].0, CLUSTER_CAS[0].0).as_bytes());
    let both = Kubeconfig::from_yaml(&with_ca(&format!("    certificate-authority-data: {bundle}\n"))).unwrap();
    assert_eq!(both.ca_fingerprints(None).unwrap(), [fingerprint(1), fingerprint(0)]);
    let none = Kubeconfig::from_yaml(&with_ca("")).unwrap();
    assert_eq!(none.ca_fingerprints(None).unwrap(), [], "no CA: the system's roots");

    let dir = TempDir::new("ca", "file");
    dir.write("ca.crt", CLUSTER_CAS[1].0);
    // A relative file is relative to the kubeconfig that names it.
    let relative = dir.write("relative.yaml", &with_ca("    certificate-authority: ca.crt\n"));
    assert_eq!(Kubeconfig::load(&[&relative]).unwrap().ca_fingerprints(None).unwrap(), [fingerprint(1)]);
    let absolute = dir.path().join("ca.crt").display().to_string();
    let absolute = dir.write("absolute.yaml", &with_ca(&format!("    certificate-authority: {absolute}\n")));
    assert_eq!(Kubeconfig::load(&[&absolute]).unwrap().ca_fingerprints(None).unwrap(), [fingerprint(1)]);
    // The data wins over the file, as for kubectl.
    let data = base64(CLUSTER_CAS[0].0.as_bytes());
    let data_and_file = dir.write(
        "both.yaml",
        &with_ca(&format!("    certificate-authority: ca.crt\n    certificate-authority-data: {data}\n")),
    );
    assert_eq!(Kubeconfig::load(&[&data_and_file]).unwrap().ca_fingerprints(None).unwrap(), [fingerprint(0)]);
    // Merged as kubectl merges: the first file to define the cluster wins.
    let merged = Kubeconfig::load(&[&data_and_file, &relative]).unwrap();
    assert_eq!(merged.ca_fingerprints(None).unwrap(), [fingerprint(0)]);
    let merged = Kubeconfig::load(&[&relative, &data_and_file]).unwrap();
    assert_eq!(merged.ca_fingerprints(None).unwrap(), [fingerprint(1)]);
}

#[test]
fn an_unusable_ca_is_an_error_that_says_which_and_never_quotes_it() {
    let dir = TempDir::new("ca", "errors");
    let missing = dir.write("missing.yaml", &with_ca("    certificate-authority: nowhere/ca.crt\n"));
    let error = Kubeconfig::load(&[&missing]).unwrap().ca_fingerprints(None).unwrap_err();
    assert!(error.is_io() && !error.is_invalid(), "{error:?}");
    assert!(error.to_string().starts_with("cluster \"prod\": cannot read its certificate-authority file "), "{error}");
    assert!(error.to_string().ends_with("nowhere/ca.crt: no such file"), "{error}");
    assert!(std::error::Error::source(&error).is_some());

    let directory = dir.write("dir.yaml", &with_ca(&format!("    certificate-authority: {}\n", dir.path().display())));
    let error = Kubeconfig::load(&[&directory]).unwrap().ca_fingerprints(None).unwrap_err();
    assert!(error.is_io(), "a directory is no CA file: {error}");

    dir.write("key.pem", "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEICSecretKeyMaterial\n-----END EC PRIVATE KEY-----\n");
    let not_a_cert = dir.write("key.yaml", &with_ca("    certificate-authority: key.pem\n"));
    let error = Kubeconfig::load(&[&not_a_cert]).unwrap().ca_fingerprints(None).unwrap_err();
    assert!(error.is_invalid() && !error.is_io(), "{error:?}");
    assert!(error.to_string().ends_with("key.pem: invalid PEM certificate bundle: no CERTIFICATE block"), "{error}");

    let secret_looking = "c2VjcmV0LXRva2VuLTEyMzQ1Njc4OTA=";
    let bad_data = Kubeconfig::from_yaml(&with_ca(&format!("    certificate-authority-data: {secret_looking}\n")))
        .unwrap()
        .ca_fingerprints(None)
        .unwrap_err();
    assert!(bad_data.is_invalid(), "{bad_data:?}");
    assert_eq!(
        bad_data.to_string(),
        "cluster \"prod\": its certificate authority is not usable: certificate-authority-data: invalid PEM certificate bundle: no CERTIFICATE block"
    );
    for text in [bad_data.to_string(), format!("{bad_data:?}"), format!("{bad_data:#?}")] {
        assert!(!text.contains(secret_looking) && !text.contains("secret-token"), "{text}");
    }

    let config = Kubeconfig::from_yaml(&with_ca("")).unwrap();
    assert!(config.ca_fingerprints(Some("staging")).unwrap_err().is_not_found());
    assert!(Kubeconfig::default().ca_fingerprints(None).unwrap_err().is_not_found());
    let orphan = "contexts:\n- name: prod\n  context:\n    cluster: gone\ncurrent-context: prod\n";
    assert!(Kubeconfig::from_yaml(orphan).unwrap().ca_fingerprints(None).unwrap_err().is_not_found());
}
