//! The crate's IANA tables against an oracle the project does not write:
//! Python's `netaddr` (PyPI `netaddr==1.3.0`), whose
//! `IPAddress.is_global()` implements both IANA special-purpose registries
//! (their "Globally Reachable" column). The issue asked for Python 3.13's
//! `ipaddress.is_global` or nightly Rust's `Ip*Addr::is_global`; neither is
//! available here (Python 3.13 is not installable on this Debian 12
//! machine, and nightly Rust cannot be fetched), so `netaddr` stands in:
//! `.ci/run` installs it with pip.
//!
//! The trial generates addresses (both edges of every row of both tables,
//! one below and one above each edge, their IPv4-mapped forms, and 2,000
//! random IPv4 and 2,000 random IPv6 addresses from a fixed seed), asks
//! `netaddr` about all of them in one `python3` subprocess (addresses on
//! stdin, one answer per line), and compares with
//! `classify_ip(&Topology::empty(), ip).class() == IpClass::Public`. An
//! IPv4-mapped address is asked as the IPv4 address it maps, the crate's
//! documented rule (`netaddr` alone would apply the registry's
//! `::ffff:0:0/96` row, not globally reachable).
//!
//! Where the two deliberately differ, [`KNOWN`] lists the range and why
//! (the most specific entry decides, and an entry may also say that the two
//! must agree inside a wider known disagreement). Every other disagreement
//! fails the trial, naming the address and both answers.
//!
//! This file has its own libtest-mimic harness: when `python3 -c "import
//! netaddr"` fails (or finds another version than 1.3.0, whose tables the
//! known list describes), the trial is reported as ignored, decided at run
//! time and said on stderr, unless the environment has `CI=true`: there it
//! runs, and fails when `netaddr` is missing.
//!
//! The other trials hold `Whitelist::render`'s firewall formats against the
//! tools that read them, on the article's topology (`examples/topology.json`),
//! a dual-stack, an IPv6-only and an empty whitelist: `nft -c -f` and
//! `iptables-restore --test` / `ip6tables-restore --test` accept them, and
//! each loaded twice into a fresh network namespace leaves exactly the
//! whitelist in the set or chain; `python-hcl2` (PyPI, pinned) parses the
//! Terraform lists back to the whitelist. Each tool must also refuse a
//! broken variant. The nftables and iptables trials need root: ignored when
//! not root; when root, ignored when the tool is missing unless `CI=true`
//! (`.ci/run` installs nftables, iptables and python-hcl2).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::{Command, Stdio};

use civo_egress::ipnet::IpNet;
use civo_egress::{IpClass, Topology, Whitelist, WhitelistFormat, classify_ip};

/// The `netaddr` version whose tables [`KNOWN`] describes.
const NETADDR_VERSION: &str = "1.3.0";

/// Every row of the crate's tables (src/special.rs), globally reachable
/// ones included: the edges of each are probed.
const ROWS: &[&str] = &[
    "0.0.0.0/8",
    "0.0.0.0/32",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "169.254.169.254/32",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.0.0/29",
    "192.0.0.8/32",
    "192.0.0.9/32",
    "192.0.0.10/32",
    "192.0.0.170/32",
    "192.0.0.171/32",
    "192.0.2.0/24",
    "192.31.196.0/24",
    "192.52.193.0/24",
    "192.88.99.0/24",
    "192.88.99.2/32",
    "192.168.0.0/16",
    "192.175.48.0/24",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "255.255.255.255/32",
    "::/3",
    "4000::/2",
    "8000::/1",
    "::/96",
    "::1/128",
    "::/128",
    "::ffff:0:0/96",
    "64:ff9b::/96",
    "64:ff9b:1::/48",
    "100::/64",
    "100:0:0:1::/64",
    "2001::/23",
    "2001::/32",
    "2001:1::1/128",
    "2001:1::2/128",
    "2001:1::3/128",
    "2001:2::/48",
    "2001:3::/32",
    "2001:4:112::/48",
    "2001:10::/28",
    "2001:20::/28",
    "2001:30::/28",
    "2001:db8::/32",
    "2002::/16",
    "2620:4f:8000::/48",
    "3fff::/20",
    "5f00::/16",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
];

