/*
 * A small usrsctp peer for msctp's interop tests (crates/msctp/tests/usrsctp.rs).
 *
 * The usrsctp example programs bind the wildcard address, do not say when
 * they listen and print no path events; this one binds exactly the
 * addresses it is given (usrsctp_bindx), says `ready` once it listens, and
 * prints every association and peer address notification as one line, so
 * that a test can wait for them.
 *
 *   usrsctp_peer server BIND[,BIND] PORT UDP_PORT MODE
 *       MODE is echo or discard; UDP_PORT 0 = raw IP only, otherwise
 *       usrsctp_init() opens that UDP port (RFC 6951) and answers over UDP.
 *   usrsctp_peer client BIND[,BIND] CONNECT[,CONNECT] PORT UDP_PORT COUNT SIZE GAP_MS
 *       sends COUNT messages of SIZE bytes, each after the echo of the one
 *       before and GAP_MS milliseconds, verifies every echo, then shuts down.
 *       UDP_PORT 0 = raw IP; otherwise usrsctp_init(UDP_PORT) and the
 *       remote encapsulation port is UDP_PORT too.
 *
 * Output, one line each, stdout line-buffered:
 *   ready
 *   assoc_change STATE            (comm_up, comm_lost, restart, shutdown_comp, cant_str_assoc)
 *   peer_addr ADDRESS STATE       (available, unreachable, removed, added, made_prim, confirmed, potentially_failed)
 *   paths ADDRESS=STATE,...       (client: once at comm_up and at the end)
 *   assoc_end messages_in=N bytes_in=B messages_out=N   (server, per association)
 *   result sent=N echoed=N mismatches=N bytes=N          (client, last line)
 *
 * Timing is shortened (RTO.Initial 300 ms, RTO.Min 100 ms, RTO.Max 1 s,
 * HB.interval 1 s) so that path failures show within seconds.
 *
 * Build: cc -O1 -o usrsctp_peer usrsctp_peer.c -lusrsctp -lpthread
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#include <usrsctp.h>

#define MAX_ADDRS 4
#define MAX_MSG (1 << 20)

static void
die(const char *what)
{
	fprintf(stdout, "error %s: %s\n", what, strerror(errno));
	exit(2);
}

static void
debug_printf(const char *format, ...)
{
	(void)format;
}

/* Parses "a,b" into IPv4 or IPv6 socket addresses with `port`. */
static int
parse_addrs(const char *list, uint16_t port, struct sockaddr_storage *out, int *family)
{
	char buf[256];
	char *save = NULL, *tok;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	*family = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL && n < MAX_ADDRS; tok = strtok_r(NULL, ",", &save)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out[n];
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out[n];

		memset(&out[n], 0, sizeof(out[n]));
		if (inet_pton(AF_INET, tok, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons(port);
		} else if (inet_pton(AF_INET6, tok, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(port);
		} else {
			fprintf(stdout, "error bad address %s\n", tok);
			exit(2);
		}
		if (*family == 0) {
			*family = out[n].ss_family;
		} else if (*family != out[n].ss_family) {
			fprintf(stdout, "error mixed address families in %s\n", list);
			exit(2);
		}
		n++;
	}
	return n;
}

/* Packs `n` socket addresses back to back, as bindx/connectx want them. */
static size_t
pack_addrs(const struct sockaddr_storage *in, int n, char *out)
{
	size_t at = 0;
	int i;

	for (i = 0; i < n; i++) {
		size_t len = in[i].ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
		memcpy(out + at, &in[i], len);
		at += len;
	}
	return at;
}

static const char *
addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	if (ss->ss_family == AF_INET) {
		return inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, (socklen_t)len);
	}
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			return inet_ntop(AF_INET, &a->s6_addr[12], buf, (socklen_t)len);
		}
		return inet_ntop(AF_INET6, a, buf, (socklen_t)len);
	}
	snprintf(buf, len, "family-%d", ss->ss_family);
	return buf;
}

static const char *
assoc_state(uint16_t s)
{
	switch (s) {
	case SCTP_COMM_UP: return "comm_up";
	case SCTP_COMM_LOST: return "comm_lost";
	case SCTP_RESTART: return "restart";
	case SCTP_SHUTDOWN_COMP: return "shutdown_comp";
	case SCTP_CANT_STR_ASSOC: return "cant_str_assoc";
	default: return "unknown";
	}
}

