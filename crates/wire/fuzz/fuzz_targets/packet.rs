//! Any bytes: `Packet::parse` and `Packet::parse_unverified` never panic, and
//! for every packet that parses, `emit` is canonical: the emitted bytes parse
//! back to the same packet, emit again to the same bytes, and carry a correct
//! CRC32c.

#![no_main]

use libfuzzer_sys::fuzz_target;
use msctp_wire::Packet;

fuzz_target!(|data: &[u8]| {
    let b = bytes::Bytes::copy_from_slice(data);
    if let Ok(p) = Packet::parse_unverified(b.clone()) {
        let out = p.emit();
        let again = Packet::parse_unverified(bytes::Bytes::from(out.clone()))
            .expect("re-parse of emitted packet");
        assert_eq!(again, p);
        assert_eq!(again.emit(), out);
        // emit fills in the CRC32c, so the emitted bytes also pass the verifying parse.
        Packet::parse(bytes::Bytes::from(out)).expect("verified parse of emitted packet");
    }
    let _ = Packet::parse(b);
});
