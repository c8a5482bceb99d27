//! The crate's only `unsafe` code: thin, safe wrappers over the Linux system
//! calls that neither `std` nor `socket2` cover.
//!
//! * `recvmmsg(2)` and `sendmmsg(2)`: a batch of datagrams per system call;
//! * `recvmsg(2)` with `MSG_ERRQUEUE`: ICMP errors queued on a UDP socket
//!   with `IP_RECVERR` / `IPV6_RECVERR` (`ip(7)`, `ipv6(7)`);
//! * `setsockopt(2)` for options `socket2` does not know (`IP_RECVERR`,
//!   `SO_SELECT_ERR_QUEUE`, `ICMP_FILTER`, `ICMP6_FILTER`);
//! * `setns(2)` and `geteuid(2)` for the namespace test harness;
//! * registering a socket with tokio's reactor, which tokio ≥ 1.54 marks
//!   `unsafe` (`AsyncFd::register_with_interest`: the caller vouches that
//!   the descriptor stays open while registered).
//!
//! Every socket address and extended-error record the kernel writes is read
//! back from plain byte buffers by safe parsing code, so the `unsafe` blocks
//! here are only the system calls themselves and the zero-initialisation of
//! the C header structures they take. Each block says why it is sound.

// The workspace denies `unsafe_code`; this module is the one place allowed to
// use it, so that all of it can be reviewed together (see the crate docs).
#![allow(unsafe_code)]

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, BorrowedFd};

use libc::{c_int, c_uint, c_void, socklen_t};

/// Largest number of datagrams moved by one `recvmmsg` / `sendmmsg` call.
pub(crate) const MAX_BATCH: usize = 32;

/// `SO_SELECT_ERR_QUEUE` (`asm-generic/socket.h`): report a non-empty error
/// queue as `EPOLLPRI` as well as `EPOLLERR`, so that a reader registered for
/// priority readiness wakes up for it. Not in the `libc` crate.
pub(crate) const SO_SELECT_ERR_QUEUE: c_int = 45;

/// `ICMP_FILTER` (`linux/icmp.h`), at level `SOL_RAW`: a bit mask of the
/// ICMPv4 types a raw ICMP socket drops. Not in the `libc` crate.
const ICMP_FILTER: c_int = 1;

/// `ICMP6_FILTER` (`linux/icmpv6.h`), at level `IPPROTO_ICMPV6`: a 256-bit
/// mask of the ICMPv6 types a raw ICMPv6 socket drops. Not in the `libc`
/// crate.
const ICMP6_FILTER: c_int = 1;

/// A buffer the kernel writes a socket address into: the size and alignment
/// of `struct sockaddr_storage`.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
struct AddrBuf([u8; 128]);

impl AddrBuf {
    const EMPTY: AddrBuf = AddrBuf([0; 128]);

    /// Encodes `addr` as a `sockaddr_in` or `sockaddr_in6` (native-endian
    /// family and scope, network-order port, flow label and address) and
    /// returns the buffer and the length of the structure.
    fn encode(addr: SocketAddr) -> (AddrBuf, socklen_t) {
        let mut buf = AddrBuf::EMPTY;
        let b = &mut buf.0;
        let len = match addr {
            SocketAddr::V4(a) => {
                b[0..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
                b[2..4].copy_from_slice(&a.port().to_be_bytes());
                b[4..8].copy_from_slice(&a.ip().octets());
                std::mem::size_of::<libc::sockaddr_in>()
            }
            SocketAddr::V6(a) => {
                b[0..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
                b[2..4].copy_from_slice(&a.port().to_be_bytes());
                b[4..8].copy_from_slice(&a.flowinfo().to_be_bytes());
                b[8..24].copy_from_slice(&a.ip().octets());
                b[24..28].copy_from_slice(&a.scope_id().to_ne_bytes());
                std::mem::size_of::<libc::sockaddr_in6>()
            }
        };
        (buf, len as socklen_t)
    }
}

/// Reads a `sockaddr_in` or `sockaddr_in6` from the bytes the kernel wrote.
/// `None` for another family or too few bytes.
pub(crate) fn parse_sockaddr(b: &[u8]) -> Option<SocketAddr> {
    let family = u16::from_ne_bytes([*b.first()?, *b.get(1)?]);
    if i32::from(family) == libc::AF_INET && b.len() >= 8 {
        let port = u16::from_be_bytes([b[2], b[3]]);
        let ip = Ipv4Addr::new(b[4], b[5], b[6], b[7]);
        Some(SocketAddr::V4(SocketAddrV4::new(ip, port)))
    } else if i32::from(family) == libc::AF_INET6 && b.len() >= 28 {
        let port = u16::from_be_bytes([b[2], b[3]]);
        let flow = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
        let mut octets = [0u8; 16];
        octets.copy_from_slice(&b[8..24]);
        let scope = u32::from_ne_bytes([b[24], b[25], b[26], b[27]]);
        Some(SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::from(octets),
            port,
            flow,
            scope,
        )))
    } else {
        None
    }
}

