//! [`CaFingerprint`]: which certificate authority a Kubernetes cluster's
//! certificates chain to, as the SHA-256 of the CA certificate's DER.
//!
//! Why a cluster needs one: a pod sees `KUBERNETES_SERVICE_*` and a
//! service-account token in *every* cluster, so those prove "a pod", not "a
//! pod of the cluster asked about". The CA certificate the kubelet mounts
//! beside the token (`ca.crt`) is the cluster's own: its fingerprint,
//! compared with the one recorded for the cluster (from its kubeconfig),
//! proves which cluster the pod is in.
//!
//! Parsing and writing are in the core; hashing a certificate
//! ([`CaFingerprint::of_der`], [`CaFingerprint::from_pem`]) needs the
//! `resolve` feature (sha2 and base64), which every network layer implies.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The SHA-256 of a CA certificate's DER encoding, written
/// `sha256:<64 lowercase hex digits>`: the fingerprint
/// `openssl x509 -noout -fingerprint -sha256` prints (there uppercase, with
/// colons).
///
/// The written form is the only one read: `sha256:` and exactly 64
/// lowercase hex digits, as an OCI image digest. Uppercase digits, colons
/// between bytes (openssl's form) and a missing prefix are refused, each
/// with a message that says so, so that one fingerprint has one spelling
/// and two snapshots compare as text.
///
/// ```
/// use civo_egress::CaFingerprint;
/// let text = "sha256:7e8ed5c64b37eb24e09a77b7a71470297b8e4f2c9eaa290834dad87a4ac6d429";
/// let fingerprint: CaFingerprint = text.parse()?;
/// assert_eq!(fingerprint.to_string(), text);
/// assert_eq!(fingerprint.as_bytes()[0], 0x7e);
/// assert_eq!(serde_json::to_string(&fingerprint)?, format!("\"{text}\""));
/// assert!(text.to_uppercase().parse::<CaFingerprint>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaFingerprint([u8; 32]);

/// The prefix of the written form.
const PREFIX: &str = "sha256:";

impl CaFingerprint {
    /// The fingerprint whose SHA-256 digest is `digest`.
    #[must_use]
    pub const fn from_sha256(digest: [u8; 32]) -> Self {
        Self(digest)
    }

    /// The SHA-256 digest.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl From<[u8; 32]> for CaFingerprint {
    fn from(digest: [u8; 32]) -> Self {
        Self(digest)
    }
}

impl From<CaFingerprint> for [u8; 32] {
    fn from(fingerprint: CaFingerprint) -> Self {
        fingerprint.0
    }
}

/// `sha256:` and 64 lowercase hex digits.
impl fmt::Display for CaFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PREFIX)?;
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

/// The written form, as `Display`.
impl fmt::Debug for CaFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Text that is not a [`CaFingerprint`]: the message says what is wrong
/// (lowercase, never the text itself).
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error("invalid CA fingerprint: {why}")]
pub struct ParseFingerprintError {
    pub(crate) why: String,
}

impl ParseFingerprintError {
    fn new(why: impl Into<String>) -> Self {
        Self { why: why.into() }
    }
}

/// What the written form looks like, for error messages that expect it.
pub(crate) const EXPECTED: &str = "\"sha256:\" and 64 lowercase hex digits";

impl FromStr for CaFingerprint {
    type Err = ParseFingerprintError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let Some(hex) = text.strip_prefix(PREFIX) else {
            return Err(ParseFingerprintError::new(if text.to_ascii_lowercase().starts_with(PREFIX) {
                "the prefix is sha256: in lowercase"
            } else {
                "no sha256: prefix"
            }));
        };
        if hex.contains(':') {
            return Err(ParseFingerprintError::new("colons between bytes (write the 64 hex digits without them)"));
        }
        if let Some(bad) = hex.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
            return Err(ParseFingerprintError::new(if bad.is_ascii_hexdigit() {
                "an uppercase hex digit (write them in lowercase)".to_owned()
            } else {
                format!("{bad:?} is not a hex digit")
            }));
        }
        if hex.len() != 64 {
            return Err(ParseFingerprintError::new(format!("{} hex digits, not 64", hex.len())));
        }
        let mut digest = [0u8; 32];
        for (byte, pair) in digest.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            *byte = (nibble(pair[0]) << 4) | nibble(pair[1]);
        }
        Ok(Self(digest))
    }
}

/// The value of a lowercase hex digit (checked by the caller).
const fn nibble(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        _ => digit - b'a' + 10,
    }
}