static const char *
addr_state(uint32_t s)
{
	switch (s) {
	case SCTP_ADDR_AVAILABLE: return "available";
	case SCTP_ADDR_UNREACHABLE: return "unreachable";
	case SCTP_ADDR_REMOVED: return "removed";
	case SCTP_ADDR_ADDED: return "added";
	case SCTP_ADDR_MADE_PRIM: return "made_prim";
	case SCTP_ADDR_CONFIRMED: return "confirmed";
	case 0x0007: return "potentially_failed";
	default: return "unknown";
	}
}

/* Prints a notification; returns its association state change, or 0. */
static uint16_t
notification(const union sctp_notification *n)
{
	char buf[INET6_ADDRSTRLEN];

	switch (n->sn_header.sn_type) {
	case SCTP_ASSOC_CHANGE:
		printf("assoc_change %s\n", assoc_state(n->sn_assoc_change.sac_state));
		return n->sn_assoc_change.sac_state;
	case SCTP_PEER_ADDR_CHANGE:
		printf("peer_addr %s %s\n",
		       addr_text(&n->sn_paddr_change.spc_aaddr, buf, sizeof(buf)),
		       addr_state(n->sn_paddr_change.spc_state));
		return 0;
	case SCTP_SHUTDOWN_EVENT:
		printf("shutdown_event\n");
		return 0;
	default:
		return 0;
	}
}

static void
setup(uint16_t udp_port)
{
	usrsctp_init(udp_port, NULL, debug_printf);
	usrsctp_sysctl_set_sctp_blackhole(2);
	usrsctp_sysctl_set_sctp_rto_initial_default(300);
	usrsctp_sysctl_set_sctp_rto_min_default(100);
	usrsctp_sysctl_set_sctp_rto_max_default(1000);
	usrsctp_sysctl_set_sctp_init_rto_max_default(1000);
	usrsctp_sysctl_set_sctp_heartbeat_interval_default(1000);
}

static void
subscribe(struct socket *sock)
{
	uint16_t types[] = {SCTP_ASSOC_CHANGE, SCTP_PEER_ADDR_CHANGE, SCTP_SHUTDOWN_EVENT};
	struct sctp_event ev;
	const int on = 1;
	unsigned int i;

	memset(&ev, 0, sizeof(ev));
	ev.se_assoc_id = SCTP_ALL_ASSOC;
	ev.se_on = 1;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		ev.se_type = types[i];
		if (usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof(ev)) < 0) {
			die("SCTP_EVENT");
		}
	}
	if (usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof(on)) < 0) {
		die("SCTP_RECVRCVINFO");
	}
	/* No Nagle: an echo leaves at once, not when the previous one is acked. */
	if (usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof(on)) < 0) {
		die("SCTP_NODELAY");
	}
}

static void
bind_all(struct socket *sock, const char *list, uint16_t port, int *family)
{
	struct sockaddr_storage addrs[MAX_ADDRS];
	char packed[MAX_ADDRS * sizeof(struct sockaddr_in6)];
	int n = parse_addrs(list, port, addrs, family);

	pack_addrs(addrs, n, packed);
	if (usrsctp_bindx(sock, (struct sockaddr *)packed, n, SCTP_BINDX_ADD_ADDR) < 0) {
		die("usrsctp_bindx");
	}
}

static struct socket *
new_socket(const char *bind_list, int type)
{
	struct sockaddr_storage tmp[MAX_ADDRS];
	int family;
	struct socket *sock;

	parse_addrs(bind_list, 0, tmp, &family);
	sock = usrsctp_socket(family, type, IPPROTO_SCTP, NULL, NULL, 0, NULL);
	if (sock == NULL) {
		die("usrsctp_socket");
	}
	return sock;
}

