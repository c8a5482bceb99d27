//! The endpoint's demultiplexing tables: which association a received packet
//! belongs to.
//!
//! Packets are routed by (peer address, peer port) (RFC 9260 §8.5 then
//! checks the verification tag inside the association). An INIT ACK is also
//! found by its verification tag, our own Initiate Tag: the peer may answer
//! an INIT from another of its addresses (RFC 9260 §5.1.2 C makes the INIT
//! ACK's source one of the peer's addresses; usrsctp does this), which we
//! cannot know before reading its address list.
//!
//! Only live associations are routed: a closed one leaves the tables at
//! once, so that a packet arriving right behind an ABORT or SHUTDOWN
//! COMPLETE is treated as out of the blue (§8.4) instead of reaching the
//! dead association. Each association's registered keys are remembered, so
//! re-registering after a packet costs O(its paths), not O(every route).

use std::collections::HashMap;
use std::net::IpAddr;

use crate::association::Association;

/// What one association has registered.
#[derive(Debug, Default, PartialEq, Eq)]
struct Registered {
    peers: Vec<(IpAddr, u16)>,
    tag: u32,
}

/// Routing tables of an endpoint.
#[derive(Debug, Default)]
pub(crate) struct Demux {
    by_peer: HashMap<(IpAddr, u16), u64>,
    by_tag: HashMap<u32, u64>,
    registered: HashMap<u64, Registered>,
}

impl Demux {
    /// The association with peer `addr`:`port`.
    pub fn by_peer(&self, addr: IpAddr, port: u16) -> Option<u64> {
        self.by_peer.get(&(addr, port)).copied()
    }

    /// The association whose own verification tag is `tag`.
    pub fn by_tag(&self, tag: u32) -> Option<u64> {
        self.by_tag.get(&tag).copied()
    }

    /// The first association holding any of `addrs` on `port`.
    pub fn by_any_peer(&self, addrs: impl IntoIterator<Item = IpAddr>, port: u16) -> Option<u64> {
        addrs.into_iter().find_map(|a| self.by_peer(a, port))
    }

    /// Brings the entries of association `id` up to date with `a` (or
    /// removes them if it is gone or closed).
    pub fn sync(&mut self, id: u64, a: Option<&Association>) {
        let want = match a {
            Some(a) if !a.is_closed() => Registered {
                peers: a
                    .peer_addrs()
                    .into_iter()
                    .map(|addr| (addr, a.peer_port()))
                    .collect(),
                tag: a.local_vtag(),
            },
            _ => {
                self.remove(id);
                return;
            }
        };
        if self.registered.get(&id) == Some(&want) {
            return;
        }
        self.remove(id);
        for k in &want.peers {
            self.by_peer.insert(*k, id);
        }
        self.by_tag.insert(want.tag, id);
        self.registered.insert(id, want);
    }

    /// Removes every entry of association `id`.
    pub fn remove(&mut self, id: u64) {
        let Some(r) = self.registered.remove(&id) else {
            return;
        };
        for k in r.peers {
            if self.by_peer.get(&k) == Some(&id) {
                self.by_peer.remove(&k);
            }
        }
        if self.by_tag.get(&r.tag) == Some(&id) {
            self.by_tag.remove(&r.tag);
        }
    }
}