/// What the crate and `netaddr` are expected to say inside a range.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// They deliberately differ here, for this reason.
    Differ(&'static str),
    /// They must agree here, although a wider range is a known difference.
    Agree(&'static str),
}

use Expect::{Agree, Differ};

/// The known, deliberate disagreements (and the agreements nested in
/// them). The most specific range containing an address decides.
const KNOWN: &[(&str, Expect)] = &[
    (
        "224.0.0.0/4",
        Differ(
            "multicast is in its own registry (RFC 5771), not the special-purpose one, so netaddr calls it globally reachable; no cluster sends from it, the crate calls it special",
        ),
    ),
    (
        "192.88.99.0/24",
        Differ(
            "the deprecated 6to4 relay anycast row has a termination date (2015-03) and netaddr ignores such rows; the crate keeps it special, and the registry says False for its 192.88.99.2/32 row",
        ),
    ),
    (
        "::/3",
        Differ(
            "outside 2000::/3 IANA allocates no global unicast space (RFC 4291, the IPv6 address-space registry): the crate calls it special, netaddr reads only the special-purpose registry",
        ),
    ),
    ("4000::/2", Differ("outside 2000::/3 (see ::/3)")),
    ("8000::/1", Differ("outside 2000::/3 (see ::/3)")),
    ("::/128", Agree("the unspecified address: a registry row netaddr knows")),
    ("::1/128", Agree("loopback: a registry row netaddr knows")),
    ("64:ff9b::/96", Agree("IPv4/IPv6 translation: globally reachable in the registry, and for both")),
    ("64:ff9b:1::/48", Agree("local-use IPv4/IPv6 translation: a registry row netaddr knows")),
    ("100::/64", Agree("discard-only: a registry row netaddr knows")),
    ("100:0:0:1::/64", Differ("dummy IPv6 prefix (RFC 9780, registered 2025-04): newer than netaddr 1.3.0's table")),
    ("5f00::/16", Differ("segment routing SIDs (RFC 9602, registered 2024-04): not in netaddr 1.3.0's table")),
    ("fc00::/7", Agree("unique local: a registry row netaddr knows")),
    ("fe80::/10", Agree("link-local: a registry row netaddr knows")),
    (
        "2001:1::3/128",
        Differ(
            "DNS-SD service registration protocol anycast (RFC 9665, registered 2024-04), globally reachable: netaddr 1.3.0 still has it under 2001::/23",
        ),
    ),
    ("3fff::/20", Differ("documentation (RFC 9637, registered 2024-07): newer than netaddr 1.3.0's table")),
];

/// Answers, one per line, `1` when globally reachable.
const SCRIPT: &str = r#"
import sys
from netaddr import IPAddress
out = []
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    a = IPAddress(line)
    if a.version == 6 and a.is_ipv4_mapped():
        a = a.ipv4()
    out.append("1" if a.is_global() else "0")
sys.stdout.write("\n".join(out) + "\n")
"#;

/// splitmix64: a fixed seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn mapped(v4: Ipv4Addr) -> IpAddr {
    IpAddr::V6(v4.to_ipv6_mapped())
}

/// The probes: edges of every row, their neighbours, IPv4-mapped forms,
/// and the random addresses.
fn probes() -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    for row in ROWS {
        let net: IpNet = row.parse().unwrap();
        match net {
            IpNet::V4(n) => {
                let (lo, hi) = (u32::from(n.network()), u32::from(n.broadcast()));
                let mut edges = vec![lo, hi];
                edges.extend(lo.checked_sub(1));
                edges.extend(hi.checked_add(1));
                for e in edges {
                    let ip = Ipv4Addr::from(e);
                    out.push(IpAddr::V4(ip));
                    out.push(mapped(ip));
                }
            }
            IpNet::V6(n) => {
                let (lo, hi) = (u128::from(n.network()), u128::from(n.broadcast()));
                let mut edges = vec![lo, hi];
                edges.extend(lo.checked_sub(1));
                edges.extend(hi.checked_add(1));
                out.extend(edges.into_iter().map(|e| IpAddr::V6(Ipv6Addr::from(e))));
            }
        }
    }
    let mut rng = Rng(0x00c1_7e96_2026_0011);
    for _ in 0..2_000 {
        let ip = Ipv4Addr::from(rng.next() as u32);
        out.push(IpAddr::V4(ip));
    }
    // Three in four inside 2000::/3, where the registries matter; one in
    // four anywhere.
    for i in 0..2_000 {
        let mut bits = (u128::from(rng.next()) << 64) | u128::from(rng.next());
        if i % 4 != 0 {
            bits = (bits & (u128::MAX >> 3)) | (1u128 << 125);
        }
        out.push(IpAddr::V6(Ipv6Addr::from(bits)));
    }
    out
}

