/*
 * A DTLS 1.2 PSK peer for dicetest over Mbed TLS 2.28 (Debian libmbedtls-dev).
 *
 *   mbedtls-peer server --port P --pskfile FILE [--debug N]
 *   mbedtls-peer client --connect HOST:PORT --pskfile FILE --send TEXT [--debug N]
 *   mbedtls-peer version
 *
 * FILE holds one line "identity:hexkey" (dicetest's {pskfile}), so the key never shows in
 * a process listing.
 *
 * The server binds 127.0.0.1:P and serves any number of associations at once from one
 * socket: every datagram goes to the association of its source address (RFC 6347 §4.2.8:
 * an association is identified by the peer's address and port). A ClientHello from an
 * unknown address gets a fresh context; when Mbed TLS answers it with a
 * HelloVerifyRequest the context is dropped again, so no state is kept for a client that
 * has not shown it is reachable (RFC 6347 §4.2.1). Established associations echo every
 * application record back, answer close_notify with close_notify, and the server runs
 * until killed. Everything else is Mbed TLS's default behaviour: cookies with its own
 * mbedtls_ssl_cookie module (the server's default is to require them), retransmission
 * timers 1 s .. 60 s (MBEDTLS_SSL_DTLS_TIMEOUT_DFL_MIN/MAX), a session cache for
 * resumption, renegotiation refused, no PSK identity hint (Mbed TLS sends no
 * ServerKeyExchange for plain PSK).
 *
 * The client connects, completes the handshake, sends TEXT, prints what comes back and
 * closes with close_notify.
 *
 * stdout carries the lines a caller may parse: "READY <port>", "HANDSHAKE OK <suite>",
 * "RECV <text>", "FAIL <why>". Diagnostics go to stderr.
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/debug.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_cookie.h>
#include <mbedtls/version.h>

/* The suites dicetest knows, RFC 7925's mandatory one first. */
static const int SUITES[] = {
    MBEDTLS_TLS_PSK_WITH_AES_128_CCM_8,
    MBEDTLS_TLS_PSK_WITH_AES_128_CCM,
    MBEDTLS_TLS_PSK_WITH_AES_128_CBC_SHA256,
    0,
};

#define MAX_ASSOC 64
#define DGRAM_MAX (16384 + 1024)

static void die(const char *why)
{
    printf("FAIL %s\n", why);
    fflush(stdout);
    fprintf(stderr, "ERROR %s\n", why);
    exit(1);
}

static void say_err(const char *what, int ret)
{
    char buf[160];
    mbedtls_strerror(ret, buf, sizeof buf);
    fprintf(stderr, "%s: -0x%04x %s\n", what, (unsigned)-ret, buf);
}

static void debug_cb(void *ctx, int level, const char *file, int line, const char *msg)
{
    (void)ctx;
    const char *base = strrchr(file, '/');
    fprintf(stderr, "mbedtls[%d] %s:%d: %s", level, base ? base + 1 : file, line, msg);
}

/* ------------------------------------------------------------------ credentials */

static unsigned char psk[64];
static size_t psk_len;
static char identity[256];

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* "identity:hexkey" on the first line of the file. */
static void load_pskfile(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) die("cannot open the PSK file");
    char line[1024];
    if (!fgets(line, sizeof line, f)) die("empty PSK file");
    fclose(f);
    line[strcspn(line, "\r\n")] = 0;
    char *colon = strrchr(line, ':');
    if (!colon || (size_t)(colon - line) >= sizeof identity) die("PSK file: want identity:hexkey");
    *colon = 0;
    strcpy(identity, line);
    const char *hex = colon + 1;
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > sizeof psk || n == 0) die("PSK file: bad key length");
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) die("PSK file: key is not hex");
        psk[i] = (unsigned char)(hi << 4 | lo);
    }
    psk_len = n / 2;
    memset(line, 0, sizeof line);
}

/* ------------------------------------------------------------------ timers */

/* The pair of delays Mbed TLS asks for (mbedtls_ssl_set_timer_t): the handshake is
 * resumed when the final one has passed, which is when it retransmits (RFC 6347 §4.2.4). */
struct timer {
    uint64_t start_ms;
    uint32_t int_ms, fin_ms; /* fin_ms == 0: cancelled */
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
    struct timer *t = ctx;
    t->start_ms = now_ms();
    t->int_ms = int_ms;
    t->fin_ms = fin_ms;
}

static int timer_get(void *ctx)
{
    struct timer *t = ctx;
    if (t->fin_ms == 0) return -1;
    uint64_t gone = now_ms() - t->start_ms;
    if (gone >= t->fin_ms) return 2;
    if (gone >= t->int_ms) return 1;
    return 0;
}

