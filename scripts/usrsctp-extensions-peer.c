/*
 * usrsctp-extensions-peer: a small usrsctp program that makes usrsctp put on the
 * wire the SCTP extensions its example programs leave unused, so that
 * scripts/capture-usrsctp-fixtures.sh can capture them as decoder fixtures:
 *
 *   I-DATA (RFC 8260), several streams, ordered and unordered, fragmented
 *   AUTH (RFC 4895): the server requires I-DATA to be authenticated
 *   ASCONF / ASCONF-ACK (RFC 5061): Set Primary Address (usrsctp sends Add/Delete IP
 *     Address only for kernel address changes of a wildcard-bound endpoint, which
 *     its Linux port does not watch)
 *   RE-CONFIG (RFC 6525): outgoing SSN reset request, add outgoing streams
 *   HEARTBEAT on demand (RFC 9260 §8.3)
 *   I-FORWARD-TSN (RFC 8260 §2.3): a PR-SCTP message (RFC 3758, "RTX" policy with
 *     0 retransmissions) whose only transmission the script drops; its PPID is
 *     0x0000DEAD so that an iptables u32 rule can find it
 *
 * Usage:
 *   usrsctp-extensions-peer server BIND_ADDR PORT
 *   usrsctp-extensions-peer client PEER_ADDR PORT LOCAL_PRIMARY_ADDR
 *
 * The server binds BIND_ADDR only; the client binds the IPv4 wildcard address, so
 * its INIT lists every IPv4 address of its host, and then asks the server to use
 * LOCAL_PRIMARY_ADDR (one of them) as primary path. IPv4 only, raw IP (no UDP
 * encapsulation). Every wait is bounded; the program exits
 * with status 1 when something does not happen in time.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <usrsctp.h>

/* Not in the public header of usrsctp 0.9.5; value from usrsctp's netinet/sctp.h. */
#ifndef SCTP_INTERLEAVING_SUPPORTED
#define SCTP_INTERLEAVING_SUPPORTED 0x00001206
#endif

/* PPIDs without a Wireshark dissector, so that tshark shows the payload as data. */
#define PPID_BASE 1000u
#define LOST_PPID 0xDEADu
#define WAIT_MS 10000

static atomic_int stream_reset_done;
static atomic_int stream_change_done;
static atomic_int send_failed;
static atomic_int assoc_up;

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "usrsctp-extensions-peer: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void
msleep(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Poll *flag every 10 ms; fail after WAIT_MS. */
static void
wait_flag(atomic_int *flag, const char *what)
{
	int waited;

	for (waited = 0; waited < WAIT_MS; waited += 10) {
		if (atomic_load(flag)) {
			return;
		}
		msleep(10);
	}
	die("timed out waiting for %s", what);
}

static void
setopt(struct socket *s, int opt, const void *val, socklen_t len, const char *name)
{
	if (usrsctp_setsockopt(s, IPPROTO_SCTP, opt, val, len) < 0) {
		die("setsockopt %s: %s", name, strerror(errno));
	}
}

static struct sockaddr_in
ipv4(const char *addr, uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		die("not an IPv4 address: %s", addr);
	}
	return sin;
}

