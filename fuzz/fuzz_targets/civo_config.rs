//! Any text as the Civo CLI's `~/.civo.json`: settings, or an error that
//! says where the file is wrong and never what it holds; the key it names
//! never shows in the settings' or a client's `Debug`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    civo_egress::fuzzing::civo_cli_config(text);
});