static int
server(const char *bind_list, uint16_t port, uint16_t udp_port, const char *mode)
{
	static char buf[MAX_MSG];
	struct socket *sock;
	int family, echo = strcmp(mode, "echo") == 0;
	unsigned long long in = 0, bytes = 0, out = 0;

	setup(udp_port);
	sock = new_socket(bind_list, SOCK_SEQPACKET);
	subscribe(sock);
	bind_all(sock, bind_list, port, &family);
	if (usrsctp_listen(sock, 1) < 0) {
		die("usrsctp_listen");
	}
	printf("ready\n");
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		struct sctp_rcvinfo rcv;
		socklen_t infolen = sizeof(rcv);
		unsigned int infotype = 0;
		int flags = 0;
		ssize_t n;

		memset(&rcv, 0, sizeof(rcv));
		n = usrsctp_recvv(sock, buf, sizeof(buf), (struct sockaddr *)&from, &fromlen,
		                  &rcv, &infolen, &infotype, &flags);
		if (n <= 0) {
			if (n < 0 && errno == EINTR) {
				continue;
			}
			break;
		}
		if (flags & MSG_NOTIFICATION) {
			uint16_t s = notification((const union sctp_notification *)buf);
			if (s == SCTP_SHUTDOWN_COMP || s == SCTP_COMM_LOST) {
				printf("assoc_end messages_in=%llu bytes_in=%llu messages_out=%llu\n", in, bytes, out);
				in = bytes = out = 0;
			}
			continue;
		}
		if (!(flags & MSG_EOR)) {
			printf("error message larger than %d bytes\n", MAX_MSG);
			continue;
		}
		in++;
		bytes += (unsigned long long)n;
		if (echo) {
			struct sctp_sndinfo snd;

			memset(&snd, 0, sizeof(snd));
			snd.snd_sid = rcv.rcv_sid;
			snd.snd_ppid = rcv.rcv_ppid;
			snd.snd_assoc_id = rcv.rcv_assoc_id;
			if (rcv.rcv_flags & SCTP_UNORDERED) {
				snd.snd_flags |= SCTP_UNORDERED;
			}
			if (usrsctp_sendv(sock, buf, (size_t)n, NULL, 0, &snd, sizeof(snd), SCTP_SENDV_SNDINFO, 0) < 0) {
				printf("error sendv: %s\n", strerror(errno));
			} else {
				out++;
			}
		}
	}
	usrsctp_close(sock);
	return 0;
}

static void
print_paths(struct socket *sock)
{
	struct sockaddr *addrs;
	char buf[INET6_ADDRSTRLEN];
	int n, i;
	size_t at = 0;

	n = usrsctp_getpaddrs(sock, 0, &addrs);
	if (n < 0) {
		printf("paths none\n");
		return;
	}
	printf("paths");
	for (i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		struct sctp_paddrinfo info;
		socklen_t len = sizeof(info);
		struct sockaddr *a = (struct sockaddr *)((char *)addrs + at);
		size_t alen = a->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);

		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, a, alen);
		memset(&info, 0, sizeof(info));
		memcpy(&info.spinfo_address, a, alen);
		info.spinfo_assoc_id = 0;
		if (usrsctp_getsockopt(sock, IPPROTO_SCTP, SCTP_GET_PEER_ADDR_INFO, &info, &len) == 0) {
			printf("%s%s=%d", i ? "," : " ", addr_text(&ss, buf, sizeof(buf)), info.spinfo_state);
		} else {
			printf("%s%s=?", i ? "," : " ", addr_text(&ss, buf, sizeof(buf)));
		}
		at += alen;
	}
	printf("\n");
	usrsctp_freepaddrs(addrs);
}

/* Byte `j` of message `i`: changes with both, so a stale echo is caught. */
static unsigned char
pattern(unsigned long long i, size_t j)
{
	uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull + j * 0xBF58476D1CE4E5B9ull;
	x ^= x >> 29;
	return (unsigned char)(x ^ (x >> 8));
}

/* Waits for the next user message (notifications printed on the way). */
static ssize_t
recv_message(struct socket *sock, char *buf, size_t len, uint16_t *state)
{
	for (;;) {
		struct sctp_rcvinfo rcv;
		socklen_t infolen = sizeof(rcv);
		unsigned int infotype = 0;
		int flags = 0;
		ssize_t n = usrsctp_recvv(sock, buf, len, NULL, NULL, &rcv, &infolen, &infotype, &flags);

		if (n <= 0) {
			return n;
		}
		if (flags & MSG_NOTIFICATION) {
			uint16_t s = notification((const union sctp_notification *)buf);
			if (s != 0) {
				*state = s;
				if (s != SCTP_COMM_UP && s != SCTP_RESTART) {
					return 0;
				}
			}
			if (s == SCTP_COMM_UP) {
				return -2;
			}
			continue;
		}
		return n;
	}
}

