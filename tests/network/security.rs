//! Nothing leaks the API key: not Debug, not Display, not an error, not the
//! CLI, even when a hostile server echoes the key back in its answers.

#![cfg(feature = "civo-api")]

use crate::common;

use std::time::Duration;

use civo_egress::civo::{ApiKey, CivoClient, CivoConfig, CivoError};
use common::server::{Reply, serve};

const KEY: &str = "sekrit-key-0123456789abcdef";

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(KEY), "{what} leaks the key: {text}");
}

/// A server that puts the bearer key it receives into every answer.
async fn echoing(status: u16, template: &'static str) -> String {
    let addr = serve(move |request| {
        let key = request.header("authorization").and_then(|h| h.split_once(' ')).map_or("", |(_, k)| k).to_owned();
        let body = template.replace("KEY", &key);
        match status {
            0 => Reply::Silence,
            _ => Reply::json(status, body),
        }
    })
    .await;
    format!("http://{addr}")
}

#[tokio::test]
async fn a_hostile_server_cannot_make_an_error_show_the_key() {
    let cases: [(u16, &str); 7] = [
        (401, r#"{"result": "bad key KEY"}"#),
        (403, r#"{"code": "forbidden", "reason": "KEY may not"}"#),
        (409, r#"{"code": "KEY", "reason": "KEY again"}"#),
        (418, "teapot KEY"),
        (500, r#"{"code": "boom", "reason": "KEY"}"#),
        (200, r#"[{"id": "KEY", "default": "KEY"}]"#),
        (200, r#"{"KEY": "#),
    ];
    for (status, template) in cases {
        let url = echoing(status, template).await;
        let client = CivoClient::builder().api_key(KEY).api_url(url).max_retries(0).build().unwrap();
        let error = client.networks().await.unwrap_err();
        for text in [error.to_string(), format!("{error:?}"), format!("{error:#?}")] {
            assert_clean(&format!("HTTP {status} {template}"), &text);
        }
        // Nor anywhere in the chain of causes.
        let mut link = std::error::Error::source(&error);
        while let Some(cause) = link {
            assert_clean(&format!("HTTP {status} {template} cause"), &format!("{cause} {cause:?}"));
            link = cause.source();
        }
        if status == 418 {
            assert!(error.to_string().contains("teapot ***"), "{error}");
        }
    }
}

#[tokio::test]
async fn timeouts_and_connection_errors_do_not_show_the_key() {
    let url = echoing(0, "").await;
    let client = CivoClient::builder().api_key(KEY).api_url(url).deadline(Duration::from_millis(300)).build().unwrap();
    let error = client.networks().await.unwrap_err();
    assert!(error.is_timeout());
    assert_clean("timeout", &format!("{error} {error:?}"));
    let closed = CivoClient::builder().api_key(KEY).api_url("http://127.0.0.1:1").build().unwrap();
    let error = closed.networks().await.unwrap_err();
    assert_clean("connect", &format!("{error} {error:?}"));
}

#[test]
fn debug_and_display_of_every_holder_of_the_key() {
    let key = ApiKey::new(KEY);
    assert_clean("ApiKey Debug", &format!("{key:?}"));
    assert_clean("ApiKey Display", &format!("{key}"));
    let builder = CivoClient::builder().api_key(KEY);
    assert_clean("builder", &format!("{builder:?} {builder:#?}"));
    let client = builder.build().unwrap();
    assert_clean("client", &format!("{client:?} {client:#?}"));
    let config = CivoConfig::from_vars(|name| (name == "CIVO_TOKEN").then(|| KEY.to_owned())).unwrap();
    assert_clean("config", &format!("{config:?} {config:#?}"));
    let invalid = CivoClient::builder().api_key(KEY).api_url("http://x").build().unwrap_err();
    assert!(matches!(invalid, CivoError::InvalidUrl { .. }), "{invalid}");
    for error in [CivoError::MissingApiKey, invalid] {
        assert_clean("error", &format!("{error} {error:?}"));
    }
}

#[test]
fn plain_http_to_a_remote_host_is_refused_for_keys_and_answers() {
    for url in ["http://api.civo.com", "http://10.0.0.1:8080", "http://[2001:db8::1]/"] {
        assert!(
            matches!(CivoClient::builder().api_key(KEY).api_url(url).build(), Err(CivoError::InvalidUrl { .. })),
            "{url}"
        );
    }
    #[cfg(feature = "http-probe")]
    for url in ["http://ifconfig.me/ip", "http://10.0.0.1/"] {
        assert!(civo_egress::resolve::HttpEchoSource::new(url).is_err(), "{url}");
    }
}
