//! [`EgressResolver`] and [`resolve_egress`]: every source at once, a quorum,
//! a deadline.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::time::Instant;

use super::evidence::{Evidence, EvidenceKind, SourceError, check_global};
use super::report::EgressReport;
use super::source::EgressSource;
use super::vantage::{Vantage, prove};
use crate::verdict::{self, Answers, ResolveEvidence, Verdict};
use crate::{AddressPolicy, CaFingerprint, IpFamily};

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
/// each under its own timeout, all under one deadline; the resolver waits
/// for every answer (or the timeouts), never past the deadline, and hands
/// them to the crate's one verdict (the rules are in the docs of
/// [`EgressStatus`](crate::EgressStatus)'s module, and in
/// [`EgressReport`]): the same answers give the same verdict whatever
/// order they arrive in.
///
/// Per address family, the address a quorum of observers agrees on, more
/// than any other (a tie has none), is the observed egress.
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

#[derive(Debug, Clone)]
struct Settings {
    sources: Vec<Arc<dyn EgressSource>>,
    quorum: usize,
    source_timeout: Duration,
    deadline: Duration,
    family: IpFamily,
    addresses: AddressPolicy,
    accept_expected: bool,
    cluster: Option<String>,
    /// Stated, or detected and proven at `build()`.
    vantage: Vantage,
    /// The cluster's CA certificates given to the builder; the sources add
    /// theirs when they answer.
    cluster_cas: Vec<CaFingerprint>,
    /// When the vantage was not stated: what was detected at `build()`,
    /// and a pod's service-account CA, for the proof made once the sources
    /// have said which CAs are the cluster's.
    detected: Option<(Vantage, Option<String>)>,
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
#[derive(Debug, Clone)]
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
                accept_expected: false,
                cluster: None,
                // Replaced at build(), by the stated vantage or the detected one.
                vantage: Vantage::Host,
                cluster_cas: Vec::new(),
                detected: None,
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

    /// Whether an expected-only answer passes when the observations, made
    /// from inside the cluster, verified nothing (every observer hung,
    /// failed or was rejected, or too few agreed): then the status is
    /// [`Expected`](crate::EgressStatus::Expected) instead of
    /// [`Unverified`](crate::EgressStatus::Unverified). Default `false`: a
    /// check that observed nothing does not pass. (With no observing
    /// source at all, the status is `expected` either way.)
    pub fn accept_expected(mut self, accept: bool) -> Self {
        self.settings.accept_expected = accept;
        self
    }

    /// The fingerprints of the cluster's CA certificates
    /// ([`Cluster::ca_fingerprint`](crate::Cluster::ca_fingerprint), recorded
    /// by discovery; a kubeconfig's `ca_fingerprints`): a pod is taken to
    /// observe the cluster's egress only when its service-account CA is one
    /// of them ([`Vantage::detect_and_prove`]). The sources add the ones
    /// they know ([`EgressSource::cluster_cas`]: a snapshot's, the Civo
    /// API's, a kubeconfig's). Without any, a detected pod is not proven to
    /// be the cluster's, and observes as a host would (a
    /// [`VantageUnproven`](crate::WarningKind::VantageUnproven) warning says
    /// so). Ignored when the vantage is stated.
    pub fn cluster_cas(mut self, cas: impl IntoIterator<Item = CaFingerprint>) -> Self {
        self.settings.cluster_cas.extend(cas);
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

    /// Checks the configuration, and detects and proves the vantage unless it was
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
        settings.vantage = match self.vantage {
            Some(stated) => stated,
            None => {
                // A pod proves "a pod", not "a pod of this cluster": its
                // service-account CA must be the cluster's. Read now (a
                // blocking read), proven again once the sources answered.
                let (detected, ca) = super::vantage::detect_with_ca();
                let vantage = prove(detected, ca.as_deref(), &settings.cluster_cas).vantage();
                settings.detected = Some((detected, ca));
                vantage
            }
        };
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
    /// [`build()`](EgressResolverBuilder::build) and proven with the CAs
    /// given to the builder. A report's
    /// [`vantage`](EgressReport::vantage) is proven again with the CAs its
    /// sources knew ([`EgressSource::cluster_cas`]): a pod unproven here may
    /// be proven there.
    #[must_use]
    pub fn vantage(&self) -> Vantage {
        self.inner.vantage
    }

    /// Runs every source and concludes.
    ///
    /// Every source is waited for (each under its own timeout, all under
    /// the deadline): a verdict drawn before the last answer could differ
    /// with the order answers arrive in, and would miss the observers that
    /// disagree.
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
        // Until every source has answered, or the deadline.
        while let Ok(Some((i, elapsed, result))) = tokio::time::timeout_at(deadline, running.next()).await {
            let checked = result.map(|ips| ips.into_iter().map(|ip| self.check(ip)).collect());
            answers[i] = Some((elapsed, checked));
        }
        // Dropping the stream cancels every source still running: the
        // deadline passed.
        drop(running);
        self.conclude(answers, started.elapsed())
    }