/// Turns a `-1` return into the thread's `errno`.
fn cvt(r: isize) -> io::Result<usize> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// Sets a socket option from raw bytes.
fn set_option(fd: BorrowedFd<'_>, level: c_int, name: c_int, value: &[u8]) -> io::Result<()> {
    let len = socklen_t::try_from(value.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "socket option too long"))?;
    // SAFETY: `fd` is an open descriptor for as long as the borrow lasts; the
    // kernel reads exactly `len` bytes from `value`, a live slice of that
    // length, and keeps no pointer to it after the call returns.
    let r = unsafe { libc::setsockopt(fd.as_raw_fd(), level, name, value.as_ptr().cast(), len) };
    cvt(r as isize).map(drop)
}

/// Sets an `int` socket option.
pub(crate) fn set_int_option(
    fd: BorrowedFd<'_>,
    level: c_int,
    name: c_int,
    value: c_int,
) -> io::Result<()> {
    set_option(fd, level, name, &value.to_ne_bytes())
}

/// Lets a raw ICMPv4 socket receive only the given ICMP types
/// (`ICMP_FILTER`, `raw(7)`): the kernel drops every other type below 32
/// before it is queued.
pub(crate) fn set_icmp_filter(fd: BorrowedFd<'_>, pass: &[u8]) -> io::Result<()> {
    let mut blocked: u32 = !0;
    for &t in pass {
        if t < 32 {
            blocked &= !(1u32 << t);
        }
    }
    set_option(fd, libc::SOL_RAW, ICMP_FILTER, &blocked.to_ne_bytes())
}

/// Lets a raw ICMPv6 socket receive only the given ICMPv6 types
/// (`ICMP6_FILTER`, RFC 3542 §3.2): a 256-bit mask in eight native-endian
/// 32-bit words, a set bit blocking its type.
pub(crate) fn set_icmp6_filter(fd: BorrowedFd<'_>, pass: &[u8]) -> io::Result<()> {
    let mut words = [!0u32; 8];
    for &t in pass {
        words[usize::from(t >> 5)] &= !(1u32 << (t & 31));
    }
    let mut bytes = [0u8; 32];
    for (chunk, w) in bytes.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&w.to_ne_bytes());
    }
    set_option(fd, libc::IPPROTO_ICMPV6, ICMP6_FILTER, &bytes)
}

/// What `recv_batch` learnt about one received datagram.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RecvMeta {
    /// Bytes stored in the buffer.
    pub len: usize,
    /// The sender's address (for raw sockets the port is 0).
    pub source: Option<SocketAddr>,
    /// The datagram was longer than the buffer (`MSG_TRUNC`).
    pub truncated: bool,
}

