//! CRC32c checksum of an SCTP packet (RFC 9260 §6.8 and Appendix B).
//!
//! The checksum is the Castagnoli CRC over the whole packet with the checksum
//! field taken as zero, stored in the common header in network byte order as
//! RFC 9260 Appendix B describes. The computation uses the `crc32c` crate, which
//! selects SSE4.2 or ARMv8 CRC instructions at run time.

/// Offset of the checksum field in the common header.
const CHECKSUM_AT: core::ops::Range<usize> = 8..12;

/// Computes the CRC32c of `packet` with its checksum field treated as zero.
/// Returns `None` when `packet` is shorter than the 12-byte common header.
pub fn packet_checksum(packet: &[u8]) -> Option<u32> {
    if packet.len() < 12 {
        return None;
    }
    let crc = crc32c::crc32c(&packet[..CHECKSUM_AT.start]);
    let crc = crc32c::crc32c_append(crc, &[0; 4]);
    Some(crc32c::crc32c_append(crc, &packet[CHECKSUM_AT.end..]))
}

/// The checksum stored in the packet's common header, if it has one.
pub fn stored_checksum(packet: &[u8]) -> Option<u32> {
    let b = packet.get(CHECKSUM_AT)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// True when the packet's stored checksum matches its contents
/// (RFC 9260 §6.8: packets with an invalid checksum are discarded).
pub fn verify(packet: &[u8]) -> bool {
    matches!((packet_checksum(packet), stored_checksum(packet)), (Some(a), Some(b)) if a == b)
}

/// Computes and writes the checksum of a complete packet in place (RFC 9260
/// §6.8). Does nothing to a buffer shorter than the common header.
pub fn fill(packet: &mut [u8]) {
    if let Some(crc) = packet_checksum(packet) {
        // RFC 9260 Appendix B: the CRC is placed so that its least significant
        // byte is first on the wire (the reflected CRC's natural byte order).
        packet[CHECKSUM_AT].copy_from_slice(&crc.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3720 §B.4 test vector used by RFC 9260 Appendix B: 32 bytes of zeros
    /// have CRC32c 0x8a9136aa.
    #[test]
    fn rfc_test_vector_zeros() {
        assert_eq!(crc32c::crc32c(&[0u8; 32]), 0x8a91_36aa);
    }

    #[test]
    fn fill_then_verify() {
        let mut p = vec![0u8; 40];
        p[0] = 0x13;
        p[12] = 1;
        assert!(!verify(&p) || packet_checksum(&p) == Some(0));
        fill(&mut p);
        assert!(verify(&p));
        p[20] ^= 1;
        assert!(!verify(&p));
    }

    #[test]
    fn short_buffers() {
        assert_eq!(packet_checksum(&[0; 11]), None);
        assert!(!verify(&[0; 3]));
        let mut b = [0u8; 5];
        fill(&mut b);
        assert_eq!(b, [0; 5]);
    }
}
