//! [`EgressResolver`] and [`resolve_egress`]: every source at once, a quorum,
//! a deadline.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::time::Instant;

use super::evidence::{Evidence, EvidenceKind, IpFamily, SourceError, check_global};
use super::report::{EgressReport, EgressStatus};
use super::source::EgressSource;
use super::vantage::Vantage;
use crate::{AddressPolicy, Subject, Warning, WarningKind};

/// A resolver configuration that cannot work.
///
/// Nothing underneath: these are the resolver's own checks, so there is no
/// `source()`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// No source was given.
    #[error("no egress source given")]
    NoSources,
    /// A quorum of zero would accept anything.
    #[error("the quorum must be at least 1")]
    ZeroQuorum,
    /// More agreeing observers asked for than there are observing sources.
    #[error("a quorum of {quorum} can never be reached with {observers} observing source(s)")]
    #[non_exhaustive]
    QuorumTooLarge {
        /// The quorum asked for.
        quorum: usize,
        /// The observing sources given.
        observers: usize,
    },
    /// A zero timeout or deadline.
    #[error("timeouts must be longer than zero")]
    ZeroTimeout,
}

/// Resolves a cluster's egress IP from its sources: all run concurrently,
/// each under its own timeout, all under one deadline; the resolver returns
/// as soon as the outcome is decided, cancelling the rest, and never after
/// the deadline.
///
/// The outcome is decided when every expected source has answered and one
/// address has a quorum of agreeing observers that no other address can
/// still tie: more than the runner-up has plus every observer still running.
/// With 3 observers and a quorum of 2 that is the second agreeing answer;
/// with the CLI's 6 default observers it is the fourth, or the second once
/// the others have failed or timed out.
///
/// Cheap to clone. Requires a tokio runtime (with the `time` driver).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use civo_egress::resolve::{EgressResolver, EgressStatus, EvidenceKind, HttpEchoSource, StaticSource};
///
/// let resolver = EgressResolver::builder()
///     .cluster("prod")
///     .source(StaticSource::new("whitelist", EvidenceKind::Expected, ["212.2.253.151".parse()?]))
///     .sources(HttpEchoSource::defaults())
///     .quorum(2)
///     .deadline(Duration::from_secs(5))
///     .build()?;
/// let report = resolver.resolve().await;
/// assert_eq!(report.cluster(), Some("prod"));
/// if report.status() == EgressStatus::Confirmed {
///     assert_eq!(report.egress_ips(), ["212.2.253.151".parse::<std::net::IpAddr>()?]);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct EgressResolver {
    inner: Arc<Settings>,
}

#[derive(Debug)]
struct Settings {
    sources: Vec<Arc<dyn EgressSource>>,
    quorum: usize,
    source_timeout: Duration,
    deadline: Duration,
    family: IpFamily,
    addresses: AddressPolicy,
    cluster: Option<String>,
    /// Stated, or detected at `build()`.
    vantage: Vantage,
}

impl fmt::Debug for EgressResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.inner.sources.iter().map(|s| s.name()).collect();
        f.debug_struct("EgressResolver")
            .field("sources", &names)
            .field("quorum", &self.inner.quorum)
            .field("deadline", &self.inner.deadline)
            .field("vantage", &self.inner.vantage)
            .finish_non_exhaustive()
    }
}

/// Builds an [`EgressResolver`].
#[must_use]
#[derive(Debug)]
pub struct EgressResolverBuilder {
    settings: Settings,
    vantage: Option<Vantage>,
}

impl Default for EgressResolverBuilder {
    fn default() -> Self {
        Self {
            settings: Settings {
                sources: Vec::new(),
                quorum: 2,
                source_timeout: Duration::from_secs(3),
                deadline: Duration::from_secs(5),
                family: IpFamily::Both,
                addresses: AddressPolicy::GlobalOnly,
                cluster: None,
                // Replaced at build(), by the stated vantage or the detected one.
                vantage: Vantage::Host,
            },
            vantage: None,
        }
    }
}

impl EgressResolverBuilder {
    /// Adds a source.
    pub fn source(mut self, source: impl EgressSource + 'static) -> Self {
        self.settings.sources.push(Arc::new(source));
        self
    }