/// Receives up to `min(bufs.len(), meta.len(), MAX_BATCH)` datagrams with
/// one `recvmmsg(2)` call, without blocking. Returns how many were received;
/// `meta[i]` describes `bufs[i]`. Fails with `WouldBlock` when none is
/// queued.
pub(crate) fn recv_batch(
    fd: BorrowedFd<'_>,
    bufs: &mut [Box<[u8]>],
    meta: &mut [RecvMeta],
) -> io::Result<usize> {
    let n = bufs.len().min(meta.len()).min(MAX_BATCH);
    if n == 0 {
        return Ok(0);
    }
    let mut names = [AddrBuf::EMPTY; MAX_BATCH];
    let mut iovs = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; MAX_BATCH];
    // SAFETY: `mmsghdr` is a C struct of integers and raw pointers (and, on
    // some C libraries, private padding integers) for which all-zero bytes
    // are a valid value: null pointers and zero lengths.
    let mut hdrs: [libc::mmsghdr; MAX_BATCH] = unsafe { std::mem::zeroed() };
    for i in 0..n {
        iovs[i].iov_base = bufs[i].as_mut_ptr().cast::<c_void>();
        iovs[i].iov_len = bufs[i].len();
        let h = &mut hdrs[i].msg_hdr;
        h.msg_name = names[i].0.as_mut_ptr().cast::<c_void>();
        h.msg_namelen = names[i].0.len() as socklen_t;
        h.msg_iov = &mut iovs[i];
        h.msg_iovlen = 1;
    }
    // SAFETY: `fd` is open for the borrow. The first `n` headers each point
    // at their own 128-byte, 8-aligned name buffer (length given in
    // `msg_namelen`) and at one iovec describing a live buffer that this
    // function borrows exclusively (`bufs[i]`, length `iov_len`); no control
    // buffer. The kernel writes at most those lengths, and every pointed-to
    // object outlives the call, which keeps no pointer. `n <= MAX_BATCH`, the
    // array's length. `MSG_DONTWAIT` makes it non-blocking; no timeout.
    let r = unsafe {
        libc::recvmmsg(
            fd.as_raw_fd(),
            hdrs.as_mut_ptr(),
            n as c_uint,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    };
    let got = cvt(r as isize)?;
    for i in 0..got.min(n) {
        let h = &hdrs[i];
        let namelen = (h.msg_hdr.msg_namelen as usize).min(names[i].0.len());
        meta[i] = RecvMeta {
            len: (h.msg_len as usize).min(bufs[i].len()),
            source: parse_sockaddr(&names[i].0[..namelen]),
            truncated: h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
        };
    }
    Ok(got.min(n))
}

/// Sends up to `MAX_BATCH` datagrams, `(destination, bytes)`, with one
/// `sendmmsg(2)` call, without blocking. Returns how many were sent (fewer
/// than given when a later one failed; the failure of the first one is the
/// error).
pub(crate) fn send_batch(fd: BorrowedFd<'_>, msgs: &[(SocketAddr, &[u8])]) -> io::Result<usize> {
    let n = msgs.len().min(MAX_BATCH);
    if n == 0 {
        return Ok(0);
    }
    let mut names = [(AddrBuf::EMPTY, 0 as socklen_t); MAX_BATCH];
    let mut iovs = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; MAX_BATCH];
    // SAFETY: as in `recv_batch`, all-zero bytes are a valid `mmsghdr`.
    let mut hdrs: [libc::mmsghdr; MAX_BATCH] = unsafe { std::mem::zeroed() };
    for (i, (dest, data)) in msgs.iter().take(n).enumerate() {
        names[i] = AddrBuf::encode(*dest);
        // The kernel only reads from a send iovec; the `*mut` is what the
        // C struct's type demands.
        iovs[i].iov_base = data.as_ptr().cast_mut().cast::<c_void>();
        iovs[i].iov_len = data.len();
        let h = &mut hdrs[i].msg_hdr;
        h.msg_name = names[i].0.0.as_mut_ptr().cast::<c_void>();
        h.msg_namelen = names[i].1;
        h.msg_iov = &mut iovs[i];
        h.msg_iovlen = 1;
    }
    // SAFETY: `fd` is open for the borrow. The first `n` headers each point
    // at an encoded socket address of the stated length and at one iovec
    // describing a live slice borrowed from `msgs` (which the kernel only
    // reads); all outlive the call, which keeps no pointer. `n <= MAX_BATCH`.
    let r = unsafe {
        libc::sendmmsg(
            fd.as_raw_fd(),
            hdrs.as_mut_ptr(),
            n as c_uint,
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    };
    cvt(r as isize)
}

/// An extended error record (`struct sock_extended_err`, `ip(7)`) with the
/// address of the node that reported it (`SO_EE_OFFENDER`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ExtendedError {
    /// The error number the kernel maps the report to.
    pub errno: u32,
    /// Where it came from: `SO_EE_ORIGIN_ICMP`, `SO_EE_ORIGIN_ICMP6`, local…
    pub origin: u8,
    /// ICMP type (for ICMP origins).
    pub icmp_type: u8,
    /// ICMP code (for ICMP origins).
    pub icmp_code: u8,
    /// Extra information: the MTU of a fragmentation-needed / packet-too-big
    /// message.
    pub info: u32,
    /// The node that sent the ICMP message.
    pub offender: Option<IpAddr>,
}

