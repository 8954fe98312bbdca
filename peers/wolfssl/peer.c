/*
 * A DTLS 1.2 PSK peer for dicetest over wolfSSL 5.9 (static library built by build.sh).
 * wolfSSL is GPL: this program runs as a separate process, never linked into dicetest.
 *
 *   wolfssl-peer server --port P --pskfile FILE [--hint TEXT]
 *   wolfssl-peer client --connect HOST:PORT --pskfile FILE --send TEXT
 *   wolfssl-peer version
 *
 * FILE holds one line "identity:hexkey" (dicetest's {pskfile}), so the key never shows in
 * a process listing.
 *
 * The server binds 127.0.0.1:P and serves any number of associations at once from one
 * socket: every datagram goes to the association of its source address and port
 * (RFC 6347 §4.2.8). A datagram from an unknown address gets a fresh WOLFSSL object; if
 * after it the object is still stateless (wolfSSL answered a ClientHello without a valid
 * cookie with a HelloVerifyRequest, or ignored the datagram) it is dropped again, so no
 * state is kept for a client that has not shown it is reachable (RFC 6347 §4.2.1). All
 * objects share one cookie secret, so the object that receives the cookie can check it.
 * Established associations echo every application record back and answer close_notify
 * with close_notify; the server runs until killed. Everything else is wolfSSL's default:
 * HelloVerifyRequest always (its DTLS 1.2 server's default), retransmission timer 1 s
 * doubling to 64 s (DTLS_TIMEOUT_INIT / DTLS_TIMEOUT_MAX in wolfssl/internal.h), driven
 * the way wolfSSL documents for non-blocking use (wolfSSL_dtls_got_timeout()), its
 * internal session cache for resumption. --hint sets a PSK identity hint, as wolfSSL's
 * own example server does by default ("cyassl server"); without it none is sent.
 *
 * The client connects, completes the handshake, sends TEXT, prints what comes back and
 * closes with close_notify.
 *
 * stdout carries the lines a caller may parse: "READY <port>", "HANDSHAKE OK <suite>",
 * "RECV <text>", "FAIL <why>". Diagnostics go to stderr.
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/random.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The suites dicetest knows, RFC 7925's mandatory one first. */
static const char SUITES[] = "PSK-AES128-CCM-8:PSK-AES128-CCM:PSK-AES128-CBC-SHA256";

#define MAX_ASSOC 64
#define DGRAM_MAX (16384 + 1024)

static void die(const char *why)
{
    printf("FAIL %s\n", why);
    fflush(stdout);
    fprintf(stderr, "ERROR %s\n", why);
    exit(1);
}

static void say_err(const char *what, WOLFSSL *ssl, int ret)
{
    char buf[WOLFSSL_MAX_ERROR_SZ];
    int err = wolfSSL_get_error(ssl, ret);
    wolfSSL_ERR_error_string_n((unsigned long)err, buf, sizeof buf);
    fprintf(stderr, "%s: %d %s\n", what, err, buf);
}

/* ------------------------------------------------------------------ credentials */

static unsigned char psk[64];
static unsigned int psk_len;
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
    psk_len = (unsigned int)(n / 2);
    memset(line, 0, sizeof line);
}

/* The server knows one identity; any other is unknown (0: no key). */
static unsigned int psk_server_cb(WOLFSSL *ssl, const char *id, unsigned char *key,
                                  unsigned int key_max)
{
    (void)ssl;
    if (!id || strcmp(id, identity) != 0 || psk_len > key_max) {
        fprintf(stderr, "unknown PSK identity\n");
        return 0;
    }
    memcpy(key, psk, psk_len);
    return psk_len;
}

