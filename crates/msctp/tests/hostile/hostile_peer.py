#!/usr/bin/python3
"""A hostile peer for msctp's hostile-peer tests (crates/msctp/tests/hostile.rs).

Runs inside the namespace of the server (beta), as root. It sniffs the live
association between the msctp client (in alpha) and the msctp server (in
beta) on beta's interfaces with scapy to learn its ports, verification tags
and TSNs, then sends crafted SCTP packets to the client with raw sockets
(SCTP over IP) or UDP sockets (RFC 6951), computing the CRC32c itself.

    hostile_peer.py ATTACK --port 5001 [--udp]

ATTACK is one of:
    gap-flood         SACKs carrying thousands of gap blocks (current and stale
                      Cumulative TSN Ack), fragmented by IP.
    renege            drops the client's DATA at the server for a moment
                      (iptables), gap-acks it in forged SACKs, then lets the
                      real SACKs renege on it.
    pad-dup           a DATA chunk the client has already received, again,
                      behind or in front of a large PAD chunk (RFC 4820).
    blind-abort       ABORTs with tag 0 and the T bit (and other wrong tags).
    udp-spoof         (with --udp) datagrams from the server's addresses but
                      another UDP port, with wrong tags.
    restart-shutdown  holds the client in SHUTDOWN-SENT (iptables drops its
                      SHUTDOWN at the server), sends it an INIT with a new tag
                      from the server's address, then lets the shutdown end.

Output, one line each (stdout, flushed): `learned cport=.. ctag=.. stag=..
cum=..`, `sent KIND N`, `answer CHUNK...` (what the client sent back to our
INIT), `done`. Exit status 0 when the attack was carried out, 1 otherwise
(with `error ...`).
"""

import argparse
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time

try:
    from scapy.all import AsyncSniffer
    from scapy.layers.sctp import crc32c as scapy_crc32c
except ImportError:
    print("error scapy is missing: apt-get install python3-scapy", flush=True)
    sys.exit(1)

ALPHA = ["192.0.2.1", "198.51.100.1"]
BETA = ["192.0.2.2", "198.51.100.2"]
IFACES = ["link1", "link2"]
UDP_PORT = 9899

# Chunk types (RFC 9260 §3.2, RFC 4820).
DATA, INIT, INIT_ACK, SACK, HEARTBEAT, ABORT, SHUTDOWN = 0, 1, 2, 3, 4, 6, 7
PAD = 0x84


def out(*words):
    print(*words, flush=True)


# --- CRC32c (RFC 9260 Appendix A), computed here -------------------------

def _crc_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def sctp_packet(sport, dport, vtag, chunks):
    """Common header + chunks, CRC32c filled in (stored least significant
    byte first, as RFC 9260 Appendix A's reflected algorithm gives it)."""
    body = struct.pack("!HHII", sport, dport, vtag, 0) + b"".join(chunks)
    crc = crc32c(body)
    return body[:8] + struct.pack("<I", crc) + body[12:]


def chunk(kind, flags, value):
    length = 4 + len(value)
    pad = (-length) % 4
    return struct.pack("!BBH", kind, flags, length) + value + b"\0" * pad


def sack_chunk(cum, gaps, a_rwnd=1 << 20):
    value = struct.pack("!IIHH", cum, a_rwnd, len(gaps), 0)
    value += b"".join(struct.pack("!HH", s, e) for s, e in gaps)
    return chunk(SACK, 0, value)


# --- What the sniffer learns -------------------------------------------------

class State:
    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.cport = None      # the client's SCTP port
        self.ctag = None       # tag the client expects (on beta -> alpha)
        self.stag = None       # tag the server expects (on alpha -> beta)
        self.cum = None        # last Cumulative TSN Ack the server sent
        self.client_acked = None  # last Cumulative TSN Ack the client sent
        self.server_data = None   # (tsn, chunk bytes) of a DATA beta -> alpha
        self.client_tsns = []     # TSNs of the client's DATA, in order seen
        self.shutdowns = 0        # SHUTDOWNs from the client
        self.client_chunks = []   # (time, types) of packets from the client
        self.ours = set()         # CRCs of packets we sent (ignored)


