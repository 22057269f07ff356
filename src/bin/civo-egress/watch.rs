//! `watch`: the egress under watch, as events on stdout and metrics over
//! HTTP (`/metrics`, `/healthz`, `/readyz`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use civo_egress::civo::Selection;
use civo_egress::resolve::{DnsEchoSource, DnsEchoStyle, EgressSource, HttpEchoSource, Vantage};
use civo_egress::watch::{CONTENT_TYPE, Event, Metrics, Origin, StateReceiver, WatchError, Watcher};
use prometheus_client::metrics::counter::Counter;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use crate::failure::{Failure, civo, runtime, usage, watch_state};
use crate::remote::{CivoArgs, deadline};

/// `--format json|text` of the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EventFormat {
    /// One JSON object per line: `{"time", "kind", ...}`.
    Json,
    /// One sentence per line, for people.
    Text,
}

/// `watch`'s arguments.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Watch a snapshot file (`civo-egress discover`'s), read again at each refresh, instead of the
    /// Civo API.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["clusters", "regions", "all_regions", "api_url"])]
    topology: Option<PathBuf>,
    /// Only this cluster, by name, id or REGION/NAME (repeatable; default: every cluster).
    #[arg(long = "cluster", value_name = "NAME_OR_ID")]
    clusters: Vec<String>,
    /// A Civo region code (repeatable). Default: CIVO_REGION, else the Civo CLI config's
    /// default_region, else LON1.
    #[arg(long = "region", value_name = "CODE")]
    regions: Vec<String>,
    /// Every region whose features include Kubernetes.
    #[arg(long, conflicts_with = "regions")]
    all_regions: bool,
    /// The Civo API URL. Default: CIVO_API_URL, else the Civo CLI config's meta.url, else
    /// https://api.civo.com (plain http:// only to a loopback address).
    #[arg(long, value_name = "URL")]
    api_url: Option<String>,
    /// Seconds between refreshes, jittered by 10 % (0: back to back).
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    interval: u64,
    /// Where to serve /metrics, /healthz and /readyz.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9464")]
    listen: SocketAddr,
    /// A partner's allowlist, NAME=FILE (one IP or CIDR per line; repeatable), read again at each
    /// refresh.
    #[arg(long = "allowlist", value_name = "NAME=FILE")]
    allowlists: Vec<String>,
    /// Observe the egress with echo services too: the cluster the watcher runs in (proven by its pod's
    /// service account CA), or the only one watched, is judged on what they saw.
    #[arg(long)]
    observe: bool,
    /// An HTTP echo service URL (repeatable; replaces the default public services).
    #[arg(long = "echo-url", value_name = "URL", requires = "observe")]
    echo_urls: Vec<String>,
    /// A DNS echo server (repeatable; replaces the default public services).
    #[arg(long = "dns-server", value_name = "IP:PORT", requires = "observe")]
    dns_servers: Vec<String>,
    /// How many echo services must agree.
    #[arg(long, value_name = "N", default_value_t = 2, requires = "observe")]
    quorum: usize,
    /// Where the echo services are asked from: `pod` (inside the cluster) or `host`. Default: a pod of
    /// a watched cluster when its service-account CA is that cluster's (recorded by discover), else a
    /// host, whose observations prove nothing (the verdict stays expected, with a warning).
    #[arg(long, value_name = "pod|host", requires = "observe")]
    vantage: Option<Vantage>,
    /// Run `sh -c CMD` for each event, the event's JSON on its stdin (never blocking the watch;
    /// failures are logged and counted in civo_egress_exec_failures_total).
    #[arg(long, value_name = "CMD")]
    exec: Option<String>,
    /// Seconds an --exec command may run before it is killed.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    exec_timeout: u64,
    /// Refresh once, print the events and the state, and exit: 0 when every allowlist lets in every
    /// egress IP and every verdict is ok, 1 on a finding, 3 when the refresh failed.
    #[arg(long)]
    once: bool,
    /// The events' format.
    #[arg(long, value_enum, default_value = "json")]
    format: EventFormat,
    /// Deadline of one refresh, in seconds (the Civo API's requests and retries).
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    timeout: u64,
}

/// `watch`.
pub fn watch(args: WatchArgs) -> Result<ExitCode, Failure> {
    let rt = runtime()?;
    let watcher = rt.block_on(async { build(&args) })?;
    let code = if args.once { rt.block_on(once(watcher, args.format)) } else { rt.block_on(serve(watcher, &args)) };
    // A blocking lookup (the system's DNS configuration) must not hold the exit.
    rt.shutdown_background();
    code
}