    /// Addresses must be of the family asked and global unicast, the
    /// expected ones as much as the observed (a kubeconfig server on
    /// 127.0.0.1 is a tunnel, not an egress IP).
    fn check(&self, ip: IpAddr) -> Result<IpAddr, SourceError> {
        let ip = ip.to_canonical();
        if !self.inner.family.admits(ip) {
            return Err(SourceError::WrongFamily(ip));
        }
        check_global(ip, self.inner.addresses)
    }

    fn conclude(&self, answers: Vec<Option<Answer>>, elapsed: Duration) -> EgressReport {
        let settings = &*self.inner;
        let mut evidence = Vec::new();
        let mut expected = Vec::new();
        let mut observers = Vec::new();
        for (source, answer) in settings.sources.iter().zip(answers) {
            let kind = source.kind();
            let vantage = (kind == EvidenceKind::Observed).then_some(settings.vantage);
            let row = |outcome, elapsed| Evidence { source: source.name().to_owned(), kind, vantage, outcome, elapsed };
            let mut said = Answers { source: source.name().to_owned(), ..Answers::default() };
            match answer {
                None => {
                    let error = SourceError::Timeout(settings.deadline);
                    said.failure = Some(error.to_string());
                    evidence.push(row(Err(error), elapsed));
                }
                Some((took, Err(error))) => {
                    said.failure = Some(error.to_string());
                    evidence.push(row(Err(error), took));
                }
                Some((took, Ok(ips))) if ips.is_empty() => {
                    let error = SourceError::not_found("no address of the family asked for");
                    said.failure = Some(error.to_string());
                    evidence.push(row(Err(error), took));
                }
                Some((took, Ok(ips))) => {
                    for outcome in ips {
                        match &outcome {
                            Ok(ip) if !said.ips.contains(ip) => said.ips.push(*ip),
                            Ok(_) => {}
                            Err(SourceError::NonGlobal { ip, why }) => said.rejected.push((*ip, why.clone())),
                            Err(error) => said.failure = Some(error.to_string()),
                        }
                        evidence.push(row(outcome, took));
                    }
                }
            }
            match kind {
                EvidenceKind::Expected => expected.push(said),
                EvidenceKind::Observed => observers.push(said),
            }
        }
        // The vantage, proven with every CA the builder and the sources know.
        let (vantage, proof) = match &settings.detected {
            None => (settings.vantage, None),
            Some((detected, ca)) => {
                let mut cas = settings.cluster_cas.clone();
                cas.extend(settings.sources.iter().flat_map(|s| s.cluster_cas()));
                let proof = prove(*detected, ca.as_deref(), &cas);
                (proof.vantage(), proof.warning())
            }
        };
        for row in &mut evidence {
            if row.vantage.is_some() {
                row.vantage = Some(vantage);
            }
        }
        let gathered = ResolveEvidence {
            cluster: settings.cluster.as_deref(),
            expected,
            observers,
            in_cluster: vantage.observes_the_cluster(),
            quorum: settings.quorum,
            accept_expected: settings.accept_expected,
            doubts: settings
                .sources
                .iter()
                .flat_map(|s| s.warnings())
                .map(|w| w.kind())
                .filter(|kind| kind.doubts_egress())
                .fold(Vec::new(), |mut kinds, kind| {
                    if !kinds.contains(&kind) {
                        kinds.push(kind);
                    }
                    kinds
                }),
            family: settings.family,
        };
        let (verdict, host_observed) = verdict::resolve(&gathered);
        let expected_ips: Vec<IpAddr> = {
            let mut all = Vec::new();
            for said in &gathered.expected {
                for ip in &said.ips {
                    if !all.contains(ip) {
                        all.push(*ip);
                    }
                }
            }
            all
        };
        let mut warnings = verdict.warnings.clone();
        if let Some(proof) = proof {
            let proof = match settings.cluster.as_deref() {
                Some(cluster) if !cluster.is_empty() => proof.with_cluster(cluster),
                _ => proof,
            };
            warnings.insert(0, proof);
        }
        // What the sources noticed while gathering (a Civo discovery's
        // caveats: a cluster not ACTIVE, an unmeasured CNI...) travels too.
        for source in &settings.sources {
            for warning in source.warnings() {
                if !warnings.contains(&warning) {
                    warnings.push(warning);
                }
            }
        }
        EgressReport {
            cluster: settings.cluster.clone(),
            vantage,
            verdict: Verdict { warnings, ..verdict },
            host_observed,
            expected: expected_ips,
            evidence,
            elapsed,
        }
    }
}