/// What `netaddr` says of each address: globally reachable or not.
fn ask_netaddr(ips: &[IpAddr]) -> Result<Vec<bool>, String> {
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    let mut input = String::new();
    for ip in ips {
        input.push_str(&ip.to_string());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // Written from a thread: the child may fill its stdout pipe first.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().map_err(|e| format!("python3 failed: {e}"))?;
    writer.join().expect("the writer thread does not panic").map_err(|e| format!("writing to python3: {e}"))?;
    if !output.status.success() {
        return Err(format!("python3 exited with {}: {}", output.status, String::from_utf8_lossy(&output.stderr)));
    }
    let answers: Vec<bool> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| match line.trim() {
            "1" => Ok(true),
            "0" => Ok(false),
            other => Err(format!("unexpected answer from python3: {other:?}")),
        })
        .collect::<Result<_, _>>()?;
    if answers.len() != ips.len() {
        return Err(format!("python3 answered {} lines for {} addresses", answers.len(), ips.len()));
    }
    Ok(answers)
}

/// The most specific known range holding `ip` (IPv4-mapped counts as IPv4).
fn known(ip: IpAddr) -> Option<(IpNet, Expect)> {
    let ip = ip.to_canonical();
    KNOWN
        .iter()
        .map(|&(net, expect)| (net.parse::<IpNet>().unwrap(), expect))
        .filter(|(net, _)| net.contains(&ip))
        .max_by_key(|(net, _)| net.prefix_len())
}

fn iana_tables_agree_with_netaddr() -> Result<(), libtest_mimic::Failed> {
    let ips = probes();
    let answers = ask_netaddr(&ips)?;
    let empty = Topology::empty();
    let mut unexpected = Vec::new();
    let mut known_differences: Vec<(IpNet, &str, usize)> = Vec::new();
    for (&ip, &netaddr_global) in ips.iter().zip(&answers) {
        let classified = classify_ip(&empty, ip);
        let public = classified.class() == IpClass::Public;
        if public == netaddr_global {
            continue;
        }
        match known(ip) {
            Some((net, Differ(why))) => match known_differences.iter_mut().find(|(n, _, _)| *n == net) {
                Some((_, _, count)) => *count += 1,
                None => known_differences.push((net, why, 1)),
            },
            Some((net, Agree(why))) => unexpected.push(format!(
                "{ip}: crate {} ({}), netaddr is_global={netaddr_global}; must agree inside {net}: {why}",
                classified.class(),
                classified.reason()
            )),
            None => unexpected.push(format!(
                "{ip}: crate {} ({}), netaddr is_global={netaddr_global}",
                classified.class(),
                classified.reason()
            )),
        }
    }
    let total: usize = known_differences.iter().map(|k| k.2).sum();
    eprintln!("tests/oracles.rs: {} addresses, {total} known differences, {} unexpected", ips.len(), unexpected.len());
    for (net, why, count) in &known_differences {
        eprintln!("  {net}: {count} ({why})");
    }
    if unexpected.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} disagreements with netaddr outside the known list:\n{}",
            unexpected.len(),
            unexpected.join("\n")
        )
        .into())
    }
}

/// Why the trial cannot run here, if it cannot: `python3` or `netaddr`
/// missing, or another `netaddr` version.
fn netaddr_missing() -> Option<String> {
    let output = Command::new("python3").args(["-c", "import netaddr; print(netaddr.__version__)"]).output();
    match output {
        Err(e) => Some(format!("python3 cannot run: {e}")),
        Ok(o) if !o.status.success() => {
            Some(format!("python3 -c \"import netaddr\" failed: {}", String::from_utf8_lossy(&o.stderr).trim()))
        }
        Ok(o) => {
            let version = String::from_utf8_lossy(&o.stdout).trim().to_owned();
            (version != NETADDR_VERSION)
                .then(|| format!("netaddr {version} is installed, the known differences are for {NETADDR_VERSION}"))
        }
    }
}

