//! Entry points for the fuzz targets in `fuzz/`, compiled only under
//! `--cfg fuzzing` (which `cargo fuzz` sets). Not part of the API.

use std::net::IpAddr;

use crate::{IpClass, Topology};

/// The compiled index and the naive scan must agree on `ip`.
///
/// # Panics
///
/// When they disagree: that is what the fuzzer looks for.
#[allow(clippy::panic)]
pub fn check_classify(topology: &Topology, ip: IpAddr) {
    let fast = topology.classify_ip(ip);
    let (class, clusters) =
        crate::index::naive::naive(topology.clusters(), topology.load_balancers(), topology.reserved_ips(), ip);
    if (fast.class(), fast.clusters()) != (class, clusters.as_slice()) {
        panic!("index and scan disagree on {ip}: {fast} vs {class} {clusters:?}"); // ok: the fuzz oracle
    }
    let parts = (topology.clusters(), topology.load_balancers(), topology.reserved_ips());
    if let Some(reason) = crate::index::naive::naive_host_reason(parts.0, parts.1, parts.2, ip)
        && fast.reason() != reason
    {
        panic!("index and scan disagree on the reason of {ip}: {} vs {reason}", fast.reason()); // ok: the fuzz oracle
    }
    if fast.is_whitelistable() != (class == IpClass::Egress) {
        panic!("whitelistable and class disagree on {ip}"); // ok: the fuzz oracle
    }
}

/// Parses an HTTP echo body as the HTTP echo source and the probe do.
#[cfg(any(feature = "http-probe", feature = "probe"))]
pub fn parse_echo(body: &[u8], html: bool) -> Option<IpAddr> {
    crate::resolve::echo::parse_echo(body, html).ok()
}

/// Any bytes as every Civo API body: see `civo::fuzz::bodies`.
#[cfg(feature = "civo-api")]
pub fn civo_bodies(data: &[u8]) {
    crate::civo::fuzz::bodies(data);
}

/// Any text as the Civo CLI's config: see `civo::fuzz::cli_config`.
#[cfg(feature = "civo-api")]
pub fn civo_cli_config(text: &str) {
    crate::civo::fuzz::cli_config(text);
}

/// Bytes as what discovery fetched, assembled and read back: see
/// `civo::fuzz::assembly`.
#[cfg(feature = "civo-api")]
pub fn civo_assembly(data: &[u8]) {
    crate::civo::fuzz::assembly(data);
}

/// Whether the standard library already knows `ip` is not a global unicast
/// address: an oracle for [`crate::resolve::echo::check_global`] that does
/// not share its IANA tables (it knows less than they do, never more).
#[cfg(any(feature = "dns", feature = "probe"))]
fn std_knows_non_global(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
        }
    }
}

/// The global check, held to its rules: the lab opt-in keeps every address
/// (canonical); without it, an address is kept only when it is in no
/// special-purpose range, and never one std knows is not global.
#[cfg(any(feature = "dns", feature = "probe"))]
#[allow(clippy::panic)]
fn check_global_rules(ip: IpAddr) {
    use crate::AddressPolicy;
    use crate::resolve::SourceError;
    use crate::resolve::echo::check_global;
    let canonical = ip.to_canonical();
    if check_global(ip, AddressPolicy::AllowNonGlobal) != Ok(canonical) {
        panic!("the lab opt-in refused {ip}"); // ok: the fuzz oracle
    }
    match check_global(ip, AddressPolicy::GlobalOnly) {
        Ok(kept) if kept != canonical => panic!("{ip} came back as {kept}"), // ok: the fuzz oracle
        Ok(_) if crate::special::lookup(canonical).is_some() || std_knows_non_global(ip) => {
            panic!("{ip} is not global, and was kept without the lab opt-in") // ok: the fuzz oracle
        }
        Ok(_) => {}
        Err(SourceError::NonGlobal { ip: refused, .. }) if refused == canonical => {}
        Err(other) => panic!("{ip}: {other:?}"), // ok: the fuzz oracle
    }
}

