//! The commands that ask the network: `discover` and `resolve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use civo_egress::civo::{CivoClient, CivoClientBuilder, CivoConfig, Selection};
use civo_egress::kubeconfig::{Kubeconfig, KubeconfigError};
use civo_egress::resolve::{
    CivoSource, DnsEchoSource, DnsEchoStyle, EgressReport, EgressResolver, EgressResolverBuilder, HttpEchoSource,
    KubeconfigSource, StaticSource, TopologySource, Vantage,
};
use civo_egress::{AddressPolicy, Validation};

use crate::Format;
use crate::failure::{FINDING, Failure, civo, runtime, usage};
use crate::out::{print_json, progress_wanted};
use crate::topology;

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

/// A deadline from `--timeout SECS`.
pub fn deadline(secs: u64) -> Duration {
    Duration::from_secs(secs.clamp(1, 86_400))
}

/// `discover`'s arguments.
#[derive(Debug, clap::Args)]
pub struct DiscoverArgs {
    /// Only this cluster, by name, id or REGION/NAME (repeatable; default: every cluster of the
    /// regions).
    #[arg(long = "cluster", value_name = "NAME_OR_ID")]
    clusters: Vec<String>,
    /// A Civo region code (repeatable, for several regions in one snapshot). Default: CIVO_REGION,
    /// else the Civo CLI config's default_region, else LON1.
    #[arg(long = "region", value_name = "CODE")]
    regions: Vec<String>,
    /// Every region whose features include Kubernetes (asked of the Civo API), in one snapshot.
    #[arg(long, conflicts_with = "regions")]
    all_regions: bool,
    /// The Civo API URL. Default: CIVO_API_URL, else the Civo CLI config's meta.url, else https://api.civo.com
    /// (plain http:// only to a loopback address).
    #[arg(long, value_name = "URL")]
    api_url: Option<String>,
    /// Overall deadline in seconds (exit 3 when it passes).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    timeout: u64,
}

/// `discover`: the snapshot JSON on stdout. A cluster named with
/// `--cluster` that matched but was left out is a runtime failure (exit 3)
/// with the reason.
pub fn discover(args: DiscoverArgs) -> Result<ExitCode, Failure> {
    let civo_args = CivoArgs { region: args.regions.first().cloned(), api_url: args.api_url.clone() };
    let client = civo_args.client(deadline(args.timeout))?;
    let selection = if args.all_regions { Selection::all_regions() } else { Selection::all() };
    let selection = args.regions.iter().cloned().fold(selection, Selection::region);
    let selection = args.clusters.iter().cloned().fold(selection, Selection::cluster);
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
        eprintln!("discovering {what} in {regions}: clusters, instances, networks, load balancers, reserved IPs...");
    }
    let discovery = runtime()?.block_on(client.discover(&selection)).map_err(civo)?;
    if progress {
        let topology = discovery.topology();
        eprintln!(
            "discovered {} cluster(s), {} reserved IP(s) in {:.1} s",
            topology.clusters().len(),
            topology.reserved_ips().len(),
            started.elapsed().as_secs_f64()
        );
    }
    for warning in discovery.warnings() {
        eprintln!("warning: {warning}");
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
    /// The cluster: its name or id in the Civo API, or its name in the topology.
    #[arg(long, value_name = "NAME_OR_ID")]
    cluster: Option<String>,
    /// A topology snapshot that says what the egress IPs should be (`-` for standard input); the Civo
    /// API is then not asked. Default: the file named by CIVO_EGRESS_TOPOLOGY, unless --region or
    /// --api-url asks the Civo API.
    #[arg(long, value_name = "FILE")]
    topology: Option<PathBuf>,
    /// Accept non-global addresses (private, CGNAT, documentation) as observations, as egress IPs in
    /// the topology, and plain-http echo services on them. For labs and tests only.
    #[arg(long)]
    allow_non_global: bool,
    #[command(flatten)]
    fields: topology::FieldsArgs,
    #[command(flatten)]
    civo: CivoArgs,
    /// A kubeconfig whose server names the cluster IP. Default: KUBECONFIG, else ~/.kube/config.
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: the current one).
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// An HTTP echo service URL (repeatable); replaces the default public services.
    #[arg(long = "echo-url", value_name = "URL")]
    echo_urls: Vec<String>,
    /// A DNS echo server (repeatable); replaces the default public services.
    #[arg(long = "dns-server", value_name = "IP:PORT")]
    dns_servers: Vec<String>,
    /// How many observers must agree.
    #[arg(long, value_name = "N", default_value_t = 2)]
    quorum: usize,
    /// Ask no echo service: report what is expected only.
    #[arg(long)]
    no_observe: bool,
    /// Where the echo services are asked from: `pod` (inside the cluster: they see its egress) or
    /// `host` (they see this host's IP, never the cluster's). Default: detected from
    /// KUBERNETES_SERVICE_HOST and the service-account files.
    #[arg(long, value_name = "pod|host")]
    vantage: Option<Vantage>,
    /// Overall deadline in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    timeout: u64,
    /// Output format: `text` or `json`.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// `resolve`: exit 1 on a mismatch or when unknown.
