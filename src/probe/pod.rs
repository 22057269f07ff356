//! The probe pod: its name, labels, spec (Pod Security "restricted"), the
//! curl command, and the parser of what that command prints.
//!
//! The command is `curl` alone, no shell (an image without `sh` works):
//! one transfer per echo URL, separated by `--next`, each followed by a
//! `--write-out` marker line that carries a nonce of the pod, the URL's
//! index, the HTTP status, curl's exit code, the content type and curl's
//! error message:
//!
//! ```text
//! <body of URL 0>
//! @@civo-egress-probe:<nonce>@@<TAB>0<TAB>200<TAB>0<TAB>text/plain<TAB>
//! <body of URL 1>
//! @@civo-egress-probe:<nonce>@@<TAB>1<TAB>000<TAB>28<TAB><TAB>Connection timed out after 5001 ms
//! ```
//!
//! An echo service cannot forge a marker: it never sees the nonce.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::{
    Capabilities, Container, Pod, PodSecurityContext, PodSpec, ResourceRequirements, SeccompProfile, SecurityContext,
    Toleration,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::AddressPolicy;
use crate::resolve::SourceError;
use crate::resolve::echo::{self, check_global};

/// The label every probe pod carries: `app.kubernetes.io/managed-by`.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The value of [`MANAGED_BY_LABEL`] on a probe pod.
pub const MANAGED_BY: &str = "civo-egress-probe";
/// The label naming the run that created a pod (`app.kubernetes.io/instance`):
/// the final sweep deletes the pods of its own run only.
pub const RUN_LABEL: &str = "app.kubernetes.io/instance";
/// The prefix of every probe pod's name.
pub const POD_NAME_PREFIX: &str = "civo-egress-probe-";

/// The user and group the container runs as (non-root, as "restricted"
/// requires; curl needs no home).
pub(crate) const RUN_AS: i64 = 65532;
/// Each echo URL's own timeout (the same as the HTTP echo source's).
pub(crate) const ECHO_MAX_TIME: Duration = Duration::from_secs(5);
/// An echo answer is an address and a newline: anything past this is not one
/// (the echo rules' cap, the HTTP echo source's too).
pub(crate) const MAX_BODY_BYTES: usize = echo::MAX_BODY_BYTES;
/// The marker line's own bytes, at most (its error message is curl's).
const MAX_MARKER_BYTES: usize = 512;

const MARKER: &str = "@@civo-egress-probe:";

/// The bytes of log the probe reads for `urls` URLs: every body at its cap
/// and every marker line.
pub(crate) const fn log_cap(urls: usize) -> usize {
    urls * (MAX_BODY_BYTES + MAX_MARKER_BYTES) + 1024
}

/// A short random word of `len` characters of Kubernetes' `generateName`
/// alphabet (no vowels, no look-alikes): std's randomly seeded hasher over
/// the clock and a counter. Unique enough for names, not a secret.
pub(crate) fn random_word(len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut word = String::with_capacity(len);
    while word.len() < len {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u128(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
        let mut bits = hasher.finish();
        for _ in 0..8 {
            if word.len() == len {
                break;
            }
            word.push(char::from(ALPHABET[usize::try_from(bits % 27).unwrap_or(0)]));
            bits /= 27;
        }
    }
    word
}

/// `civo-egress-probe-<node>-<random>`: a DNS-1123 label of at most 63
/// characters, the node's name lowercased, its other characters turned into
/// `-`, cut to fit.
pub(crate) fn pod_name(node: &str, random: &str) -> String {
    let room = 63 - POD_NAME_PREFIX.len() - 1 - random.len();
    let mut part = String::new();
    for c in node.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { '-' };
        if !(c == '-' && (part.is_empty() || part.ends_with('-'))) {
            part.push(c);
        }
        if part.len() == room {
            break;
        }
    }
    let part = part.trim_end_matches('-');
    if part.is_empty() { format!("{POD_NAME_PREFIX}{random}") } else { format!("{POD_NAME_PREFIX}{part}-{random}") }
}