    /// Adds sources.
    pub fn sources<I, S>(mut self, sources: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: EgressSource + 'static,
    {
        self.settings.sources.extend(sources.into_iter().map(|s| Arc::new(s) as Arc<dyn EgressSource>));
        self
    }

    /// Adds a source shared with other resolvers.
    pub fn shared_source(mut self, source: Arc<dyn EgressSource>) -> Self {
        self.settings.sources.push(source);
        self
    }

    /// Observers that must agree on one address (default 2).
    pub fn quorum(mut self, quorum: usize) -> Self {
        self.settings.quorum = quorum;
        self
    }

    /// The timeout of each source (default 3 s).
    pub fn source_timeout(mut self, timeout: Duration) -> Self {
        self.settings.source_timeout = timeout;
        self
    }

    /// The deadline of the whole resolution (default 5 s).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.settings.deadline = deadline;
        self
    }

    /// The address family to ask about (default both).
    pub fn family(mut self, family: IpFamily) -> Self {
        self.settings.family = family;
        self
    }

    /// Which observed addresses count (default
    /// [`AddressPolicy::GlobalOnly`]: they must be global unicast). The lab opt-in,
    /// described in [the module docs](super#labs-and-tests-the-one-opt-in).
    pub fn addresses(mut self, addresses: AddressPolicy) -> Self {
        self.settings.addresses = addresses;
        self
    }

    /// Names the cluster in the report.
    pub fn cluster(mut self, cluster: impl Into<String>) -> Self {
        self.settings.cluster = Some(cluster.into());
        self
    }

    /// Where the observing sources run (default: detected at
    /// [`build()`](Self::build) with [`Vantage::detect`]).
    ///
    /// State it where detection cannot see: [`Vantage::Pod`] in a pod
    /// without a mounted service-account token, in a lab's network namespace,
    /// or on a host whose own egress is the one asked about;
    /// [`Vantage::Host`] on a host that happens to carry the kubelet's
    /// variables and file. What it changes is in
    /// [`EgressReport`'s docs](EgressReport#vantage).
    ///
    /// ```
    /// use civo_egress::resolve::{EgressResolver, EvidenceKind, StaticSource, Vantage};
    /// let resolver = EgressResolver::builder()
    ///     .source(StaticSource::new("whitelist", EvidenceKind::Expected, ["212.2.253.151".parse()?]))
    ///     .vantage(Vantage::Pod)
    ///     .build()?;
    /// assert_eq!(resolver.vantage(), Vantage::Pod);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn vantage(mut self, vantage: Vantage) -> Self {
        self.vantage = Some(vantage);
        self
    }

    /// Checks the configuration, and detects the vantage unless it was
    /// stated: once, here, because detection reads a file (a blocking read
    /// that `resolve()`, async, should not do) and because one resolver
    /// should give every report the same vantage.
    ///
    /// # Errors
    ///
    /// [`ResolveError::NoSources`], [`ResolveError::ZeroQuorum`],
    /// [`ResolveError::QuorumTooLarge`] or [`ResolveError::ZeroTimeout`].
    pub fn build(self) -> Result<EgressResolver, ResolveError> {
        if self.settings.sources.is_empty() {
            return Err(ResolveError::NoSources);
        }
        if self.settings.quorum == 0 {
            return Err(ResolveError::ZeroQuorum);
        }
        let observers = self.settings.sources.iter().filter(|s| s.kind() == EvidenceKind::Observed).count();
        if observers > 0 && self.settings.quorum > observers {
            return Err(ResolveError::QuorumTooLarge { quorum: self.settings.quorum, observers });
        }
        if self.settings.source_timeout.is_zero() || self.settings.deadline.is_zero() {
            return Err(ResolveError::ZeroTimeout);
        }
        let mut settings = self.settings;
        settings.vantage = self.vantage.unwrap_or_else(Vantage::detect);
        Ok(EgressResolver { inner: Arc::new(settings) })
    }
}

/// Resolves with the default settings (quorum 2, 3 s a source, 5 s in all,
/// the [`Vantage`] detected); to state the vantage, use
/// [`EgressResolverBuilder::vantage`].
///
/// ```no_run
/// # async fn run() -> Result<(), civo_egress::resolve::ResolveError> {
/// use std::sync::Arc;
/// use civo_egress::resolve::{EgressSource, HttpEchoSource};
/// let sources = HttpEchoSource::defaults().into_iter().map(|s| Arc::new(s) as Arc<dyn EgressSource>);
/// let report = civo_egress::resolve_egress(sources).await?;
/// assert_eq!(report.evidence().len(), 4, "one row per echo service");
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// As [`EgressResolverBuilder::build`].
pub async fn resolve_egress(
    sources: impl IntoIterator<Item = Arc<dyn EgressSource>>,
) -> Result<EgressReport, ResolveError> {
    let builder = sources.into_iter().fold(EgressResolver::builder(), EgressResolverBuilder::shared_source);
    Ok(builder.build()?.resolve().await)
}

