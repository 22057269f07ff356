//! Discovery records every public-IP node pool on its cluster, with how many
//! of its nodes have no public IP yet (issue 11).

#![cfg(feature = "civo-api")]

use crate::common;

use civo_egress::WarningKind;
use civo_egress::civo::{CivoClient, Selection};
use civo_egress::{TALOS_POD_CIDR, TALOS_SERVICE_CIDR, Topology};
use common::civo_api::{Account, FakeCivo, KEY};

fn client(fake: &FakeCivo) -> CivoClient {
    CivoClient::builder().api_key(KEY).api_url(fake.url()).region("LON1").build().unwrap()
}

fn pools(topology: &Topology, cluster: &str) -> Vec<(String, u32)> {
    let cluster = topology.cluster(cluster).unwrap();
    cluster.public_ip_pools().iter().map(|p| (p.id().to_owned(), p.pending())).collect()
}

#[tokio::test]
async fn every_flagged_pool_is_recorded_pending_zero_too() {
    let fake = FakeCivo::account().await;
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    let t = discovery.topology();
    assert_eq!(pools(t, "prod"), [("e7b2d4f6-1a3c-4e5b-8d7f-9a0b1c2d3e4f".to_owned(), 0)]);
    assert_eq!(t.cluster("prod").unwrap().pending_public_nodes(), 0);
    assert!(pools(t, "staging").is_empty(), "an unflagged pool is not recorded");
    // The snapshot carries it, and reads back equal.
    assert_eq!(&Topology::from_json(&t.to_json()).unwrap(), t);
}

#[tokio::test]
async fn a_building_node_and_a_pool_scaling_up_are_pending_not_folded_under_master_ip() {
    let fake = FakeCivo::start(Account::cases(), 20).await;
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    let t = discovery.topology();
    // pub02 is BUILDING with no IP, and count 3 asks for one node more than
    // the pool has: 2 pending.
    assert_eq!(pools(t, "edge"), [("9f8e7d6c-2222-4b5a-9c8d-000000000002".to_owned(), 2)]);
    assert_eq!(t.cluster("edge").unwrap().pending_public_nodes(), 2);
    assert!(discovery.warnings().iter().any(|w| w.kind() == WarningKind::PublicIpPending));
    for name in ["talos", "vlan", "v6", "moved", "scaling", "handmade"] {
        assert!(pools(t, name).is_empty(), "{name}");
    }
    let talos = t.cluster("talos").unwrap();
    assert_eq!((talos.pod_cidrs(), talos.service_cidrs()), (&[TALOS_POD_CIDR][..], &[TALOS_SERVICE_CIDR][..]));
}

#[tokio::test]
async fn a_pool_scaling_up_with_every_node_active_is_pending() {
    let mut account = Account::fixture();
    account.clusters[0]["pools"][1]["count"] = 2.into();
    let fake = FakeCivo::start(account, 1).await;
    let t = client(&fake).discover(&Selection::all()).await.unwrap().into_parts().0;
    assert_eq!(pools(&t, "prod"), [("e7b2d4f6-1a3c-4e5b-8d7f-9a0b1c2d3e4f".to_owned(), 1)]);
}
