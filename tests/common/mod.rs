//! What the integration tests share: loopback servers of our own.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod admission;
pub mod civo_api;
pub mod dns;
pub mod kube_api;
pub mod server;
pub mod temp;
