//! A DNS resolver that asks one server, directly.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::{Resolver, TokioResolver};

use super::evidence::SourceError;
use crate::cause::Cause;

/// A resolver that asks `server` alone: no system configuration, no hosts
/// file, no cache (the answer depends on who asks, now), a single try.
pub(crate) fn direct_resolver(server: SocketAddr, timeout: Duration) -> Result<TokioResolver, SourceError> {
    let mut udp = ConnectionConfig::udp();
    udp.port = server.port();
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = server.port();
    let config = ResolverConfig::from_name_servers(vec![NameServerConfig::new(server.ip(), true, vec![udp, tcp])]);
    let mut options = ResolverOpts::default();
    options.timeout = timeout;
    options.attempts = 0;
    options.cache_size = 0;
    options.use_hosts_file = ResolveHosts::Never;
    options.ndots = 0;
    Resolver::builder_with_config(config, TokioRuntimeProvider::default()).with_options(options).build().map_err(|e| {
        SourceError::config(format!("cannot build a DNS resolver for {server}: {e}")).with_cause(Cause::new(e))
    })
}
