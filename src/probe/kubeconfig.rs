//! The probe's kubeconfig, checked as strictly as the CLI checks it: read
//! once, through the crate's capped reader and its kubectl rules, then
//! handed to kube-rs with every file it names (a CA, a client certificate
//! and key, a token file) already read, with a cap, into the `*-data`
//! fields, so kube-rs never opens a FIFO or `/dev/zero` on its own.

use std::path::{Path, PathBuf};

use base64::Engine;
use kube::config::Kubeconfig;
use secrecy::{ExposeSecret, SecretString};

use super::error::{ProbeError, Secrets};
use crate::cause::Cause;
use crate::kubeconfig::{Kubeconfig as Ours, MAX_FILE_BYTES};

/// The cap on a file a kubeconfig names (a key, a certificate, a token).
const MAX_NAMED_FILE_BYTES: u64 = 1 << 20;

/// A kubeconfig read for kube-rs, with the secrets to scrub from errors.
pub(crate) struct Loaded {
    pub(crate) config: Kubeconfig,
    pub(crate) path: String,
    pub(crate) secrets: Secrets,
}

/// Reads `file`, else `KUBECONFIG`'s files, else `~/.kube/config`.
pub(crate) fn load(file: Option<&Path>, context: Option<&str>) -> Result<Loaded, ProbeError> {
    let paths: Vec<PathBuf> = file.map_or_else(Ours::default_paths, |f| vec![f.to_owned()]);
    let path = file.map_or_else(|| "KUBECONFIG or ~/.kube/config".to_owned(), |p| p.display().to_string());
    let refused = |error: crate::kubeconfig::KubeconfigError| ProbeError::Kubeconfig {
        path: path.clone(),
        message: error.to_string(),
        source: Some(Cause::new(error)),
    };
    // What kubectl refuses, refused here: the crate's reader and rules.
    Ours::load(&paths).and_then(|ours| ours.server(context)).map_err(refused)?;
    let mut secrets = Secrets::default();
    let mut merged = Kubeconfig::default();
    for one in &paths {
        let text = match crate::read_local_file(one, MAX_FILE_BYTES) {
            Ok(text) => text,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(unreadable(&path, "the kubeconfig", e)),
        };
        let mut config =
            Kubeconfig::from_yaml(&text).map_err(|e| ProbeError::from_kubeconfig(&path, e, &Secrets::default()))?;
        inline(&mut config, one.parent().unwrap_or_else(|| Path::new(".")), &path, &mut secrets)?;
        merged = merged.merge(config).map_err(|e| ProbeError::from_kubeconfig(&path, e, &secrets))?;
    }
    Ok(Loaded { config: merged, path, secrets })
}

fn unreadable(path: &str, what: &str, error: crate::LocalFileError) -> ProbeError {
    ProbeError::Kubeconfig {
        path: path.to_owned(),
        message: format!("{what}: {error}"),
        source: Some(Cause::new(error)),
    }
}

/// Reads each named file (relative to the kubeconfig's directory, as
/// kubectl does) into its `*-data` field, and records the secrets.
fn inline(config: &mut Kubeconfig, dir: &Path, path: &str, secrets: &mut Secrets) -> Result<(), ProbeError> {
    let read = |field: &str, file: &str| -> Result<String, ProbeError> {
        let named = dir.join(file);
        crate::read_local_file(&named, MAX_NAMED_FILE_BYTES).map_err(|e| unreadable(path, field, e))
    };
    let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    for cluster in config.clusters.iter_mut().filter_map(|c| c.cluster.as_mut()) {
        if let Some(file) = cluster.certificate_authority.take() {
            cluster.certificate_authority_data = Some(encode(&read("certificate-authority", &file)?));
        }
    }
    for user in config.auth_infos.iter_mut().filter_map(|a| a.auth_info.as_mut()) {
        if let Some(file) = user.client_certificate.take() {
            user.client_certificate_data = Some(encode(&read("client-certificate", &file)?));
        }
        if let Some(file) = user.client_key.take() {
            let key = read("client-key", &file)?;
            secrets.add(&key);
            user.client_key_data = Some(SecretString::from(encode(&key)));
        }
        if let Some(file) = user.token_file.take() {
            let token = read("token-file", &file)?;
            secrets.add(&token);
            user.token = Some(SecretString::from(token.trim().to_owned()));
        }
        for secret in [&user.token, &user.password, &user.client_key_data].into_iter().flatten() {
            secrets.add(secret.expose_secret());
        }
    }
    Ok(())
}