def parse_chunks(sctp):
    at = 12
    while at + 4 <= len(sctp):
        kind, flags, length = struct.unpack_from("!BBH", sctp, at)
        if length < 4 or at + length > len(sctp):
            return
        yield kind, flags, sctp[at + 4:at + length], sctp[at:at + length]
        at += (length + 3) & ~3


def on_frame(state, use_udp, frame):
    raw = bytes(frame)
    if len(raw) < 34 or raw[12:14] != b"\x08\x00":
        return
    ip = raw[14:]
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack_from("!H", ip, 2)[0]
    frag = struct.unpack_from("!H", ip, 6)[0]
    if frag & 0x3FFF:
        return  # a fragment (our own large packets): not reassembled
    proto = ip[9]
    src = socket.inet_ntoa(ip[12:16])
    dst = socket.inet_ntoa(ip[16:20])
    payload = ip[ihl:total]
    if use_udp:
        if proto != 17 or len(payload) < 8:
            return
        sp, dp = struct.unpack_from("!HH", payload, 0)
        if UDP_PORT not in (sp, dp):
            return
        sctp = payload[8:]
    else:
        if proto != 132:
            return
        sctp = payload
    if len(sctp) < 12:
        return
    sport, dport, vtag, crc = struct.unpack_from("!HHII", sctp, 0)
    with state.lock:
        if crc in state.ours:
            return
        if src in ALPHA and dst in BETA and dport == state.port:
            state.cport = sport
            types = []
            for kind, flags, value, whole in parse_chunks(sctp):
                types.append(kind)
                if kind not in (INIT, ABORT):
                    state.stag = vtag
                if kind == DATA and len(value) >= 4:
                    state.client_tsns.append(struct.unpack_from("!I", value, 0)[0])
                if kind == SACK and len(value) >= 4:
                    state.client_acked = struct.unpack_from("!I", value, 0)[0]
                if kind == SHUTDOWN:
                    state.shutdowns += 1
            state.client_chunks.append((time.time(), types))
        elif src in BETA and dst in ALPHA and sport == state.port:
            for kind, flags, value, whole in parse_chunks(sctp):
                if kind not in (INIT, ABORT, INIT_ACK):
                    state.ctag = vtag
                if kind == SACK and len(value) >= 4:
                    state.cum = struct.unpack_from("!I", value, 0)[0]
                if kind == DATA and len(value) >= 4 and (flags & 0x3) == 0x3:
                    state.server_data = (struct.unpack_from("!I", value, 0)[0], whole)


def start_sniffer(state, use_udp):
    bpf = "udp port %d" % UDP_PORT if use_udp else "ip proto 132"
    sniffer = AsyncSniffer(iface=IFACES, filter=bpf, store=False,
                           prn=lambda f: on_frame(state, use_udp, f))
    sniffer.start()
    return sniffer


def wait_for(what, pred, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.01)
    out("error", "no", what, "within", timeout, "s")
    sys.exit(1)


# --- Sending -------------------------------------------------------------------

class Sender:
    """Sends SCTP packets from beta's address on the link of the destination."""

    def __init__(self, state, use_udp, udp_src_port=UDP_PORT):
        self.state = state
        self.use_udp = use_udp
        self.socks = {}
        self.udp_src_port = udp_src_port
        for src in BETA:
            if use_udp:
                # Raw UDP: the UDP header is ours, so the source port may be
                # the one the server holds (9899) or any other.
                s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
                s.bind((src, 0))
            else:
                s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 132)
                s.bind((src, 0))
            # Fragment locally instead of failing with EMSGSIZE.
            s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER = IP_PMTUDISC_DONT
            self.socks[src] = s
        self.sent = 0

    def send(self, packet, link=0):
        with self.state.lock:
            self.state.ours.add(struct.unpack_from("!I", packet, 8)[0])
        src, dst = BETA[link], ALPHA[link]
        if self.use_udp:
            self.socks[src].sendto(udp_datagram(src, dst, self.udp_src_port, UDP_PORT, packet), (dst, 0))
        else:
            self.socks[src].sendto(packet, (dst, 0))
        self.sent += 1


