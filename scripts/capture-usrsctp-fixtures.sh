#!/usr/bin/env bash
# Capture reference SCTP traffic produced by usrsctp (an independent, widely used
# userspace SCTP stack, Debian package libusrsctp-examples) and store it as decoder
# test fixtures in crates/cli/tests/fixtures/ (see crates/cli/tests/decode_vs_tshark.rs).
#
# The two hosts are network namespaces wired like the lab of DESIGN.md ("The lab
# topology"), under names of their own so that they never clash with a real lab:
#
#   msctp-fx-alpha                              msctp-fx-beta
#   link1 192.0.2.1/24, 2001:db8:1::1/64  ───  link1 192.0.2.2/24, 2001:db8:1::2/64
#   link2 198.51.100.1/24, 2001:db8:2::1/64 ── link2 198.51.100.2/24, 2001:db8:2::2/64
#
# No default route, only documentation prefixes, so nothing can leave the namespaces.
# Captures are taken in alpha with tcpdump. Every wait is a bounded poll for an event
# (a socket appearing, a line echoed, a chunk appearing in the capture); every program
# runs under `timeout`. The namespaces and every process started here are removed on
# exit, also on failure.
#
# Fixtures written (all checked at the end with tshark, CRC32c verification on):
#   usrsctp-raw-ipv4.pcap             tsctp, single-homed, IPv4 raw, fragmented DATA, SACK,
#                                     SHUTDOWN; Ethernet link type (capture on one veth)
#   usrsctp-multihomed-ipv4.pcap      echo client/server bound to the wildcard address:
#                                     INIT / INIT ACK list 2 IPv4 + 2 IPv6 addresses,
#                                     HEARTBEATs confirm every other path; Linux SLL2
#   usrsctp-udp-ipv4.pcapng           the same over UDP encapsulation (RFC 6951, port 9899
#                                     on both sides); pcapng
#   usrsctp-raw-ipv6.pcap             echo over IPv6; Linux SLL (v1)
#   usrsctp-abort-ipv4.pcap           tsctp closes with unread echoed data -> ABORT; the
#                                     cause depends on timing (User-Initiated Abort, or
#                                     Out of Resource when echoed DATA arrives after its
#                                     SHUTDOWN)
#   usrsctp-loss-forward-tsn-ipv4.pcap  PR-SCTP (RTX policy, 0 retransmissions) with every
#                                     7th packet dropped at beta and the first DATA
#                                     duplicated: SACK gap blocks and duplicate TSNs,
#                                     FORWARD TSN with stream/SSN entries
#   usrsctp-init-icmp-unreachable.pcap  INIT to a host without SCTP: ICMP protocol
#                                     unreachable and ICMPv6 parameter problem, both
#                                     quoting the SCTP packet (no top-level SCTP there)
#   usrsctp-extensions-ipv4.pcap      (built from scripts/usrsctp-extensions-peer.c)
#                                     I-DATA, AUTH, ASCONF / ASCONF-ACK, RE-CONFIG,
#                                     I-FORWARD-TSN, HEARTBEAT on demand
#
# Usage:  sudo scripts/capture-usrsctp-fixtures.sh [OUTPUT_DIR]
# Needs:  root, iproute2, iptables (statistic, u32, TEE matches/targets), tcpdump,
#         tshark + editcap + capinfos (package tshark / wireshark-common),
#         libusrsctp-examples, and for the extensions fixture gcc + libusrsctp-dev.
#         Set MSCTP_FX_SKIP_EXTENSIONS=1 to skip that one fixture deliberately.
#         Set MSCTP_FX_KEEP_WORK=1 to keep the raw captures and program logs.

set -euo pipefail

readonly NS_A=msctp-fx-alpha
readonly NS_B=msctp-fx-beta
readonly USRSCTP=${USRSCTP_PROGRAMS:-/usr/lib/usrsctp}
readonly STEP_TIMEOUT=30            # upper bound for any single program run, seconds
readonly MAX_FIXTURE_BYTES=204800   # fixtures stay below 200 KiB

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
OUT_DIR=${1:-"$SCRIPT_DIR/../crates/cli/tests/fixtures"}
WORK=""
declare -A BG=()     # PIDs of background processes started here (pid -> description)
LAST_PID=""
CAP_PID=""
CAP_FILE=""

log() { printf '[capture] %s\n' "$*" >&2; }
die() { printf '[capture] ERROR: %s\n' "$*" >&2; exit 1; }

