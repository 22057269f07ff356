//! The `civo-egress` binary, run as a user runs it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "cli/audit.rs"]
mod audit;
#[path = "cli/caveats.rs"]
mod caveats;
mod common;
#[path = "cli/diff.rs"]
mod diff;
#[path = "cli/files.rs"]
mod files;
#[path = "cli/man.rs"]
mod man;
#[cfg(feature = "probe")]
#[path = "cli/probe.rs"]
mod probe;
#[allow(dead_code)] // its `main`: the test calls `check`
#[path = "../examples/startup_check.rs"]
mod startup_check;
#[path = "cli/verdict.rs"]
mod verdict;
#[path = "cli/watch/mod.rs"]
mod watch;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The binary under test: this build's, or `CIVO_EGRESS_TEST_BIN` (the
/// release build, for the footprint figures of the README).
fn binary() -> PathBuf {
    std::env::var_os("CIVO_EGRESS_TEST_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_civo-egress")), PathBuf::from)
}

fn run(args: &[&str]) -> Output {
    run_with(args, &[])
}

/// Runs with a clean environment: no Civo key or config but what is given.
fn run_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(binary())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("HOME", "/nonexistent")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// Runs the CLI on a blocking thread while the test's runtime serves.
async fn run_async(args: &[&str], env: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_with(&args, &env)
    })
    .await
    .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn tmp(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("civo-egress-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// One line on stderr, exit 2, no panic or backtrace.
fn assert_bad_input(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(needle), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(stdout(out).is_empty());
}

#[test]
fn classify_json_answers_each_ip_in_order() {
    let out =
        run(&["classify", "--example", "--format", "json", "10.42.0.7", "212.2.253.151", "212.2.251.1", "192.168.1.4"]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rows = json.as_array().unwrap();
    let got: Vec<(&str, &str, bool)> = rows
        .iter()
        .map(|r| (r["ip"].as_str().unwrap(), r["class"].as_str().unwrap(), r["whitelistable"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("10.42.0.7", "pod", false),
            ("212.2.253.151", "egress", true),
            ("212.2.251.1", "load-balancer", false),
            ("192.168.1.4", "node", false)
        ]
    );
    assert_eq!(rows[0]["clusters"], serde_json::json!(["my-cluster"]));
    assert!(rows.iter().all(|r| r["reason"].as_str().is_some_and(|s| !s.is_empty())));
}

#[test]
fn classify_text_prints_one_line_per_ip() {
    let out = run(&["classify", "--example", "212.2.253.14", "8.8.8.8"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("212.2.253.14 load-balancer [my-cluster]: "), "{text}");
    assert!(lines[1].starts_with("8.8.8.8 public: "), "{text}");
}

#[test]
fn whitelist_text_and_json() {
    let out = run(&["whitelist", "--example"]);
    assert_eq!((out.status.code(), stdout(&out).as_str()), (Some(0), "212.2.253.151/32\n"));
    let out = run(&["whitelist", "--example", "--format", "json", "--cluster", "my-cluster"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json[0]["cidr"], "212.2.253.151/32");
    assert_eq!(json[0]["clusters"], serde_json::json!(["my-cluster"]));
    assert!(json[0]["reason"].is_string());
    let topology = tmp("two.json", include_str!("fixtures/architecture-snapshot.json"));
    let out = run(&["whitelist", "--topology", topology.to_str().unwrap()]);
    assert_eq!(stdout(&out), "74.220.24.10/32\n74.220.24.77/32\n");
}

#[test]
fn audit_exit_codes_and_json() {
    let good = tmp("good.txt", "# partner\n212.2.253.151/32 # my-cluster egress\n");
    let out = run(&["audit", "--example", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let bad = tmp("bad.txt", "212.2.251.1\n10.0.0.0/8\n1.1.1.1\n");
    let out = run(&["audit", "--example", "--format", "json", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["ok"], false);
    let findings = json["findings"].as_array().unwrap();
    let kinds: Vec<(&str, &str, &str)> = findings
        .iter()
        .map(|f| (f["entry"].as_str().unwrap(), f["kind"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&("212.2.251.1", "load-balancer", "error")), "{kinds:?}");
    assert!(kinds.contains(&("10.0.0.0/8", "too-broad", "error")), "{kinds:?}");
    assert!(!kinds.contains(&("10.0.0.0/8", "pod", "error")), "a catch-all is one finding: {kinds:?}");
    assert!(kinds.contains(&("1.1.1.1", "public", "info")), "{kinds:?}");
    assert!(kinds.contains(&("212.2.253.151/32", "missing-egress", "error")), "{kinds:?}");
    assert!(findings.iter().all(|f| f["clusters"].is_array() && f["reason"].is_string()));
}

#[test]
fn diff_exit_codes() {
    let old = tmp("old.json", include_str!("../examples/topology.json"));
    let same = run(&["diff", old.to_str().unwrap(), old.to_str().unwrap()]);
    assert_eq!((same.status.code(), stdout(&same).as_str()), (Some(0), "no changes\n"));
    let new = tmp("new.json", &include_str!("../examples/topology.json").replace("212.2.253.151", "212.2.253.160"));
    let out = run(&["diff", "--format", "json", old.to_str().unwrap(), new.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["drift"], true);
    assert_eq!(json["changes"][0]["change"], "egress-changed");
    assert_eq!(json["changes"][0]["old"], "212.2.253.151");
    assert_eq!(json["changes"][0]["new"], "212.2.253.160");
    let grown = tmp(
        "grown.json",
        &include_str!("../examples/topology.json").replace(r#""reserved_ips""#, "x").replacen(
            '{',
            r#"{"reserved_ips": [{"name": "r", "ip": "74.220.27.5"}],"#,
            1,
        ),
    );
    let out = run(&["diff", old.to_str().unwrap(), grown.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "an added reserved IP is not drift: {}", stdout(&out));
    assert_eq!(stdout(&out), "reserved IP r added (74.220.27.5)\n");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    assert_bad_input(&run(&["classify", "10.42.0.300"]), "\"10.42.0.300\" is not an IP address");
    assert_bad_input(&run(&["classify", "--bogus", "1.2.3.4"]), "--bogus");
    assert_bad_input(&run(&["classify"]), "required arguments were not provided: <IP>...");
    assert_bad_input(&run(&["frobnicate"]), "frobnicate");
    assert_bad_input(&run(&["classify", "--format", "yaml", "1.2.3.4"]), "yaml");
    assert_bad_input(&run(&["whitelist", "--topology", "/nonexistent/t.json"]), "cannot read /nonexistent/t.json");
    let example = tmp("example.json", include_str!("../examples/topology.json"));
    let example = example.to_str().unwrap();
    assert_bad_input(&run(&["whitelist", "--topology", example, "--cluster", "nope"]), "no cluster named \"nope\"");
    let broken = tmp("broken.json", r#"{"clusters": [{"name": "p", "egress_ip": "your.cluster.ip.address"}]}"#);
    assert_bad_input(
        &run(&["whitelist", "--topology", broken.to_str().unwrap()]),
        "clusters[0].egress_ip: invalid IP address",
    );
    let list = tmp("list.txt", "1.2.3.4\nnot-an-ip\n");
    assert_bad_input(&run(&["audit", "--topology", example, list.to_str().unwrap()]), "line 2");
    assert_bad_input(&run(&["diff", "/nonexistent/a.json", "/nonexistent/b.json"]), "cannot read");
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    let mut child = Command::new(binary())
        .args(["classify", "--example", "10.42.0.7"].iter().copied().chain(std::iter::repeat_n("8.8.8.8", 20_000)))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // as `| head -1` does, before the output ends
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn help_exits_0() {
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("classify"));
}

/// `| head` on a command that finds something: the finding's exit code, not
/// 0 and not a panic. The output (20k findings) is far larger than a pipe's
/// buffer, so the writes that follow the close fail.
#[test]
fn a_closed_stdout_keeps_the_commands_exit_code() {
    let list: String = (0..20_000).map(|i| format!("10.42.{}.{}\n", i / 250, i % 250 + 1)).collect();
    let list = tmp("many-pods.txt", &list);
    let mut child = Command::new(binary())
        .args(["audit", "--example", list.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap(); // it has started writing
    drop(stdout); // as `| head -1` does, before the output ends
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn no_topology_is_exit_2_and_one_line_saying_how_to_get_one() {
    for args in [&["classify", "1.2.3.4"][..], &["whitelist"], &["audit", "/dev/null"]] {
        let out = run(args);
        assert_bad_input(&out, "civo-egress discover > account.json");
        assert!(stderr(&out).contains("--example"), "{}", stderr(&out));
        assert!(stderr(&out).contains("CIVO_EGRESS_TOPOLOGY"), "{}", stderr(&out));
    }
}

#[test]
fn the_topology_comes_from_civo_egress_topology_and_example_says_so() {
    let snapshot = tmp("env.json", include_str!("fixtures/architecture-snapshot.json"));
    let out = run_with(&["whitelist"], &[("CIVO_EGRESS_TOPOLOGY", snapshot.to_str().unwrap())]);
    assert_eq!((out.status.code(), stdout(&out).as_str()), (Some(0), "74.220.24.10/32\n74.220.24.77/32\n"));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let out = run_with(&["whitelist", "--example"], &[("CIVO_EGRESS_TOPOLOGY", snapshot.to_str().unwrap())]);
    assert_eq!(stdout(&out), "212.2.253.151/32\n", "--example beats the environment");
    assert!(stderr(&out).contains("embedded example topology"), "{}", stderr(&out));
    let out = run(&["whitelist", "--example", "--topology", snapshot.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn local_input_past_the_cap_is_exit_2() {
    let example = tmp("cap-example.json", include_str!("../examples/topology.json"));
    let example = example.to_str().unwrap();
    let big = tmp("big.txt", &"#".repeat(16 * 1024 * 1024 + 1));
    assert_bad_input(&run(&["audit", "--topology", example, big.to_str().unwrap()]), "larger than 16 MiB");
    let exact = tmp("exact.txt", &format!("212.2.253.151/32\n{}", "#".repeat(16 * 1024 * 1024 - 17)));
    let out = run(&["audit", "--topology", example, exact.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "16 MiB is allowed: {}", stderr(&out));
    assert_bad_input(&run(&["whitelist", "--topology", big.to_str().unwrap()]), "larger than 16 MiB");
    let mut child = Command::new(binary())
        .args(["whitelist", "--topology", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // It stops reading at the cap and exits: a broken pipe here is expected.
        let _ = std::io::Write::write_all(&mut stdin, &vec![b' '; 17 * 1024 * 1024]);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_bad_input(&out, "standard input is larger than 16 MiB");
}

#[test]
fn audit_text_reads_like_a_compiler() {
    let bad = tmp("compiler.txt", "212.2.251.1\n10.0.0.0/8\n");
    let path = bad.to_str().unwrap();
    let out = run(&["audit", "--example", path]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let findings: Vec<&str> = text.lines().filter(|l| l.starts_with(path)).collect();
    assert!(findings.len() >= 3, "{text}");
    assert!(findings.iter().all(|l| l.contains(": error: ") || l.contains(": info: ")), "{text}");
    // The entries' own lines, as a compiler names them; the missing egress IP has no line.
    assert!(findings.iter().any(|l| l.starts_with(&format!("{path}:1: error: "))), "{text}");
    assert!(findings.iter().any(|l| l.starts_with(&format!("{path}:2: error: "))), "{text}");
    assert!(findings.iter().any(|l| l.starts_with(&format!("{path}: error: "))), "{text}");
}

#[test]
fn whitelist_speaks_each_format() {
    for format in ["text", "json", "nftables", "iptables", "terraform"] {
        let out = run(&["whitelist", "--example", "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        assert!(stdout(&out).contains("212.2.253.151"), "{format}: {}", stdout(&out));
    }
    assert_bad_input(&run(&["whitelist", "--example", "--format", "pf"]), "pf");
}

#[test]
fn version_completions_and_man() {
    let out = run(&["--version"]);
    assert_eq!((out.status.code(), stdout(&out)), (Some(0), format!("civo-egress {}\n", env!("CARGO_PKG_VERSION"))));
    let commands = ["classify", "whitelist", "audit", "discover", "resolve", "probe", "diff", "completions", "man"];
    let bash = run(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    for command in commands {
        assert!(stdout(&bash).contains(command), "bash completion lacks {command}");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = run(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        assert!(stdout(&out).contains("whitelist"), "{shell}");
    }
    assert_eq!(run(&["completions", "tcsh"]).status.code(), Some(2));
    let man = run(&["man"]);
    assert_eq!(man.status.code(), Some(0));
    let page = stdout(&man);
    assert!(page.lines().any(|l| l.starts_with(".TH civo-egress 1")), "{page}");
    // Where a roff formatter is installed, the page must format cleanly.
    let formatter = [("groff", &["-man", "-Tutf8", "-ww", "-z"][..]), ("man", &["-l", "-"][..])]
        .into_iter()
        .find(|(tool, _)| Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success()));
    match formatter {
        Some((tool, args)) => {
            let mut child = Command::new(tool)
                .args(args)
                .env("MANPAGER", "cat")
                .env("MANWIDTH", "100")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::io::Write::write_all(&mut child.stdin.take().unwrap(), page.as_bytes()).unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{tool}: {}", stderr(&out));
            assert!(stderr(&out).is_empty(), "{tool} warns: {}", stderr(&out));
        }
        None => eprintln!("no groff or man here: the man page's roff was not formatted"),
    }
}

/// Every command's `--help` names the environment variables it reads, the
/// exit codes, and gives every flag a help text.
#[test]
fn help_names_the_environment_and_the_exit_codes() {
    let env: [(&str, &[&str]); 7] = [
        ("classify", &["CIVO_EGRESS_TOPOLOGY"]),
        ("whitelist", &["CIVO_EGRESS_TOPOLOGY"]),
        ("audit", &["CIVO_EGRESS_TOPOLOGY"]),
        ("discover", &["CIVO_TOKEN", "CIVO_CONFIG", "CIVO_REGION", "CIVO_API_URL"]),
        (
            "resolve",
            &[
                "CIVO_TOKEN",
                "CIVO_CONFIG",
                "CIVO_REGION",
                "CIVO_API_URL",
                "KUBECONFIG",
                "CIVO_EGRESS_IP",
                "CIVO_EGRESS_TOPOLOGY",
            ],
        ),
        ("probe", &["KUBECONFIG", "CIVO_TOKEN", "CIVO_CONFIG", "CIVO_REGION", "CIVO_API_URL", "CIVO_EGRESS_TOPOLOGY"]),
        ("diff", &[]),
    ];
    for (command, vars) in env {
        let out = run(&[command, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{command}");
        let help = stdout(&out);
        for var in vars {
            assert!(help.contains(var), "{command} --help does not name {var}");
        }
        for code in ["0  ok", "1  a finding", "2  bad input", "3  a runtime failure"] {
            assert!(help.contains(code), "{command} --help lacks exit code {code:?}");
        }
        // A flag's help is on its line (after two spaces) or, in clap's long
        // layout, on the more indented line under it.
        let lines: Vec<&str> = help.lines().collect();
        let indent = |l: &str| l.len() - l.trim_start().len();
        for (i, line) in lines.iter().enumerate() {
            let flag = line.trim_start();
            if indent(line) <= 6 && flag.starts_with('-') {
                let inline = flag.split_once("  ").is_some_and(|(_, text)| !text.trim().is_empty());
                let below = lines.get(i + 1).is_some_and(|next| {
                    indent(next) > indent(line) && !next.trim().is_empty() && !next.trim().starts_with('-')
                });
                assert!(inline || below, "{command}: {flag} has no help text");
            }
        }
    }
}

#[test]
fn exit_code_3_when_the_civo_api_is_unreachable_or_too_slow() {
    // A port that refuses: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = run_with(&["discover", "--api-url", &url], &[("CIVO_TOKEN", "k")]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    // A server that accepts and never answers: the deadline passes.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let out = run_with(&["discover", "--api-url", &url, "--timeout", "1"], &[("CIVO_TOKEN", "k")]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    drop(silent);
}

#[cfg(not(feature = "probe"))]
#[test]
fn probe_without_its_feature_says_how_to_build_it() {
    assert_bad_input(&run(&["probe"]), "--features cli,probe");
}

#[tokio::test]
async fn discover_prints_the_snapshot_ready_for_whitelist() {
    let fake = common::civo_api::FakeCivo::account().await;
    let url = fake.url();
    let out = run_async(&["discover", "--api-url", &url], &[("CIVO_TOKEN", common::civo_api::KEY)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let discovered = civo_egress::Topology::from_json(&stdout(&out)).unwrap();
    let expected = civo_egress::Topology::from_json(include_str!("fixtures/account-topology.json")).unwrap();
    assert_eq!(discovered, expected);
    let warnings = stderr(&out);
    // stderr is a pipe here, not a terminal: warnings, and no progress lines.
    assert!(warnings.lines().all(|l| l.starts_with("warning: ")), "{warnings}");
    assert!(
        warnings.starts_with("warning: cluster prod: pods on k3s-prod-8e1c-4b2a1f-node-pool-e7b2-h5j6k"),
        "{warnings}"
    );
    let snapshot = tmp("discovered.json", &stdout(&out));
    let whitelist = run(&["whitelist", "--topology", snapshot.to_str().unwrap()]);
    assert_eq!(stdout(&whitelist), "74.220.24.10/32\n74.220.24.77/32\n74.220.26.44/32\n");
    // `discover | whitelist --topology -`
    let mut piped = Command::new(binary())
        .args(["whitelist", "--topology", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut piped.stdin.take().unwrap(), &out.stdout).unwrap();
    let piped = piped.wait_with_output().unwrap();
    assert_eq!(stdout(&piped), "74.220.24.10/32\n74.220.24.77/32\n74.220.26.44/32\n");
}

#[tokio::test]
async fn discover_takes_the_key_and_url_from_the_civo_cli_config() {
    let fake = common::civo_api::FakeCivo::account().await;
    let config = tmp(
        "civo.json",
        &format!(
            r#"{{"apikeys": {{"ci": "{}"}}, "meta": {{"current_apikey": "ci", "default_region": "LON1", "url": "{}"}}}}"#,
            common::civo_api::KEY,
            fake.url()
        ),
    );
    let out = run_async(&["discover", "--cluster", "staging"], &[("CIVO_CONFIG", config.to_str().unwrap())]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let discovered = civo_egress::Topology::from_json(&stdout(&out)).unwrap();
    assert_eq!(discovered.clusters().len(), 1);
    assert_eq!(civo_egress::Whitelist::of(&discovered).unwrap().to_string(), "74.220.26.44/32\n");
}

#[tokio::test]
async fn discover_failures_are_one_line() {
    let fake = common::civo_api::FakeCivo::account().await;
    let url = fake.url();
    assert_bad_input(&run_async(&["discover", "--api-url", &url], &[]).await, "no Civo API key");
    let insecure = run_async(&["discover", "--api-url", "http://api.civo.com"], &[("CIVO_TOKEN", "k")]).await;
    assert_bad_input(&insecure, "only https://");
    let unknown =
        run_async(&["discover", "--api-url", &url, "--cluster", "nope"], &[("CIVO_TOKEN", common::civo_api::KEY)])
            .await;
    assert_bad_input(&unknown, "no cluster matches \"nope\"");
    let wrong = run_async(&["discover", "--api-url", &url], &[("CIVO_TOKEN", "wrong-key-4242")]).await;
    assert_eq!(wrong.status.code(), Some(3), "a refused key is the API's answer: a runtime failure");
    assert!(stderr(&wrong).contains("unauthorized"), "{}", stderr(&wrong));
    assert!(!stderr(&wrong).contains("wrong-key-4242"));
    assert_eq!(stderr(&wrong).lines().count(), 1);
}

mod resolve {
    use super::*;
    use common::civo_api::{FakeCivo, KEY};
    use common::server::{Reply, echo, echo_reply};

    fn json(out: &Output) -> serde_json::Value {
        serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
    }

    #[tokio::test]
    async fn no_observe_reports_what_the_civo_api_expects() {
        let fake = FakeCivo::account().await;
        let url = fake.url();
        let args = ["resolve", "--no-observe", "--cluster", "prod", "--api-url", &url, "--format", "json"];
        let out = run_async(&args, &[("CIVO_TOKEN", KEY)]).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let report = json(&out);
        assert_eq!(report["cluster"], "prod");
        assert_eq!(report["status"], "expected");
        assert_eq!(report["egress_ips"], serde_json::json!(["74.220.24.10", "74.220.24.77"]));
        let evidence = report["evidence"].as_array().unwrap();
        assert_eq!(evidence.len(), 2);
        assert!(evidence.iter().all(|e| e["source"] == "civo-api" && e["error"].is_null() && e["elapsed_ms"].is_u64()));
        assert!(report["warnings"].as_array().unwrap().iter().any(|w| w["kind"] == "several-expected"
            && w["cluster"] == "prod"
            && w["message"].as_str().unwrap().contains("public-IP")));
    }

    #[tokio::test]
    async fn statuses_and_exit_codes_with_loopback_echo_servers() {
        let fake = FakeCivo::account().await;
        let url = fake.url();
        let (right, wrong, broken) = (
            echo("74.220.24.10\n").await,
            echo("74.220.24.99").await,
            echo_reply(Reply::text(500, "text/plain", "x")).await,
        );
        let base = ["resolve", "--cluster", "prod", "--api-url", url.as_str(), "--format", "json"];
        let cases: [(Vec<&str>, &str, i32); 6] = [
            (vec!["--vantage", "pod", "--echo-url", &right, "--echo-url", &right], "confirmed", 0),
            (vec!["--vantage", "pod", "--echo-url", &wrong, "--echo-url", &wrong], "mismatch", 1),
            // From a laptop, another IP says nothing about the cluster.
            (vec!["--vantage", "host", "--echo-url", &wrong, "--echo-url", &wrong], "expected", 0),
            (vec!["--vantage", "host", "--echo-url", &right, "--echo-url", &right], "expected", 0),
            (vec!["--echo-url", &broken, "--echo-url", &right], "expected", 0),
            (vec!["--echo-url", &broken, "--quorum", "1", "--no-observe"], "expected", 0),
        ];
        for (extra, status, code) in cases {
            let args: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
            let out = run_async(&args, &[("CIVO_TOKEN", KEY)]).await;
            let report = json(&out);
            assert_eq!(
                (report["status"].as_str(), out.status.code()),
                (Some(status), Some(code)),
                "{extra:?}: {report}"
            );
        }
        let out = run_async(&["resolve", "--vantage", "pod", "--echo-url", &right, "--echo-url", &right], &[]).await;
        assert_eq!(out.status.code(), Some(0));
        assert!(stdout(&out).starts_with("egress: observed 74.220.24.10"), "{}", stdout(&out));
        let out = run_async(
            &["resolve", "--vantage", "pod", "--echo-url", &broken, "--quorum", "1", "--format", "json"],
            &[],
        )
        .await;
        assert_eq!((json(&out)["status"].as_str(), out.status.code()), (Some("unknown"), Some(1)));
        let mismatch = run_async(
            &["resolve", "--vantage", "pod", "--echo-url", &wrong, "--echo-url", &wrong],
            &[("CIVO_EGRESS_IP", "74.220.24.10")],
        )
        .await;
        assert_eq!(mismatch.status.code(), Some(1));
        assert!(stdout(&mismatch).contains("gateway node may have been replaced"), "{}", stdout(&mismatch));
    }

    #[tokio::test]
    async fn dns_servers_and_kubeconfigs() {
        let dns = common::dns::FakeDns::start().await;
        dns.opendns(common::dns::Answer::Ips(vec!["74.220.26.44".parse().unwrap()]));
        let server = dns.addr.to_string();
        let kubeconfig = tmp("staging.yaml", &common::civo_api::fixture("account/kubeconfig-prod.yaml"));
        let args = [
            "resolve",
            "--vantage",
            "pod",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--dns-server",
            &server,
            "--quorum",
            "1",
            "--format",
            "json",
        ];
        let out = run_async(&args, &[]).await;
        let report = json(&out);
        assert_eq!(report["cluster"], "prod", "named after the kubeconfig context");
        assert_eq!(report["status"], "mismatch", "{report}");
        // Rule 1: the whitelist grows; one pod proves nothing stale.
        assert_eq!(report["egress_ips"], serde_json::json!(["74.220.24.10", "74.220.26.44"]));
        assert_eq!(report["stale_ips"], serde_json::json!([]));
        assert_eq!(out.status.code(), Some(1));
    }

    #[tokio::test]
    async fn bad_resolve_input_is_one_line() {
        assert_bad_input(&run_async(&["resolve", "--no-observe"], &[]).await, "no egress source");
        assert_bad_input(&run_async(&["resolve", "--dns-server", "nope"], &[]).await, "IP:PORT");
        assert_bad_input(&run_async(&["resolve", "--echo-url", "http://ifconfig.me/ip"], &[]).await, "only https://");
        assert_bad_input(
            &run_async(&["resolve", "--echo-url", "https://a.example"], &[]).await,
            "quorum of 2 can never be reached",
        );
        assert_bad_input(&run_async(&["resolve", "--kubeconfig", "/nonexistent/config"], &[]).await, "no kubeconfig");
        assert_bad_input(&run_async(&["resolve", "--cluster", "prod", "--no-observe"], &[]).await, "no Civo API key");
        let kubeconfig = tmp("prod.yaml", &common::civo_api::fixture("account/kubeconfig-prod.yaml"));
        let out = run_async(
            &["resolve", "--kubeconfig", kubeconfig.to_str().unwrap(), "--context", "dev", "--no-observe"],
            &[],
        )
        .await;
        assert_bad_input(&out, "no context \"dev\"");
    }

    /// The example's own check, called in-process (a test never runs cargo).
    #[tokio::test]
    async fn startup_check_refuses_a_wrong_egress_ip() {
        use civo_egress::resolve::{EvidenceKind, StaticSource};
        let right = echo("74.220.24.10").await;
        let allowlist = tmp("partner.txt", "74.220.24.10/32\n");
        let args = ["--vantage", "pod", allowlist.to_str().unwrap(), right.as_str(), right.as_str()];
        let ok = startup_check::check(args.iter().map(|s| s.to_string()), None).await;
        assert!(ok.as_deref().is_ok_and(|m| m.contains("starting")), "{ok:?}");

        let wrong = echo("74.220.24.99").await;
        let args = ["--vantage", "pod", allowlist.to_str().unwrap(), wrong.as_str(), wrong.as_str()];
        let expected =
            StaticSource::new("env:CIVO_EGRESS_IP", EvidenceKind::Expected, ["74.220.24.10".parse().unwrap()]);
        let refused = startup_check::check(args.iter().map(|s| s.to_string()), Some(expected)).await;
        let text = refused.unwrap_err();
        assert!(text.contains("egress IP 74.220.24.99 is not in the partner's allowlist"), "{text}");
        assert!(text.contains("gateway node may have been replaced"), "{text}");
    }

    #[tokio::test]
    async fn a_snapshot_as_the_expected_source_and_the_lab_opt_in() {
        let right = echo("74.220.24.10").await;
        let snapshot = tmp("account.json", include_str!("fixtures/account-topology.json"));
        let args = [
            "resolve",
            "--topology",
            snapshot.to_str().unwrap(),
            "--cluster",
            "prod",
            "--vantage",
            "pod",
            "--echo-url",
            &right,
            "--echo-url",
            &right,
            "--format",
            "json",
        ];
        let out = run_async(&args, &[]).await;
        assert_eq!(
            (json(&out)["status"].as_str(), out.status.code()),
            (Some("confirmed"), Some(0)),
            "{}",
            stderr(&out)
        );
        let args = ["resolve", "--topology", snapshot.to_str().unwrap(), "--no-observe"];
        assert_bad_input(&run_async(&args, &[]).await, "name the cluster with --cluster");

        let lab = tmp("lab.json", r#"{"clusters": [{"name": "lab", "egress_ip": "203.0.113.10"}]}"#);
        let echo_lab = echo("203.0.113.10").await;
        let strict = ["resolve", "--topology", lab.to_str().unwrap(), "--echo-url", &echo_lab, "--quorum", "1"];
        assert_bad_input(&run_async(&strict, &[]).await, "not a global unicast address");
        let opted = [
            "resolve",
            "--vantage",
            "pod",
            "--topology",
            lab.to_str().unwrap(),
            "--echo-url",
            &echo_lab,
            "--quorum",
            "1",
            "--allow-non-global",
            "--format",
            "json",
        ];
        let out = run_async(&opted, &[]).await;
        let report = json(&out);
        assert_eq!(
            (report["status"].as_str(), report["cluster"].as_str()),
            (Some("confirmed"), Some("lab")),
            "{report}"
        );
        let refused = ["resolve", "--echo-url", "http://198.51.100.80/", "--quorum", "1"];
        assert_bad_input(&run_async(&refused, &[]).await, "only https://");
    }
}