/// Whether `name` is a DNS-1123 label (a namespace, a pod name).
pub(crate) fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// What a pod is made of.
#[derive(Debug, Clone)]
pub(crate) struct PodPlan<'a> {
    pub(crate) name: String,
    pub(crate) node: &'a str,
    pub(crate) run: &'a str,
    pub(crate) nonce: String,
    pub(crate) image: &'a str,
    pub(crate) urls: &'a [String],
    pub(crate) active_deadline: Duration,
}

impl PodPlan<'_> {
    /// The curl arguments: one transfer per URL, each with its marker.
    pub(crate) fn args(&self) -> Vec<String> {
        let mut args = vec!["-q".to_owned()]; // no ~/.curlrc: must be first
        for (i, url) in self.urls.iter().enumerate() {
            if i > 0 {
                args.push("--next".to_owned());
            }
            args.extend(
                [
                    "--silent",
                    "--globoff",
                    "--proto",
                    "=http,https",
                    "--max-time",
                    &ECHO_MAX_TIME.as_secs().to_string(),
                    "--max-filesize",
                    &MAX_BODY_BYTES.to_string(),
                    "--write-out",
                    &format!(
                        "\\n{MARKER}{}@@\\t{i}\\t%{{http_code}}\\t%{{exitcode}}\\t%{{content_type}}\\t%{{errormsg}}\\n",
                        self.nonce
                    ),
                    url,
                ]
                .map(str::to_owned),
            );
        }
        args
    }

    /// The pod: pinned to the node, tolerating every taint, never
    /// restarted, with a deadline, and within Pod Security "restricted".
    pub(crate) fn pod(&self) -> Pod {
        let labels = BTreeMap::from([
            (MANAGED_BY_LABEL.to_owned(), MANAGED_BY.to_owned()),
            (RUN_LABEL.to_owned(), self.run.to_owned()),
        ]);
        let quantities = |cpu: &str, memory: &str| {
            BTreeMap::from([
                ("cpu".to_owned(), Quantity(cpu.to_owned())),
                ("memory".to_owned(), Quantity(memory.to_owned())),
            ])
        };
        let container = Container {
            name: "probe".to_owned(),
            image: Some(self.image.to_owned()),
            command: Some(vec!["curl".to_owned()]),
            args: Some(self.args()),
            resources: Some(ResourceRequirements {
                requests: Some(quantities("10m", "16Mi")),
                limits: Some(quantities("100m", "64Mi")),
                ..ResourceRequirements::default()
            }),
            security_context: Some(SecurityContext {
                allow_privilege_escalation: Some(false),
                capabilities: Some(Capabilities { drop: Some(vec!["ALL".to_owned()]), add: None }),
                privileged: Some(false),
                read_only_root_filesystem: Some(true),
                run_as_non_root: Some(true),
                run_as_user: Some(RUN_AS),
                run_as_group: Some(RUN_AS),
                seccomp_profile: Some(runtime_default()),
                ..SecurityContext::default()
            }),
            termination_message_policy: Some("FallbackToLogsOnError".to_owned()),
            ..Container::default()
        };
        Pod {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                labels: Some(labels),
                annotations: Some(BTreeMap::from([("civo-egress/probe-node".to_owned(), self.node.to_owned())])),
                ..ObjectMeta::default()
            },
            spec: Some(PodSpec {
                node_name: Some(self.node.to_owned()),
                tolerations: Some(vec![Toleration { operator: Some("Exists".to_owned()), ..Toleration::default() }]),
                restart_policy: Some("Never".to_owned()),
                active_deadline_seconds: Some(i64::try_from(self.active_deadline.as_secs().max(1)).unwrap_or(i64::MAX)),
                termination_grace_period_seconds: Some(0),
                automount_service_account_token: Some(false),
                enable_service_links: Some(false),
                security_context: Some(PodSecurityContext {
                    run_as_non_root: Some(true),
                    run_as_user: Some(RUN_AS),
                    run_as_group: Some(RUN_AS),
                    seccomp_profile: Some(runtime_default()),
                    ..PodSecurityContext::default()
                }),
                containers: vec![container],
                ..PodSpec::default()
            }),
            status: None,
        }
    }
}

fn runtime_default() -> SeccompProfile {
    SeccompProfile { type_: "RuntimeDefault".to_owned(), localhost_profile: None }
}

