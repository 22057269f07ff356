//! Any bytes as every Civo API body: parsed or refused, never a panic.
#![no_main]

use civo_egress::civo::api::{ApiCluster, ApiInstance, ApiLoadBalancer, ApiNetwork, ApiPool, ApiRegion, ApiReservedIp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<ApiCluster>(data);
    let _ = serde_json::from_slice::<Vec<ApiCluster>>(data);
    let _ = serde_json::from_slice::<ApiPool>(data);
    let _ = serde_json::from_slice::<Vec<ApiInstance>>(data);
    let _ = serde_json::from_slice::<Vec<ApiLoadBalancer>>(data);
    let _ = serde_json::from_slice::<Vec<ApiReservedIp>>(data);
    let _ = serde_json::from_slice::<Vec<ApiNetwork>>(data);
    let _ = serde_json::from_slice::<Vec<ApiRegion>>(data);
});
