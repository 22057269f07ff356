//! Unit tests of the pieces that need no server.

use serde::Deserialize;

use super::client::pick_cluster;
use super::lenient;
use super::models::ApiCluster;
use super::{CivoClient, CivoError};

#[derive(Debug, Deserialize, PartialEq)]
struct Probe {
    #[serde(default, deserialize_with = "lenient::string")]
    s: String,
    #[serde(default, deserialize_with = "lenient::flag")]
    b: bool,
    #[serde(default, deserialize_with = "lenient::count")]
    n: u32,
    #[serde(default, deserialize_with = "lenient::list")]
    l: Vec<String>,
}

#[test]
fn lenient_fields_take_what_the_api_sends() {
    let probe: Probe = serde_json::from_str(r#"{"s": null, "b": "TRUE", "n": "7", "l": null}"#).unwrap();
    assert_eq!(probe, Probe { s: String::new(), b: true, n: 7, l: vec![] });
    let probe: Probe = serde_json::from_str(r#"{"s": 42, "b": 0, "n": null, "l": ["x"]}"#).unwrap();
    assert_eq!(probe, Probe { s: "42".into(), b: false, n: 0, l: vec!["x".into()] });
    let probe: Probe = serde_json::from_str(r#"{"b": "false", "unknown": {"deep": [1]}}"#).unwrap();
    assert!(!probe.b);
    assert!(serde_json::from_str::<Probe>(r#"{"b": "perhaps"}"#).is_err());
    assert!(serde_json::from_str::<Probe>(r#"{"n": -1}"#).is_err());
    assert!(serde_json::from_str::<Probe>(r#"{"n": 99999999999}"#).is_err());
}

fn cluster(id: &str, name: &str) -> ApiCluster {
    ApiCluster { id: id.into(), name: name.into(), ..ApiCluster::default() }
}

#[test]
fn clusters_are_found_with_the_cli_rules() {
    let all = [cluster("aaa-111", "prod"), cluster("bbb-222", "prod-eu"), cluster("ccc-333", "staging")];
    assert_eq!(pick_cluster(&all, "prod").unwrap().id, "aaa-111", "an exact name beats partial matches");
    assert_eq!(pick_cluster(&all, "PROD-EU").unwrap().id, "bbb-222", "names match without case");
    assert_eq!(pick_cluster(&all, "ccc-333").unwrap().name, "staging");
    assert_eq!(pick_cluster(&all, "stag").unwrap().name, "staging");
    assert_eq!(pick_cluster(&all, "222").unwrap().name, "prod-eu");
    assert!(
        matches!(pick_cluster(&all, "pro"), Err(CivoError::AmbiguousCluster { matches, .. }) if matches == ["prod", "prod-eu"])
    );
    assert!(matches!(pick_cluster(&all, "dev"), Err(CivoError::ClusterNotFound { .. })));
}

#[test]
fn debug_output_hides_the_key() {
    let builder = CivoClient::builder().api_key("sekrit-123");
    assert!(!format!("{builder:?}").contains("sekrit-123"));
    let client = builder.build().unwrap();
    let debug = format!("{client:?}");
    assert!(!debug.contains("sekrit-123") && debug.contains("***"), "{debug}");
}

#[test]
fn retry_waits_follow_the_headers_then_back_off() {
    use reqwest::header::{HeaderMap, HeaderValue};
    use std::time::Duration;
    let wait = |pairs: &[(&'static str, String)], retries| {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        super::client::retry_wait_for_tests(&headers, retries)
    };
    assert_eq!(wait(&[("retry-after", "7".into())], 0), Duration::from_secs(7));
    let in_ten = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(10));
    let dated = wait(&[("retry-after", in_ten)], 0);
    assert!(dated > Duration::from_secs(8) && dated <= Duration::from_secs(10), "{dated:?}");
    assert_eq!(wait(&[("retry-after", "3600".into())], 0), Duration::from_secs(60), "capped");
    assert_eq!(wait(&[], 0), Duration::from_millis(250));
    assert_eq!(wait(&[], 1), Duration::from_millis(500));
    assert_eq!(wait(&[], 3), Duration::from_secs(2));
    assert_eq!(wait(&[], 40), Duration::from_secs(4));
}

#[test]
fn region_codes_are_checked_before_any_request() {
    use super::client::check_region;
    for good in ["LON1", "fra1", " NYC1 ", "PHX1", "eu-west-1"] {
        assert_eq!(check_region(good).unwrap(), good.trim(), "{good}");
    }
    for bad in ["1LON", "LON 1", "LON1/prod", "lon1?x=1", "-", &"A".repeat(120_000)] {
        let error = check_region(bad).unwrap_err();
        assert!(matches!(error, CivoError::InvalidRegion { .. }) && error.is_config(), "{error}");
        assert!(error.to_string().len() < 200, "a long value is cut: {}", error.to_string().len());
    }
    assert!(CivoClient::builder().api_key("k").region("L O N").build().is_err());
}

#[derive(Debug, Deserialize, PartialEq)]
struct Presence {
    #[serde(default, deserialize_with = "lenient::opt_flag")]
    ready: Option<bool>,
    #[serde(default, deserialize_with = "lenient::presence")]
    vlan: String,
}

#[test]
fn optional_flags_and_presence_fields_take_what_the_api_sends() {
    let parse = |json: &str| serde_json::from_str::<Presence>(json).unwrap();
    assert_eq!(parse("{}"), Presence { ready: None, vlan: String::new() });
    assert_eq!(parse(r#"{"ready": null, "vlan": null}"#), Presence { ready: None, vlan: String::new() });
    assert_eq!(parse(r#"{"ready": "False", "vlan": 0}"#), Presence { ready: Some(false), vlan: String::new() });
    assert_eq!(parse(r#"{"ready": true, "vlan": 120}"#), Presence { ready: Some(true), vlan: "120".into() });
    assert_eq!(parse(r#"{"vlan": " v-7 "}"#).vlan, "v-7");
    assert_eq!(parse(r#"{"vlan": {"id": 7}}"#).vlan, r#"{"id":7}"#);
    assert_eq!(parse(r#"{"vlan": []}"#).vlan, "");
    assert!(serde_json::from_str::<Presence>(r#"{"ready": "perhaps"}"#).is_err());
}
