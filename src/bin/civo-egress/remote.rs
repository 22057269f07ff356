//! The commands that ask the network: `discover` and `resolve`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use civo_egress::AddressPolicy;
use civo_egress::civo::{CivoClient, CivoClientBuilder, CivoConfig, Selection};
use civo_egress::kubeconfig::{Kubeconfig, KubeconfigError};
use civo_egress::resolve::{
    CivoSource, DnsEchoSource, DnsEchoStyle, EgressReport, EgressResolver, EgressResolverBuilder, HttpEchoSource,
    KubeconfigSource, StaticSource, TopologySource, Vantage,
};

use crate::Format;
use crate::expected::{Expected, ExpectedArgs};
use crate::failure::{Failure, INTERRUPTED, civo, runtime, usage, verdict};
use crate::out::{print_json, progress_wanted};

/// The Civo API flags of `discover`, `resolve` and `probe`.
#[derive(Debug, clap::Args)]
pub struct CivoArgs {
    /// The Civo region code. Default: CIVO_REGION, else the Civo CLI config's default_region, else LON1.
    #[arg(long, value_name = "CODE")]
    pub region: Option<String>,
    /// The Civo API URL. Default: CIVO_API_URL, else the Civo CLI config's meta.url, else https://api.civo.com
    /// (plain http:// only to a loopback address).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
}

impl CivoArgs {
    /// Whether either flag was given.
    pub fn given(&self) -> bool {
        self.region.is_some() || self.api_url.is_some()
    }

    /// A client builder with the flags, the deadline and the environment's
    /// key (CIVO_TOKEN, else the Civo CLI config).
    pub fn client(&self, deadline: Duration) -> Result<CivoClient, Failure> {
        let mut builder: CivoClientBuilder =
            CivoClient::builder().deadline(deadline).request_timeout(deadline.min(Duration::from_secs(10)));
        if let Some(url) = &self.api_url {
            builder = builder.api_url(url.clone());
        }
        if let Some(region) = &self.region {
            builder = builder.region(region.clone());
        }
        builder.config(CivoConfig::from_env().map_err(civo)?).build().map_err(civo)
    }
}