/// What one source answered, once checked.
type Answer = (Duration, Result<Vec<Result<IpAddr, SourceError>>, SourceError>);

impl EgressResolver {
    /// Starts a builder.
    pub fn builder() -> EgressResolverBuilder {
        EgressResolverBuilder::default()
    }

    /// Where the observing sources run: stated, or detected at
    /// [`build()`](EgressResolverBuilder::build).
    #[must_use]
    pub fn vantage(&self) -> Vantage {
        self.inner.vantage
    }

    /// Runs every source and concludes.
    pub async fn resolve(&self) -> EgressReport {
        let settings = &*self.inner;
        let started = Instant::now();
        let deadline =
            started.checked_add(settings.deadline).unwrap_or(started + Duration::from_secs(100 * 365 * 24 * 3600));
        let mut running: FuturesUnordered<_> = settings
            .sources
            .iter()
            .enumerate()
            .map(|(i, source)| async move {
                let begun = Instant::now();
                let result = match tokio::time::timeout(settings.source_timeout, source.gather(settings.family)).await {
                    Ok(result) => result,
                    Err(_) => Err(SourceError::Timeout(settings.source_timeout)),
                };
                (i, begun.elapsed(), result)
            })
            .collect();
        let mut answers: Vec<Option<Answer>> = vec![None; settings.sources.len()];
        let mut deadline_passed = false;
        while !self.decided(&answers) {
            match tokio::time::timeout_at(deadline, running.next()).await {
                Ok(Some((i, elapsed, result))) => {
                    let kind = settings.sources[i].kind();
                    let checked = result.map(|ips| ips.into_iter().map(|ip| self.check(kind, ip)).collect());
                    answers[i] = Some((elapsed, checked));
                }
                Ok(None) => break,
                Err(_) => {
                    deadline_passed = true;
                    break;
                }
            }
        }
        // Dropping the stream cancels every source still running.
        drop(running);
        self.conclude(answers, deadline_passed, started.elapsed())
    }

    /// Observed addresses must be of the family asked and global unicast.
    fn check(&self, kind: EvidenceKind, ip: IpAddr) -> Result<IpAddr, SourceError> {
        let ip = ip.to_canonical();
        if !self.inner.family.admits(ip) {
            return Err(SourceError::WrongFamily(ip));
        }
        if kind == EvidenceKind::Observed {
            return check_global(ip, self.inner.addresses);
        }
        Ok(ip)
    }

    /// Decided once every expected source has answered and an address has
    /// won: nothing later can change the status.
    fn decided(&self, answers: &[Option<Answer>]) -> bool {
        let expected_pending = self
            .inner
            .sources
            .iter()
            .zip(answers)
            .any(|(source, answer)| source.kind() == EvidenceKind::Expected && answer.is_none());
        !expected_pending && self.winner(answers).is_some()
    }

    /// The address a quorum of observers agrees on, once no other address of
    /// its family can still tie with it: more agreeing observers than any
    /// other address of that family has, plus every observer still running.
    /// A tie is never broken (not by who answered first, not by the expected
    /// set): it leaves no winner. IPv4 and IPv6 are separate elections (a
    /// dual-stack host leaves from one address of each), IPv4 first.
    fn winner(&self, answers: &[Option<Answer>]) -> Option<IpAddr> {
        let pending = self
            .inner
            .sources
            .iter()
            .zip(answers)
            .filter(|(source, answer)| source.kind() == EvidenceKind::Observed && answer.is_none())
            .count();
        let tally = self.tally(answers);
        [true, false].into_iter().find_map(|v4| {
            let mut family: Vec<(IpAddr, usize)> = tally.iter().copied().filter(|(ip, _)| ip.is_ipv4() == v4).collect();
            family.sort_by_key(|&(_, count)| std::cmp::Reverse(count));
            let (leader, count) = *family.first()?;
            let runner_up = family.get(1).map_or(0, |&(_, n)| n);
            (count >= self.inner.quorum && count > runner_up + pending).then_some(leader)
        })
    }

