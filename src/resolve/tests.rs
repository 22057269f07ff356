//! Unit tests of the names and of the causes.

use std::error::Error as _;
use std::fmt::Display;
use std::str::FromStr;

use serde::Serialize;

use super::{EgressStatus, EvidenceKind, IpFamily, SourceError, Vantage};
use crate::cause::Cause;
use crate::{ParseNameError, WarningKind};

/// `as_str`, `Display`, `FromStr` and serde agree, for every variant.
fn round_trips<T>(all: &[T])
where
    T: Copy + PartialEq + std::fmt::Debug + Display + FromStr<Err = ParseNameError> + Serialize,
{
    for &value in all {
        let name = value.to_string();
        assert_eq!(name.parse::<T>(), Ok(value), "{name}");
        assert_eq!(serde_json::to_value(value).unwrap(), serde_json::Value::String(name.clone())); // ok: test
    }
    let error = "no-such-name".parse::<T>().unwrap_err(); // ok: test
    assert_eq!(error.value(), "no-such-name");
    assert!(error.to_string().starts_with("unknown "), "{error}");
}

#[test]
fn names_round_trip_and_match_serde() {
    round_trips(EvidenceKind::ALL);
    round_trips(IpFamily::ALL);
    round_trips(EgressStatus::ALL);
    round_trips(Vantage::ALL);
    round_trips(WarningKind::ALL);
    assert_eq!(EvidenceKind::Observed.as_str(), "observed");
    assert_eq!(IpFamily::V6.as_str(), "v6");
    // The resolver's warning kinds keep the names they had.
    for (kind, name) in [
        (WarningKind::SeveralExpected, "several-expected"),
        (WarningKind::Mismatch, "mismatch"),
        (WarningKind::Outlier, "outlier"),
        (WarningKind::Disagreement, "disagreement"),
        (WarningKind::NoQuorum, "no-quorum"),
        (WarningKind::AllRejected, "all-rejected"),
        (WarningKind::HostVantage, "host-vantage"),
        (WarningKind::HostMatchesExpected, "host-matches-expected"),
    ] {
        assert_eq!(kind.as_str(), name);
        assert_eq!(name.parse::<WarningKind>(), Ok(kind));
    }
    assert_eq!(Vantage::Host.as_str(), "host");
}

#[cfg(feature = "dns")]
#[test]
fn dns_echo_styles_round_trip() {
    use super::DnsEchoStyle;
    for &style in DnsEchoStyle::ALL {
        assert_eq!(style.as_str().parse::<DnsEchoStyle>(), Ok(style));
        assert_eq!(style.to_string(), style.as_str());
    }
    assert!("OpenDns".parse::<DnsEchoStyle>().is_err(), "names are exact");
}

#[test]
fn causes_are_the_source_itself() {
    let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
    let error = SourceError::config("cannot read it").with_source(io);
    let source = error.source().unwrap(); // ok: test
    assert_eq!(
        source.downcast_ref::<std::io::Error>().map(std::io::Error::kind),
        Some(std::io::ErrorKind::PermissionDenied)
    );
    assert!(error.is_config());
    assert!(SourceError::Timeout(std::time::Duration::ZERO).with_source(std::fmt::Error).source().is_none());
}

#[test]
fn a_cause_that_quotes_a_secret_is_redacted() {
    let secret = "sekrit-123";
    let leaky = std::io::Error::other(format!("bad value {secret:?}"));
    let cause = Cause::scrubbed(leaky, secret);
    assert!(!format!("{cause} {cause:?}").contains(secret), "{cause:?}");
    assert!(format!("{cause}").contains("***"));
    let clean = Cause::scrubbed(std::io::Error::other("fine"), secret);
    assert!(clean.downcast_ref::<std::io::Error>().is_some(), "kept as is");
    assert_eq!(clean.clone(), clean);
}
