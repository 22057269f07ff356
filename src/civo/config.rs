//! The API key and the settings Civo users already have: the Civo CLI's
//! `CIVO_TOKEN` and `~/.civo.json` (or the file `CIVO_CONFIG` names), and
//! `CIVO_REGION` and `CIVO_API_URL`, which the Civo Terraform provider and
//! the cloud controller manager read (the Civo CLI does not).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

use super::error::CivoError;
use crate::cause::Cause;
use crate::local_file::{LocalFileError, read_local_file};

/// A Civo API key. It shows as `ApiKey(***)` in `Debug` and `Display`, so it
/// cannot leak into a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    #[must_use]
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into().trim().to_owned())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where to reach the Civo API, as Civo's users have it configured: the
/// Civo CLI reads only `CIVO_TOKEN` and `CIVO_CONFIG` (or `~/.civo.json`);
/// `CIVO_REGION` and `CIVO_API_URL` are the Terraform provider's and the
/// cloud controller manager's, honoured here too.
///
/// Precedence of the region: the caller's ([`Selection::region`],
/// [`CivoClientBuilder::region`], a CLI's `--region`), then `CIVO_REGION`,
/// then the CLI config's `meta.default_region`, then [`DEFAULT_REGION`]
/// (and the client [remembers][remembers] that it was defaulted).
///
/// [`Selection::region`]: super::Selection::region
/// [`CivoClientBuilder::region`]: super::CivoClientBuilder::region
/// [`DEFAULT_REGION`]: super::DEFAULT_REGION
/// [remembers]: super::CivoClient::region_was_defaulted
///
/// ```no_run
/// use civo_egress::civo::{CivoClient, CivoConfig, DEFAULT_REGION};
/// let config = CivoConfig::from_env()?;
/// let region = config.region().unwrap_or(DEFAULT_REGION).to_owned();
/// let client = CivoClient::builder().config(config).build()?;
/// assert_eq!(client.region(), region); // the CLI's default region, else DEFAULT_REGION
/// # Ok::<(), civo_egress::civo::CivoError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CivoConfig {
    pub(crate) api_key: Option<ApiKey>,
    pub(crate) region: Option<String>,
    pub(crate) api_url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CliConfig {
    apikeys: BTreeMap<String, String>,
    meta: CliMeta,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CliMeta {
    current_apikey: String,
    default_region: String,
    url: String,
}

impl CivoConfig {
    /// Reads the environment and the Civo CLI config file.
    ///
    /// # Errors
    ///
    /// [`CivoError::Config`] when `CIVO_CONFIG` names a file that cannot be
    /// read (missing, not a regular file, larger than 1 MiB, not UTF-8), or
    /// a config file is not the Civo CLI's JSON. A missing `~/.civo.json` is
    /// not an error.
    pub fn from_env() -> Result<Self, CivoError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), with the variables looked up by
    /// `var` (for tests and for callers with their own environment).
    ///
    /// The key is `CIVO_TOKEN`, else the config file's
    /// `apikeys[meta.current_apikey]`; the region is `CIVO_REGION`, else
    /// `meta.default_region`; the API URL is `CIVO_API_URL`, else `meta.url`.
    /// The file is `CIVO_CONFIG`, else `$HOME/.civo.json`. Blank values
    /// count as unset.
    ///
    /// ```
    /// use civo_egress::civo::CivoConfig;
    /// let env = |name: &str| match name {
    ///     "CIVO_TOKEN" => Some("my-key".to_owned()),
    ///     "CIVO_REGION" => Some("FRA1".to_owned()),
    ///     _ => None, // no HOME, no CIVO_CONFIG: no file read
    /// };
    /// let config = CivoConfig::from_vars(env)?;
    /// assert_eq!(config.region(), Some("FRA1"));
    /// # Ok::<(), civo_egress::civo::CivoError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, CivoError> {
        let nonempty = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let (file, required) = match nonempty("CIVO_CONFIG") {
            Some(path) => (Some(PathBuf::from(path)), true),
            None => (nonempty("HOME").map(|home| PathBuf::from(home).join(".civo.json")), false),
        };
        let cli = match file {
            Some(path) => read_cli_config(&path, required)?,
            None => CliConfig::default(),
        };
        Ok(Self::of(cli, nonempty))
    }

    /// The settings of a parsed CLI config under the variables.
    fn of(cli: CliConfig, nonempty: impl Fn(&str) -> Option<String>) -> Self {
        let file_key = cli.apikeys.get(&cli.meta.current_apikey).cloned();
        Self {
            api_key: nonempty("CIVO_TOKEN").or(file_key).filter(|k| !k.trim().is_empty()).map(ApiKey::new),
            region: nonempty("CIVO_REGION")
                .or(Some(cli.meta.default_region))
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty()),
            api_url: nonempty("CIVO_API_URL").or(Some(cli.meta.url).filter(|u| !u.trim().is_empty())),
        }
    }

    /// The settings of a Civo CLI config's text alone, as if it were the
    /// file `path` and no variable were set (the fuzz target's entry).
    #[cfg(fuzzing)]
    pub(crate) fn from_cli_text(text: &str, path: &std::path::Path) -> Result<Self, CivoError> {
        Ok(Self::of(parse_cli_config(text, path)?, |_| None))
    }

    /// The API key found, if any.
    #[must_use]
    pub const fn api_key(&self) -> Option<&ApiKey> {
        self.api_key.as_ref()
    }

    /// The region found, if any: `CIVO_REGION`, else the Civo CLI config's
    /// `meta.default_region`.
    #[must_use]
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The API URL found, if any.
    #[must_use]
    pub fn api_url(&self) -> Option<&str> {
        self.api_url.as_deref()
    }
}

