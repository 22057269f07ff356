//! Any bytes as every Civo API body: parsed or refused, never a panic.
#![no_main]

use civo_egress::civo::api::{
    ApiCluster, ApiCondition, ApiInstance, ApiLoadBalancer, ApiNetwork, ApiPool, ApiRegion, ApiReservedIp,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<ApiCluster>(data);
    let _ = serde_json::from_slice::<Vec<ApiCluster>>(data);
    let _ = serde_json::from_slice::<ApiPool>(data);
    let _ = serde_json::from_slice::<Vec<ApiCondition>>(data);
    if let Ok(networks) = serde_json::from_slice::<Vec<ApiNetwork>>(data) {
        let _ = networks.iter().map(ApiNetwork::is_vlan_connected).count();
    }
    let _ = serde_json::from_slice::<Vec<ApiInstance>>(data);
    let _ = serde_json::from_slice::<Vec<ApiLoadBalancer>>(data);
    let _ = serde_json::from_slice::<Vec<ApiReservedIp>>(data);
    let _ = serde_json::from_slice::<Vec<ApiNetwork>>(data);
    let _ = serde_json::from_slice::<Vec<ApiRegion>>(data);
});
