//! Any bytes as a capture file: reading pcap/pcapng, finding the SCTP packet in
//! every frame and parsing it (what `msctp decode` does) never panics or hangs.

#![no_main]

use libfuzzer_sys::fuzz_target;
use msctp_wire::capture::{self, Decap};

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = capture::read(bytes::Bytes::copy_from_slice(data)) else {
        return;
    };
    let _ = reader.format();
    for frame in reader {
        let Ok(frame) = frame else { continue };
        if let Decap::Sctp(datagram) = capture::sctp_in_frame(&frame) {
            assert!(
                datagram.sctp.len() >= 12,
                "SCTP packet shorter than its common header"
            );
            let _ = msctp_wire::Packet::parse_unverified(datagram.sctp);
        }
    }
});