    /// How many observers gave each address (a source counts once).
    fn tally(&self, answers: &[Option<Answer>]) -> Vec<(IpAddr, usize)> {
        let mut tally: Vec<(IpAddr, usize)> = Vec::new();
        for (source, answer) in self.inner.sources.iter().zip(answers) {
            let Some((_, Ok(ips))) = answer else { continue };
            if source.kind() != EvidenceKind::Observed {
                continue;
            }
            let mut mine: Vec<IpAddr> = ips.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
            mine.sort_unstable();
            mine.dedup();
            for ip in mine {
                match tally.iter_mut().find(|(t, _)| *t == ip) {
                    Some((_, count)) => *count += 1,
                    None => tally.push((ip, 1)),
                }
            }
        }
        tally
    }

    fn expected(&self, answers: &[Option<Answer>]) -> Vec<IpAddr> {
        let mut expected = Vec::new();
        for (source, answer) in self.inner.sources.iter().zip(answers) {
            let Some((_, Ok(ips))) = answer else { continue };
            if source.kind() == EvidenceKind::Expected {
                for ip in ips.iter().filter_map(|r| r.as_ref().ok()) {
                    if !expected.contains(ip) {
                        expected.push(*ip);
                    }
                }
            }
        }
        expected
    }

    fn conclude(&self, answers: Vec<Option<Answer>>, deadline_passed: bool, elapsed: Duration) -> EgressReport {
        let settings = &*self.inner;
        // Sources that never answered count as answered without an address.
        let answers: Vec<Option<Answer>> = answers
            .into_iter()
            .map(|a| {
                a.or(Some((
                    elapsed,
                    Err(if deadline_passed { SourceError::Timeout(settings.deadline) } else { SourceError::Cancelled }),
                )))
            })
            .collect();
        let winner = self.winner(&answers);
        // From a host outside the cluster, what the observers agree on is
        // that host's IP: kept apart, never compared with the expected set.
        let (observed, host_observed) =
            if settings.vantage.observes_the_cluster() { (winner, None) } else { (None, winner) };
        let expected = self.expected(&answers);
        let mut tally = self.tally(&answers);
        tally.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let status = match (observed, expected.is_empty()) {
            (Some(ip), false) if expected.contains(&ip) => EgressStatus::Confirmed,
            (Some(_), false) => EgressStatus::Mismatch,
            (Some(_), true) => EgressStatus::Observed,
            (None, false) => EgressStatus::Expected,
            (None, true) => EgressStatus::Unknown,
        };
        let mut warnings = Vec::new();
        let mut evidence = Vec::new();
        for (source, answer) in settings.sources.iter().zip(answers) {
            let vantage = (source.kind() == EvidenceKind::Observed).then_some(settings.vantage);
            let row = |outcome, elapsed| Evidence {
                source: source.name().to_owned(),
                kind: source.kind(),
                vantage,
                outcome,
                elapsed,
            };
            match answer {
                None => {}
                Some((took, Err(e))) => evidence.push(row(Err(e), took)),
                Some((took, Ok(ips))) if ips.is_empty() => {
                    evidence.push(row(Err(SourceError::not_found("no address of the family asked for")), took));
                }
                Some((took, Ok(ips))) => {
                    for outcome in ips {
                        if let (Ok(ip), Some(agreed)) = (&outcome, winner)
                            && source.kind() == EvidenceKind::Observed
                            && ip.is_ipv4() == agreed.is_ipv4()
                            && *ip != agreed
                        {
                            warnings.push(
                                self.warning(
                                    WarningKind::Outlier,
                                    format!(
                                        "{} observed {ip}, not the agreed {agreed}: a proxy, or a lying echo service?",
                                        source.name()
                                    ),
                                )
                                .about(Subject::Source(source.name().to_owned())),
                            );
                        }
                        evidence.push(row(outcome, took));
                    }
                }
            }
        }
        let mut report = EgressReport {
            cluster: settings.cluster.clone(),
            status,
            vantage: settings.vantage,
            observed,
            host_observed,
            expected,
            evidence,
            warnings,
            elapsed,
        };
        let verdict = self.verdict_warnings(&report, winner, &tally);
        report.warnings.extend(verdict);
        // What the sources noticed while gathering (a Civo discovery's
        // caveats: a cluster not ACTIVE, an unmeasured CNI...) travels too.
        for source in &settings.sources {
            for warning in source.warnings() {
                if !report.warnings.contains(&warning) {
                    report.warnings.push(warning);
                }
            }
        }
        // Where the observations were made from comes first: it says how to
        // read everything else.
        report.warnings.splice(0..0, self.vantage_warnings(&report));
        report
    }

