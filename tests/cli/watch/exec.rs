//! `watch --exec`: each event to the command, its failures counted.

use serde_json::Value;

use super::{Watch, event, eventually, kinds, sample, snapshot, tmp, watch};

#[test]
fn exec_gets_each_event_and_its_failures_are_counted_without_blocking() {
    let file = tmp("watch-exec-events.jsonl", "");
    let cases = [(format!("cat >> '{}'", file.display()), "10"), ("exit 3".into(), "10"), ("sleep 37".into(), "6")];
    for (i, (cmd, timeout)) in cases.iter().enumerate() {
        let path = tmp(&format!("watch-exec-{i}.json"), "");
        snapshot(&path, "74.220.24.10");
        let mut w =
            watch(&["--interval", "1", "--topology", path.to_str().unwrap(), "--exec", cmd, "--exec-timeout", timeout]);
        let mut events = w.batch();
        for ip in ["74.220.24.11", "74.220.24.10"] {
            snapshot(&path, ip);
            events.extend(w.batch());
        }
        assert_eq!(kinds(&events), ["cluster-added", "egress-changed", "egress-changed"], "{cmd}");
        let failures = |w: &Watch| sample(&w.metrics(), "civo_egress_exec_failures_total");
        match i {
            0 => {
                let want: Vec<String> = events.iter().map(Value::to_string).collect();
                let got = eventually(5, "cat wrote 3 lines", || {
                    let text = std::fs::read_to_string(&file).unwrap();
                    let lines: Vec<String> = text.lines().map(|l| event(l).to_string()).collect();
                    (lines.len() >= 3).then_some(lines)
                });
                assert_eq!(got, want, "each event's JSON, in order");
                assert_eq!(failures(&w), Some(0.0));
            }
            1 => assert_eq!(eventually(5, "3 failures", || failures(&w).filter(|&n| n >= 3.0)), 3.0),
            _ => {
                // Three events printed while the first command still sleeps: none waits for it.
                assert_eq!(failures(&w), Some(0.0));
                assert_eq!(eventually(10, "3 timeouts", || failures(&w).filter(|&n| n >= 3.0)), 3.0);
                assert!(w.log().contains("--exec killed after 6 s"), "{}", w.log());
                // The whole command went at the timeout, not only its shell.
                eventually(5, "no sleep 37 left", || {
                    let any = std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
                        std::fs::read(entry.path().join("cmdline")).is_ok_and(|c| c == b"sleep\x0037\x00")
                    });
                    (!any).then_some(())
                });
            }
        }
        assert_eq!(w.stop("TERM").code(), Some(0), "{}", w.log());
    }
}

/// Every process whose command line is `sleep SECS`.
fn sleeping(secs: &str) -> bool {
    let want = format!("sleep\0{secs}\0").into_bytes();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .any(|entry| std::fs::read(entry.path().join("cmdline")).is_ok_and(|c| c == want))
}

#[test]
fn once_interrupted_kills_its_hooks_and_is_no_clear_check() {
    let path = tmp("watch-exec-once.json", "");
    snapshot(&path, "74.220.24.10");
    for signal in ["TERM", "INT"] {
        let mut child = std::process::Command::new(super::binary())
            .args(["watch", "--once", "--topology", path.to_str().unwrap(), "--exec", "sleep 41"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        eventually(10, "the hook sleeps", || sleeping("41").then_some(()));
        let kill = std::process::Command::new("kill").args(["-s", signal, &child.id().to_string()]).status().unwrap();
        assert!(kill.success());
        let started = std::time::Instant::now();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "SIG{signal}: an interrupted check is no clear one");
        assert!(started.elapsed() < std::time::Duration::from_secs(3), "{:?}", started.elapsed());
        eventually(5, "no hook left", || (!sleeping("41")).then_some(()));
    }
}
