//! Source address selection: which of our bound addresses a packet to a
//! given peer address leaves from.
//!
//! The rule (DESIGN.md, issue 8): every packet leaves from the local address
//! that the host's routing would use for its destination, among the
//! association's bound addresses. It is never learnt from the address a
//! peer's packet happened to arrive on: a peer that sends everything from
//! one address (usrsctp in raw mode does) would otherwise teach us to send
//! on link 2 with our link-1 source, and replies to that wrong source come
//! back over link 1, so one dead link fails every path.
//!
//! The engine is sans-IO, so it does not ask the kernel itself: the driver
//! supplies a [`SourceSelector`]. The runtime's asks the kernel's routing
//! table (and refreshes when addresses, links or routes change, calling
//! [`crate::Endpoint::refresh_sources`]); the simulator's reads its
//! topology. [`LongestPrefix`] is the default when nobody supplies one.

use std::fmt::Debug;
use std::net::IpAddr;

/// Picks the local address that packets to a peer address leave from.
pub trait SourceSelector: Debug + Send + Sync {
    /// The address among `candidates` (the association's bound addresses,
    /// never empty) that the host's routing uses toward `remote`, or `None`
    /// if the host has no opinion (then [`LongestPrefix`] decides).
    fn select(&self, remote: IpAddr, candidates: &[IpAddr]) -> Option<IpAddr>;
}

/// The default selector: the candidate of the same family that shares the
/// longest prefix with the destination (on a host whose links are separate
/// subnets, the address on the link that reaches it), the first listed on
/// ties, and any candidate when none has the destination's family.
#[derive(Debug, Clone, Copy, Default)]
pub struct LongestPrefix;

impl SourceSelector for LongestPrefix {
    fn select(&self, remote: IpAddr, candidates: &[IpAddr]) -> Option<IpAddr> {
        Some(longest_prefix(candidates, remote))
    }
}

/// Applies `selector`, falling back to [`LongestPrefix`] when it has no
/// opinion or names an address that is not a candidate.
pub fn select_source(
    selector: &dyn SourceSelector,
    candidates: &[IpAddr],
    remote: IpAddr,
) -> IpAddr {
    selector
        .select(remote, candidates)
        .filter(|a| candidates.contains(a))
        .unwrap_or_else(|| longest_prefix(candidates, remote))
}

fn longest_prefix(locals: &[IpAddr], remote: IpAddr) -> IpAddr {
    fn common_prefix(a: &[u8], b: &[u8]) -> u32 {
        let mut n = 0;
        for (x, y) in a.iter().zip(b) {
            let d = x ^ y;
            n += d.leading_zeros();
            if d != 0 {
                break;
            }
        }
        n
    }
    let octets = |a: IpAddr| match a {
        IpAddr::V4(v) => v.octets().to_vec(),
        IpAddr::V6(v) => v.octets().to_vec(),
    };
    let r = octets(remote);
    locals
        .iter()
        .copied()
        .filter(|l| l.is_ipv4() == remote.is_ipv4())
        .enumerate()
        .max_by_key(|(i, l)| (common_prefix(&octets(*l), &r), std::cmp::Reverse(*i)))
        .map(|(_, l)| l)
        .or_else(|| locals.first().copied())
        .unwrap_or(remote)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[derive(Debug)]
    struct Fixed(IpAddr);
    impl SourceSelector for Fixed {
        fn select(&self, _: IpAddr, _: &[IpAddr]) -> Option<IpAddr> {
            Some(self.0)
        }
    }

    #[test]
    fn longest_prefix_picks_the_link_address() {
        let locals = [ip("192.0.2.1"), ip("198.51.100.1"), ip("2001:db8:2::1")];
        assert_eq!(
            select_source(&LongestPrefix, &locals, ip("198.51.100.2")),
            locals[1]
        );
        assert_eq!(
            select_source(&LongestPrefix, &locals, ip("192.0.2.2")),
            locals[0]
        );
        assert_eq!(
            select_source(&LongestPrefix, &locals, ip("2001:db8:1::2")),
            locals[2]
        );
    }

    #[test]
    fn a_selector_naming_a_foreign_address_is_overridden() {
        let locals = [ip("192.0.2.1"), ip("198.51.100.1")];
        let foreign = Fixed(ip("203.0.113.9"));
        assert_eq!(
            select_source(&foreign, &locals, ip("198.51.100.2")),
            locals[1]
        );
        let routed = Fixed(ip("192.0.2.1"));
        assert_eq!(
            select_source(&routed, &locals, ip("198.51.100.2")),
            locals[0]
        );
    }
}