/* Milliseconds until the final delay passes; -1 when no timer runs. */
static long timer_left(const struct timer *t)
{
    if (t->fin_ms == 0) return -1;
    uint64_t gone = now_ms() - t->start_ms;
    return gone >= t->fin_ms ? 0 : (long)(t->fin_ms - gone);
}

/* ------------------------------------------------------------------ common setup */

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static mbedtls_ssl_config conf;

static void common_setup(int endpoint, int debug)
{
    int ret;
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ssl_config_init(&conf);
    if ((ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                     (const unsigned char *)"dicetest-mbedtls-peer", 21)) != 0) {
        say_err("ctr_drbg_seed", ret);
        die("cannot seed the random generator");
    }
    if ((ret = mbedtls_ssl_config_defaults(&conf, endpoint, MBEDTLS_SSL_TRANSPORT_DATAGRAM,
                                           MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
        say_err("ssl_config_defaults", ret);
        die("cannot configure Mbed TLS");
    }
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    /* DTLS 1.2 only: the version RFC 7925 profiles. */
    mbedtls_ssl_conf_min_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(&conf, SUITES);
    if ((ret = mbedtls_ssl_conf_psk(&conf, psk, psk_len, (const unsigned char *)identity,
                                    strlen(identity))) != 0) {
        say_err("ssl_conf_psk", ret);
        die("cannot set the PSK");
    }
    if (debug > 0) {
        mbedtls_ssl_conf_dbg(&conf, debug_cb, NULL);
        mbedtls_debug_set_threshold(debug);
    }
}

/* ------------------------------------------------------------------ server */

struct assoc {
    int used;
    int established;
    struct sockaddr_in peer;
    uint64_t last_active;
    mbedtls_ssl_context ssl;
    struct timer timer;
    /* The datagram being fed to this association, consumed by one recv. */
    const unsigned char *pending;
    size_t pending_len;
};

static struct assoc assocs[MAX_ASSOC];
static int server_fd = -1;

static const char *peer_name(const struct sockaddr_in *a)
{
    static char buf[64];
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    snprintf(buf, sizeof buf, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
    return buf;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct assoc *a = ctx;
    ssize_t n = sendto(server_fd, buf, len, 0, (const struct sockaddr *)&a->peer, sizeof a->peer);
    if (n < 0) return errno == EAGAIN ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_NET_SEND_FAILED;
    return (int)n;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct assoc *a = ctx;
    if (!a->pending) return MBEDTLS_ERR_SSL_WANT_READ;
    /* One datagram per read; what does not fit is cut off, as recv() would. */
    size_t n = a->pending_len < len ? a->pending_len : len;
    memcpy(buf, a->pending, n);
    a->pending = NULL;
    a->pending_len = 0;
    return (int)n;
}

static void assoc_free(struct assoc *a, const char *why)
{
    if (why) fprintf(stderr, "SESSION END %s: %s\n", peer_name(&a->peer), why);
    mbedtls_ssl_free(&a->ssl);
    memset(a, 0, sizeof *a);
}

static struct assoc *assoc_new(const struct sockaddr_in *from)
{
    struct assoc *a = NULL, *oldest = NULL;
    for (int i = 0; i < MAX_ASSOC; i++) {
        if (!assocs[i].used) { a = &assocs[i]; break; }
        if (!oldest || assocs[i].last_active < oldest->last_active) oldest = &assocs[i];
    }
    if (!a) {
        assoc_free(oldest, "evicted (table full)");
        a = oldest;
    }
    memset(a, 0, sizeof *a);
    a->used = 1;
    a->peer = *from;
    mbedtls_ssl_init(&a->ssl);
    int ret = mbedtls_ssl_setup(&a->ssl, &conf);
    if (ret != 0) {
        say_err("ssl_setup", ret);
        mbedtls_ssl_free(&a->ssl);
        memset(a, 0, sizeof *a);
        return NULL;
    }
    mbedtls_ssl_set_bio(&a->ssl, a, bio_send, bio_recv, NULL);
    mbedtls_ssl_set_timer_cb(&a->ssl, &a->timer, timer_set, timer_get);
    /* What the cookie is bound to: the client's address and port, the transport
     * identity RFC 6347 §4.2.1 has the cookie prove (Mbed TLS's own server programs pass
     * the address alone, as mbedtls_net_accept() returns it: a choice of the program,
     * not of the library). */
    unsigned char id[sizeof from->sin_addr + sizeof from->sin_port];
    memcpy(id, &from->sin_addr, sizeof from->sin_addr);
    memcpy(id + sizeof from->sin_addr, &from->sin_port, sizeof from->sin_port);
    mbedtls_ssl_set_client_transport_id(&a->ssl, id, sizeof id);
    return a;
}

static struct assoc *assoc_find(const struct sockaddr_in *from)
{
    for (int i = 0; i < MAX_ASSOC; i++) {
        struct assoc *a = &assocs[i];
        if (a->used && a->peer.sin_port == from->sin_port
            && a->peer.sin_addr.s_addr == from->sin_addr.s_addr)
            return a;
    }
    return NULL;
}

/* Runs the association until Mbed TLS wants more input (or a timer). */
static void assoc_drive(struct assoc *a)
{
    static unsigned char app[DGRAM_MAX];
    int ret;
    a->last_active = now_ms();
    for (;;) {
        if (!a->established) {
            ret = mbedtls_ssl_handshake(&a->ssl);
            if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) break;
            if (ret == MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED) {
                /* Stateless until the client returns the cookie (RFC 6347 §4.2.1). */
                assoc_free(a, NULL);
                return;
            }
            if (ret != 0) {
                say_err("handshake", ret);
                assoc_free(a, "handshake failed");
                return;
            }
            a->established = 1;
            fprintf(stderr, "HANDSHAKE OK %s %s\n", peer_name(&a->peer),
                    mbedtls_ssl_get_ciphersuite(&a->ssl));
        }
        ret = mbedtls_ssl_read(&a->ssl, app, sizeof app);
        if (ret > 0) {
            int len = ret, off = 0;
            while (off < len) {
                int w = mbedtls_ssl_write(&a->ssl, app + off, (size_t)(len - off));
                if (w == MBEDTLS_ERR_SSL_WANT_WRITE || w == MBEDTLS_ERR_SSL_WANT_READ) continue;
                if (w < 0) {
                    say_err("write", w);
                    assoc_free(a, "write failed");
                    return;
                }
                off += w;
            }
            continue;
        }
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) break;
        if (ret == MBEDTLS_ERR_SSL_CLIENT_RECONNECT) {
            /* A new ClientHello from the same address and port with a valid cookie
             * (RFC 6347 §4.2.8): Mbed TLS has reset the context; a new association. */
            fprintf(stderr, "SESSION END %s: new handshake from the same port\n",
                    peer_name(&a->peer));
            a->established = 0;
            continue;
        }
        if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
            mbedtls_ssl_close_notify(&a->ssl);
            assoc_free(a, "closed by peer");
            return;
        }
        if (ret == 0) {
            assoc_free(a, "transport closed");
            return;
        }
        say_err("read", ret);
        assoc_free(a, "read failed");
        return;
    }
    a->pending = NULL;
    a->pending_len = 0;
}