cleanup() {
    local rc=$?
    set +e
    local pid
    for pid in "${!BG[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${!BG[@]}"; do
        wait "$pid" 2>/dev/null
    done
    ip netns exec "$NS_A" iptables -F 2>/dev/null
    ip netns exec "$NS_A" iptables -t mangle -F 2>/dev/null
    ip netns exec "$NS_B" iptables -F 2>/dev/null
    ip netns del "$NS_A" 2>/dev/null
    ip netns del "$NS_B" 2>/dev/null
    if [[ -n "$WORK" && -d "$WORK" ]]; then
        if (( rc != 0 )); then
            log "logs of the failed run:"
            local f
            for f in "$WORK"/*.log "$WORK"/*.err; do
                [[ -s "$f" ]] || continue
                printf -- '--- %s (last 15 lines)\n' "$(basename "$f")" >&2
                grep -v '^\[S\]' "$f" | tail -n 15 >&2
            done
        fi
        if [[ "${MSCTP_FX_KEEP_WORK:-0}" == 1 ]]; then
            log "MSCTP_FX_KEEP_WORK=1: captures and logs left in $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------
# helpers

in_alpha() { ip netns exec "$NS_A" "$@"; }
in_beta() { ip netns exec "$NS_B" "$@"; }

# track DESCRIPTION : remember the PID of the background job just started with `&`
# (always an external program, never a shell function, so that the PID is the
# program's own and can be signalled; redirections of such a job happen in the child).
track() {
    LAST_PID=$!
    BG[$LAST_PID]=$1
}

# stop_bg PID : terminate a process we started and reap it.
stop_bg() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset 'BG[$pid]'
}

# wait_bg PID : wait for a process we started to exit by itself (it runs
# under `timeout`, so this is bounded) and fail if it did not exit with 0.
wait_bg() {
    local pid=$1 rc=0
    wait "$pid" || rc=$?
    local desc=${BG[$pid]}
    unset 'BG[$pid]'
    (( rc == 0 )) || die "$desc exited with status $rc (124 = timed out)"
}

# wait_until SECONDS DESCRIPTION COMMAND... : poll COMMAND every 50 ms until it
# succeeds; fail after SECONDS.
wait_until() {
    local seconds=$1 desc=$2
    shift 2
    local deadline=$(( $(date +%s%N) + seconds * 1000000000 ))
    until "$@" >/dev/null 2>&1; do
        (( $(date +%s%N) < deadline )) || die "timed out after ${seconds}s waiting for $desc"
        sleep 0.05
    done
}

# A raw socket for IP protocol 132 exists in namespace $1 (usrsctp opens it in
# usrsctp_init; /proc/net/raw shows the protocol number in the port column).
raw_sctp_socket_open() {
    ip netns exec "$1" cat /proc/net/raw /proc/net/raw6 | grep -q ':0084 '
}
# A UDP socket is bound to port 9899 (0x26AB) in namespace $1.
udp_9899_open() {
    ip netns exec "$1" cat /proc/net/udp /proc/net/udp6 | grep -qi ':26AB '
}
# No raw SCTP socket is left in namespace $1 (the previous peer has gone).
no_raw_sctp_socket() {
    ! raw_sctp_socket_open "$1"
}

# capture_has FILE DISPLAY_FILTER : the capture (possibly still being written)
# contains a frame matching the filter.
capture_has() {
    tshark -n -r "$1" -Y "$2" -T fields -e frame.number 2>/dev/null | grep -q .
}

# start_capture NAME INTERFACE [tcpdump options...] : capture in alpha into
# $WORK/NAME.pcap; returns once tcpdump is listening.
start_capture() {
    local name=$1 iface=$2
    shift 2
    CAP_FILE="$WORK/$name.pcap"
    local err="$WORK/$name.tcpdump.err"
    ip netns exec "$NS_A" timeout "$STEP_TIMEOUT" \
        tcpdump -Z root -n -U -s 0 -i "$iface" "$@" -w "$CAP_FILE" 2>"$err" &
    track "tcpdump ($name)"
    CAP_PID=$LAST_PID
    wait_until 10 "tcpdump to listen on $iface" grep -q 'listening on' "$err"
}

# stop_capture DISPLAY_FILTER : wait until the capture holds the frame that ends the
# scenario, then stop tcpdump.
stop_capture() {
    wait_until 10 "'$1' to appear in $(basename "$CAP_FILE")" capture_has "$CAP_FILE" "$1"
    stop_bg "$CAP_PID"
    CAP_PID=""
}

# start_server NAME NS READY_CHECK COMMAND... : start a usrsctp program in a namespace
# and wait until its socket exists.
start_server() {
    local name=$1 ns=$2 ready=$3
    shift 3
    ip netns exec "$ns" timeout "$STEP_TIMEOUT" "$@" >"$WORK/$name.log" 2>&1 </dev/null &
    track "$name"
    SERVER_PID=$LAST_PID
    wait_until 10 "$name to open its socket" "$ready" "$ns"
}

stop_server() {
    stop_bg "$SERVER_PID"
    wait_until 10 "the server's raw socket to close" no_raw_sctp_socket "$NS_B"
}

# run_fg NAME NS COMMAND... : run a usrsctp program to completion (bounded).
run_fg() {
    local name=$1 ns=$2
    shift 2
    ip netns exec "$ns" timeout "$STEP_TIMEOUT" "$@" >"$WORK/$name.log" 2>&1 </dev/null &
    track "$name"
    wait_bg "$LAST_PID"
}

# echo_exchange NAME REMOTE_ADDR LOCAL_ENCAPS REMOTE_ENCAPS LINE... : run usrsctp's
# `client` in alpha against `echo_server` (port 7); send each LINE and wait until it
# has been echoed back before sending the next; then close stdin, which makes the
# client shut the association down gracefully and exit.
echo_exchange() {
    local name=$1 addr=$2 lencaps=$3 rencaps=$4
    shift 4
    local fifo="$WORK/$name.stdin" out="$WORK/$name.out"
    rm -f "$fifo"
    mkfifo "$fifo"
    : >"$out"
    # client remote_addr remote_port local_port local_encaps_port remote_encaps_port
    # The background child opens the FIFO for reading itself, and is forked before we
    # open our end, so it never holds a write end: closing ours gives it end of file.
    # Ours is opened read-write, which never blocks, even if the client failed to start.
    ip netns exec "$NS_A" timeout "$STEP_TIMEOUT" \
        "$USRSCTP/client" "$addr" 7 0 "$lencaps" "$rencaps" \
        <"$fifo" >"$out" 2>"$WORK/$name.err" &
    track "$name"
    local pid=$LAST_PID fd line
    exec {fd}<>"$fifo"
    for line in "$@"; do
        printf '%s\n' "$line" >&"$fd"
        wait_until 10 "the echo of '$line'" grep -qxF -- "$line" "$out"
    done
    exec {fd}>&-
    wait_bg "$pid"
}

iptables_reset() {
    in_alpha iptables -F
    in_alpha iptables -t mangle -F
    in_beta iptables -F
}

# keep NAME : move the finished capture into the output directory as NAME.
keep() {
    local name=$1
    case "$name" in
        *.pcapng) editcap -F pcapng "$CAP_FILE" "$WORK/$name" ;;
        *.pcap) cp "$CAP_FILE" "$WORK/$name" ;;
        *) die "unknown fixture extension: $name" ;;
    esac
    KEPT+=("$name")
}
KEPT=()

# ---------------------------------------------------------------------------------
# preconditions

(( EUID == 0 )) || die "must run as root (network namespaces, raw sockets, iptables)"
for tool in ip iptables sysctl tcpdump tshark editcap capinfos timeout mkfifo; do
    command -v "$tool" >/dev/null || die "missing tool: $tool (apt-get install iproute2 iptables tcpdump tshark)"
done
for prog in client echo_server tsctp; do
    [[ -x "$USRSCTP/$prog" ]] || die "missing $USRSCTP/$prog (apt-get install libusrsctp-examples)"
done
WITH_EXTENSIONS=1
if [[ "${MSCTP_FX_SKIP_EXTENSIONS:-0}" == 1 ]]; then
    WITH_EXTENSIONS=0
    log "MSCTP_FX_SKIP_EXTENSIONS=1: not capturing usrsctp-extensions-ipv4.pcap"
else
    command -v cc >/dev/null || die "missing C compiler for the extensions peer (apt-get install gcc) or set MSCTP_FX_SKIP_EXTENSIONS=1"
    [[ -f /usr/include/usrsctp.h ]] || die "missing usrsctp.h (apt-get install libusrsctp-dev) or set MSCTP_FX_SKIP_EXTENSIONS=1"
fi
for ns in "$NS_A" "$NS_B"; do
    if ip netns list | awk '{print $1}' | grep -qxF -- "$ns"; then
        die "namespace $ns already exists (left over from an interrupted run?); remove it with: ip netns del $ns"
    fi
done
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
WORK=$(mktemp -d /tmp/msctp-fixtures.XXXXXX)

if (( WITH_EXTENSIONS )); then
    log "building usrsctp-extensions-peer"
    cc -O1 -Wall -o "$WORK/usrsctp-extensions-peer" "$SCRIPT_DIR/usrsctp-extensions-peer.c" \
        -lusrsctp -lpthread || die "building scripts/usrsctp-extensions-peer.c failed"
fi

# ---------------------------------------------------------------------------------
# the lab

log "creating namespaces $NS_A and $NS_B"
ip netns add "$NS_A"
ip netns add "$NS_B"
ip link add link1 netns "$NS_A" type veth peer name link1 netns "$NS_B"
ip link add link2 netns "$NS_A" type veth peer name link2 netns "$NS_B"
for ns in "$NS_A" "$NS_B"; do
    ip -n "$ns" link set lo up
    for l in link1 link2; do
        # No IPv6 link-local addresses: fewer unrelated packets, and usrsctp would not
        # list them anyway.
        ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$l.addr_gen_mode=1"
    done
done
ip -n "$NS_A" addr add 192.0.2.1/24 dev link1
ip -n "$NS_A" addr add 2001:db8:1::1/64 dev link1 nodad
ip -n "$NS_A" addr add 198.51.100.1/24 dev link2
ip -n "$NS_A" addr add 2001:db8:2::1/64 dev link2 nodad
ip -n "$NS_B" addr add 192.0.2.2/24 dev link1
ip -n "$NS_B" addr add 2001:db8:1::2/64 dev link1 nodad
ip -n "$NS_B" addr add 198.51.100.2/24 dev link2
ip -n "$NS_B" addr add 2001:db8:2::2/64 dev link2 nodad
for ns in "$NS_A" "$NS_B"; do
    ip -n "$ns" link set link1 up
    ip -n "$ns" link set link2 up
done
ip -n "$NS_A" route show default | grep -q . && die "unexpected default route in $NS_A"
ip -n "$NS_B" route show default | grep -q . && die "unexpected default route in $NS_B"

# ---------------------------------------------------------------------------------
# scenarios

# 1. Single-homed discard-style transfer over raw IPv4 on link 1 only; 3000-byte
#    messages are fragmented (B/E bits). Capture on the veth itself: Ethernet frames,
#    including the ARP exchange before the INIT.
log "scenario: raw IPv4, single-homed (tsctp)"
start_server tsctp-server "$NS_B" raw_sctp_socket_open \
    "$USRSCTP/tsctp" -E 0 -L 192.0.2.2 -p 5001
start_capture raw-ipv4 link1
run_fg tsctp-client "$NS_A" "$USRSCTP/tsctp" -E 0 -L 192.0.2.1 -p 5001 -n 8 -l 3000 192.0.2.2
stop_capture 'sctp.chunk_type == 14'
stop_server
keep usrsctp-raw-ipv4.pcap

# 2. Multi-homed echo: both programs bind the wildcard address, so usrsctp lists
#    every address of the namespace in INIT and INIT ACK and confirms each peer
#    address with a HEARTBEAT right after the handshake.
log "scenario: raw IPv4, multi-homed (client / echo_server)"
start_server echo-server "$NS_B" raw_sctp_socket_open "$USRSCTP/echo_server" 0
start_capture multihomed-ipv4 any
echo_exchange echo-client-ipv4 192.0.2.2 0 0 'hello, beta' 'multi-homing is the headline' 'bye'
stop_capture 'sctp.chunk_type == 14'
stop_server
keep usrsctp-multihomed-ipv4.pcap

# 3. The same over UDP encapsulation (RFC 6951): both sides use UDP port 9899.
log "scenario: UDP encapsulation (client / echo_server, port 9899)"
start_server echo-server-udp "$NS_B" udp_9899_open "$USRSCTP/echo_server" 9899 9899
start_capture udp-ipv4 any
echo_exchange echo-client-udp 192.0.2.2 9899 9899 'over UDP' 'port 9899 both ways'
stop_capture 'sctp.chunk_type == 14'
stop_server
keep usrsctp-udp-ipv4.pcapng

# 4. Echo over IPv6; Linux cooked capture version 1 for link-type coverage.
log "scenario: raw IPv6 (client / echo_server)"
start_server echo-server-ipv6 "$NS_B" raw_sctp_socket_open "$USRSCTP/echo_server" 0
start_capture raw-ipv6 any -y LINUX_SLL
echo_exchange echo-client-ipv6 2001:db8:1::2 0 0 'hello over IPv6' 'bye'
stop_capture 'sctp.chunk_type == 14'
stop_server
keep usrsctp-raw-ipv6.pcap

# 5. ABORT: tsctp's client never reads, so the echoed data is still unread when it
#    closes the socket; usrsctp then aborts the association (User-Initiated Abort,
#    or Out of Resource when the echo arrives after the client's SHUTDOWN).
log "scenario: ABORT (tsctp client against echo_server)"
start_server echo-server-abort "$NS_B" raw_sctp_socket_open "$USRSCTP/echo_server" 0
start_capture abort-ipv4 any
run_fg tsctp-abort-client "$NS_A" "$USRSCTP/tsctp" -E 0 -L 192.0.2.1 -p 7 -n 3 -l 200 192.0.2.2
stop_capture 'sctp.chunk_type == 6'
stop_server
keep usrsctp-abort-ipv4.pcap

# 6. Loss with PR-SCTP: the sender abandons a message instead of retransmitting it
#    (RTX policy, 0 retransmissions) and moves the peer's cumulative TSN on with
#    FORWARD TSN. beta drops every 7th SCTP packet it receives (gap blocks in SACK);
#    alpha sends its first DATA packet twice (duplicate TSN reported in SACK).
log "scenario: loss, PR-SCTP FORWARD TSN, gap blocks, duplicate TSNs (tsctp)"
in_beta iptables -A INPUT -p 132 -m statistic --mode nth --every 7 --packet 6 -j DROP
in_alpha iptables -t mangle -A POSTROUTING -p 132 -m u32 --u32 '0>>22&0x3C@12>>24=0' \
    -m statistic --mode nth --every 1000000 --packet 0 -j TEE --gateway 192.0.2.2
start_server tsctp-server-loss "$NS_B" raw_sctp_socket_open \
    "$USRSCTP/tsctp" -E 0 -L 192.0.2.2 -p 5001
start_capture loss-ipv4 any
run_fg tsctp-loss-client "$NS_A" "$USRSCTP/tsctp" -E 0 -L 192.0.2.1 -p 5001 \
    -n 40 -l 400 -P 2 -t 0 192.0.2.2
stop_capture 'sctp.chunk_type == 14'
stop_server
iptables_reset
capture_has "$CAP_FILE" 'sctp.chunk_type == 192' || die "no FORWARD TSN in the loss capture"
capture_has "$CAP_FILE" 'sctp.sack_number_of_gap_blocks > 0' || die "no SACK gap block in the loss capture"
capture_has "$CAP_FILE" 'sctp.sack_number_of_duplicated_tsns > 0' || die "no duplicate TSN in the loss capture"
keep usrsctp-loss-forward-tsn-ipv4.pcap

# 7. INIT towards a host that has no SCTP at all (no usrsctp running in beta, and the
#    kernel has no SCTP): the kernel answers with ICMP protocol unreachable (IPv4) and
#    ICMPv6 parameter problem / unrecognized next header (IPv6). The ICMP messages
#    quote the SCTP packet; a decoder must not report those as SCTP packets.
log "scenario: INIT answered by ICMP (no SCTP in beta)"
wait_until 10 "beta to have no SCTP socket" no_raw_sctp_socket "$NS_B"
start_capture icmp link1
ip netns exec "$NS_A" timeout "$STEP_TIMEOUT" \
    "$USRSCTP/tsctp" -E 0 -L 192.0.2.1 -p 5001 -n 1 192.0.2.2 \
    >"$WORK/tsctp-unreachable.log" 2>&1 </dev/null &
track tsctp-unreachable
wait_until 10 "ICMP protocol unreachable" capture_has "$CAP_FILE" 'icmp.type == 3 && icmp.code == 2'
stop_bg "$LAST_PID"
ip netns exec "$NS_A" timeout "$STEP_TIMEOUT" \
    "$USRSCTP/client" 2001:db8:1::2 5001 0 0 0 \
    >"$WORK/client-unreachable-ipv6.log" 2>&1 </dev/null &
track client-unreachable-ipv6
wait_until 10 "ICMPv6 parameter problem" capture_has "$CAP_FILE" 'icmpv6.type == 4'
stop_bg "$LAST_PID"
stop_capture 'icmpv6.type == 4'
keep usrsctp-init-icmp-unreachable.pcap

# 8. Extensions that the example programs do not use, driven by a small usrsctp
#    program of ours: I-DATA (RFC 8260) on several streams with fragmentation, AUTH
#    (RFC 4895) on every I-DATA-carrying packet, ASCONF / ASCONF-ACK (RFC 5061)
#    setting the peer's primary path, RE-CONFIG (RFC 6525) stream reset and
#    add-streams, a HEARTBEAT on demand, I-FORWARD-TSN after a dropped packet of an
#    abandoned PR-SCTP message.
if (( WITH_EXTENSIONS )); then
    log "scenario: extensions (usrsctp-extensions-peer)"
    # Drop the one packet of the PR-SCTP message: AUTH (28 bytes with HMAC-SHA-1)
    # first, then I-DATA whose PPID sits 16 bytes into the chunk, i.e. at SCTP
    # offset 12 + 28 + 16 = 56.
    in_beta iptables -A INPUT -p 132 -m u32 --u32 '0>>22&0x3C@12>>24=0x0F && 0>>22&0x3C@56=0xDEAD' -j DROP
    start_server ext-server "$NS_B" raw_sctp_socket_open \
        "$WORK/usrsctp-extensions-peer" server 192.0.2.2 5002
    start_capture extensions-ipv4 any
    run_fg ext-client "$NS_A" "$WORK/usrsctp-extensions-peer" client 192.0.2.2 5002 198.51.100.1
    stop_capture 'sctp.chunk_type == 14'
    stop_server
    iptables_reset
    for t in 64 15 193 128 130 194; do
        capture_has "$CAP_FILE" "sctp.chunk_type == $t" || die "chunk type $t missing from the extensions capture"
    done
    keep usrsctp-extensions-ipv4.pcap
fi

# ---------------------------------------------------------------------------------
# check with tshark (CRC32c verification on) and install

# CRC32c verification on (the enum value is "crc-32c"; tshark silently ignores an
# unknown value), upper-layer dissection off so that only SCTP itself is judged.
readonly TSHARK_OPTS=(-n -o sctp.checksum:crc-32c -o sctp.ulp_dissection:FALSE -d udp.port==9899,sctp)
# tshark warns on stderr when run as root; keep its real errors visible otherwise.
ts() { tshark "$@" 2> >(grep -v 'Running as user "root"' >&2); }
log "checking the captures with tshark"
for name in "${KEPT[@]}"; do
    f="$WORK/$name"
    size=$(stat -c %s "$f")
    (( size < MAX_FIXTURE_BYTES )) || die "$name is $size bytes, over the limit of $MAX_FIXTURE_BYTES"
    frames=$(ts "${TSHARK_OPTS[@]}" -r "$f" -T fields -e frame.number | wc -l)
    sctp=$(ts "${TSHARK_OPTS[@]}" -r "$f" -Y 'sctp && !icmp && !icmpv6' -T fields -e frame.number | wc -l)
    (( sctp > 0 )) || die "$name has no SCTP packet"
    bad=$(ts "${TSHARK_OPTS[@]}" -r "$f" -Y 'sctp && !icmp && !icmpv6 && sctp.checksum.status != 1' \
        -T fields -e frame.number | tr '\n' ' ')
    [[ -z "$bad" ]] || die "$name: SCTP checksum not good in frames $bad"
    malformed=$(ts "${TSHARK_OPTS[@]}" -r "$f" -Y '_ws.malformed || (sctp && _ws.expert.severity >= 8388608)' \
        -T fields -e frame.number | tr '\n' ' ')
    [[ -z "$malformed" ]] || die "$name: tshark reports malformed packets / errors in frames $malformed"
    chunks=$(ts "${TSHARK_OPTS[@]}" -r "$f" -Y 'sctp && !icmp && !icmpv6' -T fields -e sctp.chunk_type \
        | tr ',' '\n' | sort -n | uniq -c | awk '{printf "%s%s×%s", sep, $2, $1; sep=" "}')
    encap=$(capinfos -E "$f" | sed -n 's/^File encapsulation: *//p')
    log "$(printf '%-38s %7d bytes %4d frames %4d SCTP  %-32s chunk types: %s' \
        "$name" "$size" "$frames" "$sctp" "$encap" "$chunks")"
done

for name in "${KEPT[@]}"; do
    install -m 0644 "$WORK/$name" "$OUT_DIR/$name"
done
log "wrote ${#KEPT[@]} fixtures to $OUT_DIR"