/// What CI must install for a trial, and whether the trial may be ignored
/// here: `Some(why)` when it cannot run. Under `CI=true` a trial whose
/// tool is missing runs (and fails), unless it needs root and is not root.
struct Need {
    missing: Option<String>,
    needs_root_only: bool,
}

fn ignored(name: &str, need: &Need, install: &str, ci: bool) -> bool {
    match (&need.missing, ci) {
        (None, _) => false,
        (Some(why), _) if need.needs_root_only => {
            eprintln!("tests/oracles.rs: {name}: ignored: {why}");
            true
        }
        (Some(why), false) => {
            eprintln!("tests/oracles.rs: {name}: ignored: {why} ({install})");
            true
        }
        (Some(why), true) => {
            eprintln!("tests/oracles.rs: {name}: CI=true, so the oracle must run: {why}");
            false
        }
    }
}

fn main() -> std::process::ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let netaddr = Need { missing: netaddr_missing(), needs_root_only: false };
    let nft = root_tool_missing(&[&["nft", "--version"], &["unshare", "--version"]]);
    let iptables = root_tool_missing(&[
        &["iptables-restore", "--version"],
        &["ip6tables-restore", "--version"],
        &["unshare", "--version"],
    ]);
    let hcl = Need { missing: hcl2_missing(), needs_root_only: false };
    let install_netaddr = format!("install it with `python3 -m pip install netaddr=={NETADDR_VERSION}`");
    let install_hcl = format!("install it with `python3 -m pip install python-hcl2=={HCL2_VERSION}`");
    let trials = vec![
        guarded("iana_tables_agree_with_netaddr", &netaddr, &install_netaddr, ci, iana_tables_agree_with_netaddr),
        guarded(
            "nft_loads_exactly_the_whitelist",
            &nft,
            "apt-get install nftables",
            ci,
            nft_loads_exactly_the_whitelist,
        ),
        guarded(
            "iptables_restore_loads_exactly_the_whitelist",
            &iptables,
            "apt-get install iptables",
            ci,
            iptables_restore_loads_exactly_the_whitelist,
        ),
        guarded("hcl2_parses_the_terraform_lists", &hcl, &install_hcl, ci, hcl2_parses_the_terraform_lists),
    ];
    libtest_mimic::run(&args, trials).exit_code()
}

/// A trial that fails saying why when its tool is missing (it then runs
/// only under `CI=true`), else runs `check`.
fn guarded(
    name: &'static str,
    need: &Need,
    install: &str,
    ci: bool,
    check: fn() -> Result<(), libtest_mimic::Failed>,
) -> libtest_mimic::Trial {
    let ignore = ignored(name, need, install, ci);
    let missing = need.missing.clone();
    libtest_mimic::Trial::test(name, move || match &missing {
        Some(why) => Err(format!("the oracle cannot run: {why}").into()),
        None => check(),
    })
    .with_ignored_flag(ignore)
}

// The firewall formats of `Whitelist::render`, judged by the real tools.
// `nft -c -f` and `iptables-restore --test` check a ruleset against the
// kernel without committing it; then each output is loaded for real, twice
// (a reload must leave no stale address), inside a new network namespace
// (`unshare --net`: the host's firewall is never touched), and what the
// kernel holds afterwards must be exactly the whitelist. Each tool is also
// shown a broken variant, which it must refuse (so that a tool accepting
// anything could not pass). Both need root.

/// The `python-hcl2` version the Terraform trial is written for (its
/// `SerializationOptions(strip_string_quotes=True)`).
const HCL2_VERSION: &str = "8.1.4";

/// The article's cluster (the CLI's `--example`).
const ARTICLE: &str = include_str!("../examples/topology.json");