/// Splits a pod's log back into one outcome per URL, by the markers of
/// `nonce`, with the echo rules the HTTP echo source follows too
/// ([`echo::judge`]: the HTTP status, HTML, the size cap, trimming; and
/// [`check_global`]: non-global addresses rejected unless `addresses`
/// allows them). A URL with no marker (curl stopped, the log
/// was cut) is [`SourceError::Unreachable`].
pub(crate) fn parse_output(
    log: &str,
    nonce: &str,
    urls: usize,
    addresses: AddressPolicy,
) -> Vec<Result<IpAddr, SourceError>> {
    let mut outcomes: Vec<Option<Result<IpAddr, SourceError>>> = vec![None; urls];
    let marker = format!("{MARKER}{nonce}@@\t");
    let mut rest = log;
    let mut expected = 0;
    while let Some(at) = rest.find(&marker) {
        // The marker starts a line: the body is what comes before, less the
        // marker's own leading newline.
        let body = &rest[..at];
        let body = body.strip_suffix('\n').unwrap_or(body);
        let after = &rest[at + marker.len()..];
        let (line, next) = after.split_once('\n').unwrap_or((after, ""));
        rest = next;
        let mut fields = line.splitn(5, '\t');
        let (Some(index), Some(http), Some(exit)) = (fields.next(), fields.next(), fields.next()) else { continue };
        let content_type = fields.next().unwrap_or("");
        let curl_error = fields.next().unwrap_or("").trim();
        // Markers come in order, their index written as curl writes it; one
        // out of order, out of range or written otherwise (`01`, `+1`: what
        // `usize::from_str` would take) is not ours to trust.
        if expected >= urls || index != expected.to_string() {
            continue;
        }
        outcomes[expected] = Some(judge(body, http.trim(), exit.trim(), content_type, curl_error, addresses));
        expected += 1;
    }
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(SourceError::unreachable("no answer in the pod's log (curl stopped before)"))))
        .collect()
}

/// One transfer's outcome.
fn judge(
    body: &str,
    http: &str,
    exit: &str,
    content_type: &str,
    curl_error: &str,
    addresses: AddressPolicy,
) -> Result<IpAddr, SourceError> {
    match exit {
        "0" | "" => {}
        "28" => return Err(SourceError::Timeout(ECHO_MAX_TIME)),
        "63" => return Err(SourceError::TooLarge(MAX_BODY_BYTES)),
        code => {
            let what = if curl_error.is_empty() { format!("curl exit code {code}") } else { curl_error.to_owned() };
            return Err(SourceError::unreachable(excerpt(&what, 120)));
        }
    }
    let status: u16 = http.parse().unwrap_or(0);
    if status == 0 {
        return Err(SourceError::unreachable(if curl_error.is_empty() {
            "no HTTP answer".to_owned()
        } else {
            excerpt(curl_error, 120)
        }));
    }
    check_global(echo::judge(status, content_type, body.as_bytes())?, addresses)
}