/* Options shared by both sides; set before bind so that INIT / INIT ACK carry them. */
static void
configure(struct socket *s)
{
	const int level2 = 2;
	const int on = 1;
	struct sctp_assoc_value av;
	struct sctp_authchunk auth;
	struct sctp_event ev;
	const uint16_t events[] = {SCTP_ASSOC_CHANGE, SCTP_PEER_ADDR_CHANGE, SCTP_STREAM_RESET_EVENT,
	                           SCTP_STREAM_CHANGE_EVENT, SCTP_SEND_FAILED_EVENT};
	size_t i;

	/* I-DATA needs fragment interleave level 2 first (RFC 8260 §2.1). */
	if (usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_FRAGMENT_INTERLEAVE, &level2, sizeof(level2)) < 0) {
		die("setsockopt SCTP_FRAGMENT_INTERLEAVE: %s", strerror(errno));
	}
	memset(&av, 0, sizeof(av));
	av.assoc_id = SCTP_FUTURE_ASSOC;
	av.assoc_value = 1;
	setopt(s, SCTP_INTERLEAVING_SUPPORTED, &av, sizeof(av), "SCTP_INTERLEAVING_SUPPORTED");
	av.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ | SCTP_ENABLE_CHANGE_ASSOC_REQ;
	setopt(s, SCTP_ENABLE_STREAM_RESET, &av, sizeof(av), "SCTP_ENABLE_STREAM_RESET");
	/* The peer must authenticate every DATA and I-DATA chunk it sends us (RFC 4895
	 * §3.2). usrsctp 0.9.5 only looks at the entry for DATA, also for I-DATA. */
	auth.sauth_chunk = 0;
	setopt(s, SCTP_AUTH_CHUNK, &auth, sizeof(auth), "SCTP_AUTH_CHUNK (DATA)");
	auth.sauth_chunk = 64;
	setopt(s, SCTP_AUTH_CHUNK, &auth, sizeof(auth), "SCTP_AUTH_CHUNK (I-DATA)");
	setopt(s, SCTP_NODELAY, &on, sizeof(on), "SCTP_NODELAY");
	setopt(s, SCTP_RECVRCVINFO, &on, sizeof(on), "SCTP_RECVRCVINFO");
	memset(&ev, 0, sizeof(ev));
	ev.se_assoc_id = SCTP_FUTURE_ASSOC;
	ev.se_on = 1;
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		ev.se_type = events[i];
		setopt(s, SCTP_EVENT, &ev, sizeof(ev), "SCTP_EVENT");
	}
}

static void
note(const union sctp_notification *n)
{
	switch (n->sn_header.sn_type) {
	case SCTP_ASSOC_CHANGE:
		printf("event: association change, state %u\n", n->sn_assoc_change.sac_state);
		if (n->sn_assoc_change.sac_state == SCTP_COMM_UP) {
			atomic_store(&assoc_up, 1);
		}
		break;
	case SCTP_PEER_ADDR_CHANGE:
		printf("event: peer address change, state %u\n", n->sn_paddr_change.spc_state);
		break;
	case SCTP_STREAM_RESET_EVENT:
		printf("event: stream reset, flags 0x%x\n", n->sn_strreset_event.strreset_flags);
		atomic_store(&stream_reset_done, 1);
		break;
	case SCTP_STREAM_CHANGE_EVENT:
		printf("event: stream change, in %u out %u\n", n->sn_strchange_event.strchange_instrms,
		       n->sn_strchange_event.strchange_outstrms);
		atomic_store(&stream_change_done, 1);
		break;
	case SCTP_SEND_FAILED_EVENT:
		printf("event: send failed (abandoned), flags 0x%x\n", n->sn_send_failed_event.ssfe_flags);
		atomic_store(&send_failed, 1);
		break;
	default:
		printf("event: type 0x%x\n", n->sn_header.sn_type);
		break;
	}
	fflush(stdout);
}

static int
client_receive_cb(struct socket *sock, union sctp_sockstore addr, void *data, size_t datalen,
                  struct sctp_rcvinfo rcv, int flags, void *ulp_info)
{
	(void)sock;
	(void)addr;
	(void)rcv;
	(void)ulp_info;
	if (data != NULL) {
		if (flags & MSG_NOTIFICATION) {
			note((const union sctp_notification *)data);
		} else {
			printf("client: %zu bytes received\n", datalen);
		}
		free(data);
	}
	return 1;
}

/* Wait until everything sent has been acknowledged (or abandoned). */
static void
wait_idle(struct socket *s)
{
	struct sctp_status st;
	socklen_t len;
	int waited;

	for (waited = 0; waited < WAIT_MS; waited += 10) {
		memset(&st, 0, sizeof(st));
		len = sizeof(st);
		if (usrsctp_getsockopt(s, IPPROTO_SCTP, SCTP_STATUS, &st, &len) < 0) {
			die("getsockopt SCTP_STATUS: %s", strerror(errno));
		}
		if (st.sstat_unackdata == 0 && st.sstat_penddata == 0) {
			return;
		}
		msleep(10);
	}
	die("timed out waiting for outstanding data to be acknowledged");
}