/// The whitelists every format is tried on: the article's (IPv4 only), a
/// dual-stack one, an IPv6-only one and an empty one.
fn whitelists() -> Vec<(&'static str, Whitelist)> {
    let of = |json: &str| Whitelist::of(&Topology::from_json(json).unwrap()).unwrap();
    vec![
        ("article", of(ARTICLE)),
        (
            "dual-stack",
            of(r#"{"clusters": [
              {"name": "prod", "egress_ip": ["74.220.24.10", "2a00:1450::10"],
               "nodes": [{"name": "edge", "private_ip": "192.168.10.6", "public_ip": "74.220.24.77"}]},
              {"name": "staging \"qa\"\nnext", "egress_ip": "2a00:1450::44"}]}"#),
        ),
        ("ipv6-only", of(r#"{"clusters": [{"name": "v6", "egress_ip": "2a00:1450::10"}]}"#)),
        ("empty", Whitelist::of_allowing_empty(&Topology::empty())),
    ]
}

fn root_tool_missing(commands: &[&[&str]]) -> Need {
    if !nix::unistd::geteuid().is_root() {
        return Need {
            missing: Some("not root (the firewall tools talk to the kernel)".into()),
            needs_root_only: true,
        };
    }
    let missing = commands.iter().find_map(|argv| match Command::new(argv[0]).args(&argv[1..]).output() {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!("`{}` failed: {}", argv.join(" "), String::from_utf8_lossy(&o.stderr).trim())),
        Err(e) => Some(format!("`{}` cannot run: {e}", argv[0])),
    });
    Need { missing, needs_root_only: false }
}

fn hcl2_missing() -> Option<String> {
    let script = "import hcl2, importlib.metadata as m; print(m.version('python-hcl2'))";
    match Command::new("python3").args(["-c", script]).output() {
        Err(e) => Some(format!("python3 cannot run: {e}")),
        Ok(o) if !o.status.success() => {
            Some(format!("python3 -c \"import hcl2\" failed: {}", String::from_utf8_lossy(&o.stderr).trim()))
        }
        Ok(o) => {
            let version = String::from_utf8_lossy(&o.stdout).trim().to_owned();
            (version != HCL2_VERSION)
                .then(|| format!("python-hcl2 {version} is installed, the trial is for {HCL2_VERSION}"))
        }
    }
}