fn build(args: &WatchArgs) -> Result<Watcher, Failure> {
    let origin = match &args.topology {
        Some(path) if path.as_os_str() == "-" => {
            return Err(Failure::Usage("watch reads --topology again at each refresh: name a file, not -".into()));
        }
        Some(path) => Origin::Snapshot(path.clone()),
        None => {
            let civo_args = CivoArgs { region: args.regions.first().cloned(), api_url: args.api_url.clone() };
            let client = civo_args.client(deadline(args.timeout))?;
            let selection = if args.all_regions { Selection::all_regions() } else { Selection::all() };
            let selection = args.regions.iter().cloned().fold(selection, Selection::region);
            let selection = args.clusters.iter().cloned().fold(selection, Selection::cluster);
            Origin::Civo { client, selection }
        }
    };
    let mut builder = Watcher::builder(origin).interval(Duration::from_secs(args.interval));
    for spec in &args.allowlists {
        let Some((name, path)) = spec.split_once('=') else {
            return Err(Failure::Usage(format!("--allowlist {spec:?}: expected NAME=FILE")));
        };
        builder = builder.allowlist(name, path);
    }
    if args.observe {
        for source in observers(&args.echo_urls, &args.dns_servers)? {
            builder = builder.shared_observer(source);
        }
        builder = builder.quorum(args.quorum);
        if let Some(vantage) = args.vantage {
            builder = builder.vantage(vantage);
        }
    }
    builder.build().map_err(watch_error)
}

/// The echo services: the caller's, or the default public ones.
fn observers(echo_urls: &[String], dns_servers: &[String]) -> Result<Vec<Arc<dyn EgressSource>>, Failure> {
    let mut all: Vec<Arc<dyn EgressSource>> = Vec::new();
    if echo_urls.is_empty() && dns_servers.is_empty() {
        all.extend(HttpEchoSource::defaults().into_iter().map(|s| Arc::new(s) as Arc<dyn EgressSource>));
        all.extend(DnsEchoSource::defaults().into_iter().map(|s| Arc::new(s) as Arc<dyn EgressSource>));
        return Ok(all);
    }
    for url in echo_urls {
        all.push(Arc::new(HttpEchoSource::new(url).map_err(usage)?));
    }
    for server in dns_servers {
        let addr: SocketAddr =
            server.parse().map_err(|_| Failure::Usage(format!("--dns-server {server:?} is not IP:PORT")))?;
        all.push(Arc::new(DnsEchoSource::new(DnsEchoStyle::Either, addr)));
    }
    Ok(all)
}

/// A watcher's error: bad local input is exit 2, the Civo API's failures 3.
fn watch_error(error: WatchError) -> Failure {
    refresh_failure(&error)
}

/// [`watch_error`] of a refresh's error.
fn refresh_failure(error: &WatchError) -> Failure {
    match error {
        WatchError::Civo(error) => civo(error.clone()),
        error if error.is_input() => usage(error),
        error => Failure::Runtime(error.to_string()),
    }
}

fn print(event: &Event, format: EventFormat) {
    match format {
        EventFormat::Json => say!("{}", event.to_json()),
        EventFormat::Text => say!("{event}"),
    }
}

/// `--once`: one refresh, its events, then the state as a last line.
async fn once(mut watcher: Watcher, format: EventFormat) -> Result<ExitCode, Failure> {
    let events = watcher.refresh().await;
    for event in &events {
        print(event, format);
    }
    if let Some(error) = watcher.last_error() {
        return Err(refresh_failure(error));
    }
    let state = watcher.state();
    let clear = state.is_clear();
    match format {
        EventFormat::Json => {
            let time = events.first().map_or_else(SystemTime::now, Event::time);
            let line = StateLine { time: jiff_time(time), kind: "state", clear, state };
            say!("{}", serde_json::to_string(&line).map_err(|e| Failure::Runtime(e.to_string()))?);
        }
        EventFormat::Text => {
            for cluster in state.clusters() {
                let ips: Vec<String> = cluster.egress_ips().iter().map(ToString::to_string).collect();
                say!("{}: {} {}", cluster.cluster(), cluster.status(), ips.join(", "));
                for coverage in cluster.allowlists() {
                    let missing: Vec<String> = coverage.missing().iter().map(ToString::to_string).collect();
                    if coverage.is_covered() {
                        say!("  allowlist {}: covers every egress IP", coverage.allowlist());
                    } else {
                        say!("  allowlist {}: lacks {}", coverage.allowlist(), missing.join(", "));
                    }
                }
                for caveat in cluster.caveats() {
                    say!("  warning: {caveat}");
                }
            }
            for warning in state.warnings() {
                say!("warning: {warning}");
            }
            say!("{}", if clear { "clear" } else { "not clear: see the findings above" });
        }
    }
    Ok(watch_state(clear))
}

/// `--once --format json`'s last line: the state, shaped like an event.
#[derive(serde::Serialize)]
struct StateLine<'a> {
    time: String,
    kind: &'static str,
    clear: bool,
    state: &'a civo_egress::watch::WatchState,
}

/// RFC 3339 to the millisecond, as the events' times.
fn jiff_time(time: SystemTime) -> String {
    jiff::Timestamp::try_from(time)
        .map(|t| t.round(jiff::Unit::Millisecond).unwrap_or(t).to_string())
        .unwrap_or_default()
}