impl Serialize for CaFingerprint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CaFingerprint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "resolve")]
pub use hashing::PemError;

#[cfg(feature = "resolve")]
mod hashing {
    use base64::Engine as _;
    use sha2::{Digest as _, Sha256};

    use super::CaFingerprint;

    /// A PEM bundle whose certificates cannot be fingerprinted. The message
    /// says which block and what is wrong, never the text.
    #[cfg_attr(docsrs, doc(cfg(feature = "resolve")))]
    #[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
    #[error("invalid PEM certificate bundle: {why}")]
    pub struct PemError {
        why: String,
    }

    impl PemError {
        fn new(why: impl Into<String>) -> Self {
            Self { why: why.into() }
        }
    }

    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";

    impl CaFingerprint {
        /// The fingerprint of the certificate whose DER encoding is `der`
        /// (the bytes are hashed as given; see
        /// [`from_pem`](Self::from_pem) for a checked certificate).
        ///
        /// ```
        /// use civo_egress::CaFingerprint;
        /// assert_eq!(
        ///     CaFingerprint::of_der(b"").to_string(),
        ///     "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        /// );
        /// ```
        #[cfg_attr(docsrs, doc(cfg(feature = "resolve")))]
        #[must_use]
        pub fn of_der(der: &[u8]) -> Self {
            Self(Sha256::digest(der).into())
        }

        /// The fingerprint of each certificate of a PEM bundle (a `ca.crt`,
        /// the PEM a kubeconfig's `certificate-authority-data` holds), in
        /// order: one per `CERTIFICATE` block. Text around the blocks and
        /// blocks of other types (a key, a CRL) are skipped; line ends may
        /// be `\r\n`.
        ///
        /// ```
        /// use civo_egress::CaFingerprint;
        /// let pem = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";
        /// let fingerprints = CaFingerprint::from_pem(pem)?;
        /// assert_eq!(fingerprints, [CaFingerprint::of_der(&[0x30, 0x03, 0x02, 0x01, 0x00])]);
        /// assert!(CaFingerprint::from_pem("not a certificate").is_err());
        /// # Ok::<(), civo_egress::PemError>(())
        /// ```
        ///
        /// # Errors
        ///
        /// A [`PemError`] when there is no `CERTIFICATE` block, a block has
        /// no end line, or its body is not base64 of one DER `SEQUENCE`.
        #[cfg_attr(docsrs, doc(cfg(feature = "resolve")))]
        pub fn from_pem(pem: &str) -> Result<Vec<Self>, PemError> {
            let mut fingerprints = Vec::new();
            let mut body: Option<String> = None;
            for line in pem.lines().map(str::trim) {
                match &mut body {
                    None if line == BEGIN => body = Some(String::new()),
                    None => {}
                    Some(text) if line == END => {
                        let block = fingerprints.len() + 1;
                        let der = base64::engine::general_purpose::STANDARD
                            .decode(text.as_bytes())
                            .map_err(|_| PemError::new(format!("certificate {block} is not base64")))?;
                        if !is_one_der_sequence(&der) {
                            return Err(PemError::new(format!("certificate {block} is not a DER certificate")));
                        }
                        fingerprints.push(Self::of_der(&der));
                        body = None;
                    }
                    Some(_) if line.starts_with("-----") => {
                        return Err(PemError::new(format!("certificate {} has no {END} line", fingerprints.len() + 1)));
                    }
                    Some(text) => text.extend(line.chars().filter(|c| !c.is_ascii_whitespace())),
                }
            }
            if body.is_some() {
                return Err(PemError::new(format!("certificate {} has no {END} line", fingerprints.len() + 1)));
            }
            if fingerprints.is_empty() {
                return Err(PemError::new("no CERTIFICATE block"));
            }
            Ok(fingerprints)
        }

        /// The fingerprints of the PEM bundle that `data` holds in base64,
        /// as a kubeconfig's `certificate-authority-data` does (whitespace
        /// in it is ignored).
        #[cfg_attr(not(any(feature = "civo-api", feature = "kubeconfig")), allow(dead_code))]
        pub(crate) fn from_pem_base64(data: &str) -> Result<Vec<Self>, PemError> {
            let data: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            let pem = base64::engine::general_purpose::STANDARD
                .decode(data.as_bytes())
                .map_err(|_| PemError::new("the certificate authority data is not base64"))?;
            let pem = String::from_utf8(pem).map_err(|_| PemError::new("the certificate authority data is not PEM"))?;
            Self::from_pem(&pem)
        }
    }