/// Reads a `struct sock_extended_err` (16 bytes, native-endian: errno u32,
/// origin u8, type u8, code u8, pad u8, info u32, data u32) followed by the
/// offender's socket address.
pub(crate) fn parse_extended_error(b: &[u8]) -> Option<ExtendedError> {
    let head = b.get(..16)?;
    let u32_at = |i: usize| u32::from_ne_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    Some(ExtendedError {
        errno: u32_at(0),
        origin: head[4],
        icmp_type: head[5],
        icmp_code: head[6],
        info: u32_at(8),
        offender: b
            .get(16..)
            .and_then(parse_sockaddr)
            .map(|a| a.ip())
            .filter(|ip| !ip.is_unspecified()),
    })
}

/// One message read from a socket's error queue.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ErrQueueMessage {
    /// Bytes of the original datagram's payload stored in the buffer.
    pub len: usize,
    /// The original datagram's destination.
    pub destination: Option<SocketAddr>,
    /// The extended error, when the kernel attached one.
    pub error: Option<ExtendedError>,
}

/// Control-message buffer for `recv_errqueue`: room for one extended error
/// with its offender address and a packet-info message, aligned like
/// `struct cmsghdr`.
#[repr(C, align(8))]
struct ControlBuf([u8; 256]);

/// Reads one message from the socket's error queue (`MSG_ERRQUEUE`) without
/// blocking; `WouldBlock` when the queue is empty.
pub(crate) fn recv_errqueue(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<ErrQueueMessage> {
    let mut name = AddrBuf::EMPTY;
    let mut control = ControlBuf([0; 256]);
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast::<c_void>(),
        iov_len: buf.len(),
    };
    // SAFETY: `msghdr` is a C struct of integers and raw pointers for which
    // all-zero bytes are a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = name.0.as_mut_ptr().cast::<c_void>();
    msg.msg_namelen = name.0.len() as socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.0.as_mut_ptr().cast::<c_void>();
    msg.msg_controllen = control.0.len() as _;
    // SAFETY: `fd` is open for the borrow; `msg` points at a name buffer, one
    // iovec over `buf` (exclusively borrowed) and an 8-aligned control buffer,
    // each with its true length; all outlive the call, which keeps no
    // pointer and writes at most those lengths.
    let r = unsafe {
        libc::recvmsg(
            fd.as_raw_fd(),
            &mut msg,
            libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT,
        )
    };
    let len = cvt(r)?.min(buf.len());
    let namelen = (msg.msg_namelen as usize).min(name.0.len());
    let control_len = (msg.msg_controllen as usize).min(control.0.len());
    Ok(ErrQueueMessage {
        len,
        destination: parse_sockaddr(&name.0[..namelen]),
        error: find_extended_error(&control.0[..control_len]),
    })
}

/// Walks the control messages (`cmsg(3)` layout: `size_t` length, `int`
/// level, `int` type, data, each padded to `size_t` alignment) and parses the
/// first `IP_RECVERR` / `IPV6_RECVERR` one. Plain byte parsing, bounds
/// checked at every step.
fn find_extended_error(control: &[u8]) -> Option<ExtendedError> {
    const WORD: usize = std::mem::size_of::<usize>();
    let header = std::mem::size_of::<libc::cmsghdr>();
    let align = |n: usize| n.checked_add(WORD - 1).map(|n| n & !(WORD - 1));
    let mut at = 0usize;
    while let Some(h) = control.get(at..at.checked_add(header)?) {
        let mut len_bytes = [0u8; WORD];
        len_bytes.copy_from_slice(&h[..WORD]);
        let cmsg_len = usize::from_ne_bytes(len_bytes);
        let level = i32::from_ne_bytes([h[WORD], h[WORD + 1], h[WORD + 2], h[WORD + 3]]);
        let kind = i32::from_ne_bytes([h[WORD + 4], h[WORD + 5], h[WORD + 6], h[WORD + 7]]);
        if cmsg_len < header {
            return None;
        }
        let data_start = at + align(header)?;
        let data = control.get(data_start..at.checked_add(cmsg_len)?.min(control.len()))?;
        let is_recverr = (level == libc::SOL_IP && kind == libc::IP_RECVERR)
            || (level == libc::SOL_IPV6 && kind == libc::IPV6_RECVERR);
        if is_recverr {
            return parse_extended_error(data);
        }
        at = at.checked_add(align(cmsg_len)?)?;
    }
    None
}

