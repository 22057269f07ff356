//! `/metrics`, `/healthz` and `/readyz`, served by axum (hyper underneath:
//! no HTTP parsing of ours).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use civo_egress::watch::{CONTENT_TYPE, Metrics, StateReceiver};

/// What the endpoints read.
pub struct Served {
    pub metrics: Metrics,
    pub state: StateReceiver,
    /// `/readyz` passes while a refresh succeeded within this long.
    pub ready_within: Duration,
}

/// The three endpoints.
pub fn router(served: Served) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(Arc::new(served))
}

async fn metrics(State(served): State<Arc<Served>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], served.metrics.render())
}

/// Alive: the server answers (the watch runs in the same process).
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready: a refresh succeeded recently enough.
async fn readyz(State(served): State<Arc<Served>>) -> (StatusCode, String) {
    let state = served.state.latest();
    // A clock stepped back makes the last success look recent, not absent.
    let age = state.refresh().last_success().map(|t| SystemTime::now().duration_since(t).unwrap_or_default());
    match age {
        Some(age) if age <= served.ready_within => (StatusCode::OK, "ready\n".to_owned()),
        Some(age) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: the last successful refresh was {} s ago\n", age.as_secs()),
        ),
        None => (StatusCode::SERVICE_UNAVAILABLE, "not ready: no refresh has succeeded yet\n".to_owned()),
    }
}
