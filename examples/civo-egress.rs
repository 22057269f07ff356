//! `civo-egress`: which IP will your Civo cluster call a partner from?
//!
//! ```text
//! cargo run --example civo-egress -- classify 10.42.0.7 212.2.253.151
//! cargo run --example civo-egress -- whitelist --format json
//! cargo run --example civo-egress -- audit partner-allowlist.txt
//! cargo run --example civo-egress -- diff old.json new.json
//! CIVO_TOKEN=... cargo run --example civo-egress -- discover > account.json
//! CIVO_TOKEN=... cargo run --example civo-egress -- resolve --cluster prod
//! ```
//!
//! Exit codes: 0 success, 1 a finding (audit errors, egress drift, a
//! `resolve` mismatch or unknown) or a failure of the Civo API, 2 bad input
//! (one line on stderr).

use std::net::IpAddr;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use civo_egress::civo::{CivoClient, CivoConfig, CivoError, Selection};
use civo_egress::kubeconfig::{Kubeconfig, KubeconfigError};
use civo_egress::resolve::{
    CivoSource, DnsEchoSource, DnsEchoStyle, EgressReport, EgressResolver, EgressResolverBuilder, HttpEchoSource,
    KubeconfigSource, StaticSource, TopologySource, Vantage,
};
use civo_egress::{Allowlist, Topology, Validation, Whitelist, audit, audit_for, diff};
use clap::{Parser, Subcommand, ValueEnum};

/// `println!` that ends the program quietly when stdout is closed (`| head`),
/// where `println!` would panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout().lock(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

/// `print!`, likewise.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if write!(std::io::stdout().lock(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

/// The article's cluster, used when no `--topology` is given.
const EXAMPLE_TOPOLOGY: &str = include_str!("topology.json");

