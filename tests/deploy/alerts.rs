//! `alert_rules`: the PrometheusRule's alerts under `promtool test rules`,
//! the tests biting; and `alerts_use_exported_metrics`: every metric the
//! rules and README.md name is one the watcher exports, and README.md's
//! table of the alerts says what the rules do.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::render::{ALERTS, BASE, base, crate_dir, object, run, scratch, text, write_rules};

/// The alerts' unit tests, relative to the crate.
const ALERT_TESTS: &str = "deploy/kubernetes/tests/alerts.test.yml";

// ---------------------------------------------------------------------------
// alert_rules

pub(crate) fn alert_rules() {
    let spec = &object(base(), "PrometheusRule", "civo-egress")["spec"];
    let tests_text = std::fs::read_to_string(crate_dir().join(ALERT_TESTS)).unwrap();
    let dir = scratch("alert-rules");
    let rules = write_rules(&dir, spec);
    std::fs::write(dir.join("alerts.test.yml"), &tests_text).unwrap();
    let out = run(Command::new("promtool").arg("check").arg("rules").arg(&rules));
    assert!(out.status.success(), "promtool check rules:\n{}", text(&out));
    let promtool_test = || run(Command::new("promtool").args(["test", "rules", "alerts.test.yml"]).current_dir(&dir));
    let out = promtool_test();
    assert!(out.status.success(), "promtool test rules:\n{}", text(&out));
    assert!(text(&out).contains("SUCCESS"), "{}", text(&out));

    // Every alert is tested firing and not firing.
    let tests: Value = serde_saphyr::from_str(&tests_text).unwrap();
    assert_eq!(tests["rule_files"], json!(["rules.yml"]));
    let cases: Vec<&Value> = tests["tests"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["alert_rule_test"].as_array().into_iter().flatten())
        .collect();
    for alert in ALERTS {
        let of_it: Vec<&&Value> = cases.iter().filter(|c| c["alertname"] == *alert).collect();
        let firing = of_it.iter().filter(|c| c["exp_alerts"].as_array().is_some_and(|a| !a.is_empty())).count();
        let silent = of_it.iter().filter(|c| c["exp_alerts"].as_array().is_some_and(Vec::is_empty)).count();
        assert!(firing >= 1 && silent >= 2, "{alert}: tested firing {firing} and not firing {silent} times");
    }
    let tested: BTreeSet<&str> = cases.iter().filter_map(|c| c["alertname"].as_str()).collect();
    assert_eq!(tested, ALERTS.iter().copied().collect(), "tests of alerts that do not exist");

    // The tests bite: an alert that never fires, or always does, fails them.
    for (i, alert) in ALERTS.iter().enumerate() {
        for (mutation, expr) in [("never fires", "vector(1) == 0"), ("always fires", "vector(1)")] {
            let mut mutated = spec.clone();
            let rule = mutated["groups"][0]["rules"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|r| r["alert"] == *alert)
                .unwrap();
            rule["expr"] = json!(expr);
            write_rules(&dir, &mutated);
            let out = promtool_test();
            let said = text(&out);
            assert!(!out.status.success(), "alert {i} {alert} {mutation}, yet the tests pass:\n{said}");
            assert!(said.contains(&format!("alertname: {alert},")), "{alert} {mutation}:\n{said}");
        }
    }
    write_rules(&dir, spec);
}

// ---------------------------------------------------------------------------
// alerts_use_exported_metrics

/// Every `civo_egress_*` name in `text` (`civo_egress_[a-z_]+`: a label's
/// name or value never starts so), but a pattern such as `civo_egress_*`.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("civo_egress_") {
        let tail = &rest[at..];
        let end = tail.find(|c: char| !(c.is_ascii_lowercase() || c == '_')).unwrap_or(tail.len());
        if !tail[end..].starts_with('*') {
            names.insert(tail[..end].to_owned());
        }
        rest = &tail[end..];
    }
    names
}

/// `GET path` over HTTP/1.1: the status and the body.
fn http_get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").ok_or_else(|| std::io::Error::other("no end of head"))?;
    let status =
        head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| std::io::Error::other("no status"))?;
    Ok((status, body.to_owned()))
}