pub fn resolve(args: ResolveArgs) -> Result<ExitCode, Failure> {
    let deadline = deadline(args.timeout);
    let addresses = if args.allow_non_global { AddressPolicy::AllowNonGlobal } else { AddressPolicy::GlobalOnly };
    if args.civo.given() && (args.topology.is_some() || args.cluster.is_none()) {
        return Err(Failure::Usage(
            "--region and --api-url go with --cluster, to ask the Civo API (not with --topology)".into(),
        ));
    }
    let mut resolver = EgressResolver::builder()
        .quorum(args.quorum)
        .deadline(deadline)
        .source_timeout(deadline.min(Duration::from_secs(3)))
        .addresses(addresses);
    let mut name = args.cluster.clone();
    let snapshot = args.topology.clone().or_else(|| if args.civo.given() { None } else { topology::from_env() });
    if let Some(path) = snapshot {
        let read = Validation::strict()
            .allow_non_global(args.allow_non_global)
            .allow_unknown_fields(args.fields.allow_unknown_fields);
        let snapshot = topology::load_with(&path, read)?;
        let chosen = match (args.cluster, snapshot.clusters()) {
            (Some(cluster), _) => cluster,
            (None, [only]) => only.name().to_owned(),
            (None, _) => {
                return Err(Failure::Usage(format!("{}: name the cluster with --cluster", topology::display(&path))));
            }
        };
        resolver = resolver.source(TopologySource::new(&snapshot, &chosen).map_err(usage)?);
        name = Some(chosen);
    } else if let Some(cluster) = args.cluster {
        resolver = resolver.source(CivoSource::new(args.civo.client(deadline)?, cluster));
    }
    let explicit_kubeconfig = args.kubeconfig.is_some() || args.context.is_some();
    let loaded = match args.kubeconfig {
        Some(path) => Some(Kubeconfig::load(&[path])),
        None if explicit_kubeconfig || name.is_none() => Some(Kubeconfig::from_env()),
        None => None,
    };
    match loaded {
        Some(Ok(config)) => {
            let source = KubeconfigSource::new(&config, args.context.as_deref()).map_err(usage)?;
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
    let report = runtime()?.block_on(resolver.resolve());
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Text => print_report(&report),
    }
    Ok(if report.status().is_ok() { ExitCode::SUCCESS } else { ExitCode::from(FINDING) })
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
    let ips: Vec<String> = report.egress_ips().iter().map(ToString::to_string).collect();
    say!("{}: {} {}", report.cluster().filter(|c| !c.is_empty()).unwrap_or("egress"), report.status(), ips.join(", "));
    if !report.stale_ips().is_empty() {
        let stale: Vec<String> = report.stale_ips().iter().map(ToString::to_string).collect();
        say!("  no longer used: {}", stale.join(", "));
    }
    for row in report.evidence() {
        say!("  {row}");
    }
    for warning in report.warnings() {
        say!("warning: {warning}");
    }
}