static int
client(const char *bind_list, const char *connect_list, uint16_t port, uint16_t udp_port,
       unsigned long long count, size_t size, unsigned int gap_ms)
{
	static char out[MAX_MSG], in[MAX_MSG];
	struct sockaddr_storage peers[MAX_ADDRS];
	char packed[MAX_ADDRS * sizeof(struct sockaddr_in6)];
	struct socket *sock;
	int family, pfamily, n;
	uint16_t state = 0;
	unsigned long long i, echoed = 0, mismatches = 0, bytes = 0;
	ssize_t got;

	if (size == 0 || size > MAX_MSG) {
		printf("error size\n");
		return 2;
	}
	setup(udp_port);
	sock = new_socket(bind_list, SOCK_STREAM);
	subscribe(sock);
	bind_all(sock, bind_list, 0, &family);
	if (udp_port != 0) {
		struct sctp_udpencaps encaps;

		memset(&encaps, 0, sizeof(encaps));
		encaps.sue_address.ss_family = (sa_family_t)family;
		encaps.sue_port = htons(udp_port);
		if (usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &encaps, sizeof(encaps)) < 0) {
			die("SCTP_REMOTE_UDP_ENCAPS_PORT");
		}
	}
	n = parse_addrs(connect_list, port, peers, &pfamily);
	pack_addrs(peers, n, packed);
	if (usrsctp_connectx(sock, (struct sockaddr *)packed, n, NULL) < 0) {
		die("usrsctp_connectx");
	}
	/* Up: the COMM_UP notification. */
	got = recv_message(sock, in, sizeof(in), &state);
	if (got != -2) {
		printf("result sent=0 echoed=0 mismatches=0 bytes=0 state=%s\n", assoc_state(state));
		return 1;
	}
	print_paths(sock);
	for (i = 0; i < count; i++) {
		size_t j;

		for (j = 0; j < size; j++) {
			out[j] = (char)pattern(i, j);
		}
		if (usrsctp_sendv(sock, out, size, NULL, 0, NULL, 0, SCTP_SENDV_NOINFO, 0) < 0) {
			printf("error sendv: %s\n", strerror(errno));
			break;
		}
		bytes += size;
		got = recv_message(sock, in, sizeof(in), &state);
		if (got <= 0) {
			break;
		}
		echoed++;
		if ((size_t)got != size || memcmp(in, out, size) != 0) {
			mismatches++;
		}
		if (gap_ms) {
			usleep(gap_ms * 1000);
		}
	}
	print_paths(sock);
	usrsctp_shutdown(sock, SHUT_WR);
	while (state != SCTP_SHUTDOWN_COMP && state != SCTP_COMM_LOST) {
		got = recv_message(sock, in, sizeof(in), &state);
		if (got < 0 && got != -2) {
			break;
		}
	}
	printf("result sent=%llu echoed=%llu mismatches=%llu bytes=%llu state=%s\n", i, echoed, mismatches,
	       bytes, assoc_state(state));
	usrsctp_close(sock);
	return (echoed == count && mismatches == 0) ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 6 && strcmp(argv[1], "server") == 0) {
		return server(argv[2], (uint16_t)atoi(argv[3]), (uint16_t)atoi(argv[4]), argv[5]);
	}
	if (argc == 9 && strcmp(argv[1], "client") == 0) {
		return client(argv[2], argv[3], (uint16_t)atoi(argv[4]), (uint16_t)atoi(argv[5]),
		              strtoull(argv[6], NULL, 10), (size_t)strtoul(argv[7], NULL, 10),
		              (unsigned int)atoi(argv[8]));
	}
	fprintf(stderr,
	        "usage: %s server BIND[,BIND] PORT UDP_PORT echo|discard\n"
	        "       %s client BIND[,BIND] CONNECT[,CONNECT] PORT UDP_PORT COUNT SIZE GAP_MS\n",
	        argv[0], argv[0]);
	return 2;
}