def udp_datagram(src, dst, sport, dport, payload):
    """A UDP header (RFC 768, checksum over the IPv4 pseudo-header) and payload."""
    length = 8 + len(payload)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, length)
    data = pseudo + struct.pack("!HHHH", sport, dport, length, 0) + payload
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    checksum = (~total & 0xFFFF) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, length, checksum) + payload


def iptables(*args):
    subprocess.run(["iptables"] + list(args), check=True)


# --- Attacks ---------------------------------------------------------------------

def learn(state, need_cum=True):
    wait_for("association tags",
             lambda: state.cport and state.ctag and state.stag and (state.cum is not None or not need_cum))
    with state.lock:
        out("learned cport=%d ctag=%#x stag=%#x cum=%s" % (state.cport, state.ctag, state.stag, state.cum))


def gap_flood(state, sender):
    """RFC 9260 §6.2.1: SACKs with 4000 and 16000 gap blocks, with the
    current Cumulative TSN Ack (gap blocks beyond anything sent) and with a
    stale one (to be dropped)."""
    for i in range(150):
        with state.lock:
            cum = state.cum
        many = 16000 if i % 10 == 0 else 4000
        gaps = [(2 + 2 * k, 2 + 2 * k) for k in range(many)]
        stale = (cum - 1000) & 0xFFFFFFFF if i % 2 else cum
        pkt = sctp_packet(state.port, state.cport, state.ctag, [sack_chunk(stale, gaps)])
        sender.send(pkt, link=i % 2)
        time.sleep(0.01)
    out("sent gap-flood", sender.sent)


def renege(state, sender):
    """RFC 9260 §6.2.1: gap-acked DATA may be reneged; the sender keeps it
    until it is cumulatively acked and retransmits it."""
    with state.lock:
        cum = state.cum
        seen = len(state.client_tsns)
    iptables("-I", "INPUT", "-p", "sctp", "-j", "DROP")
    try:
        wait_for("client DATA while dropping",
                 lambda: len([t for t in state.client_tsns[seen:] if ((t - cum) & 0xFFFFFFFF) >= 2]) >= 3,
                 timeout=10)
        for _ in range(30):
            with state.lock:
                tsns = sorted({(t - cum) & 0xFFFFFFFF for t in state.client_tsns[seen:]})
            offsets = [o for o in tsns if 2 <= o < 60000]
            if offsets:
                gap = (offsets[0], offsets[-1])
                pkt = sctp_packet(state.port, state.cport, state.ctag, [sack_chunk(cum, [gap])])
                sender.send(pkt, link=0)
                sender.send(pkt, link=1)
            time.sleep(0.05)
        out("sent renege", sender.sent, "gap-acked offsets", offsets[0], "to", offsets[-1], "over cum", cum)
    finally:
        iptables("-D", "INPUT", "-p", "sctp", "-j", "DROP")


def pad_dup(state, sender):
    """RFC 9260 §6.2: a DATA chunk already received is a duplicate (reported,
    not delivered again); RFC 4820: PAD chunks are skipped."""
    wait_for("a DATA chunk from the server", lambda: state.server_data is not None)
    with state.lock:
        tsn, data = state.server_data
    wait_for("the client's SACK of that DATA",
             lambda: state.client_acked is not None and ((state.client_acked - tsn) & 0xFFFFFFFF) < 1 << 31)
    for i in range(100):
        pad_len = [1200, 8000, 60000][i % 3]
        pad = chunk(PAD, 0, b"\0" * pad_len)
        chunks = [pad, data] if i % 2 else [data, pad]
        pkt = sctp_packet(state.port, state.cport, state.ctag, chunks)
        sender.send(pkt, link=i % 2)
        time.sleep(0.01)
    out("sent pad-dup", sender.sent, "tsn", tsn)