static void
send_msg(struct socket *s, uint16_t stream, uint32_t ppid, size_t len, int unordered, int pr_rtx0)
{
	struct sctp_sendv_spa spa;
	char *buf;

	buf = malloc(len);
	if (buf == NULL) {
		die("out of memory");
	}
	memset(buf, 'a' + (int)(stream % 26), len);
	memset(&spa, 0, sizeof(spa));
	spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
	spa.sendv_sndinfo.snd_sid = stream;
	spa.sendv_sndinfo.snd_ppid = htonl(ppid);
	spa.sendv_sndinfo.snd_flags = unordered ? SCTP_UNORDERED : 0;
	if (pr_rtx0) {
		spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
		spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
		spa.sendv_prinfo.pr_value = 0;
	}
	if (usrsctp_sendv(s, buf, len, NULL, 0, &spa, sizeof(spa), SCTP_SENDV_SPA, 0) < 0) {
		die("sendv: %s", strerror(errno));
	}
	free(buf);
}

static int
run_client(const char *peer_addr, uint16_t port, const char *primary_addr)
{
	struct socket *s;
	struct sockaddr_in local = ipv4("0.0.0.0", 0);
	struct sockaddr_in peer = ipv4(peer_addr, port);
	struct sockaddr_in primary = ipv4(primary_addr, 0);
	struct sctp_paddrparams pp;
	struct sctp_setprim prim;
	struct sctp_reset_streams *rs;
	struct sctp_add_streams as;
	int tries;

	s = usrsctp_socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP, client_receive_cb, NULL, 0, NULL);
	if (s == NULL) {
		die("usrsctp_socket: %s", strerror(errno));
	}
	configure(s);
	if (usrsctp_bind(s, (struct sockaddr *)&local, sizeof(local)) < 0) {
		die("bind 0.0.0.0: %s", strerror(errno));
	}
	if (usrsctp_connect(s, (struct sockaddr *)&peer, sizeof(peer)) < 0) {
		die("connect %s:%u: %s", peer_addr, port, strerror(errno));
	}
	wait_flag(&assoc_up, "the association to come up");

	/* ASCONF (RFC 5061 §4.1.6 Set Primary Address): ask the peer to make another of
	 * our addresses its primary destination. ASCONF is always authenticated. */
	memset(&prim, 0, sizeof(prim));
	memcpy(&prim.ssp_addr, &primary, sizeof(primary));
	prim.ssp_assoc_id = SCTP_FUTURE_ASSOC;
	if (usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_SET_PEER_PRIMARY_ADDR, &prim, sizeof(prim)) < 0) {
		/* Refused while the peer has not yet confirmed that address; retry. */
		for (tries = 0; tries < WAIT_MS / 10; tries++) {
			msleep(10);
			if (usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_SET_PEER_PRIMARY_ADDR, &prim,
			                       sizeof(prim)) == 0) {
				break;
			}
		}
		if (tries == WAIT_MS / 10) {
			die("setsockopt SCTP_SET_PEER_PRIMARY_ADDR: %s", strerror(errno));
		}
	}

	/* I-DATA on three streams, ordered and unordered, some fragmented. */
	send_msg(s, 0, PPID_BASE + 1, 200, 0, 0);
	send_msg(s, 1, PPID_BASE + 2, 2600, 0, 0);
	send_msg(s, 2, PPID_BASE + 3, 150, 1, 0);
	send_msg(s, 1, PPID_BASE + 4, 300, 0, 0);
	send_msg(s, 0, PPID_BASE + 5, 3000, 1, 0);
	send_msg(s, 2, PPID_BASE + 6, 100, 0, 0);
	wait_idle(s);

	/* HEARTBEAT on demand (RFC 9260 §8.3). */
	memset(&pp, 0, sizeof(pp));
	memcpy(&pp.spp_address, &peer, sizeof(peer));
	pp.spp_assoc_id = SCTP_FUTURE_ASSOC;
	pp.spp_flags = SPP_HB_DEMAND;
	setopt(s, SCTP_PEER_ADDR_PARAMS, &pp, sizeof(pp), "SCTP_PEER_ADDR_PARAMS (HB demand)");

	/* RE-CONFIG (RFC 6525 §5.1.2): reset outgoing stream 1, then add 2 streams. */
	rs = calloc(1, sizeof(*rs) + sizeof(uint16_t));
	if (rs == NULL) {
		die("out of memory");
	}
	rs->srs_assoc_id = SCTP_FUTURE_ASSOC;
	rs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
	rs->srs_number_streams = 1;
	rs->srs_stream_list[0] = 1;
	setopt(s, SCTP_RESET_STREAMS, rs, sizeof(*rs) + sizeof(uint16_t), "SCTP_RESET_STREAMS");
	free(rs);
	wait_flag(&stream_reset_done, "the stream reset to complete");
	memset(&as, 0, sizeof(as));
	as.sas_assoc_id = SCTP_FUTURE_ASSOC;
	as.sas_outstrms = 2;
	setopt(s, SCTP_ADD_STREAMS, &as, sizeof(as), "SCTP_ADD_STREAMS");
	wait_flag(&stream_change_done, "the added streams");
	send_msg(s, 1, PPID_BASE + 7, 120, 0, 0);
	wait_idle(s);

	/* PR-SCTP: this message is sent once and never retransmitted; the script drops
	 * it, so usrsctp abandons it and sends I-FORWARD-TSN (RFC 8260 §2.3). The next
	 * message makes the receiver report the gap. */
	send_msg(s, 2, LOST_PPID, 300, 0, 1);
	send_msg(s, 0, PPID_BASE + 8, 100, 0, 0);
	wait_flag(&send_failed, "the PR-SCTP message to be abandoned");
	wait_idle(s);

	usrsctp_close(s);
	for (tries = 0; usrsctp_finish() != 0; tries++) {
		if (tries > WAIT_MS / 10) {
			die("usrsctp_finish did not complete");
		}
		msleep(10);
	}
	return 0;
}