/// The cap on the Civo CLI config: 1 MiB (a config holds a few keys and
/// regions, a few KiB).
const MAX_CLI_CONFIG_BYTES: u64 = 1 << 20;

/// Reads the Civo CLI config with [`read_local_file`]: a regular file of at
/// most [`MAX_CLI_CONFIG_BYTES`] (a FIFO is refused before it is opened). A
/// missing file that is not `required` is no config.
fn read_cli_config(path: &std::path::Path, required: bool) -> Result<CliConfig, CivoError> {
    let text = match read_local_file(path, MAX_CLI_CONFIG_BYTES) {
        Ok(text) => text,
        Err(e) if e.is_not_found() && !required => return Ok(CliConfig::default()),
        Err(e) => {
            let message = match &e {
                LocalFileError::NotFound { .. } => "no such file".to_owned(),
                LocalFileError::NotRegular { what, .. } => format!("not a regular file (a {what})"),
                LocalFileError::TooLarge { max_bytes, .. } => format!("larger than {max_bytes} bytes"),
                LocalFileError::NotText { .. } => "not UTF-8 text".to_owned(),
                LocalFileError::Io { source, .. } => source.to_string(),
            };
            return Err(CivoError::Config { path: path.display().to_string(), message, source: Some(Cause::new(e)) });
        }
    };
    parse_cli_config(&text, path)
}

/// A Civo CLI config's JSON; an error says where it is wrong, never what
/// it holds (a key, say).
fn parse_cli_config(text: &str, path: &std::path::Path) -> Result<CliConfig, CivoError> {
    let config_error = |message: String| CivoError::Config { path: path.display().to_string(), message, source: None };
    // serde_json's message may quote a value (a key, say): report where, not what.
    serde_json::from_str(text).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "unexpected value",
            _ => "malformed JSON",
        };
        // No cause kept: serde_json's message may quote a key.
        config_error(format!("not a Civo CLI config: {what} at line {}, column {}", e.line(), e.column()))
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("civo-egress-cli-config-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap(); // ok: test
        dir
    }

    /// The settings with `CIVO_CONFIG` (or `HOME`) set to `value`.
    fn with(name: &'static str, value: &Path) -> Result<CivoConfig, CivoError> {
        let value = value.display().to_string();
        CivoConfig::from_vars(|var| (var == name).then(|| value.clone()))
    }

    fn config_error(result: Result<CivoConfig, CivoError>) -> (String, String) {
        match result {
            Err(e @ CivoError::Config { .. }) => {
                let source = std::error::Error::source(&e).map(ToString::to_string).unwrap_or_default();
                (e.to_string(), source)
            }
            other => panic!("{other:?}"), // ok: test
        }
    }

    #[test]
    fn a_missing_file_is_no_config_unless_named() {
        let dir = dir("missing");
        assert_eq!(with("HOME", &dir).unwrap(), CivoConfig::default()); // ok: test
        let (message, source) = config_error(with("CIVO_CONFIG", &dir.join("nope.json")));
        assert!(message.ends_with("nope.json: no such file"), "{message}");
        assert!(!source.is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_file_past_the_cap_is_refused() {
        let dir = dir("cap");
        let big = dir.join("big.json");
        std::fs::File::create(&big).and_then(|f| f.set_len(MAX_CLI_CONFIG_BYTES + 1)).unwrap(); // ok: test
        let (message, source) = config_error(with("CIVO_CONFIG", &big));
        assert_eq!(message, format!("civo config {}: larger than 1048576 bytes", big.display()));
        assert!(source.contains("larger than"), "{source}");
        let (message, _) = config_error(with("CIVO_CONFIG", &dir));
        assert!(message.ends_with(": not a regular file (a directory)"), "{message}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn devices_fifos_and_proc_files() {
        let (message, _) = config_error(with("CIVO_CONFIG", Path::new("/dev/zero")));
        assert_eq!(message, "civo config /dev/zero: not a regular file (a character device)");
        // A FIFO with no writer: refused at once, named or as ~/.civo.json.
        let dir = dir("fifo");
        let made = std::process::Command::new("mkfifo").arg(dir.join(".civo.json")).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo is needed by this test");
        let (message, _) = config_error(with("CIVO_CONFIG", &dir.join(".civo.json")));
        assert!(message.ends_with(".civo.json: not a regular file (a FIFO)"), "{message}");
        let (message, _) = config_error(with("HOME", &dir));
        assert!(message.ends_with(".civo.json: not a regular file (a FIFO)"), "{message}");
        // /proc reports a length of 0 and has content: it is read (and is not JSON).
        let (message, _) = config_error(with("CIVO_CONFIG", Path::new("/proc/self/status")));
        assert!(message.contains("not a Civo CLI config: malformed JSON"), "{message}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