static unsigned int psk_client_cb(WOLFSSL *ssl, const char *hint, char *id, unsigned int id_max,
                                  unsigned char *key, unsigned int key_max)
{
    (void)ssl;
    if (hint && hint[0]) fprintf(stderr, "server identity hint: %s\n", hint);
    if (strlen(identity) + 1 > id_max || psk_len > key_max) return 0;
    strcpy(id, identity);
    memcpy(key, psk, psk_len);
    return psk_len;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ server */

struct assoc {
    int used;
    int established;
    struct sockaddr_in peer;
    uint64_t last_active;
    WOLFSSL *ssl;
    /* Retransmission deadline (0: none). The timer starts when a flight goes out
     * (RFC 6347 §4.2.4); junk received meanwhile does not postpone it. */
    uint64_t deadline_ms;
    int sent; /* something went out during the current drive */
    /* The datagram being fed to this association, consumed by one recv. */
    const unsigned char *pending;
    size_t pending_len;
};

static struct assoc assocs[MAX_ASSOC];
static int server_fd = -1;
static unsigned char cookie_secret[32];

static const char *peer_name(const struct sockaddr_in *a)
{
    static char buf[64];
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    snprintf(buf, sizeof buf, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
    return buf;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    (void)ssl;
    struct assoc *a = ctx;
    ssize_t n = sendto(server_fd, buf, (size_t)sz, 0, (const struct sockaddr *)&a->peer,
                       sizeof a->peer);
    if (n < 0) return errno == EAGAIN ? WOLFSSL_CBIO_ERR_WANT_WRITE : WOLFSSL_CBIO_ERR_GENERAL;
    a->sent = 1;
    return (int)n;
}

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    (void)ssl;
    struct assoc *a = ctx;
    if (!a->pending) return WOLFSSL_CBIO_ERR_WANT_READ;
    /* One datagram per read; what does not fit is cut off, as recv() would. */
    size_t n = a->pending_len < (size_t)sz ? a->pending_len : (size_t)sz;
    memcpy(buf, a->pending, n);
    a->pending = NULL;
    a->pending_len = 0;
    return (int)n;
}

static void assoc_free(struct assoc *a, const char *why)
{
    if (why) fprintf(stderr, "SESSION END %s: %s\n", peer_name(&a->peer), why);
    if (a->ssl) wolfSSL_free(a->ssl);
    memset(a, 0, sizeof *a);
}

static struct assoc *assoc_new(WOLFSSL_CTX *ctx, const struct sockaddr_in *from)
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
    a->peer = *from;
    a->ssl = wolfSSL_new(ctx);
    if (!a->ssl) {
        fprintf(stderr, "wolfSSL_new failed\n");
        return NULL;
    }
    a->used = 1;
    wolfSSL_SetIOReadCtx(a->ssl, a);
    wolfSSL_SetIOWriteCtx(a->ssl, a);
    wolfSSL_dtls_set_using_nonblock(a->ssl, 1);
    /* The cookie is an HMAC over the peer address wolfSSL is told here (and the
     * ClientHello); the secret is shared by every object of this server. */
    wolfSSL_dtls_set_peer(a->ssl, &a->peer, sizeof a->peer);
    wolfSSL_DTLS_SetCookieSecret(a->ssl, cookie_secret, sizeof cookie_secret);
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

/* Runs the association until wolfSSL wants more input. `timeout`: the retransmission
 * timer ran out instead of a datagram arriving. */
static void assoc_drive(struct assoc *a, int timeout)
{
    static unsigned char app[DGRAM_MAX];
    int ret;
    a->last_active = now_ms();
    a->sent = 0;
    if (timeout) {
        if (wolfSSL_dtls_got_timeout(a->ssl) != WOLFSSL_SUCCESS) {
            assoc_free(a, "handshake timed out");
            return;
        }
        a->deadline_ms = now_ms() + 1000u * (uint64_t)wolfSSL_dtls_get_current_timeout(a->ssl);
        return;
    }
    for (;;) {
        if (!a->established) {
            ret = wolfSSL_accept(a->ssl);
            if (ret != WOLFSSL_SUCCESS) {
                int err = wolfSSL_get_error(a->ssl, ret);
                if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) {
                    if (!wolfSSL_is_stateful(a->ssl)) {
                        /* Stateless until the client returns the cookie (§4.2.1). */
                        assoc_free(a, NULL);
                        return;
                    }
                    if (a->sent || a->deadline_ms == 0)
                        a->deadline_ms = now_ms()
                            + 1000u * (uint64_t)wolfSSL_dtls_get_current_timeout(a->ssl);
                    break;
                }
                say_err("accept", a->ssl, ret);
                assoc_free(a, "handshake failed");
                return;
            }
            a->established = 1;
            a->deadline_ms = 0;
            fprintf(stderr, "HANDSHAKE OK %s %s%s\n", peer_name(&a->peer),
                    wolfSSL_get_cipher_name(a->ssl),
                    wolfSSL_session_reused(a->ssl) ? " (resumed)" : "");
        }
        ret = wolfSSL_read(a->ssl, app, sizeof app);
        if (ret > 0) {
            int w = wolfSSL_write(a->ssl, app, ret);
            if (w != ret) {
                say_err("write", a->ssl, w);
                assoc_free(a, "write failed");
                return;
            }
            continue;
        }
        int err = wolfSSL_get_error(a->ssl, ret);
        if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) break;
        if (err == WOLFSSL_ERROR_ZERO_RETURN) {
            wolfSSL_shutdown(a->ssl); /* our close_notify */
            assoc_free(a, "closed by peer");
            return;
        }
        say_err("read", a->ssl, ret);
        assoc_free(a, "read failed");
        return;
    }
    a->pending = NULL;
    a->pending_len = 0;
}