/// Writes `text` to a file of the test's scratch directory.
fn scratch(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("oracles-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `argv`, answering its stdout, or an error with its stderr.
fn run(argv: &[&str]) -> Result<String, String> {
    let output = Command::new(argv[0]).args(&argv[1..]).output().map_err(|e| format!("cannot run {}: {e}", argv[0]))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "`{}` exited with {}: {}",
            argv.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// The addresses of `family` in the whitelist, as the tools print them.
fn family(w: &Whitelist, v6: bool) -> Vec<String> {
    let entries = if v6 { w.v6() } else { w.v4() };
    entries.iter().map(|e| e.ip().to_string()).collect()
}

fn nft_loads_exactly_the_whitelist() -> Result<(), libtest_mimic::Failed> {
    for (name, w) in whitelists() {
        let text = w.render(WhitelistFormat::Nftables).to_string();
        let path = scratch(&format!("{name}.nft"), &text);
        let file = path.to_str().unwrap();
        run(&["nft", "-c", "-f", file]).map_err(|e| format!("{name}: nft -c refused the output: {e}\n{text}"))?;
        let listing = run(&[
            "unshare",
            "--net",
            "sh",
            "-c",
            r#"nft -f "$1" && nft -f "$1" && nft -j list table inet civo_egress"#,
            "sh",
            file,
        ])
        .map_err(|e| format!("{name}: nft -f failed: {e}\n{text}"))?;
        let json: serde_json::Value = serde_json::from_str(&listing)?;
        for (set, v6) in [("egress_v4", false), ("egress_v6", true)] {
            let found = json["nftables"]
                .as_array()
                .and_then(|objects| objects.iter().find(|o| o["set"]["name"] == set))
                .ok_or_else(|| format!("{name}: no set {set} after loading:\n{listing}"))?;
            let mut elements: Vec<String> = found["set"]["elem"]
                .as_array()
                .map(|e| e.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            elements.sort_by_key(|e| e.parse::<IpAddr>().ok());
            if elements != family(&w, v6) {
                return Err(format!("{name}: set {set} holds {elements:?}, the whitelist {:?}", family(&w, v6)).into());
            }
        }
        std::fs::remove_file(&path)?;
    }
    // The control: nft refuses an IPv6 address in the IPv4 set.
    let broken =
        whitelists()[1].1.render(WhitelistFormat::Nftables).to_string().replace("\t74.220.24.10,", "\t2a00::1,");
    let path = scratch("broken.nft", &broken);
    let refused = run(&["nft", "-c", "-f", path.to_str().unwrap()]).is_err();
    std::fs::remove_file(&path)?;
    if !refused {
        return Err("nft -c accepted an IPv6 address in an ipv4_addr set: the oracle proves nothing".into());
    }
    Ok(())
}

fn iptables_restore_loads_exactly_the_whitelist() -> Result<(), libtest_mimic::Failed> {
    let script = r#"iptables-restore --noflush "$1" && iptables-restore --noflush "$1" && iptables -S CIVO-EGRESS-ALLOW && echo --- && ip6tables-restore --noflush "$1" && ip6tables-restore --noflush "$1" && ip6tables -S CIVO-EGRESS-ALLOW"#;
    for (name, w) in whitelists() {
        let text = w.render(WhitelistFormat::Iptables).to_string();
        let path = scratch(&format!("{name}.rules"), &text);
        let file = path.to_str().unwrap();
        for tool in ["iptables-restore", "ip6tables-restore"] {
            run(&[tool, "--test", file])
                .map_err(|e| format!("{name}: {tool} --test refused the output: {e}\n{text}"))?;
        }
        let listing = run(&["unshare", "--net", "sh", "-c", script, "sh", file])
            .map_err(|e| format!("{name}: loading failed: {e}\n{text}"))?;
        let (v4, v6) = listing.split_once("---\n").ok_or_else(|| format!("{name}: unexpected listing:\n{listing}"))?;
        for (rules, is_v6) in [(v4, false), (v6, true)] {
            let want: Vec<String> = std::iter::once("-N CIVO-EGRESS-ALLOW".to_owned())
                .chain(
                    (if is_v6 { w.v6() } else { w.v4() })
                        .iter()
                        .map(|e| format!("-A CIVO-EGRESS-ALLOW -s {} -j ACCEPT", e.cidr())),
                )
                .collect();
            let got: Vec<&str> = rules.lines().collect();
            if got != want {
                return Err(format!("{name}: the chain holds {got:?}, the whitelist wants {want:?}").into());
            }
        }
        std::fs::remove_file(&path)?;
    }
    // The control: without its -6, an IPv6 rule is refused by iptables-restore.
    let broken = whitelists()[1].1.render(WhitelistFormat::Iptables).to_string().replace("-6 -A", "-A");
    let path = scratch("broken.rules", &broken);
    let refused = run(&["iptables-restore", "--test", path.to_str().unwrap()]).is_err();
    std::fs::remove_file(&path)?;
    if !refused {
        return Err("iptables-restore --test accepted an IPv6 source: the oracle proves nothing".into());
    }
    Ok(())
}

const HCL2_SCRIPT: &str = r#"
import json, sys, hcl2
from hcl2 import SerializationOptions
with open(sys.argv[1]) as f:
    doc = hcl2.load(f, serialization_options=SerializationOptions(strip_string_quotes=True))
(local,) = doc["locals"]
print(json.dumps([local["civo_egress_cidr_blocks"], local["civo_egress_ipv6_cidr_blocks"]]))
"#;

fn hcl2_parses_the_terraform_lists() -> Result<(), libtest_mimic::Failed> {
    for (name, w) in whitelists() {
        let text = w.render(WhitelistFormat::Terraform).to_string();
        let path = scratch(&format!("{name}.tf"), &text);
        let out = run(&["python3", "-c", HCL2_SCRIPT, path.to_str().unwrap()])
            .map_err(|e| format!("{name}: python-hcl2 refused the output: {e}\n{text}"))?;
        let (v4, v6): (Vec<String>, Vec<String>) = serde_json::from_str(&out)?;
        let cidrs = |entries: &[civo_egress::WhitelistEntry]| -> Vec<String> {
            entries.iter().map(|e| e.cidr().to_string()).collect()
        };
        if v4 != cidrs(w.v4()) || v6 != cidrs(w.v6()) {
            return Err(format!("{name}: python-hcl2 read {v4:?} and {v6:?}, the whitelist is {w:?}").into());
        }
        std::fs::remove_file(&path)?;
    }
    // The control: an unclosed list is refused.
    let broken = whitelists()[0].1.render(WhitelistFormat::Terraform).to_string().replace("/32\"]", "/32\"");
    let path = scratch("broken.tf", &broken);
    let refused = run(&["python3", "-c", HCL2_SCRIPT, path.to_str().unwrap()]).is_err();
    std::fs::remove_file(&path)?;
    if !refused {
        return Err("python-hcl2 accepted an unclosed list: the oracle proves nothing".into());
    }
    Ok(())
}
