//! Any text as a kubeconfig: an error or a server, never a panic or a hang;
//! a server read is a URL as written (no surrounding spaces or control
//! characters), and a host name is one without its absolute-marking dot.
#![no_main]

use civo_egress::kubeconfig::{ApiHost, Kubeconfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(config) = Kubeconfig::from_yaml(text) {
        // `--context ""` is the current context.
        assert_eq!(config.server(Some("")).ok(), config.server(None).ok());
        if let Ok(server) = config.server(None) {
            assert!(!server.url().chars().any(|c| c.is_whitespace() || c.is_control()), "{}", server.url());
            if let ApiHost::Name(name) = server.host() {
                assert!(!name.is_empty() && !name.ends_with('.') && !name.contains(".."), "{name:?}");
            }
        }
    }
});