def blind_abort(state, sender):
    """RFC 9260 §8.5.1 B: an ABORT with the T bit must carry the peer's tag
    (never 0); with it clear, the receiver's own tag."""
    for i in range(200):
        variant = i % 4
        if variant == 0:
            tag, flags = 0, 1
        elif variant == 1:
            tag, flags = 0, 0
        elif variant == 2:
            tag, flags = random.getrandbits(32) | 1, 1
        else:
            tag, flags = random.getrandbits(32) | 1, 0
        if tag in (state.ctag, state.stag):
            continue
        pkt = sctp_packet(state.port, state.cport, tag, [chunk(ABORT, flags, b"")])
        sender.send(pkt, link=i % 2)
        time.sleep(0.005)
    out("sent blind-abort", sender.sent)


def udp_spoof(state, sender):
    """RFC 6951 §5.4/§5.5 and RFC 9260 §8.5: datagrams from the server's
    addresses but another UDP port, with wrong verification tags, are
    discarded and change nothing (not the path's UDP port either)."""
    for i in range(300):
        tag = random.getrandbits(32) | 1
        if tag == state.ctag:
            continue
        kind = i % 3
        if kind == 0:
            chunks = [chunk(HEARTBEAT, 0, struct.pack("!HH", 1, 8) + b"spoo")]
        elif kind == 1:
            chunks = [chunk(ABORT, 0, b"")]
        else:
            chunks = [sack_chunk(state.cum or 0, [(2, 5)])]
        pkt = sctp_packet(state.port, state.cport, tag, chunks)
        sender.send(pkt, link=i % 2)
        time.sleep(0.005)
    out("sent udp-spoof", sender.sent)


def restart_shutdown(state, sender):
    """RFC 9260 §5.2.2, §9.2: an INIT with a new tag while the client is
    shutting down does not restart nor end the association; the shutdown
    completes."""
    rule = ["INPUT", "-p", "sctp", "--chunk-types", "any", "SHUTDOWN", "-j", "DROP"]
    iptables("-I", *rule)
    try:
        wait_for("the client's SHUTDOWN", lambda: state.shutdowns >= 1, timeout=30)
        mark = time.time()
        new_tag = random.getrandbits(32) | 1
        params = b"".join(struct.pack("!HH", 5, 8) + socket.inet_aton(a) for a in BETA)
        value = struct.pack("!IIHHI", new_tag, 1 << 20, 10, 10, random.getrandbits(32)) + params
        for i in range(3):
            pkt = sctp_packet(state.port, state.cport, 0, [chunk(INIT, 0, value)])
            sender.send(pkt, link=0)
            time.sleep(0.1)
        time.sleep(0.3)
        with state.lock:
            answers = [t for (when, t) in state.client_chunks if when >= mark]
        out("sent restart-shutdown", sender.sent, "new_tag %#x" % new_tag)
        out("answer", " ".join(",".join(str(k) for k in t) for t in answers))
    finally:
        iptables("-D", *rule)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("attack", choices=["gap-flood", "renege", "pad-dup", "blind-abort", "udp-spoof",
                                      "restart-shutdown"])
    p.add_argument("--port", type=int, default=5001)
    p.add_argument("--udp", action="store_true")
    args = p.parse_args()
    # The CRC32c here must agree with scapy's (which gives it byte-swapped).
    probe = b"123456789"
    if crc32c(probe) != 0xE3069283 or struct.pack("<I", crc32c(probe)) != struct.pack("!I", scapy_crc32c(probe)):
        out("error CRC32c self-test failed")
        sys.exit(1)
    state = State(args.port)
    sniffer = start_sniffer(state, args.udp)
    try:
        learn(state, need_cum=args.attack != "restart-shutdown")
        if args.attack == "udp-spoof":
            if not args.udp:
                out("error udp-spoof needs --udp")
                sys.exit(1)
            sender = Sender(state, True, udp_src_port=40000)
        else:
            sender = Sender(state, args.udp)
        {
            "gap-flood": gap_flood,
            "renege": renege,
            "pad-dup": pad_dup,
            "blind-abort": blind_abort,
            "udp-spoof": udp_spoof,
            "restart-shutdown": restart_shutdown,
        }[args.attack](state, sender)
    finally:
        sniffer.stop()
    out("done")


if __name__ == "__main__":
    main()