static int
run_server(const char *bind_addr, uint16_t port)
{
	struct socket *ls, *s;
	struct sockaddr_in local = ipv4(bind_addr, port);
	char buf[65536];
	struct sockaddr_in from;
	socklen_t fromlen, infolen;
	struct sctp_rcvinfo rcv;
	unsigned int infotype;
	int flags;
	ssize_t n;

	ls = usrsctp_socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
	if (ls == NULL) {
		die("usrsctp_socket: %s", strerror(errno));
	}
	configure(ls);
	if (usrsctp_bind(ls, (struct sockaddr *)&local, sizeof(local)) < 0) {
		die("bind %s:%u: %s", bind_addr, port, strerror(errno));
	}
	if (usrsctp_listen(ls, 1) < 0) {
		die("listen: %s", strerror(errno));
	}
	s = usrsctp_accept(ls, NULL, NULL);
	if (s == NULL) {
		die("accept: %s", strerror(errno));
	}
	for (;;) {
		fromlen = sizeof(from);
		infolen = sizeof(rcv);
		infotype = 0;
		flags = 0;
		n = usrsctp_recvv(s, buf, sizeof(buf), (struct sockaddr *)&from, &fromlen, &rcv, &infolen,
		                  &infotype, &flags);
		if (n <= 0) {
			break;
		}
		if (flags & MSG_NOTIFICATION) {
			note((const union sctp_notification *)buf);
		} else if (infotype == SCTP_RECVV_RCVINFO) {
			printf("server: %zd bytes on stream %u, PPID 0x%x%s\n", n, rcv.rcv_sid,
			       (unsigned)ntohl(rcv.rcv_ppid), (flags & MSG_EOR) ? "" : " (partial)");
		}
		fflush(stdout);
	}
	usrsctp_close(s);
	usrsctp_close(ls);
	for (n = 0; usrsctp_finish() != 0; n++) {
		if (n > WAIT_MS / 10) {
			die("usrsctp_finish did not complete");
		}
		msleep(10);
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	usrsctp_init(0, NULL, NULL);
	usrsctp_sysctl_set_sctp_blackhole(2);
	if (argc == 4 && strcmp(argv[1], "server") == 0) {
		rc = run_server(argv[2], (uint16_t)atoi(argv[3]));
	} else if (argc == 5 && strcmp(argv[1], "client") == 0) {
		rc = run_client(argv[2], (uint16_t)atoi(argv[3]), argv[4]);
	} else {
		fprintf(stderr, "usage: %s server BIND_ADDR PORT\n"
		                "       %s client PEER_ADDR PORT LOCAL_PRIMARY_ADDR\n",
		        argv[0], argv[0]);
		return 2;
	}
	return rc;
}