/// Any bytes as a DNS echo server's response message, decoded by
/// hickory-proto as the resolver decodes it, its answer section read by the
/// DNS echo source's own extraction (`resolve/dns_echo.rs`) for each
/// question (A, AAAA, TXT) and each family asked.
///
/// # Panics
///
/// When an address comes back that no record of the question's type holds,
/// of another family than the one asked, not canonical or twice; when an
/// error does not fit the answer (`NotFound` with records of that type, a
/// `WrongFamily` address of the family asked, a long `BadAnswer`); or when
/// the global check keeps a non-global address without the lab opt-in.
#[cfg(feature = "dns")]
#[allow(clippy::panic)]
pub fn dns_echo_answer(data: &[u8]) {
    use hickory_resolver::proto::op::Message;
    use hickory_resolver::proto::rr::{RData, RecordType};

    use crate::resolve::{IpFamily, SourceError};

    let Ok(message) = Message::from_vec(data) else { return };
    let answers = &message.answers;
    // Whether a record of `question` holds `ip`, read independently.
    let held = |question: RecordType, ip: IpAddr| {
        answers.iter().any(|record| match (&record.data, question) {
            (RData::A(a), RecordType::A) => IpAddr::V4(a.0) == ip,
            (RData::AAAA(aaaa), RecordType::AAAA) => IpAddr::V6(aaaa.0).to_canonical() == ip,
            (RData::TXT(txt), RecordType::TXT) => {
                let text: String = txt.txt_data.iter().map(|s| String::from_utf8_lossy(s)).collect();
                text.trim().parse::<IpAddr>().is_ok_and(|parsed| parsed.to_canonical() == ip)
            }
            _ => false,
        })
    };
    for question in [RecordType::A, RecordType::AAAA, RecordType::TXT] {
        // A record that holds data of the question's type (a record of that
        // type with empty data holds none).
        let any_of_type = answers.iter().any(|r| {
            matches!(
                (&r.data, question),
                (RData::A(_), RecordType::A) | (RData::AAAA(_), RecordType::AAAA) | (RData::TXT(_), RecordType::TXT)
            )
        });
        for family in [IpFamily::V4, IpFamily::V6, IpFamily::Both] {
            match crate::resolve::dns_echo_addresses(answers, question, family) {
                Ok(ips) => {
                    if ips.is_empty() {
                        panic!("no address is an error, not an empty answer"); // ok: the fuzz oracle
                    }
                    for (i, &ip) in ips.iter().enumerate() {
                        if !family.admits(ip) || ip != ip.to_canonical() || ips[..i].contains(&ip) {
                            panic!("{question} {family}: {ip} in {ips:?}"); // ok: the fuzz oracle
                        }
                        if !held(question, ip) {
                            panic!("{ip} is in no {question} record"); // ok: the fuzz oracle
                        }
                        check_global_rules(ip);
                    }
                }
                Err(SourceError::WrongFamily(ip)) if !family.admits(ip) && held(question, ip) => {}
                Err(SourceError::NotFound { .. }) if !any_of_type => {}
                Err(SourceError::BadAnswer(message))
                    if question == RecordType::TXT && any_of_type && message.chars().count() <= 200 => {}
                Err(other) => panic!("{question} {family}: {other:?}"), // ok: the fuzz oracle
            }
        }
    }
}

/// Any bytes as a probe pod's log (its first byte: how many echo URLs, 0 to
/// 15; the rest, as text, the log of the pod of nonce `n0nce`), split back
/// into outcomes by the probe's own parser, with and without the lab
/// opt-in.
///
/// # Panics
///
/// When the outcomes are not one per URL; when an address is kept for a URL
/// whose marker is not in the log; when the two policies disagree on
/// anything but the global check; or when the global check keeps a
/// non-global address without the lab opt-in.
#[cfg(feature = "probe")]
#[allow(clippy::panic)]
pub fn probe_output(data: &[u8]) {
    use crate::AddressPolicy;
    use crate::resolve::SourceError;

    let Some((&head, rest)) = data.split_first() else { return };
    let urls = usize::from(head % 16);
    let log = String::from_utf8_lossy(rest);
    let strict = crate::probe::parse_output(&log, "n0nce", urls, AddressPolicy::GlobalOnly);
    let lab = crate::probe::parse_output(&log, "n0nce", urls, AddressPolicy::AllowNonGlobal);
    if strict.len() != urls || lab.len() != urls {
        panic!("{urls} URLs, {} and {} outcomes", strict.len(), lab.len()); // ok: the fuzz oracle
    }
    for (i, (strict, lab)) in strict.iter().zip(&lab).enumerate() {
        let marked = log.contains(&format!("@@civo-egress-probe:n0nce@@\t{i}\t"));
        match (strict, lab) {
            (Ok(kept), Ok(also)) if kept == also && marked => check_global_rules(*kept),
            (Err(SourceError::NonGlobal { ip, .. }), Ok(also)) if ip == also && marked => check_global_rules(*ip),
            (Err(SourceError::NonGlobal { .. }), _) | (Ok(_), _) => {
                panic!("URL {i}: {strict:?} without the opt-in, {lab:?} with it") // ok: the fuzz oracle
            }
            (Err(one), Err(other)) if one == other => {}
            (Err(_), _) => panic!("URL {i}: {strict:?} without the opt-in, {lab:?} with it"), // ok: the fuzz oracle
        }
    }
}
