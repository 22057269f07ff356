//! Any text as a kubeconfig: an error or a server, never a panic or a hang.
#![no_main]

use civo_egress::kubeconfig::Kubeconfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(config) = Kubeconfig::from_yaml(text) {
        if let Ok(server) = config.server(None) {
            let _ = server.host();
        }
    }
});