static int run_server(int port, const char *hint)
{
    WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfDTLSv1_2_server_method());
    if (!ctx) die("wolfSSL_CTX_new");
    if (wolfSSL_CTX_set_cipher_list(ctx, SUITES) != WOLFSSL_SUCCESS) die("cipher list");
    wolfSSL_CTX_set_psk_server_callback(ctx, psk_server_cb);
    if (hint && wolfSSL_CTX_use_psk_identity_hint(ctx, hint) != WOLFSSL_SUCCESS) die("hint");
    wolfSSL_CTX_SetIORecv(ctx, io_recv);
    wolfSSL_CTX_SetIOSend(ctx, io_send);

    WC_RNG rng;
    if (wc_InitRng(&rng) != 0 || wc_RNG_GenerateBlock(&rng, cookie_secret, sizeof cookie_secret) != 0)
        die("cannot make a cookie secret");
    wc_FreeRng(&rng);

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
        uint64_t now = now_ms();
        for (int i = 0; i < MAX_ASSOC; i++) {
            if (!assocs[i].used || !assocs[i].deadline_ms) continue;
            long left = assocs[i].deadline_ms > now ? (long)(assocs[i].deadline_ms - now) : 0;
            if (wait < 0 || left < wait) wait = left;
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
                if (!a) a = assoc_new(ctx, &from);
                if (a) {
                    a->pending = dgram;
                    a->pending_len = (size_t)n;
                    assoc_drive(a, 0);
                }
            }
        }
        now = now_ms();
        for (int i = 0; i < MAX_ASSOC; i++) {
            if (assocs[i].used && assocs[i].deadline_ms && assocs[i].deadline_ms <= now)
                assoc_drive(&assocs[i], 1);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ client */

static int run_client(const char *hostport, const char *text)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= sizeof host) die("--connect wants HOST:PORT");
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = 0;
    struct sockaddr_in to = {0};
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &to.sin_addr) != 1) die("--connect wants an IPv4 address");

    WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfDTLSv1_2_client_method());
    if (!ctx) die("wolfSSL_CTX_new");
    if (wolfSSL_CTX_set_cipher_list(ctx, SUITES) != WOLFSSL_SUCCESS) die("cipher list");
    wolfSSL_CTX_set_psk_client_callback(ctx, psk_client_cb);
    WOLFSSL *ssl = wolfSSL_new(ctx);
    if (!ssl) die("wolfSSL_new");
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) die("connect");
    wolfSSL_dtls_set_peer(ssl, &to, sizeof to);
    wolfSSL_set_fd(ssl, fd);

    int ret = wolfSSL_connect(ssl);
    if (ret != WOLFSSL_SUCCESS) {
        say_err("connect", ssl, ret);
        printf("FAIL handshake\n");
        fflush(stdout);
        return 1;
    }
    printf("HANDSHAKE OK %s\n", wolfSSL_get_cipher_name(ssl));
    fflush(stdout);
    int len = (int)strlen(text);
    if ((ret = wolfSSL_write(ssl, text, len)) != len) {
        say_err("write", ssl, ret);
        printf("FAIL application data\n");
        fflush(stdout);
        return 1;
    }
    /* Wait up to 10 s for the echo (a blocking read would wait forever). */
    int status = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char buf[DGRAM_MAX];
    ret = -1;
    for (uint64_t end = now_ms() + 10000; now_ms() < end;) {
        if (wolfSSL_pending(ssl) == 0 && poll(&p, 1, (int)(end - now_ms())) <= 0) continue;
        ret = wolfSSL_read(ssl, buf, sizeof buf - 1);
        if (ret > 0) break;
        int err = wolfSSL_get_error(ssl, ret);
        if (err != WOLFSSL_ERROR_WANT_READ) break;
    }
    if (ret > 0) {
        buf[ret] = 0;
        printf("RECV %s\n", buf);
    } else if (ret == -1) {
        printf("FAIL no reply within 10000 ms\n");
        status = 1;
    } else {
        say_err("read", ssl, ret);
        printf("FAIL application data\n");
        status = 1;
    }
    fflush(stdout);
    wolfSSL_shutdown(ssl);
    wolfSSL_free(ssl);
    wolfSSL_CTX_free(ctx);
    close(fd);
    return status;
}

/* ------------------------------------------------------------------ main */

static void usage(const char *why)
{
    fprintf(stderr, "usage error: %s\n"
                    "  wolfssl-peer server --port P --pskfile FILE [--hint TEXT]\n"
                    "  wolfssl-peer client --connect HOST:PORT --pskfile FILE --send TEXT\n",
            why);
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2) usage("no mode");
    if (!strcmp(argv[1], "version")) {
        printf("wolfSSL %s\n", wolfSSL_lib_version());
        return 0;
    }
    const char *mode = argv[1], *pskfile = NULL, *connect_to = NULL, *text = "hello";
    const char *hint = NULL;
    int port = -1;
    for (int i = 2; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc) usage("option without a value");
        const char *val = argv[++i];
        if (!strcmp(opt, "--port")) port = atoi(val);
        else if (!strcmp(opt, "--pskfile")) pskfile = val;
        else if (!strcmp(opt, "--connect")) connect_to = val;
        else if (!strcmp(opt, "--send")) text = val;
        else if (!strcmp(opt, "--hint")) hint = val;
        else usage("unknown option");
    }
    if (!pskfile) usage("--pskfile is required");
    load_pskfile(pskfile);
    wolfSSL_Init();
    int rc;
    if (!strcmp(mode, "server")) {
        if (port <= 0 || port > 65535) usage("--port is required");
        rc = run_server(port, hint);
    } else if (!strcmp(mode, "client")) {
        if (!connect_to) usage("--connect is required");
        rc = run_client(connect_to, text);
    } else {
        usage("mode is server or client");
        rc = 2;
    }
    wolfSSL_Cleanup();
    return rc;
}