    /// Whether `der` is exactly one DER `SEQUENCE` (what every X.509
    /// certificate is): its tag, a definite length, and nothing after.
    fn is_one_der_sequence(der: &[u8]) -> bool {
        let [0x30, first, rest @ ..] = der else { return false };
        let (length, rest) = match *first {
            short @ 0..=0x7f => (usize::from(short), rest),
            long @ 0x81..=0x84 => {
                let count = usize::from(long & 0x7f);
                let Some((bytes, rest)) = rest.split_at_checked(count) else { return false };
                (bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b)), rest)
            }
            _ => return false,
        };
        rest.len() == length
    }
}

#[cfg(test)]
#[cfg_attr(not(feature = "resolve"), allow(dead_code))] // the certificates are hashed with `resolve`
pub(crate) mod tests {
    use super::*;

    /// A K3s-like server CA (EC P-256, `CN=k3s-server-ca@170000000a`),
    /// made once with `openssl req -x509 -newkey ec`.
    pub(crate) const CA_A: &str = "-----BEGIN CERTIFICATE-----
MIIBnTCCAUOgAwIBAgIUD+kQFmefcF+OyUBzTQly2CW/m6UwCgYIKoZIzj0EAwIw
IzEhMB8GA1UEAwwYazNzLXNlcnZlci1jYUAxNzAwMDAwMDBhMCAXDTI2MTIwNjEw
MTE1OFoYDzIxMjYxMTEyMTAxMTU4WjAjMSEwHwYDVQQDDBhrM3Mtc2VydmVyLWNh
QDE3MDAwMDAwMGEwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARa18uGaY5bg5Cb
PluLYwqxDVozymUH4XwOF/nOS/ua/K11efDVMIol+TQ4WtGLQGAivIxAhC7CszX5
9TcPkqzco1MwUTAdBgNVHQ4EFgQUIpZv5M/qhlt10WdT7IS+oGJXkEswHwYDVR0j
BBgwFoAUIpZv5M/qhlt10WdT7IS+oGJXkEswDwYDVR0TAQH/BAUwAwEB/zAKBggq
hkjOPQQDAgNIADBFAiEAu1QXRYOsPSdW7fYsmwtd75UQzWNxeKDyQ1n9hHE35G8C
IAQ/Z1KSjtih5mL2wYMhrKOrW6kHzdeQV2eFJCu5dDW5
-----END CERTIFICATE-----
";
    /// What `openssl x509 -noout -fingerprint -sha256` printed for [`CA_A`].
    pub(crate) const CA_A_OPENSSL: &str = "sha256 Fingerprint=7E:8E:D5:C6:4B:37:EB:24:E0:9A:77:B7:A7:14:70:29:7B:8E:4F:2C:9E:AA:29:08:34:DA:D8:7A:4A:C6:D4:29";

    /// Another cluster's CA (`CN=k3s-server-ca@170000000b`), made the same way.
    pub(crate) const CA_B: &str = "-----BEGIN CERTIFICATE-----
MIIBnTCCAUOgAwIBAgIUOSs0hrF3q4/ANQ2FQMJkfdma/dowCgYIKoZIzj0EAwIw
IzEhMB8GA1UEAwwYazNzLXNlcnZlci1jYUAxNzAwMDAwMDBiMCAXDTI2MTIwNjEw
MTE1OFoYDzIxMjYxMTEyMTAxMTU4WjAjMSEwHwYDVQQDDBhrM3Mtc2VydmVyLWNh
QDE3MDAwMDAwMGIwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQYmBsV5YS1XjzY
HfdqQL7lfj7qZd8wBSqBp5vbJg6LSkdIjCJ1wVPc5pJw0Hu6RPSVc02R1lPzyyaA
tw6hMaKfo1MwUTAdBgNVHQ4EFgQURVszFFxm+I2SNbS4vHKCbJ9nUMAwHwYDVR0j
BBgwFoAURVszFFxm+I2SNbS4vHKCbJ9nUMAwDwYDVR0TAQH/BAUwAwEB/zAKBggq
hkjOPQQDAgNIADBFAiEA8xFDChm35hSrP/Sa9+02M/9jza8LBot6QBACLePuvewC
IF7o/h0rZnvn82Ro7cK45/KVwV7ramcOtPV1skptbkKv
-----END CERTIFICATE-----
";
    /// What `openssl x509 -noout -fingerprint -sha256` printed for [`CA_B`].
    pub(crate) const CA_B_OPENSSL: &str = "sha256 Fingerprint=6A:47:67:09:D5:48:2A:AD:A4:A2:3C:DA:34:7F:B3:C8:CD:54:CD:04:43:22:D5:DC:5B:A4:8F:0A:69:F2:DF:97";