static int run_server(int port, int debug)
{
    common_setup(MBEDTLS_SSL_IS_SERVER, debug);
    static mbedtls_ssl_cookie_ctx cookie;
    static mbedtls_ssl_cache_context cache;
    mbedtls_ssl_cookie_init(&cookie);
    int ret = mbedtls_ssl_cookie_setup(&cookie, mbedtls_ctr_drbg_random, &drbg);
    if (ret != 0) {
        say_err("ssl_cookie_setup", ret);
        die("cannot set up cookies");
    }
    mbedtls_ssl_conf_dtls_cookies(&conf, mbedtls_ssl_cookie_write, mbedtls_ssl_cookie_check,
                                  &cookie);
    mbedtls_ssl_cache_init(&cache);
    mbedtls_ssl_conf_session_cache(&conf, &cache, mbedtls_ssl_cache_get, mbedtls_ssl_cache_set);

    server_fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (server_fd < 0) die("socket");
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(server_fd, (struct sockaddr *)&addr, sizeof addr) != 0) die("cannot bind the port");
    printf("READY %d\n", port);
    fflush(stdout);

    static unsigned char dgram[DGRAM_MAX];
    for (;;) {
        long wait = -1;
        for (int i = 0; i < MAX_ASSOC; i++) {
            if (!assocs[i].used) continue;
            long left = timer_left(&assocs[i].timer);
            if (left >= 0 && (wait < 0 || left < wait)) wait = left;
        }
        struct pollfd p = {.fd = server_fd, .events = POLLIN};
        int r = poll(&p, 1, (int)wait);
        if (r < 0 && errno != EINTR) die("poll");
        if (r > 0 && (p.revents & POLLIN)) {
            struct sockaddr_in from;
            socklen_t flen = sizeof from;
            ssize_t n = recvfrom(server_fd, dgram, sizeof dgram, 0, (struct sockaddr *)&from, &flen);
            if (n >= 0 && flen == sizeof from) {
                struct assoc *a = assoc_find(&from);
                if (!a) a = assoc_new(&from);
                if (a) {
                    a->pending = dgram;
                    a->pending_len = (size_t)n;
                    assoc_drive(a);
                }
            }
        }
        /* Timers that ran out: Mbed TLS retransmits or gives up inside these calls. */
        for (int i = 0; i < MAX_ASSOC; i++) {
            if (assocs[i].used && timer_get(&assocs[i].timer) == 2) assoc_drive(&assocs[i]);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ client */

static int run_client(const char *hostport, const char *text, int debug)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= sizeof host) die("--connect wants HOST:PORT");
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = 0;

    common_setup(MBEDTLS_SSL_IS_CLIENT, debug);
    /* How long to wait for the echo once connected. */
    mbedtls_ssl_conf_read_timeout(&conf, 10000);

    mbedtls_net_context net;
    mbedtls_net_init(&net);
    int ret = mbedtls_net_connect(&net, host, colon + 1, MBEDTLS_NET_PROTO_UDP);
    if (ret != 0) {
        say_err("net_connect", ret);
        die("cannot connect");
    }
    mbedtls_ssl_context ssl;
    struct timer timer = {0};
    mbedtls_ssl_init(&ssl);
    if ((ret = mbedtls_ssl_setup(&ssl, &conf)) != 0) {
        say_err("ssl_setup", ret);
        die("ssl_setup");
    }
    mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, mbedtls_net_recv, mbedtls_net_recv_timeout);
    mbedtls_ssl_set_timer_cb(&ssl, &timer, timer_set, timer_get);
    do {
        ret = mbedtls_ssl_handshake(&ssl);
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    if (ret != 0) {
        say_err("handshake", ret);
        printf("FAIL handshake\n");
        fflush(stdout);
        return 1;
    }
    printf("HANDSHAKE OK %s\n", mbedtls_ssl_get_ciphersuite(&ssl));
    fflush(stdout);

    size_t len = strlen(text), off = 0;
    while (off < len) {
        ret = mbedtls_ssl_write(&ssl, (const unsigned char *)text + off, len - off);
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
        if (ret < 0) {
            say_err("write", ret);
            printf("FAIL application data\n");
            fflush(stdout);
            return 1;
        }
        off += (size_t)ret;
    }
    unsigned char buf[DGRAM_MAX];
    int status = 0;
    do {
        ret = mbedtls_ssl_read(&ssl, buf, sizeof buf - 1);
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    if (ret > 0) {
        buf[ret] = 0;
        printf("RECV %s\n", (char *)buf);
    } else if (ret == MBEDTLS_ERR_SSL_TIMEOUT) {
        printf("FAIL no reply within 10000 ms\n");
        status = 1;
    } else {
        say_err("read", ret);
        printf("FAIL application data\n");
        status = 1;
    }
    fflush(stdout);
    mbedtls_ssl_close_notify(&ssl);
    mbedtls_ssl_free(&ssl);
    mbedtls_net_free(&net);
    return status;
}

/* ------------------------------------------------------------------ main */

static void usage(const char *why)
{
    fprintf(stderr, "usage error: %s\n"
                    "  mbedtls-peer server --port P --pskfile FILE [--debug N]\n"
                    "  mbedtls-peer client --connect HOST:PORT --pskfile FILE --send TEXT [--debug N]\n",
            why);
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2) usage("no mode");
    if (!strcmp(argv[1], "version")) {
        char v[32];
        mbedtls_version_get_string(v);
        printf("Mbed TLS %s\n", v);
        return 0;
    }
    const char *mode = argv[1], *pskfile = NULL, *connect_to = NULL, *text = "hello";
    int port = -1, debug = 0;
    for (int i = 2; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc) usage("option without a value");
        const char *val = argv[++i];
        if (!strcmp(opt, "--port")) port = atoi(val);
        else if (!strcmp(opt, "--pskfile")) pskfile = val;
        else if (!strcmp(opt, "--connect")) connect_to = val;
        else if (!strcmp(opt, "--send")) text = val;
        else if (!strcmp(opt, "--debug")) debug = atoi(val);
        else usage("unknown option");
    }
    if (!pskfile) usage("--pskfile is required");
    load_pskfile(pskfile);
    if (!strcmp(mode, "server")) {
        if (port <= 0 || port > 65535) usage("--port is required");
        return run_server(port, debug);
    }
    if (!strcmp(mode, "client")) {
        if (!connect_to) usage("--connect is required");
        return run_client(connect_to, text, debug);
    }
    usage("mode is server or client");
    return 2;
}