    /// A warning of `kind`, about the cluster when one was named.
    fn warning(&self, kind: WarningKind, message: String) -> Warning {
        let warning = Warning::new(kind, message);
        match self.inner.cluster.as_deref() {
            Some(cluster) if !cluster.is_empty() => warning.with_cluster(cluster),
            _ => warning,
        }
    }

    /// From a host outside the cluster: that the observations do not count,
    /// what this host was seen leaving from, and whether it is an expected
    /// IP anyway.
    fn vantage_warnings(&self, report: &EgressReport) -> Vec<Warning> {
        let observers = self.inner.sources.iter().any(|s| s.kind() == EvidenceKind::Observed);
        if self.inner.vantage.observes_the_cluster() || !observers {
            return Vec::new();
        }
        let seen = match report.host_observed {
            Some(ip) => format!("they saw {ip}, this host's IP"),
            None => "they agreed on no address, and any they see is this host's IP".to_owned(),
        };
        let mut warnings = vec![self.warning(
            WarningKind::HostVantage,
            format!(
                "observed from a host outside the cluster: {seen}, not the cluster's egress, so it is not compared with the expected IPs; to observe the cluster's egress, run this in a pod of the cluster or use `civo-egress probe` (state the vantage pod where this host's egress is the cluster's)"
            ),
        )];
        if let Some(ip) = report.host_observed.filter(|ip| report.expected.contains(ip)) {
            warnings.push(self.warning(
                WarningKind::HostMatchesExpected,
                format!(
                    "this host's observed IP {ip} is one of the expected egress IPs: the host may be inside the cluster after all (then state the vantage pod) or share its egress; this is not a confirmation"
                ),
            ));
        }
        warnings
    }

    /// `winner` is what the observers agreed on, from either vantage: the
    /// observation's own troubles (rejected answers, disagreement, no
    /// quorum) are reported from both.
    fn verdict_warnings(
        &self,
        report: &EgressReport,
        winner: Option<IpAddr>,
        tally: &[(IpAddr, usize)],
    ) -> Vec<Warning> {
        let (status, expected) = (report.status, report.expected.as_slice());
        let list = |ips: &[IpAddr]| ips.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        let mut warnings = Vec::new();
        let mut warn = |kind, message| warnings.push(self.warning(kind, message));
        if expected.len() > 1 {
            warn(
                WarningKind::SeveralExpected,
                format!(
                    "several egress IPs expected ({}): pods on public-IP pool nodes leave from their node's own IP; whitelist all of them",
                    list(expected)
                ),
            );
        }
        if let (EgressStatus::Mismatch, Some(ip)) = (status, report.observed) {
            warn(
                WarningKind::Mismatch,
                format!(
                    "observed {ip} but expected {}: the gateway node may have been replaced or the cluster rebuilt; the whitelist must change to {ip}",
                    list(expected)
                ),
            );
        }
        let split = |v4: bool| tally.iter().filter(|(ip, _)| ip.is_ipv4() == v4).count() > 1;
        let rejected = report.rejected();
        if winner.is_none() && tally.is_empty() && !rejected.is_empty() {
            let what: Vec<String> = rejected.iter().map(|(ip, why)| format!("{ip} ({why})")).collect();
            warn(
                WarningKind::AllRejected,
                format!(
                    "every observed answer was rejected as not global unicast: {}; a proxy, NAT or lab network answered, not the egress (in a lab, accept such answers with --allow-non-global, AddressPolicy::AllowNonGlobal in the library)",
                    what.join(", ")
                ),
            );
        } else if winner.is_none() && (split(true) || split(false)) {
            let said: Vec<String> = tally.iter().map(|(ip, n)| format!("{n} said {ip}")).collect();
            warn(
                WarningKind::Disagreement,
                format!("observers disagree ({}): no address won, so none is trusted", said.join(", ")),
            );
        } else if winner.is_none() {
            let seen: usize = tally.iter().map(|(_, n)| n).sum();
            let observers = self.inner.sources.iter().filter(|s| s.kind() == EvidenceKind::Observed).count();
            if observers > 0 {
                warn(
                    WarningKind::NoQuorum,
                    format!(
                        "no quorum: {seen} answer(s) from {observers} observing source(s), {} needed to agree",
                        self.inner.quorum
                    ),
                );
            }
        }
        warnings
    }
}