    /// openssl's `sha256 Fingerprint=AB:CD:...` in the written form.
    pub(crate) fn from_openssl(line: &str) -> CaFingerprint {
        let hex = line.trim().trim_start_matches("sha256 Fingerprint=").replace(':', "").to_lowercase();
        format!("sha256:{hex}").parse().unwrap() // ok: test
    }

    #[test]
    fn the_written_form_round_trips() {
        let text = "sha256:00ff10a0b1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c";
        let fingerprint: CaFingerprint = text.parse().unwrap(); // ok: test
        assert_eq!(fingerprint.to_string(), text);
        assert_eq!(format!("{fingerprint:?}"), text, "Debug is the compact form");
        assert_eq!(fingerprint.as_bytes()[..3], [0x00, 0xff, 0x10]);
        let json = serde_json::to_string(&fingerprint).unwrap(); // ok: test
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(serde_json::from_str::<CaFingerprint>(&json).unwrap(), fingerprint); // ok: test
        assert_eq!(CaFingerprint::from(<[u8; 32]>::from(fingerprint)), fingerprint);
        assert!(serde_json::from_str::<CaFingerprint>("42").is_err());
    }

    #[test]
    fn the_types_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<CaFingerprint>();
        assert_send_sync::<ParseFingerprintError>();
        #[cfg(feature = "resolve")]
        assert_send_sync::<PemError>();
    }

    #[test]
    fn bad_text_is_refused_with_a_message_that_says_why() {
        let hex = "7e8ed5c64b37eb24e09a77b7a71470297b8e4f2c9eaa290834dad87a4ac6d429";
        let cases = [
            (hex.to_owned(), "no sha256: prefix"),
            (format!("SHA256:{hex}"), "the prefix is sha256: in lowercase"),
            (format!("sha256:{}", hex.to_uppercase()), "an uppercase hex digit (write them in lowercase)"),
            (format!("sha256:{}", &hex[..62]), "62 hex digits, not 64"),
            (format!("sha256:{hex}00"), "66 hex digits, not 64"),
            ("sha256:".to_owned(), "0 hex digits, not 64"),
            (format!("sha256:{}g", &hex[..63]), "'g' is not a hex digit"),
            (format!("sha256: {}", &hex[..63]), "' ' is not a hex digit"),
            (format!("sha256:{hex}\n"), "'\\n' is not a hex digit"),
            ("sha256:7E:8E".to_owned(), "colons between bytes (write the 64 hex digits without them)"),
            (String::new(), "no sha256: prefix"),
        ];
        for (text, why) in cases {
            let error = text.parse::<CaFingerprint>().unwrap_err(); // ok: test
            assert_eq!(error.to_string(), format!("invalid CA fingerprint: {why}"), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn every_digest_round_trips(digest: [u8; 32]) {
            let fingerprint = CaFingerprint::from_sha256(digest);
            let text = fingerprint.to_string();
            proptest::prop_assert_eq!(text.len(), 71);
            proptest::prop_assert_eq!(text.parse::<CaFingerprint>(), Ok(fingerprint));
        }

        #[test]
        fn parsing_never_panics_and_accepts_only_the_written_form(text in "\\PC{0,80}|sha256:[0-9a-fA-F:]{0,70}") {
            if let Ok(fingerprint) = text.parse::<CaFingerprint>() {
                proptest::prop_assert_eq!(fingerprint.to_string(), text);
            }
        }

        #[test]
        fn the_order_is_the_digests(a: [u8; 32], b: [u8; 32]) {
            proptest::prop_assert_eq!(CaFingerprint::from(a).cmp(&CaFingerprint::from(b)), a.cmp(&b));
            proptest::prop_assert_eq!(
                CaFingerprint::from(a).to_string().cmp(&CaFingerprint::from(b).to_string()),
                a.cmp(&b),
                "the text sorts as the value"
            );
        }
    }

    #[cfg(feature = "resolve")]
    mod hashing {
        use super::*;
        use crate::PemError;

        #[test]
        fn a_known_certificate_has_the_fingerprint_openssl_prints() {
            assert_eq!(CaFingerprint::from_pem(CA_A).unwrap(), [from_openssl(CA_A_OPENSSL)]); // ok: test
            assert_eq!(CaFingerprint::from_pem(CA_B).unwrap(), [from_openssl(CA_B_OPENSSL)]); // ok: test
            assert_ne!(from_openssl(CA_A_OPENSSL), from_openssl(CA_B_OPENSSL));
        }

        #[test]
        fn a_bundle_gives_one_per_certificate_in_order() {
            let bundle = format!("# cluster CA\n{CA_B}subject=CN = a\n{}", CA_A.replace('\n', "\r\n"));
            assert_eq!(
                CaFingerprint::from_pem(&bundle).unwrap(), // ok: test
                [from_openssl(CA_B_OPENSSL), from_openssl(CA_A_OPENSSL)]
            );
            let with_key = format!("-----BEGIN EC PRIVATE KEY-----\nMAMCAQA=\n-----END EC PRIVATE KEY-----\n{CA_A}");
            assert_eq!(CaFingerprint::from_pem(&with_key).unwrap(), [from_openssl(CA_A_OPENSSL)]); // ok: test
        }

        #[test]
        fn base64_of_pem_as_a_kubeconfig_holds_it() {
            use base64::Engine as _;
            let data = base64::engine::general_purpose::STANDARD.encode(CA_A);
            assert_eq!(CaFingerprint::from_pem_base64(&data).unwrap(), [from_openssl(CA_A_OPENSSL)]); // ok: test
            let error = |data: &str| CaFingerprint::from_pem_base64(data).unwrap_err().to_string(); // ok: test
            // "LS0tLS1CRUdJTg==" is "-----BEGIN": a truncated value.
            assert_eq!(error("LS0tLS1CRUdJTg=="), "invalid PEM certificate bundle: no CERTIFICATE block");
            assert_eq!(
                error("not base64!"),
                "invalid PEM certificate bundle: the certificate authority data is not base64"
            );
            assert_eq!(error("//79"), "invalid PEM certificate bundle: the certificate authority data is not PEM");
        }

        #[test]
        fn bad_bundles_name_the_block_and_never_the_text() {
            let body: String = CA_A.lines().filter(|l| !l.starts_with("-----")).collect();
            let cases = [
                (String::new(), "no CERTIFICATE block"),
                ("hello".to_owned(), "no CERTIFICATE block"),
                (
                    CA_A.replace("-----END CERTIFICATE-----\n", ""),
                    "certificate 1 has no -----END CERTIFICATE----- line",
                ),
                (
                    format!("{CA_A}{}", CA_B.replace("-----END", "-----BEGIN")),
                    "certificate 2 has no -----END CERTIFICATE----- line",
                ),
                (CA_A.replace("MIIB", "MII*"), "certificate 1 is not base64"),
                (
                    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----", &body[..body.len() - 4]),
                    "certificate 1 is not a DER certificate",
                ),
                (
                    "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----".to_owned(),
                    "certificate 1 is not a DER certificate",
                ),
                (
                    "-----BEGIN CERTIFICATE-----\nMAMCAQAA\n-----END CERTIFICATE-----".to_owned(),
                    "certificate 1 is not a DER certificate",
                ),
            ];
            for (pem, why) in cases {
                let error: PemError = CaFingerprint::from_pem(&pem).unwrap_err(); // ok: test
                assert_eq!(error.to_string(), format!("invalid PEM certificate bundle: {why}"), "{pem:?}");
                assert!(!format!("{error:?}").contains("MIIB"), "{error:?}");
            }
        }

        /// openssl itself as the oracle, on certificates rcgen makes anew
        /// each run (skipped, saying so, where openssl is not installed).
        #[test]
        fn fresh_certificates_agree_with_openssl() {
            let dir = std::env::temp_dir().join(format!("civo-egress-fingerprint-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap(); // ok: test
            for i in 0..3 {
                let key = rcgen::KeyPair::generate().unwrap(); // ok: test
                let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap(); // ok: test
                params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
                params.distinguished_name.push(rcgen::DnType::CommonName, format!("k3s-server-ca@{i}"));
                let cert = params.self_signed(&key).unwrap(); // ok: test
                let path = dir.join(format!("ca{i}.crt"));
                std::fs::write(&path, cert.pem()).unwrap(); // ok: test
                let ours = CaFingerprint::from_pem(&cert.pem()).unwrap(); // ok: test
                assert_eq!(ours, [CaFingerprint::of_der(&cert.der()[..])]);
                let openssl = std::process::Command::new("openssl")
                    .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
                    .arg(&path)
                    .output();
                match openssl {
                    Ok(out) if out.status.success() => {
                        assert_eq!(ours, [from_openssl(&String::from_utf8_lossy(&out.stdout))]);
                    }
                    _ => eprintln!("openssl not found: the fingerprint oracle is skipped"),
                }
            }
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
