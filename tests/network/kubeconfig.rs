//! The kubeconfig reader against kubectl itself: each case writes its
//! kubeconfigs to temp files, asks kubectl for the server the way the
//! article does (`kubectl config view --minify -o
//! jsonpath='{.clusters[0].cluster.server}'`, by `--kubeconfig` or
//! `KUBECONFIG=a:b`, with `--context`), and, where the server is a loopback
//! literal, whether kubectl really dials it (a listener of the test's own
//! counts the connections). Then `Kubeconfig::load` and `server(context)`
//! must agree: both accept with the same server, or both refuse.
//!
//! kubectl's answers are computed live, never written down. Nothing leaves
//! loopback: `config view` reads files only, and the dialed servers are
//! 127.0.0.1 (kubectl hands a name, even `localhost.`, to DNS).

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use civo_egress::kubeconfig::{ApiHost, Kubeconfig, KubeconfigError};
use civo_egress::resolve::{EgressSource, IpFamily, KubeconfigSource};
use hickory_server::proto::rr::RecordType;

use crate::common::dns::{Answer, FakeDns};

const PORT: &str = "{PORT}";

fn kubectl() -> PathBuf {
    let found =
        ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].iter().map(PathBuf::from).find(|p| p.exists()).or_else(|| {
            let out = Command::new("sh").args(["-c", "command -v kubectl"]).output().ok()?;
            let path = String::from_utf8(out.stdout).ok()?;
            let path = path.trim();
            (!path.is_empty()).then(|| PathBuf::from(path))
        });
    found.expect("kubectl is missing: install Debian's `kubernetes-client` (apt-get install kubernetes-client)")
}

/// One kubeconfig with cluster, context and user `name`, current.
fn config(name: &str, server: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {server}\n\
         contexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\n\
         users:\n- name: {name}\n  user:\n    token: not-a-real-token\ncurrent-context: {name}\n"
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    /// `--kubeconfig FILE` (one file).
    Flag,
    /// `KUBECONFIG=a:b`.
    Env,
}

struct Case {
    name: &'static str,
    files: Vec<String>,
    via: Via,
    context: Option<&'static str>,
    /// When we refuse: the kind we must refuse with.
    refusal: Option<fn(&KubeconfigError) -> bool>,
}

fn case(name: &'static str, files: Vec<String>, via: Via, context: Option<&'static str>) -> Case {
    Case { name, files, via, context, refusal: None }
}