fn excerpt(text: &str, max: usize) -> String {
    echo::excerpt(text.as_bytes(), max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(urls: &[String]) -> PodPlan<'_> {
        PodPlan {
            name: pod_name("w-1", "x7k2q"),
            node: "w-1",
            run: "r4nd0m",
            nonce: "n0nce".into(),
            image: "curlimages/curl",
            urls,
            active_deadline: Duration::from_secs(60),
        }
    }

    #[test]
    fn names_are_dns_labels_within_63() {
        assert_eq!(pod_name("w-1", "x7k2q"), "civo-egress-probe-w-1-x7k2q");
        assert_eq!(pod_name("K3S_Node.lon1", "x7k2q"), "civo-egress-probe-k3s-node-lon1-x7k2q");
        assert_eq!(pod_name("---", "x7k2q"), "civo-egress-probe-x7k2q");
        let long = pod_name(&"a".repeat(300), "x7k2q");
        assert_eq!(long.len(), 63);
        for node in ["w-1", "K3S_Node.lon1", "---", "ü-node", &"ab-".repeat(40), "node-.x", "1"] {
            let name = pod_name(node, &random_word(5));
            assert!(is_dns_label(&name), "{name}");
            assert!(name.starts_with(POD_NAME_PREFIX));
        }
        assert_ne!(random_word(5), random_word(5));
        assert_eq!(random_word(12).len(), 12);
        assert!(!is_dns_label("Default") && !is_dns_label("-a") && !is_dns_label("") && is_dns_label("kube-system"));
    }

    #[test]
    fn the_pod_is_pinned_tolerant_and_restricted() {
        let urls = vec!["https://ifconfig.me/ip".to_owned()];
        let pod = plan(&urls).pod();
        let spec = pod.spec.as_ref().expect("the plan builds a spec"); // ok: test
        assert_eq!(spec.node_name.as_deref(), Some("w-1"));
        assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
        assert_eq!(spec.active_deadline_seconds, Some(60));
        let tolerations = spec.tolerations.as_deref().unwrap_or_default();
        assert_eq!(tolerations.len(), 1);
        assert_eq!(tolerations[0].operator.as_deref(), Some("Exists"));
        assert!(tolerations[0].key.is_none() && tolerations[0].effect.is_none(), "tolerates every taint");
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        assert_eq!(labels.get(MANAGED_BY_LABEL).map(String::as_str), Some(MANAGED_BY));
        assert_eq!(labels.get(RUN_LABEL).map(String::as_str), Some("r4nd0m"));
        // Pod Security "restricted".
        let pod_sc = spec.security_context.clone().unwrap_or_default();
        assert_eq!(pod_sc.run_as_non_root, Some(true));
        assert_eq!(pod_sc.seccomp_profile.map(|p| p.type_).as_deref(), Some("RuntimeDefault"));
        assert_eq!(spec.containers.len(), 1);
        let sc = spec.containers[0].security_context.clone().unwrap_or_default();
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(sc.capabilities.and_then(|c| c.drop), Some(vec!["ALL".to_owned()]));
        assert_eq!(sc.read_only_root_filesystem, Some(true));
        assert_eq!(sc.run_as_non_root, Some(true));
        assert!(sc.run_as_user.is_some_and(|uid| uid > 0));
        assert_eq!(sc.seccomp_profile.map(|p| p.type_).as_deref(), Some("RuntimeDefault"));
        assert!(spec.host_network.is_none() && spec.volumes.is_none());
        // The wire form uses Kubernetes' field names.
        let json = serde_json::to_value(&pod).unwrap_or_default();
        assert_eq!(json["spec"]["nodeName"], "w-1");
        assert_eq!(json["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"], false);
    }

    #[test]
    fn the_command_is_curl_once_per_url_with_capped_bodies() {
        let urls = vec!["https://a.example/ip".to_owned(), "https://b.example/{x}".to_owned()];
        let plan = plan(&urls);
        let args = plan.args();
        assert_eq!(args[0], "-q");
        assert_eq!(args.iter().filter(|a| *a == "--next").count(), 1);
        assert_eq!(args.iter().filter(|a| *a == "--max-filesize").count(), 2);
        assert_eq!(args.iter().filter(|a| *a == "--max-time").count(), 2);
        assert_eq!(args.iter().filter(|a| *a == "--globoff").count(), 2, "no URL globbing");
        assert_eq!(args.last().map(String::as_str), Some("https://b.example/{x}"));
        assert!(args.iter().any(|a| a.contains("@@civo-egress-probe:n0nce@@\\t1\\t%{http_code}")));
    }

    fn marker(nonce: &str, i: usize, http: &str, exit: &str, ctype: &str, err: &str) -> String {
        format!("\n@@civo-egress-probe:{nonce}@@\t{i}\t{http}\t{exit}\t{ctype}\t{err}\n")
    }

    #[test]
    fn output_parses_back_per_url() {
        let strict = AddressPolicy::GlobalOnly;
        let log = [
            "212.2.253.151\n".to_owned(),
            marker("n0nce", 0, "200", "0", "text/plain", ""),
            marker("n0nce", 1, "000", "28", "", "Connection timed out after 5001 milliseconds"),
            "  212.2.253.151  ".to_owned(),
            marker("n0nce", 2, "200", "0", "text/plain; charset=utf-8", ""),
            "<html>x</html>".to_owned(),
            marker("n0nce", 3, "200", "0", "text/html", ""),
        ]
        .concat();
        let out = parse_output(&log, "n0nce", 5, strict);
        assert_eq!(out[0], Ok(IpAddr::from([212, 2, 253, 151])));
        assert_eq!(out[1], Err(SourceError::Timeout(ECHO_MAX_TIME)));
        assert_eq!(out[2], Ok(IpAddr::from([212, 2, 253, 151])));
        assert!(matches!(out[3], Err(SourceError::BadAnswer(_))), "{:?}", out[3]);
        assert!(matches!(out[4], Err(SourceError::Unreachable { .. })), "no marker");
    }

    #[test]
    fn statuses_sizes_and_non_global_follow_the_echo_rules() {
        let strict = AddressPolicy::GlobalOnly;
        let one = |body: &str, http: &str, exit: &str| {
            parse_output(&format!("{body}{}", marker("n", 0, http, exit, "text/plain", "boom")), "n", 1, strict)
                .remove(0)
        };
        assert!(matches!(one("oops", "503", "0"), Err(SourceError::ServerFailure { .. })));
        assert!(matches!(one("nope", "404", "0"), Err(SourceError::BadAnswer(_))));
        assert_eq!(one("", "000", "63"), Err(SourceError::TooLarge(MAX_BODY_BYTES)));
        assert_eq!(one(&"1".repeat(5000), "200", "0"), Err(SourceError::TooLarge(MAX_BODY_BYTES)));
        assert!(matches!(one("", "000", "6"), Err(SourceError::Unreachable { .. })));
        assert!(matches!(one("ip=1.2.3.4", "200", "0"), Err(SourceError::BadAnswer(_))));
        assert!(matches!(one("192.168.1.4", "200", "0"), Err(SourceError::NonGlobal { .. })));
        assert!(matches!(one("198.51.100.7", "200", "0"), Err(SourceError::NonGlobal { .. })));
        assert_eq!(one("::ffff:212.2.253.151\n", "200", "0"), Ok(IpAddr::from([212, 2, 253, 151])));
        let lab = AddressPolicy::AllowNonGlobal;
        let out = parse_output(&format!("198.51.100.7{}", marker("n", 0, "200", "0", "", "")), "n", 1, lab);
        assert_eq!(out[0], Ok(IpAddr::from([198, 51, 100, 7])));
    }

    #[test]
    fn forged_and_foreign_markers_are_ignored() {
        let strict = AddressPolicy::GlobalOnly;
        // A body that forges a marker without the nonce.
        let log = format!(
            "1.1.1.1{}8.8.8.8{}",
            marker("guess", 0, "200", "0", "", ""),
            marker("n0nce", 0, "200", "0", "", "")
        );
        let out = parse_output(&log, "n0nce", 1, strict);
        // The real marker closes a body that holds the forged line: not an address.
        assert!(matches!(out[0], Err(SourceError::BadAnswer(_))), "{:?}", out[0]);
        // Out-of-order and out-of-range indexes are skipped.
        let log = format!("8.8.8.8{}9.9.9.9{}", marker("n", 1, "200", "0", "", ""), marker("n", 7, "200", "0", "", ""));
        assert!(parse_output(&log, "n", 2, strict).iter().all(Result::is_err));
        assert!(parse_output("", "n", 0, strict).is_empty());
    }

    #[test]
    fn a_marker_index_is_read_only_as_curl_writes_it() {
        // Found by the fuzz target `probe_output`: `01` was read as URL 1.
        let strict = AddressPolicy::GlobalOnly;
        for written in ["01", "+1", " 1", "1 "] {
            let log = format!(
                "212.2.253.151{}212.2.253.151{}",
                marker("n", 0, "200", "0", "", ""),
                marker("n", 0, "200", "0", "", "").replace("\t0\t", &format!("\t{written}\t"))
            );
            let out = parse_output(&log, "n", 2, strict);
            assert_eq!(out[0], Ok(IpAddr::from([212, 2, 253, 151])));
            assert!(matches!(out[1], Err(SourceError::Unreachable { .. })), "{written:?}: {:?}", out[1]);
        }
        let regression = include_bytes!("../../fuzz/seeds/probe_output/regression_index_01.log");
        let out = parse_output(&String::from_utf8_lossy(&regression[1..]), "n0nce", 4, strict);
        assert!(out[1].is_err(), "{:?}", out[1]);
    }
}