#[derive(Parser)]
#[command(name = "civo-egress", version, about = "Which IP will your Civo Kubernetes cluster call a partner from?")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Say what each address is, and whether to whitelist it.
    Classify {
        /// Topology snapshot JSON (default: the embedded example cluster).
        #[arg(long)]
        topology: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Addresses to classify.
        #[arg(required = true)]
        ips: Vec<String>,
    },
    /// Print every address a destination will see the clusters' pods come
    /// from: the egress IPs, or the nodes' private IPs for a destination
    /// inside a cluster's network.
    Whitelist {
        #[arg(long)]
        topology: Option<PathBuf>,
        /// Only these clusters (repeatable).
        #[arg(long = "cluster")]
        clusters: Vec<String>,
        /// The address the pods call (default: somewhere on the internet).
        #[arg(long)]
        destination: Option<String>,
        /// Accept non-global egress IPs in --topology. For labs and tests only.
        #[arg(long)]
        allow_non_global: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Check an allowlist (one IP or CIDR per line) against the topology.
    Audit {
        #[arg(long)]
        topology: Option<PathBuf>,
        /// The address whose allowlist this is (default: somewhere on the internet).
        #[arg(long)]
        destination: Option<String>,
        /// Accept non-global egress IPs in --topology. For labs and tests only.
        #[arg(long)]
        allow_non_global: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        allowlist: PathBuf,
    },
    /// Build the topology snapshot of a Civo account from its API.
    Discover {
        /// Only these clusters, by name or id (repeatable).
        #[arg(long = "cluster")]
        clusters: Vec<String>,
        /// Region code (default: CIVO_REGION, else the Civo CLI config's default_region, else LON1).
        #[arg(long)]
        region: Option<String>,
        /// API URL (default: CIVO_API_URL, else the Civo CLI config's meta.url, else https://api.civo.com).
        #[arg(long)]
        api_url: Option<String>,
        /// Overall deadline in seconds.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
    /// Find the egress IP: expected (Civo API, kubeconfig) and observed (echo
    /// services), cross-checked. Exit 1 on a mismatch or when unknown.
    Resolve {
        /// The cluster: its name or id in the Civo API, or its name in --topology.
        #[arg(long)]
        cluster: Option<String>,
        /// A topology snapshot that says what the egress IPs should be (e.g.
        /// the whitelist a service ships with); the Civo API is then not asked.
        #[arg(long)]
        topology: Option<PathBuf>,
        /// Accept non-global addresses (private, CGNAT, documentation) as
        /// observations, as egress IPs in --topology, and plain-http echo
        /// services on them. For labs and tests only.
        #[arg(long)]
        allow_non_global: bool,
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        api_url: Option<String>,
        /// A kubeconfig whose server names the cluster IP.
        #[arg(long)]
        kubeconfig: Option<PathBuf>,
        /// The kubeconfig context (default: the current one).
        #[arg(long)]
        context: Option<String>,
        /// An HTTP echo service (repeatable); replaces the defaults.
        #[arg(long = "echo-url")]
        echo_urls: Vec<String>,
        /// A DNS echo server IP:PORT (repeatable); replaces the defaults.
        #[arg(long = "dns-server")]
        dns_servers: Vec<String>,
        /// Observers that must agree.
        #[arg(long, default_value_t = 2)]
        quorum: usize,
        /// Ask no echo service: report what is expected only.
        #[arg(long)]
        no_observe: bool,
        /// Where the echo services are asked from: `pod` (inside the
        /// cluster: they see its egress) or `host` (they see this host's IP,
        /// which is never the cluster's). Default: detected.
        #[arg(long, value_name = "pod|host")]
        vantage: Option<Vantage>,
        /// Overall deadline in seconds.
        #[arg(long, default_value_t = 10)]
        timeout: u64,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Run the article's experiment through the Kubernetes API: one short-lived
    /// pod per node asks the echo services which IP it leaves from. Exit 1 on a
    /// mismatch (a node leaves from an IP the whitelist lacks) or when no node
    /// could be probed. Needs the `probe` feature.
    Probe {
        /// The kubeconfig (default: KUBECONFIG, else ~/.kube/config).
        #[arg(long)]
        kubeconfig: Option<PathBuf>,
        /// The kubeconfig context (default: the current one).
        #[arg(long)]
        context: Option<String>,
        /// The namespace the probe pods are created in.
        #[arg(long, default_value = "default")]
        namespace: String,
        /// The image with curl (for private registries).
        #[arg(long, default_value = "curlimages/curl")]
        image: String,
        /// Only these nodes (repeatable; default: every node).
        #[arg(long = "node")]
        nodes: Vec<String>,
        /// An HTTP echo service (repeatable); replaces the defaults.
        #[arg(long = "echo-url")]
        echo_urls: Vec<String>,
        /// A snapshot that says what each node should leave from.
        #[arg(long, conflicts_with_all = ["region", "api_url"])]
        topology: Option<PathBuf>,
        /// The cluster: its name or id in the Civo API, or its name in --topology.
        #[arg(long)]
        cluster: Option<String>,
        /// Region code for the Civo API (default: CIVO_REGION, else the Civo CLI config's, else LON1).
        #[arg(long)]
        region: Option<String>,
        /// Civo API URL (default: CIVO_API_URL, else the Civo CLI config's meta.url).
        #[arg(long)]
        api_url: Option<String>,
        /// Accept non-global addresses as observations and in --topology, and
        /// plain-http echo services on them. For labs and tests only.
        #[arg(long)]
        allow_non_global: bool,
        /// Overall deadline in seconds.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Compare two snapshots; exit 1 when an egress IP changed or disappeared.
    Diff {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        old: PathBuf,
        new: PathBuf,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// A failure, reported as one line on stderr: bad input exits 2, a failure
/// of a remote service exits 1.
enum Failure {
    BadInput(String),
    Remote(String),
}
use Failure::BadInput;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            say_raw!("{e}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's first paragraph, on one line ("error: the following
            // required arguments were not provided: <IPS>..."), no usage.
            let text = e.to_string();
            let first: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
            eprintln!("{}", if first.is_empty() { "error: invalid arguments".to_owned() } else { first.join(" ") });
            return ExitCode::from(2);
        }
    };
    match run(cli.command) {
        Ok(code) => code,
        Err(BadInput(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Remote(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

fn run(command: Command) -> Result<ExitCode, Failure> {
    match command {
        Command::Classify { topology, format, ips } => {
            let topology = load(topology.as_deref())?;
            let ips = ips
                .iter()
                .map(|s| s.trim().parse::<IpAddr>().map_err(|_| BadInput(format!("{s:?} is not an IP address"))))
                .collect::<Result<Vec<_>, _>>()?;
            let answers: Vec<_> = ips.iter().map(|&ip| topology.classify_ip(ip)).collect();
            match format {
                Format::Json => print_json(&answers),
                Format::Text => answers.iter().for_each(|a| say!("{a}")),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Whitelist { topology, clusters, destination, allow_non_global, format } => {
            let topology = load_with(topology.as_deref(), allow_non_global)?;
            let mut builder = Whitelist::builder(&topology);
            if !clusters.is_empty() {
                builder = builder.clusters(&clusters);
            }
            if let Some(destination) = destination.as_deref() {
                builder = builder.destination(parse_ip(destination)?);
            }
            let whitelist = builder.build().map_err(|e| BadInput(e.to_string()))?;
            for warning in whitelist.warnings() {
                eprintln!("warning: {warning}");
            }
            match format {
                Format::Json => print_json(&whitelist),
                Format::Text => say_raw!("{whitelist}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { topology, destination, allow_non_global, format, allowlist } => {
            let topology = load_with(topology.as_deref(), allow_non_global)?;
            let text = read(&allowlist)?;
            let allowlist = Allowlist::parse(&text).map_err(|e| BadInput(format!("{}: {e}", allowlist.display())))?;
            let report = match destination.as_deref() {
                Some(destination) => audit_for(&topology, &allowlist, parse_ip(destination)?),
                None => audit(&topology, &allowlist),
            }
            .map_err(|e| BadInput(e.to_string()))?;
            match format {
                Format::Json => print_json(&report),
                Format::Text => {
                    report.findings().iter().for_each(|f| say!("{f}"));
                    let errors = report.findings().iter().filter(|f| f.severity() == civo_egress::Severity::Error);
                    match errors.count() {
                        0 => say!("ok: the allowlist lets in every egress IP and nothing of the clusters' own"),
                        n => say!("{n} error(s)"),
                    }
                }
            }
            Ok(if report.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Discover { clusters, region, api_url, timeout } => {
            let deadline = Duration::from_secs(timeout.clamp(1, 86_400));
            let mut builder =
                CivoClient::builder().deadline(deadline).request_timeout(deadline.min(Duration::from_secs(10)));
            if let Some(url) = api_url {
                builder = builder.api_url(url);
            }
            if let Some(region) = region {
                builder = builder.region(region);
            }
            let config = CivoConfig::from_env().map_err(civo_failure)?;
            let client = builder.config(config).build().map_err(civo_failure)?;
            let selection = clusters.into_iter().fold(Selection::all(), Selection::cluster);
            let discovery = runtime()?.block_on(client.discover(&selection)).map_err(civo_failure)?;
            for warning in discovery.warnings() {
                eprintln!("warning: {warning}");
            }
            say!("{}", discovery.topology().to_json());
            Ok(ExitCode::SUCCESS)
        }
        Command::Resolve {
            cluster,
            topology,
            allow_non_global,
            region,
            api_url,
            kubeconfig,
            context,
            echo_urls,
            dns_servers,
            quorum,
            no_observe,
            vantage,
            timeout,
            format,
        } => {
            let deadline = Duration::from_secs(timeout.clamp(1, 86_400));
            let validation = Validation::strict().allow_non_global(allow_non_global);
            if (region.is_some() || api_url.is_some()) && (topology.is_some() || cluster.is_none()) {
                return Err(BadInput(
                    "--region and --api-url go with --cluster, to ask the Civo API (not with --topology)".into(),
                ));
            }
            let mut resolver = EgressResolver::builder()
                .quorum(quorum)
                .deadline(deadline)
                .source_timeout(deadline.min(Duration::from_secs(3)))
                .validation(validation);
            let mut name = cluster.clone();
            if let Some(path) = topology {
                let snapshot = Topology::from_json_with(&read(&path)?, validation)
                    .map_err(|e| BadInput(format!("{}: {e}", path.display())))?;
                let chosen = match (cluster, snapshot.clusters()) {
                    (Some(cluster), _) => cluster,
                    (None, [only]) => only.name().to_owned(),
                    (None, _) => return Err(BadInput(format!("{}: name the cluster with --cluster", path.display()))),
                };
                resolver =
                    resolver.source(TopologySource::new(&snapshot, &chosen).map_err(|e| BadInput(e.to_string()))?);
                name = Some(chosen);
            } else if let Some(cluster) = cluster {
                let mut builder = CivoClient::builder().deadline(deadline).request_timeout(deadline);
                if let Some(url) = api_url {
                    builder = builder.api_url(url);
                }
                if let Some(region) = region {
                    builder = builder.region(region);
                }
                let client =
                    builder.config(CivoConfig::from_env().map_err(civo_failure)?).build().map_err(civo_failure)?;
                resolver = resolver.source(CivoSource::new(client, cluster));
            }
            let explicit_kubeconfig = kubeconfig.is_some() || context.is_some();
            let loaded = match kubeconfig {
                Some(path) => Some(Kubeconfig::load(&[path])),
                None if explicit_kubeconfig || name.is_none() => Some(Kubeconfig::from_env()),
                None => None,
            };
            match loaded {
                Some(Ok(config)) => {
                    let source =
                        KubeconfigSource::new(&config, context.as_deref()).map_err(|e| BadInput(e.to_string()))?;
                    name = name.or_else(|| Some(source.server().context().to_owned()));
                    resolver = resolver.source(source);
                }
                Some(Err(KubeconfigError::NoFile)) if !explicit_kubeconfig => {}
                Some(Err(e)) => return Err(BadInput(e.to_string())),
                None => {}
            }
            if let Some(from_env) = StaticSource::from_env().map_err(|e| BadInput(e.to_string()))? {
                resolver = resolver.source(from_env);
            }
            if !no_observe {
                resolver = observers(resolver, &echo_urls, &dns_servers, validation)?;
            }
            if let Some(name) = name {
                resolver = resolver.cluster(name);
            }
            if let Some(vantage) = vantage {
                resolver = resolver.vantage(vantage);
            }
            let resolver = resolver.build().map_err(|e| BadInput(e.to_string()))?;
            let report = runtime()?.block_on(resolver.resolve());
            match format {
                Format::Json => print_json(&report),
                Format::Text => print_report(&report),
            }
            Ok(if report.status().is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Probe {
            kubeconfig,
            context,
            namespace,
            image,
            nodes,
            echo_urls,
            topology,
            cluster,
            region,
            api_url,
            allow_non_global,
            timeout,
            format,
        } => {
            let request = ProbeRequest {
                kubeconfig,
                context,
                namespace,
                image,
                nodes,
                echo_urls,
                topology,
                cluster,
                region,
                api_url,
                allow_non_global,
                timeout,
                format,
            };
            probe(request)
        }
        Command::Diff { format, old, new } => {
            let (old, new) = (load(Some(&old))?, load(Some(&new))?);
            let changes = diff(&old, &new);
            match format {
                Format::Json => print_json(&changes),
                Format::Text if changes.is_empty() => say!("no changes"),
                Format::Text => changes.changes().iter().for_each(|c| say!("{c}")),
            }
            Ok(if changes.has_egress_drift() { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
    }
}

/// The echo services: the caller's, or the defaults when it names none.
fn observers(
    mut resolver: EgressResolverBuilder,
    echo_urls: &[String],
    dns_servers: &[String],
    validation: Validation,
) -> Result<EgressResolverBuilder, Failure> {
    if echo_urls.is_empty() && dns_servers.is_empty() {
        return Ok(resolver.sources(HttpEchoSource::defaults()).sources(DnsEchoSource::defaults()));
    }
    for url in echo_urls {
        let source = HttpEchoSource::builder(url).validation(validation).build();
        resolver = resolver.source(source.map_err(|e| BadInput(e.to_string()))?);
    }
    for server in dns_servers {
        let addr: SocketAddr =
            server.parse().map_err(|_| BadInput(format!("--dns-server {server:?} is not IP:PORT")))?;
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

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Remote(format!("cannot start the async runtime: {e}")))
}

/// Configuration mistakes are bad input; what the API answered is not.
fn civo_failure(error: CivoError) -> Failure {
    match error {
        CivoError::MissingApiKey
        | CivoError::Config { .. }
        | CivoError::InvalidUrl { .. }
        | CivoError::ClusterNotFound { .. }
        | CivoError::AmbiguousCluster { .. } => BadInput(error.to_string()),
        other => Failure::Remote(other.to_string()),
    }
}

/// Reads a file, or standard input for `-` (so `discover | whitelist
/// --topology -` works).
fn read(path: &Path) -> Result<String, Failure> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| BadInput(format!("cannot read standard input: {e}")))?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(|e| BadInput(format!("cannot read {}: {e}", path.display())))
}

fn load(path: Option<&Path>) -> Result<Topology, Failure> {
    load_with(path, false)
}

fn load_with(path: Option<&Path>, allow_non_global: bool) -> Result<Topology, Failure> {
    let validation = Validation::strict().allow_non_global(allow_non_global);
    match path {
        None => Topology::from_json(EXAMPLE_TOPOLOGY).map_err(|e| BadInput(format!("embedded topology: {e}"))),
        Some(path) => {
            Topology::from_json_with(&read(path)?, validation).map_err(|e| BadInput(format!("{}: {e}", path.display())))
        }
    }
}

fn parse_ip(text: &str) -> Result<IpAddr, Failure> {
    text.trim().parse::<IpAddr>().map_err(|_| BadInput(format!("{text:?} is not an IP address")))
}

fn print_json<T: serde::Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(json) => say!("{json}"),
        Err(e) => eprintln!("error: cannot write JSON: {e}"),
    }
}

/// The `probe` command's arguments.
#[cfg_attr(not(feature = "probe"), allow(dead_code))]
struct ProbeRequest {
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    namespace: String,
    image: String,
    nodes: Vec<String>,
    echo_urls: Vec<String>,
    topology: Option<PathBuf>,
    cluster: Option<String>,
    region: Option<String>,
    api_url: Option<String>,
    allow_non_global: bool,
    timeout: u64,
    format: Format,
}

#[cfg(not(feature = "probe"))]
fn probe(_: ProbeRequest) -> Result<ExitCode, Failure> {
    Err(BadInput("this civo-egress was built without the probe feature: build it with --features probe".into()))
}

#[cfg(feature = "probe")]
fn probe(request: ProbeRequest) -> Result<ExitCode, Failure> {
    use civo_egress::probe::Probe;

    let deadline = Duration::from_secs(request.timeout.clamp(1, 86_400));
    let validation = Validation::strict().allow_non_global(request.allow_non_global);
    // An empty context is no context, as kubectl reads it.
    let context = request.context.filter(|c| !c.is_empty());
    // Refuse what kubectl refuses before kube-rs reads the file its own way.
    let ours = match &request.kubeconfig {
        Some(path) => Kubeconfig::load(std::slice::from_ref(path)),
        None => Kubeconfig::from_env(),
    };
    ours.and_then(|k| k.server(context.as_deref())).map_err(|e| BadInput(e.to_string()))?;
    let runtime = runtime()?;
    let cluster = match (&request.topology, &request.cluster) {
        (Some(path), name) => {
            let snapshot = Topology::from_json_with(&read(path)?, validation)
                .map_err(|e| BadInput(format!("{}: {e}", path.display())))?;
            match (name, snapshot.clusters()) {
                (Some(name), _) => snapshot
                    .cluster(name)
                    .cloned()
                    .ok_or_else(|| BadInput(format!("{}: no cluster named {name:?}", path.display())))?,
                (None, [only]) => only.clone(),
                (None, _) => return Err(BadInput(format!("{}: name the cluster with --cluster", path.display()))),
            }
        }
        (None, Some(name)) => {
            let mut builder =
                CivoClient::builder().deadline(deadline).request_timeout(deadline.min(Duration::from_secs(10)));
            if let Some(url) = request.api_url {
                builder = builder.api_url(url);
            }
            if let Some(region) = request.region {
                builder = builder.region(region);
            }
            let client = builder.config(CivoConfig::from_env().map_err(civo_failure)?).build().map_err(civo_failure)?;
            let discovery = runtime.block_on(client.discover(&Selection::all().cluster(name))).map_err(civo_failure)?;
            for warning in discovery.warnings() {
                eprintln!("warning: {warning}");
            }
            discovery
                .topology()
                .clusters()
                .first()
                .cloned()
                .ok_or_else(|| Failure::Remote(format!("the Civo API gave no usable egress IP for cluster {name:?}")))?
        }
        (None, None) => {
            return Err(BadInput(
                "say what the nodes should leave from: --topology FILE, or --cluster NAME_OR_ID (the Civo API)".into(),
            ));
        }
    };
    let mut builder = Probe::builder()
        .namespace(request.namespace)
        .image(request.image)
        .nodes(request.nodes)
        .validation(validation)
        .timeout(deadline);
    if !request.echo_urls.is_empty() {
        builder = builder.echo_urls(request.echo_urls);
    }
    if let Some(path) = request.kubeconfig {
        builder = builder.kubeconfig(path);
    }
    if let Some(context) = context {
        builder = builder.context(context);
    }
    let probe = builder.build().map_err(|e| BadInput(e.to_string()))?;
    let report = runtime.block_on(async {
        tokio::select! {
            report = probe.run(&cluster) => Some(report),
            _ = tokio::signal::ctrl_c() => {
                // Dropping the run spawns the deletes of its pods: give them time.
                eprintln!("interrupted: deleting the probe's pods");
                None
            }
        }
    });
    let Some(report) = report else {
        runtime.block_on(tokio::time::sleep(Duration::from_secs(3)));
        return Ok(ExitCode::from(130));
    };
    let report = report.map_err(|e| Failure::Remote(e.to_string()))?;
    match request.format {
        Format::Json => print_json(&report),
        Format::Text => {
            let ips: Vec<String> = report.egress_ips().iter().map(ToString::to_string).collect();
            say!("{}: {} {}", report.cluster(), report.status(), ips.join(", "));
            for node in report.nodes() {
                let observed = node.observed().map_or_else(|| "-".to_owned(), |ip| ip.to_string());
                let expected: Vec<String> = node.expected().iter().map(ToString::to_string).collect();
                say!("  {} {}: left from {observed} (expected {})", node.node(), node.status(), expected.join(", "));
                if let Some(error) = node.error() {
                    say!("    error: {error}");
                }
            }
            for warning in report.warnings() {
                say!("warning: {warning}");
            }
        }
    }
    Ok(if report.status().is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