impl Case {
    fn refused_as(mut self, kind: fn(&KubeconfigError) -> bool) -> Self {
        self.refusal = Some(kind);
        self
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Answered {
    /// The server, normalized by the URL parser (kubectl's verbatim string
    /// parsed, so `https://API.Example.COM.:6443` = `https://api.example.com.:6443/`).
    Server(String),
    Refused(String),
}

/// Accepts and drops every connection to 127.0.0.1:port, counting them.
struct Listener {
    port: u16,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Listener {
    fn start() -> Self {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, done) = (connections.clone(), stop.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        count.fetch_add(1, Ordering::SeqCst);
                        drop(stream);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self { port, connections, stop }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn run_kubectl(
    dir: &Path,
    paths: &[PathBuf],
    via: Via,
    context: Option<&str>,
    args: &[&str],
) -> (bool, String, String) {
    let mut command = Command::new(kubectl());
    command.env_remove("KUBECONFIG").env("HOME", dir).env("KUBECACHEDIR", dir.join("cache")).stdin(Stdio::null());
    match via {
        Via::Flag => {
            assert_eq!(paths.len(), 1, "--kubeconfig takes one file");
            command.arg("--kubeconfig").arg(&paths[0]);
        }
        Via::Env => {
            command.env("KUBECONFIG", std::env::join_paths(paths).unwrap());
        }
    }
    if let Some(context) = context {
        command.arg("--context").arg(context);
    }
    let out = command.args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// kubectl's answer: the article's command, then, for a loopback server,
/// whether kubectl dials it.
fn kubectl_answer(dir: &Path, paths: &[PathBuf], via: Via, context: Option<&str>, listener: &Listener) -> Answered {
    let jsonpath = "jsonpath={.clusters[0].cluster.server}";
    let (ok, server, stderr) = run_kubectl(dir, paths, via, context, &["config", "view", "--minify", "-o", jsonpath]);
    if !ok {
        return Answered::Refused(format!("config view: {}", stderr.trim()));
    }
    if server.contains(&format!("127.0.0.1:{}", listener.port)) {
        let before = listener.connections.load(Ordering::SeqCst);
        let (_, _, stderr) =
            run_kubectl(dir, paths, via, context, &["get", "--raw", "/version", "--request-timeout=2s"]);
        if listener.connections.load(Ordering::SeqCst) == before {
            return Answered::Refused(format!("does not dial it: {}", stderr.trim()));
        }
    }
    match url::Url::parse(&server) {
        Ok(url) => Answered::Server(url.to_string()),
        // kubectl prints a server it cannot dial (the dial check above
        // tells for loopback ones): such a server is never ours.
        Err(e) => Answered::Refused(format!("{server:?} is not a URL: {e}")),
    }
}

fn our_answer(paths: &[PathBuf], context: Option<&str>) -> Result<String, KubeconfigError> {
    Ok(Kubeconfig::load(paths)?.server(context)?.url().to_owned())
}

fn cases() -> Vec<Case> {
    use Via::{Env, Flag};
    let a = || config("a", "https://1.1.1.1:6443");
    let b = || config("b", "https://2.2.2.2:6443");
    let dialed = |server: &str| config("a", server);
    let with = |text: &str, from: &str, to: &str| text.replacen(from, to, 1);
    let invalid = |e: &KubeconfigError| e.is_invalid();
    let not_a_string = |e: &KubeconfigError| matches!(e, KubeconfigError::NotAString { .. }) && e.is_invalid();
    let duplicate = |e: &KubeconfigError| matches!(e, KubeconfigError::DuplicateName { .. }) && e.is_invalid();
    let bad_server = |e: &KubeconfigError| matches!(e, KubeconfigError::BadServer { .. });
    let no_context = |e: &KubeconfigError| *e == KubeconfigError::NoContext;
    let unknown_context = |e: &KubeconfigError| matches!(e, KubeconfigError::UnknownContext { .. });
    let duplicated_cluster =
        format!("{}- name: a\n  cluster:\n    server: https://3.3.3.3:6443\n", a().split("contexts:").next().unwrap())
            + "contexts:"
            + a().split("contexts:").nth(1).unwrap();
    let duplicated_context = with(&a(), "users:", "- name: a\n  context:\n    cluster: a\n    user: a\nusers:");
    let duplicated_user = with(&a(), "current-context:", "- name: a\n  user:\n    token: another\ncurrent-context:");
    vec![
        // Controls: merging and contexts, where we agreed already.
        case("one file", vec![a()], Flag, None),
        case("KUBECONFIG=a:b", vec![a(), b()], Env, None),
        case("KUBECONFIG=a:b --context b", vec![a(), b()], Env, Some("b")),
        case("unknown context", vec![a()], Flag, Some("zz")).refused_as(unknown_context),
        case("the loopback server is dialed", vec![dialed(&format!("https://127.0.0.1:{PORT}"))], Flag, None),
        // 1. A file holding only `---`, `null`, nothing or `~` is skipped.
        case("KUBECONFIG=---:a", vec!["---\n".into(), a()], Env, None),
        case("KUBECONFIG=null:a", vec!["null\n".into(), a()], Env, None),
        case("KUBECONFIG=empty:a", vec![String::new(), a()], Env, None),
        case("KUBECONFIG=a:~:b --context b", vec![a(), "~\n".into(), b()], Env, Some("b")),
        case("--kubeconfig ---", vec!["---\n".into()], Flag, None).refused_as(no_context),
        // 2. A config followed by `---` or a second document: the first.
        case("config then ---", vec![a() + "---\n"], Flag, None),
        case("config then a second config", vec![a() + "---\n" + &b()], Flag, None),
        case("the second document's context", vec![a() + "---\n" + &b()], Flag, Some("b")).refused_as(unknown_context),
        case("config then broken YAML", vec![a() + "---\nclusters: [\n"], Flag, None),
        case("config then ...", vec![a() + "...\n" + &b()], Flag, None),
        case("--- then config", vec!["---\n".to_owned() + &a()], Flag, None),
        case("an empty first document", vec!["---\n---\n".to_owned() + &a()], Flag, None).refused_as(no_context),
        // 3. A trailing dot: the same server (its lookup: see below).
        case("trailing dot", vec![config("a", "https://API.Example.COM.:6443")], Flag, None),
        // 4. `--context ""` is the current context.
        case("--context \"\"", vec![a()], Flag, Some("")),
        case("KUBECONFIG=a:b --context \"\"", vec![a(), b()], Env, Some("")),
        // 5. Surrounding spaces or a control character: not a usable URL.
        // `config view` prints such a server verbatim; only the dial tells
        // what kubectl does with it, so these servers are loopback ones.
        case("spaces around", vec![dialed(&format!("\" https://127.0.0.1:{PORT} \""))], Flag, None)
            .refused_as(bad_server),
        case("space before", vec![dialed(&format!("\" https://127.0.0.1:{PORT}\""))], Flag, None)
            .refused_as(bad_server),
        case("space after", vec![dialed(&format!("\"https://127.0.0.1:{PORT} \""))], Flag, None).refused_as(bad_server),
        case("tab after", vec![dialed(&format!("\"https://127.0.0.1:{PORT}\\t\""))], Flag, None).refused_as(bad_server),
        // 6. A name twice in one file is refused; across files the first wins.
        case("cluster twice in one file", vec![duplicated_cluster], Flag, None).refused_as(duplicate),
        case("context twice in one file", vec![duplicated_context], Flag, None).refused_as(duplicate),
        case("user twice in one file", vec![duplicated_user.clone()], Flag, None).refused_as(duplicate),
        case("user twice, the file second in KUBECONFIG", vec![b(), duplicated_user], Env, Some("b"))
            .refused_as(duplicate),
        case("a name in two files", vec![a(), with(&b(), "- name: b\n  cluster:", "- name: a\n  cluster:")], Env, None),
        // 7. An unquoted number or boolean where a string belongs.
        case("name: 1234", vec![with(&a(), "- name: a\n  cluster", "- name: 1234\n  cluster")], Flag, None)
            .refused_as(not_a_string),
        case("name: \"1234\"", vec![config("\"1234\"", "https://1.1.1.1:6443")], Flag, None),
        case("name: yes", vec![with(&a(), "- name: a\n  context", "- name: yes\n  context")], Flag, None)
            .refused_as(not_a_string),
        case("cluster: 0x1F", vec![with(&a(), "cluster: a\n", "cluster: 0x1F\n")], Flag, None).refused_as(not_a_string),
        case("current-context: 1e3", vec![with(&a(), "current-context: a", "current-context: 1e3")], Flag, None)
            .refused_as(not_a_string),
        case("server: 6443", vec![config("a", "6443")], Flag, None).refused_as(invalid),
        case("user: on", vec![with(&a(), "    user: a\n", "    user: on\n")], Flag, None).refused_as(not_a_string),
        case("name: 1:20 is a string", vec![config("1:20", "https://1.1.1.1:6443")], Flag, None),
    ]
}

#[test]
fn the_reader_agrees_with_kubectl() {
    let listener = Listener::start();
    let root = std::env::temp_dir().join(format!("civo-egress-kubectl-{}", std::process::id()));
    let mut disagreements = Vec::new();
    for (index, case) in cases().into_iter().enumerate() {
        let dir = root.join(index.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let paths: Vec<PathBuf> = case
            .files
            .iter()
            .enumerate()
            .map(|(n, text)| {
                let path = dir.join(format!("config-{n}.yaml"));
                std::fs::write(&path, text.replace(PORT, &listener.port.to_string())).unwrap();
                path
            })
            .collect();
        let theirs = kubectl_answer(&dir, &paths, case.via, case.context, &listener);
        let ours = our_answer(&paths, case.context);
        let agree = match (&theirs, &ours) {
            (Answered::Server(server), Ok(url)) => server == url,
            (Answered::Refused(_), Err(e)) => case.refusal.is_some_and(|kind| kind(e)),
            _ => false,
        };
        if agree {
            eprintln!("agree   {:45} kubectl {theirs:?}", case.name);
        } else {
            disagreements.push(format!("{}: kubectl {theirs:?}, ours {ours:?}", case.name));
        }
        // A refusal by kubectl must be one the case expects, and the reverse.
        assert_eq!(
            matches!(theirs, Answered::Refused(_)),
            case.refusal.is_some(),
            "{}: kubectl {theirs:?} is not what the case is about",
            case.name
        );
    }
    let _ = std::fs::remove_dir_all(&root);
    assert!(disagreements.is_empty(), "disagreements with kubectl:\n{}", disagreements.join("\n"));
}

#[test]
fn no_error_names_a_yaml_library_function() {
    for text in ["clusters: []\n---\nclusters: [\n", "a: 1\n---\n", "---\n---\n---\n", "clusters: [\n"] {
        if let Err(e) = Kubeconfig::from_yaml(text) {
            let shown = format!("{e} {:?}", std::error::Error::source(&e).map(ToString::to_string));
            assert!(!shown.contains("from_str") && !shown.contains("multiple"), "{text:?}: {shown}");
        }
    }
    // The type error and the duplicate never quote a value: one may be a token.
    let e = Kubeconfig::from_yaml("current-context: 12345678901234567890\n").unwrap_err();
    assert!(matches!(e, KubeconfigError::NotAString { found: "a number", .. }), "{e:?}");
    assert!(!e.to_string().contains("1234567890"), "{e}");
    let e = Kubeconfig::from_yaml("contexts:\n- name: x\n  context:\n    namespace: off\n").unwrap_err();
    assert!(matches!(e, KubeconfigError::NotAString { found: "a boolean", line: 4, .. }), "{e:?}");
}

#[tokio::test]
async fn a_trailing_dot_is_one_absolute_lookup() {
    let yaml = config("a", "https://API.Example.COM.:6443");
    let server = Kubeconfig::from_yaml(&yaml).unwrap().server(None).unwrap();
    assert_eq!(server.host(), ApiHost::Name("api.example.com".into()));
    assert_eq!(server.url(), "https://api.example.com.:6443/", "the URL as kubectl dials it");

    let dns = FakeDns::start().await;
    dns.set("api.example.com.", RecordType::A, Answer::Ips(vec!["74.220.24.10".parse().unwrap()]));
    dns.set("api.example.com.", RecordType::AAAA, Answer::Ips(vec![]));
    let source = KubeconfigSource::new(&Kubeconfig::from_yaml(&yaml).unwrap(), None).unwrap().nameserver(dns.addr);
    assert_eq!(source.gather(IpFamily::Both).await.unwrap(), ["74.220.24.10".parse::<std::net::IpAddr>().unwrap()]);
    assert!(dns.queries() <= 2, "one name asked (A, AAAA), not a search list: {} queries", dns.queries());

    // Two trailing dots, or an empty label, name nothing.
    for server in ["https://api.example.com..:6443", "https://api..example.com:6443", "https://.:6443"] {
        let e = Kubeconfig::from_yaml(&config("a", server)).unwrap().server(None).unwrap_err();
        assert!(matches!(e, KubeconfigError::BadServer { .. }), "{server}: {e:?}");
    }
}
