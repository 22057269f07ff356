//! [`Cause`]: the error underneath one of ours (io, JSON, HTTP, DNS, YAML),
//! kept for `source()` without naming its type in a signature.

use std::error::Error;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// The error underneath one of the crate's errors: an io, JSON, HTTP, DNS
/// or YAML error.
///
/// Reach it through [`std::error::Error::source`] of the error that holds
/// it: `source()` returns the underlying error itself (not this wrapper), so
/// `downcast_ref::<std::io::Error>()` works there. Cheap to clone; two causes
/// are equal when their messages are. Its type is not nameable on purpose:
/// the foreign error types stay out of the API.
#[derive(Clone)]
pub struct Cause(Arc<dyn Error + Send + Sync + 'static>);

impl Cause {
    /// Keeps `error` as a cause.
    pub(crate) fn new(error: impl Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(error))
    }

    /// Keeps `error`, unless its message or that of one of its own causes
    /// holds `secret`: then a stand-in with the redacted message of `error`
    /// (a hostile server may echo the key into a value the decoder quotes).
    #[cfg_attr(not(feature = "civo-api"), allow(dead_code))]
    pub(crate) fn scrubbed(error: impl Error + Send + Sync + 'static, secret: &str) -> Self {
        if secret.is_empty() {
            return Self::new(error);
        }
        let mut link: Option<&(dyn Error + 'static)> = Some(&error);
        let mut leaks = false;
        while let Some(e) = link {
            leaks |= e.to_string().contains(secret) || format!("{e:?}").contains(secret);
            link = e.source();
        }
        if leaks { Self::new(Redacted(error.to_string().replace(secret, "***"))) } else { Self::new(error) }
    }
}

impl Deref for Cause {
    type Target = dyn Error + Send + Sync + 'static;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.to_string() == other.0.to_string()
    }
}

impl Eq for Cause {}

/// A cause whose message had to be redacted.
#[derive(Debug)]
#[cfg_attr(not(any(feature = "civo-api", feature = "kubeconfig")), allow(dead_code))]
pub(crate) struct Redacted(pub(crate) String);

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for Redacted {}
