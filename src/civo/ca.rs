//! The cluster's CA fingerprint, from the `kubeconfig` the Civo API sends
//! with each cluster: read for its `certificate-authority-data` only, and
//! dropped at once.
//!
//! That kubeconfig holds the cluster's admin credentials (a client key or a
//! token): its text is never kept in a model, never put in an error, a
//! warning or a `Debug` output, and never written to the snapshot. Anything
//! unexpected (no field, `null`, not a string, not a kubeconfig, a CA that
//! does not decode) is no fingerprint, never a failure of discovery.
//!
//! The kubeconfig is scanned, not parsed as YAML: the `civo-api` feature
//! has no YAML parser, and K3s writes `certificate-authority-data: <base64>`
//! on one line (JSON, also a kubeconfig, writes `"certificate-authority-data":
//! "<base64>"`; both are read).

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::fingerprint::CaFingerprint;

/// The field whose value is read.
const KEY: &str = "certificate-authority-data";

/// The fingerprint of the first certificate of the first cluster CA of the
/// kubeconfig `text`, if it has one that decodes.
pub(super) fn of_kubeconfig(text: &str) -> Option<CaFingerprint> {
    let mut from = 0;
    while let Some(at) = text[from..].find(KEY).map(|i| from + i) {
        from = at + KEY.len();
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')) {
            continue;
        }
        let Some(value) = value_after_key(&text[from..]) else { continue };
        if let Some(first) = CaFingerprint::from_pem_base64(value).ok().and_then(|all| all.first().copied()) {
            return Some(first);
        }
    }
    None
}

/// The base64 value that follows a key on its line: an optional closing
/// quote, `:`, spaces, an optional opening quote, then the base64 run.
fn value_after_key(rest: &str) -> Option<&str> {
    let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
    let rest = rest.trim_start_matches([' ', '\t']).strip_prefix(':')?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))).unwrap_or(rest.len());
    Some(&rest[..end]).filter(|value| !value.is_empty())
}

/// Deserializes the API's `kubeconfig` field into the fingerprint of its
/// CA: any JSON value is accepted, a string is scanned and dropped.
pub(super) fn from_kubeconfig<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CaFingerprint>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<CaFingerprint>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a kubeconfig")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(of_kubeconfig(v))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;
    use crate::fingerprint::tests::{CA_A, CA_A_OPENSSL, CA_B, from_openssl};

    fn data(pem: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(pem)
    }

    /// A kubeconfig as K3s writes it, with a client key below the CA.
    fn k3s(ca_data: &str) -> String {
        format!(
            "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {ca_data}\n    server: https://74.220.24.10:6443\n  name: prod\ncontexts:\n- context:\n    cluster: prod\n    user: prod\n  name: prod\ncurrent-context: prod\nkind: Config\npreferences: {{}}\nusers:\n- name: prod\n  user:\n    client-certificate-data: {ca_data}\n    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCg==\n"
        )
    }

    #[test]
    fn the_cluster_ca_of_a_k3s_kubeconfig() {
        let ca = from_openssl(CA_A_OPENSSL);
        assert_eq!(of_kubeconfig(&k3s(&data(CA_A))), Some(ca));
        let quoted = k3s(&format!("\"{}\"", data(CA_A)));
        assert_eq!(of_kubeconfig(&quoted), Some(ca));
        let json = format!(r#"{{"clusters":[{{"cluster":{{"certificate-authority-data":"{}"}}}}]}}"#, data(CA_A));
        assert_eq!(of_kubeconfig(&json), Some(ca));
        let crlf = k3s(&data(CA_A)).replace('\n', "\r\n");
        assert_eq!(of_kubeconfig(&crlf), Some(ca));
        let bundle = k3s(&data(&format!("{CA_A}{CA_B}")));
        assert_eq!(of_kubeconfig(&bundle), Some(ca), "the first certificate of a bundle");
    }

    #[test]
    fn anything_else_is_no_fingerprint() {
        for text in [
            String::new(),
            "YAML_VERSION_OF_KUBECONFIG_HERE\n".to_owned(),
            k3s("LS0tLS1CRUdJTg=="), // "-----BEGIN", truncated
            k3s("not base64!"),
            k3s(""),
            k3s("|"),
            "x-certificate-authority-data: ".to_owned() + &data(CA_A),
            "certificate-authority-data ".to_owned() + &data(CA_A),
        ] {
            assert_eq!(of_kubeconfig(&text), None, "{text:?}");
        }
        // A bad value first, then a good one: the good one.
        let both = format!("{}\n{}", k3s("Zm9v"), k3s(&data(CA_B)));
        assert_eq!(CaFingerprint::from_pem(CA_B).ok().map(|f| f[0]), of_kubeconfig(&both));
    }

    #[derive(Debug, serde::Deserialize)]
    struct Cluster {
        #[serde(default, rename = "kubeconfig", deserialize_with = "from_kubeconfig")]
        ca: Option<CaFingerprint>,
    }

    #[test]
    fn every_json_value_deserializes() {
        for json in ["{}", r#"{"kubeconfig":null}"#, r#"{"kubeconfig":42}"#, r#"{"kubeconfig":[1,{"a":2}]}"#] {
            let cluster: Cluster = serde_json::from_str(json).unwrap(); // ok: test
            assert_eq!(cluster.ca, None, "{json}");
        }
        let json = serde_json::json!({ "kubeconfig": k3s(&data(CA_A)) }).to_string();
        let cluster: Cluster = serde_json::from_str(&json).unwrap(); // ok: test
        assert_eq!(cluster.ca, Some(from_openssl(CA_A_OPENSSL)));
        assert!(!format!("{cluster:?}").contains("client-key-data"));
    }
}
