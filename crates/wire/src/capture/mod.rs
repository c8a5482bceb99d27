//! Capture files: reading pcap and pcapng, writing pcap, and finding the SCTP
//! packets inside captured frames. (Being written.)
