//! Every file a command reads on the user's behalf, and its standard
//! output: a FIFO with no writer, `/dev/zero` or a file past its cap is
//! exit 2 at once with one line naming the file; a failed write of the
//! output (a full disk) is exit 3, a closed pipe keeps the command's code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{binary, stderr, stdout, tmp};

/// Longer than any of these commands takes, far shorter than a hang.
const PROMPTLY: Duration = Duration::from_secs(20);

/// Runs the binary with a clean environment (and `env`), killed and failed
/// if it has not exited within [`PROMPTLY`].
fn run_promptly(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(binary())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("HOME", "/nonexistent")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > PROMPTLY {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("civo-egress {args:?} still runs after {PROMPTLY:?}: {}", stderr(&out));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Exit 2, one line on stderr that names `file` and says `why`, nothing on stdout.
fn assert_refused(out: &Output, file: &Path, why: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(&file.display().to_string()), "does not name {}: {err}", file.display());
    assert!(err.contains(why), "does not say {why:?}: {err}");
    assert!(stdout(out).is_empty(), "{}", stdout(out));
}

/// A FIFO that nothing writes to, in a directory of its own.
fn fifo(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("civo-egress-cli-files-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fifo");
    let made = Command::new("mkfifo").arg(&path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo is needed by this test");
    path
}

/// A sparse file of `len` zero bytes (none written).
fn sparse(name: &str, len: u64) -> PathBuf {
    let path = tmp(name, "");
    std::fs::File::create(&path).unwrap().set_len(len).unwrap();
    path
}

#[test]
fn snapshots_and_allowlists_that_are_fifos_or_devices_are_exit_2_at_once() {
    let fifo = fifo("topology");
    let zero = Path::new("/dev/zero");
    let example = tmp("files-example.json", include_str!("../../examples/topology.json"));
    let list = tmp("files-list.txt", "212.2.253.151\n");
    for (file, why) in
        [(fifo.as_path(), "not a regular file (a FIFO)"), (zero, "not a regular file (a character device)")]
    {
        let f = file.to_str().unwrap();
        let (e, l) = (example.to_str().unwrap(), list.to_str().unwrap());
        for args in [
            &["classify", "--topology", f, "1.2.3.4"][..],
            &["whitelist", "--topology", f],
            &["audit", "--topology", f, l],
            &["audit", "--topology", e, f],
            &["diff", f, e],
            &["diff", e, f],
        ] {
            assert_refused(&run_promptly(args, &[]), file, why);
        }
        // Through CIVO_EGRESS_TOPOLOGY too.
        assert_refused(&run_promptly(&["whitelist"], &[("CIVO_EGRESS_TOPOLOGY", f)]), file, why);
    }
    let _ = std::fs::remove_dir_all(fifo.parent().unwrap());
}

#[cfg(target_os = "linux")]
#[test]
fn a_proc_file_is_read_for_what_it_holds_not_its_length() {
    // /proc reports a length of 0: the snapshot is read, and is not JSON.
    let out = run_promptly(&["whitelist", "--topology", "/proc/self/status"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!stderr(&out).contains("cannot read"), "{}", stderr(&out));
    assert!(stderr(&out).contains("/proc/self/status"), "{}", stderr(&out));
}

#[test]
fn kubeconfigs_that_are_fifos_devices_or_too_large_are_exit_2_at_once() {
    let fifo = fifo("kubeconfig");
    let big = sparse("big-kubeconfig", (4 << 20) + 1);
    let cases = [
        (fifo.as_path(), "not a regular file (a FIFO)"),
        (Path::new("/dev/zero"), "not a regular file (a character device)"),
        (big.as_path(), "larger than 4194304 bytes"),
    ];
    for (file, why) in cases {
        let f = file.to_str().unwrap();
        assert_refused(&run_promptly(&["resolve", "--no-observe", "--kubeconfig", f], &[]), file, why);
        // KUBECONFIG names it.
        assert_refused(&run_promptly(&["resolve", "--no-observe", "--context", "x"], &[("KUBECONFIG", f)]), file, why);
        if cfg!(feature = "probe") {
            let out = run_promptly(&["probe", "--kubeconfig", f, "--topology", "examples/topology.json"], &[]);
            assert_refused(&out, file, why);
        }
    }
    let _ = std::fs::remove_dir_all(fifo.parent().unwrap());
}

#[test]
fn a_civo_config_that_is_a_fifo_a_device_or_too_large_is_exit_2_at_once() {
    let fifo = fifo("civo-config");
    let big = sparse("big-civo.json", (1 << 20) + 1);
    let cases = [
        (fifo.as_path(), "not a regular file (a FIFO)"),
        (Path::new("/dev/zero"), "not a regular file (a character device)"),
        (big.as_path(), "larger than 1048576 bytes"),
    ];
    for (file, why) in cases {
        let out = run_promptly(&["discover"], &[("CIVO_CONFIG", file.to_str().unwrap())]);
        assert_refused(&out, file, why);
    }
    // ~/.civo.json as a FIFO: refused too, not waited on.
    let home = fifo.parent().unwrap();
    std::fs::rename(&fifo, home.join(".civo.json")).unwrap();
    let out = run_promptly(&["discover"], &[("HOME", home.to_str().unwrap())]);
    assert_refused(&out, &home.join(".civo.json"), "not a regular file (a FIFO)");
    let _ = std::fs::remove_dir_all(home);
}

/// Runs with stdout on `/dev/full`: every write fails with ENOSPC.
#[cfg(target_os = "linux")]
fn run_to_dev_full(args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("HOME", "/nonexistent")
        .stdout(Stdio::from(std::fs::File::create("/dev/full").unwrap()))
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_exit_3_and_one_line() {
    let list = tmp("full-list.txt", "212.2.253.151\n10.0.0.0/8\n");
    for args in [
        &["classify", "--example", "10.42.0.7"][..],
        &["whitelist", "--example"],
        &["whitelist", "--example", "--format", "nftables"],
        &["audit", "--example", list.to_str().unwrap()],
        &["man"],
        &["man", "classify"],
        &["completions", "bash"],
        &["--help"],
    ] {
        let out = run_to_dev_full(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        let last = err.lines().last().unwrap_or_default();
        assert!(last.starts_with("error: cannot write standard output: "), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// `| head -c 1`: the reader takes one byte and goes; the command keeps its
/// own code (1: the audit finds errors), with no error line.
#[test]
fn a_closed_pipe_keeps_the_commands_code() {
    let list: String = (0..20_000).map(|i| format!("10.42.{}.{}\n", i / 250, i % 250 + 1)).collect();
    let list = tmp("head-c-1.txt", &list);
    for (args, code) in
        [(&["audit", "--example", list.to_str().unwrap()][..], 1), (&["man"][..], 0), (&["completions", "bash"][..], 0)]
    {
        let mut child = Command::new(binary())
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut one = [0u8; 1];
        std::io::Read::read_exact(&mut stdout, &mut one).unwrap();
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("cannot write"), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{args:?}: {}", stderr(&out));
    }
}

/// A full (or closed) stderr loses the lines written there, never the
/// command: no panic (exit 101), the command's own code.
#[cfg(target_os = "linux")]
#[test]
fn a_full_stderr_never_panics() {
    let run = |args: &[&str]| {
        Command::new(binary())
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_clear()
            .env("HOME", "/nonexistent")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create("/dev/full").unwrap()))
            .output()
            .unwrap()
    };
    // The example's note goes to stderr; the answer to stdout.
    let out = run(&["classify", "--example", "212.2.253.151"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("212.2.253.151"));
    // A failure's one line goes to stderr: its code stays.
    assert_eq!(run(&["classify", "--topology", "/nonexistent/snapshot.json", "8.8.8.8"]).status.code(), Some(2));
}