/// A deadline from `--timeout SECS` (clap refuses 0 and more than a day).
pub const fn deadline(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

/// Which part of a Civo account: `discover`'s and `watch`'s.
#[derive(Debug, clap::Args)]
pub struct AccountArgs {
    /// Only this cluster, by name, id or REGION/NAME (repeatable; default: every cluster of the
    /// regions).
    #[arg(long = "cluster", value_name = "NAME_OR_ID")]
    pub clusters: Vec<String>,
    /// A Civo region code (repeatable, for several regions at once). Default: CIVO_REGION, else the
    /// Civo CLI config's default_region, else LON1.
    #[arg(long = "region", value_name = "CODE")]
    pub regions: Vec<String>,
    /// Every region whose features include Kubernetes (asked of the Civo API).
    #[arg(long, conflicts_with = "regions")]
    pub all_regions: bool,
    /// The Civo API URL. Default: CIVO_API_URL, else the Civo CLI config's meta.url, else https://api.civo.com
    /// (plain http:// only to a loopback address).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
}

impl AccountArgs {
    /// The client: the first region's, the deadline, the environment's key.
    pub fn client(&self, deadline: Duration) -> Result<CivoClient, Failure> {
        CivoArgs { region: self.regions.first().cloned(), api_url: self.api_url.clone() }.client(deadline)
    }

    /// The part of the account named.
    pub fn selection(&self) -> Selection {
        let selection = if self.all_regions { Selection::all_regions() } else { Selection::all() };
        let selection = self.regions.iter().cloned().fold(selection, Selection::region);
        self.clusters.iter().cloned().fold(selection, Selection::cluster)
    }
}

/// `discover`'s arguments.
#[derive(Debug, clap::Args)]
pub struct DiscoverArgs {
    #[command(flatten)]
    account: AccountArgs,
    /// Overall deadline in seconds, 1 to 86400 (exit 3 when it passes).
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    timeout: u64,
}

/// `discover`: the snapshot JSON on stdout. A cluster named with
/// `--cluster` that matched but was left out is a runtime failure (exit 3)
/// with the reason.
pub fn discover(args: DiscoverArgs) -> Result<ExitCode, Failure> {
    let client = args.account.client(deadline(args.timeout))?;
    let selection = args.account.selection();
    let args = args.account;
    let progress = progress_wanted();
    let started = Instant::now();
    if progress {
        let what = if args.clusters.is_empty() { "every cluster".to_owned() } else { args.clusters.join(", ") };
        let regions = if args.all_regions {
            "every region offering Kubernetes".to_owned()
        } else if args.regions.len() > 1 {
            format!("regions {}", args.regions.join(", "))
        } else {
            format!("region {}", client.region())
        };
        note!("discovering {what} in {regions}: clusters, instances, networks, load balancers, reserved IPs...");
    }
    let discovery = runtime()?.block_on(client.discover(&selection)).map_err(civo)?;
    if progress {
        let topology = discovery.topology();
        note!(
            "discovered {} cluster(s), {} reserved IP(s) in {:.1} s",
            topology.clusters().len(),
            topology.reserved_ips().len(),
            started.elapsed().as_secs_f64()
        );
    }
    for warning in discovery.warnings() {
        note!("warning: {warning}");
    }
    if let Some((query, left)) = discovery.unmet().first() {
        return Err(Failure::Runtime(format!(
            "cluster {query:?} ({}) was left out of the snapshot ({}): {}",
            left.label(),
            left.kind(),
            left.reason()
        )));
    }
    say!("{}", discovery.topology().to_json());
    Ok(ExitCode::SUCCESS)
}

/// `resolve`'s arguments.
#[derive(Debug, clap::Args)]
pub struct ResolveArgs {
    #[command(flatten)]
    expected: ExpectedArgs,
    /// An HTTP echo service URL (repeatable); replaces the default public services.
    #[arg(long = "echo-url", value_name = "URL")]
    echo_urls: Vec<String>,
    /// A DNS echo server (repeatable); replaces the default public services.
    #[arg(long = "dns-server", value_name = "IP:PORT")]
    dns_servers: Vec<String>,
    /// How many observers must agree.
    #[arg(long, value_name = "N", default_value_t = 2)]
    quorum: usize,
    /// Ask no echo service: report what is expected only (status `expected`, exit 0).
    #[arg(long, conflicts_with = "accept_expected")]
    no_observe: bool,
    /// Inside the cluster, pass with the expected answer when the echo services verified nothing (every
    /// one hung, failed or was rejected, or too few agreed). Default: that is a failure (exit 1).
    #[arg(long)]
    accept_expected: bool,
    /// Where the echo services are asked from: `pod` (inside the cluster: they see its egress) or
    /// `host` (they see this host's IP, never the cluster's). Default: a pod of this cluster when the
    /// service-account CA is the cluster's (recorded by discover, or the kubeconfig's), else a host.
    #[arg(long, value_name = "pod|host")]
    vantage: Option<Vantage>,
    /// Overall deadline in seconds (1 to 86400).
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    timeout: u64,
    /// Output format: `text` or `json`.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// `resolve`: exit 1 unless the verdict passes (confirmed, expected,
/// observed).
pub fn resolve(args: ResolveArgs) -> Result<ExitCode, Failure> {
    let deadline = deadline(args.timeout);
    let addresses = args.expected.addresses();
    let mut resolver = EgressResolver::builder()
        .quorum(args.quorum)
        .deadline(deadline)
        .source_timeout(deadline.min(Duration::from_secs(3)))
        .addresses(addresses)
        .accept_expected(args.accept_expected);
    let mut name = None;
    match args.expected.choose(deadline)? {
        Expected::Snapshot(cluster) => {
            resolver = resolver.source(TopologySource::of(&cluster));
            name = Some(cluster.name().to_owned());
        }
        Expected::Civo { client, cluster } => {
            resolver = resolver.source(CivoSource::new(*client, cluster.clone()));
            name = Some(cluster);
        }
        Expected::Nothing => {}
    }
    let explicit_kubeconfig = args.expected.kubeconfig.is_some() || args.expected.context.is_some();
    let loaded = match &args.expected.kubeconfig {
        Some(path) => Some(Kubeconfig::load(std::slice::from_ref(path))),
        None if explicit_kubeconfig || name.is_none() => Some(Kubeconfig::from_env()),
        None => None,
    };
    match loaded {
        Some(Ok(config)) => {
            let source = KubeconfigSource::new(&config, args.expected.context()).map_err(usage)?;
            name = name.or_else(|| Some(source.server().context().to_owned()));
            resolver = resolver.source(source);
        }
        Some(Err(KubeconfigError::NoFile)) if !explicit_kubeconfig => {}
        Some(Err(e)) => return Err(usage(e)),
        None => {}
    }
    if let Some(from_env) = StaticSource::from_env().map_err(usage)? {
        resolver = resolver.source(from_env);
    }
    if !args.no_observe {
        resolver = observers(resolver, &args.echo_urls, &args.dns_servers, addresses)?;
    }
    if let Some(name) = name {
        resolver = resolver.cluster(name);
    }
    if let Some(vantage) = args.vantage {
        resolver = resolver.vantage(vantage);
    }
    let resolver = resolver.build().map_err(usage)?;
    let runtime = runtime()?;
    let report = runtime.block_on(async {
        tokio::select! {
            report = resolver.resolve() => Some(report),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    // A blocking lookup a cancelled source left behind (the system
    // resolver's) must not hold the command past its deadline: dropping the
    // runtime would wait for it.
    runtime.shutdown_background();
    let Some(report) = report else {
        return Ok(ExitCode::from(INTERRUPTED));
    };
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Text => print_report(&report),
    }
    Ok(verdict(report.status()))
}

/// The echo services: the caller's, or the defaults when it names none.
fn observers(
    mut resolver: EgressResolverBuilder,
    echo_urls: &[String],
    dns_servers: &[String],
    addresses: AddressPolicy,
) -> Result<EgressResolverBuilder, Failure> {
    if echo_urls.is_empty() && dns_servers.is_empty() {
        return Ok(resolver.sources(HttpEchoSource::defaults()).sources(DnsEchoSource::defaults()));
    }
    for url in echo_urls {
        resolver = resolver.source(HttpEchoSource::builder(url).addresses(addresses).build().map_err(usage)?);
    }
    for server in dns_servers {
        let addr: SocketAddr =
            server.parse().map_err(|_| Failure::Usage(format!("--dns-server {server:?} is not IP:PORT")))?;
        resolver = resolver.source(DnsEchoSource::new(DnsEchoStyle::Either, addr));
    }
    Ok(resolver)
}

fn print_report(report: &EgressReport) {
    let list = |ips: &[std::net::IpAddr]| ips.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    let cluster = report.cluster().filter(|c| !c.is_empty()).unwrap_or("egress");
    say!("{cluster}: {} {}", report.status(), list(&report.egress_ips()));
    for family in report.families() {
        say!("  {}: {} {}", family.family(), family.status(), list(family.egress_ips()));
        if !family.unverified_ips().is_empty() {
            say!("    not verified by observation: {}", list(family.unverified_ips()));
        }
    }
    for row in report.evidence() {
        say!("  {row}");
    }
    for warning in report.warnings() {
        say!("warning: {warning}");
    }
}
