//! Any bytes as an HTTP echo answer: an address only when the body is one.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flag, body)) = data.split_first() else { return };
    if let Some(ip) = civo_egress::fuzzing::parse_echo(body, flag & 1 == 1) {
        let text = std::str::from_utf8(body).expect("an address is text");
        assert_eq!(text.trim().parse::<std::net::IpAddr>().ok(), Some(ip));
        assert!(flag & 1 == 0, "HTML is never an address");
    }
});