/// Registers `socket` with the current tokio runtime's reactor for
/// `interest`. Panics outside a runtime with I/O enabled (as tokio does).
pub(crate) fn async_fd(
    socket: socket2::Socket,
    interest: tokio::io::Interest,
) -> io::Result<tokio::io::unix::AsyncFd<socket2::Socket>> {
    // SAFETY: tokio requires that the descriptor stay open, refer to the same
    // socket and be what `as_raw_fd` returns for as long as the `AsyncFd`
    // owns it. A `socket2::Socket` owns its descriptor (closing it only when
    // dropped) and always returns that one from `as_raw_fd`; it is moved into
    // the `AsyncFd` here, and the transport never takes it out, replaces it
    // through `get_mut`, or closes its descriptor otherwise.
    let fd = unsafe { tokio::io::unix::AsyncFd::register_with_interest(socket, interest) }?;
    Ok(fd)
}

/// Moves the calling thread into the network namespace `fd` refers to
/// (`setns(2)` with `CLONE_NEWNET`). Sockets created afterwards by this
/// thread belong to that namespace; existing ones keep theirs.
#[cfg(feature = "testing")]
pub(crate) fn setns_net(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: a plain system call on a descriptor that is open for the
    // borrow; it changes only the calling thread's network namespace and
    // touches no memory of ours.
    let r = unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) };
    cvt(r as isize).map(drop)
}

/// The process's effective user id.
#[cfg(feature = "testing")]
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: `geteuid` cannot fail, takes no arguments and touches no memory.
    unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_addresses_round_trip() {
        for addr in [
            "192.0.2.1:9899".parse::<SocketAddr>().unwrap(),
            "[2001:db8:1::2]:5000".parse().unwrap(),
        ] {
            let (buf, len) = AddrBuf::encode(addr);
            assert_eq!(parse_sockaddr(&buf.0[..len as usize]), Some(addr));
        }
        assert_eq!(parse_sockaddr(&[]), None);
        assert_eq!(parse_sockaddr(&[2, 0, 0]), None);
    }

    #[test]
    fn extended_error_with_offender() {
        let mut b = Vec::new();
        b.extend_from_slice(&111u32.to_ne_bytes());
        b.extend_from_slice(&[2, 3, 4, 0]); // origin ICMP, type 3, code 4
        b.extend_from_slice(&1280u32.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        let (off, len) = AddrBuf::encode("198.51.100.2:0".parse().unwrap());
        b.extend_from_slice(&off.0[..len as usize]);
        let e = parse_extended_error(&b).unwrap();
        assert_eq!(
            e,
            ExtendedError {
                errno: 111,
                origin: 2,
                icmp_type: 3,
                icmp_code: 4,
                info: 1280,
                offender: Some("198.51.100.2".parse().unwrap()),
            }
        );
        assert_eq!(parse_extended_error(&b[..15]), None);
        assert_eq!(parse_extended_error(&b[..16]).unwrap().offender, None);
    }

    #[test]
    fn control_messages_are_walked() {
        const WORD: usize = std::mem::size_of::<usize>();
        let header = std::mem::size_of::<libc::cmsghdr>();
        let mut control = Vec::new();
        // An unrelated control message first (IP_TTL, 4 bytes of data).
        control.extend_from_slice(&(header + 4).to_ne_bytes());
        control.extend_from_slice(&libc::SOL_IP.to_ne_bytes());
        control.extend_from_slice(&libc::IP_TTL.to_ne_bytes());
        control.extend_from_slice(&64i32.to_ne_bytes());
        while control.len() % WORD != 0 {
            control.push(0);
        }
        let mut ee = vec![0u8; 16];
        ee[4] = 3; // SO_EE_ORIGIN_ICMP6
        ee[5] = 2; // packet too big
        ee[8..12].copy_from_slice(&1280u32.to_ne_bytes());
        control.extend_from_slice(&(header + ee.len()).to_ne_bytes());
        control.extend_from_slice(&libc::SOL_IPV6.to_ne_bytes());
        control.extend_from_slice(&libc::IPV6_RECVERR.to_ne_bytes());
        control.extend_from_slice(&ee);
        let e = find_extended_error(&control).unwrap();
        assert_eq!((e.origin, e.icmp_type, e.info), (3, 2, 1280));
        // Cut anywhere: never panics.
        for cut in 0..control.len() {
            let _ = find_extended_error(&control[..cut]);
        }
    }
}