/// What the HTTP endpoints read.
struct Served {
    metrics: Metrics,
    state: StateReceiver,
    /// `/readyz` passes while a refresh succeeded within this long.
    ready_within: Duration,
}

async fn metrics_endpoint(State(served): State<Arc<Served>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], served.metrics.render())
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(served): State<Arc<Served>>) -> (StatusCode, String) {
    let state = served.state.latest();
    let age = state.refresh().last_success().and_then(|t| SystemTime::now().duration_since(t).ok());
    match age {
        Some(age) if age <= served.ready_within => (StatusCode::OK, "ready\n".to_owned()),
        Some(age) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: the last successful refresh was {} s ago\n", age.as_secs()),
        ),
        None => (StatusCode::SERVICE_UNAVAILABLE, "not ready: no refresh has succeeded yet\n".to_owned()),
    }
}

/// Runs until SIGTERM or SIGINT: the watcher in a task, the events printed
/// (and handed to `--exec`), the endpoints served.
async fn serve(mut watcher: Watcher, args: &WatchArgs) -> Result<ExitCode, Failure> {
    use tokio::signal::unix::{SignalKind, signal};
    let handle = |kind| signal(kind).map_err(|e| Failure::Runtime(format!("cannot handle signals: {e}")));
    let (mut terminate, mut interrupt) = (handle(SignalKind::terminate())?, handle(SignalKind::interrupt())?);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot listen on {}: {e}", args.listen)))?;
    // The first refresh here: a mistake of the user's (a cluster name that
    // matches none, a malformed snapshot) stops the watch at once (exit 2)
    // rather than failing at every interval; the API failing does not.
    let first = tokio::select! {
        events = watcher.refresh() => events,
        _ = terminate.recv() => return Ok(ExitCode::SUCCESS),
        _ = interrupt.recv() => return Ok(ExitCode::SUCCESS),
    };
    if let Some(failure) = watcher.last_error().map(refresh_failure)
        && matches!(failure, Failure::Usage(_))
    {
        return Err(failure);
    }
    let mut metrics = Metrics::new(watcher.subscribe());
    let exec_failures = Counter::<u64>::default();
    metrics.registry_mut().register(
        "civo_egress_exec_failures",
        "--exec commands that failed, timed out or could not start",
        exec_failures.clone(),
    );
    let interval = watcher.interval().max(Duration::from_secs(1));
    let served = Arc::new(Served { metrics, state: watcher.subscribe(), ready_within: interval * 3 });
    let app = Router::new()
        .route("/metrics", get(metrics_endpoint))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(served);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut server_stop = stopped.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|s| *s).await;
            })
            .await
    });
    note!("watching; metrics on http://{}/metrics", args.listen);
    let (events, mut received) = mpsc::channel::<Event>(256);
    let watching = tokio::spawn(watcher.run(events));
    let exec = args.exec.clone().map(|cmd| (Arc::<str>::from(cmd), Duration::from_secs(args.exec_timeout)));
    let tell = |event: &Event| {
        print(event, args.format);
        if let Some((cmd, timeout)) = &exec {
            tokio::spawn(run_exec(Arc::clone(cmd), *timeout, event.to_json(), exec_failures.clone()));
        }
    };
    first.iter().for_each(tell);
    loop {
        tokio::select! {
            event = received.recv() => {
                let Some(event) = event else { break };
                tell(&event);
            }
            _ = interrupt.recv() => break,
            _ = terminate.recv() => break,
        }
    }
    watching.abort();
    let _ = stop.send(true);
    // Open connections get a moment; the exit never waits longer than that.
    let _ = tokio::time::timeout(Duration::from_secs(1), server).await;
    note!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// One `--exec` run: the event on stdin, killed at the timeout.
async fn run_exec(cmd: Arc<str>, timeout: Duration, json: String, failures: Counter<u64>) {
    let spawned = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(&*cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        // Its own process group: at the timeout the whole command goes,
        // not only the shell (dash does not exec the last command).
        .process_group(0)
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            failures.inc();
            note!("--exec could not start: {e}");
            return;
        }
    };
    let group = child.id();
    let run = async {
        if let Some(mut stdin) = child.stdin.take() {
            // A command that does not read its stdin is no failure.
            let _ = stdin.write_all(format!("{json}\n").as_bytes()).await;
        }
        child.wait().await
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(Ok(status)) if status.success() => {}
        Ok(Ok(status)) => {
            failures.inc();
            note!("--exec failed ({status})");
        }
        Ok(Err(e)) => {
            failures.inc();
            note!("--exec failed: {e}");
        }
        Err(_) => {
            failures.inc();
            if let Some(group) = group {
                // `kill` the program: no unsafe signal call of our own.
                let _ = tokio::process::Command::new("kill")
                    .args(["-s", "KILL", "--", &format!("-{group}")])
                    .stderr(Stdio::null())
                    .status()
                    .await;
            }
            let _ = child.wait().await;
            note!("--exec killed after {} s", timeout.as_secs());
        }
    }
}
