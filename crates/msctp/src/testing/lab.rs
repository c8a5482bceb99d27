//! The two-host lab of the design document, in network namespaces.

use std::net::IpAddr;

use super::netns::{Netns, unique_stem};

/// The lab addresses.
pub mod addr {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    /// alpha on link 1, IPv4.
    pub const ALPHA1_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    /// beta on link 1, IPv4.
    pub const BETA1_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
    /// alpha on link 2, IPv4.
    pub const ALPHA2_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
    /// beta on link 2, IPv4.
    pub const BETA2_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2));
    /// alpha on link 1, IPv6.
    pub const ALPHA1_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1));
    /// beta on link 1, IPv6.
    pub const BETA1_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2));
    /// alpha on link 2, IPv6.
    pub const ALPHA2_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 1));
    /// beta on link 2, IPv6.
    pub const BETA2_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 2));
}

/// The links: interface name (the same on both sides), the IPv4 and the
/// IPv6 address of alpha and of beta.
const LINKS: [(&str, [&str; 2], [&str; 2]); 2] = [
    (
        "link1",
        ["192.0.2.1/24", "192.0.2.2/24"],
        ["2001:db8:1::1/64", "2001:db8:1::2/64"],
    ),
    (
        "link2",
        ["198.51.100.1/24", "198.51.100.2/24"],
        ["2001:db8:2::1/64", "2001:db8:2::2/64"],
    ),
];

/// Two namespaces, `alpha` and `beta`, joined by two veth links named
/// `link1` and `link2` on both sides, addressed as the design document's lab
/// (see [`addr`]), with no default route:
///
/// ```text
///  alpha                                   beta
///  192.0.2.1      ── link 1 (link1) ──     192.0.2.2
///  198.51.100.1   ── link 2 (link2) ──     198.51.100.2
///  2001:db8:1::1  (link 1, IPv6)           2001:db8:1::2
///  2001:db8:2::1  (link 2, IPv6)           2001:db8:2::2
/// ```
///
/// The namespaces are named `msctp-t<pid>-<n>-a` and `…-b`. Dropping the lab
/// deletes both (and so the links and any iptables rules), also when a test
/// panics.
#[derive(Debug)]
pub struct Lab {
    /// The first host (`…-a`).
    pub alpha: Netns,
    /// The second host (`…-b`).
    pub beta: Netns,
}

impl Lab {
    /// Builds the lab. Needs root; panics with a clear message otherwise.
    pub fn new() -> Lab {
        let stem = unique_stem();
        let alpha = Netns::create(format!("{stem}-a"));
        let beta = Netns::create(format!("{stem}-b"));
        let lab = Lab { alpha, beta };
        for (n, (link, v4, v6)) in LINKS.into_iter().enumerate() {
            // Distinct interface indexes on the two ends (11/12, 21/22).
            // With equal ones (both ends are the second interface of a fresh
            // namespace) the kernel takes the peer link for a plain device
            // and delays its carrier event by up to a second (linkwatch),
            // which holds back IPv6 (the first neighbour solicitation goes
            // unanswered and is retried a second later).
            let (index_a, index_b) = ((n + 1) * 10 + 1, (n + 1) * 10 + 2);
            super::run(std::process::Command::new("ip").args([
                "link",
                "add",
                link,
                "index",
                &index_a.to_string(),
                "netns",
                lab.alpha.name(),
                "type",
                "veth",
                "peer",
                "name",
                link,
                "index",
                &index_b.to_string(),
                "netns",
                lab.beta.name(),
            ]));
            for (i, ns) in [&lab.alpha, &lab.beta].into_iter().enumerate() {
                ns.ip(&["addr", "add", v4[i], "dev", link]);
                ns.ip(&["-6", "addr", "add", v6[i], "dev", link, "nodad"]);
                ns.ip(&["link", "set", link, "up"]);
            }
        }
        lab
    }

    /// alpha's addresses: link 1 and link 2, IPv4 then IPv6.
    pub fn alpha_addrs() -> [IpAddr; 4] {
        [
            addr::ALPHA1_V4,
            addr::ALPHA2_V4,
            addr::ALPHA1_V6,
            addr::ALPHA2_V6,
        ]
    }

    /// beta's addresses: link 1 and link 2, IPv4 then IPv6.
    pub fn beta_addrs() -> [IpAddr; 4] {
        [
            addr::BETA1_V4,
            addr::BETA2_V4,
            addr::BETA1_V6,
            addr::BETA2_V6,
        ]
    }
}

impl Default for Lab {
    fn default() -> Self {
        Lab::new()
    }
}