/// A loopback address nothing listens on (bound, then let go).
fn free_loopback_addr() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// A child process killed (SIGKILL) if the test ends before it does.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The metric families `civo-egress watch` exports, by their `# TYPE`
/// lines (a counter's with its `_total`): the watcher run on a snapshot of
/// one cluster with an allowlist and `--observe` (an echo service on a
/// closed port: the verdict family is there, whatever it says), scraped
/// once a refresh succeeded, then stopped with SIGTERM.
fn exported_metric_names() -> BTreeSet<String> {
    let dir = scratch("exported-metrics");
    let snapshot = dir.join("topology.json");
    std::fs::write(&snapshot, r#"{"clusters":[{"name":"lab","region":"LON1","egress_ip":"74.220.24.10"}]}"#).unwrap();
    let partner = dir.join("partner.txt");
    std::fs::write(&partner, "74.220.24.10/32\n").unwrap();
    let (listen, closed) = (free_loopback_addr(), free_loopback_addr());
    let args = [
        "watch".to_owned(),
        "--topology".to_owned(),
        snapshot.display().to_string(),
        "--listen".to_owned(),
        listen.to_string(),
        "--interval".to_owned(),
        "60".to_owned(),
        "--allowlist".to_owned(),
        format!("partner={}", partner.display()),
        "--observe".to_owned(),
        "--echo-url".to_owned(),
        format!("http://{closed}/"),
        "--quorum".to_owned(),
        "1".to_owned(),
    ];
    let log = |name: &str| std::fs::File::create(dir.join(name)).unwrap();
    let said = || {
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        format!("{args:?}\nstdout:\n{}stderr:\n{}", read("stdout"), read("stderr"))
    };
    let mut watch = Running(
        Command::new(env!("CARGO_BIN_EXE_civo-egress"))
            .args(&args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &dir)
            .stdout(log("stdout"))
            .stderr(log("stderr"))
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = watch.0.try_wait().unwrap() {
            panic!("civo-egress watch ended ({status}) before it was ready: {}", said());
        }
        if matches!(http_get(listen, "/readyz"), Ok((200, _))) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "civo-egress watch not ready within 60 s: {}", said());
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, body) = http_get(listen, "/metrics").unwrap();
    assert_eq!(status, 200, "{body}");
    let stop = Command::new("kill").args(["-s", "TERM", &watch.0.id().to_string()]).status().unwrap();
    assert!(stop.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = watch.0.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "civo-egress watch did not stop on SIGTERM: {}", said());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "civo-egress watch stopped with {status}: {}", said());
    let names: BTreeSet<String> = body
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_owned)
        .collect();
    // The scrape is the one it seems: samples of the families it names.
    for family in ["civo_egress_build_info", "civo_egress_allowlist_covered", "civo_egress_verdict"] {
        assert!(names.contains(family), "{family} not exported:\n{body}");
    }
    names
}

/// README.md's table of the alerts: (alert, expression, for, severity,
/// meaning) per row, the expression's `\|` unescaped.
fn readme_alert_table(readme: &str) -> Vec<[String; 5]> {
    let section = readme.split("\n## The alerts\n").nth(1).expect("a section \"The alerts\"");
    section
        .lines()
        .filter(|l| l.starts_with("| `CivoEgress"))
        .map(|row| {
            let cells: Vec<String> = row
                .replace("\\|", "\u{0}")
                .split('|')
                .map(|c| c.trim().trim_matches('`').replace('\u{0}', "|"))
                .collect();
            assert_eq!(cells.len(), 7, "README.md's row of the alerts has not 5 cells: {row}");
            [cells[1].clone(), cells[2].clone(), cells[3].clone(), cells[4].clone(), cells[5].clone()]
        })
        .collect()
}

pub(crate) fn alerts_use_exported_metrics() {
    let rule_text = std::fs::read_to_string(crate_dir().join(BASE).join("prometheusrule.yaml")).unwrap();
    let rule: Value = serde_saphyr::from_str(&rule_text).unwrap();
    let rules: Vec<&Value> =
        rule["spec"]["groups"].as_array().unwrap().iter().flat_map(|g| g["rules"].as_array().unwrap()).collect();
    let names: Vec<&str> = rules.iter().map(|r| r["alert"].as_str().unwrap()).collect();
    assert_eq!(names, ALERTS);
    let readme = std::fs::read_to_string(crate_dir().join(BASE).join("README.md")).unwrap();

    // What the rules and README.md name, by where.
    let mut named: Vec<(String, BTreeSet<String>)> = Vec::new();
    for r in &rules {
        let alert = r["alert"].as_str().unwrap();
        let expr = r["expr"].as_str().unwrap();
        let used = metric_names(expr);
        assert!(!used.is_empty(), "{alert}: no civo_egress_ metric in {expr:?}");
        named.push((format!("{alert}'s expression"), used));
        let annotations = r["annotations"].as_object().unwrap().values().map(|v| v.as_str().unwrap());
        named.push((format!("{alert}'s annotations"), metric_names(&annotations.collect::<Vec<_>>().join("\n"))));
    }
    named.push(("README.md".to_owned(), metric_names(&readme)));
    let exported = exported_metric_names();
    for (place, used) in &named {
        let unknown: Vec<&String> = used.iter().filter(|m| !exported.contains(*m)).collect();
        assert!(unknown.is_empty(), "{place} names {unknown:?}, which the watcher does not export: {exported:?}");
    }

    // README.md's table says what the rules do, one row for each alert,
    // in ALERTS' order, each with its meaning.
    let rows = readme_alert_table(&readme);
    let listed: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(listed, ALERTS, "README.md's table of the alerts");
    for row in &rows {
        assert!(!row[4].is_empty(), "{}: no meaning in README.md's table", row[0]);
    }
    let table: Vec<[String; 4]> = rows.into_iter().map(|[a, e, f, s, _]| [a, e, f, s]).collect();
    let want: Vec<[String; 4]> = rules
        .iter()
        .map(|r| {
            let field = |v: &Value| v.as_str().unwrap_or("").to_owned();
            [field(&r["alert"]), field(&r["expr"]), field(&r["for"]), field(&r["labels"]["severity"])]
        })
        .collect();
    assert_eq!(table, want, "README.md's table of the alerts");
}
