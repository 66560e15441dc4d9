/* Subscribers for bench/fanout.py, in C: the load generator must not be what is measured. On this
 * 2-core machine the subscribers share the cores with the servers; Node spent about 9 us of a
 * core per frame received (a JS callback and a Buffer per read), this spends what the kernel
 * needs (an epoll wake-up and a recv), so more of the machine is left to the servers.
 *
 *   fanout_client <subscribers> <sampled> <host> <port> <path> [<host> <port> <path> ...]
 *
 * Same protocol as fanout_client.mjs: opens the subscribers (round-robin over the targets),
 * prints "READY <n>"; counts text frames between "go" and "stop" on stdin; then prints one JSON
 * line {"frames": n, "latencies_ms": [...]} and exits. <sampled> subscribers, spread evenly over the
 * connection order, read their frames' `sent_ns` (ns since the epoch, stamped by the publisher)
 * for the latency.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    int sampled;
    unsigned char *buf;
    size_t len, cap;
} Conn;

static int counting = 0;
static long long frames = 0;
static double *latencies = NULL;
static size_t n_latencies = 0, cap_latencies = 0;

static void die(const char *what) {
    fprintf(stderr, "fanout_client: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void note_latency(const unsigned char *payload, size_t length) {
    static const char key[] = "\"sent_ns\":";
    const char *at = memmem(payload, length, key, sizeof key - 1);
    if (at == NULL) return;
    double sent = strtoll(at + sizeof key - 1, NULL, 10) / 1e6;
    if (n_latencies == cap_latencies) {
        cap_latencies = cap_latencies ? cap_latencies * 2 : 4096;
        latencies = realloc(latencies, cap_latencies * sizeof *latencies);
        if (latencies == NULL) die("realloc");
    }
    latencies[n_latencies++] = now_ms() - sent;
}

/* A ping is answered with a pong carrying its payload, masked as a client must. */
static void pong(int fd, const unsigned char *payload, size_t length) {
    unsigned char out[2 + 4 + 125];
    if (length > 125) return;
    out[0] = 0x8a;
    out[1] = 0x80 | (unsigned char)length;
    memset(out + 2, 0x5a, 4);
    for (size_t k = 0; k < length; k++) out[6 + k] = payload[k] ^ 0x5a;
    (void)send(fd, out, 6 + length, MSG_NOSIGNAL); /* a full buffer: the next ping asks again */
}

/* Take the whole frames from the connection's buffer; keep a partial one for later. */
static void frames_in(Conn *c) {
    size_t at = 0;
    while (c->len - at >= 2) {
        unsigned char *b = c->buf + at;
        int opcode = b[0] & 0x0f;
        uint64_t length = b[1] & 0x7f;
        size_t head = 2;
        if (length == 126) {
            if (c->len - at < 4) break;
            length = ((uint64_t)b[2] << 8) | b[3];
            head = 4;
        } else if (length == 127) {
            if (c->len - at < 10) break;
            length = 0;
            for (int k = 0; k < 8; k++) length = (length << 8) | b[2 + k];
            head = 10;
        }
        if (c->len - at < head + length) break;
        if (opcode == 1 && counting) {
            frames++;
            if (c->sampled) note_latency(b + head, length);
        } else if (opcode == 9) {
            pong(c->fd, b + head, length);
        }
        at += head + length;
    }
    memmove(c->buf, c->buf + at, c->len - at);
    c->len -= at;
}

static void grow(Conn *c) {
    if (c->len < c->cap) return;
    c->cap *= 2;
    c->buf = realloc(c->buf, c->cap);
    if (c->buf == NULL) die("realloc");
}

static void subscribe(Conn *c, const char *host, int port, const char *path) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) die("address");
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0) die("socket");
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char request[1024];
    int size = snprintf(request, sizeof request,
                        "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
                        path, host, port);
    if (send(c->fd, request, size, MSG_NOSIGNAL) != size) die("send");
    c->cap = 2048;
    c->buf = malloc(c->cap);
    c->len = 0;
    for (;;) { /* the answer's head; what follows it stays in the buffer */
        grow(c);
        ssize_t got = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (got <= 0) die("handshake");
        c->len += got;
        unsigned char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (end == NULL) continue;
        if (memmem(c->buf, end - c->buf, " 101 ", 5) == NULL) {
            fprintf(stderr, "fanout_client: refused: %.*s\n", (int)(end - c->buf), c->buf);
            exit(1);
        }
        size_t rest = c->len - (end + 4 - c->buf);
        memmove(c->buf, end + 4, rest);
        c->len = rest;
        return;
    }
}

static void report(void) {
    printf("{\"frames\": %lld, \"latencies_ms\": [", frames);
    for (size_t k = 0; k < n_latencies; k++) printf(k ? ",%.3f" : "%.3f", latencies[k]);
    printf("]}\n");
    fflush(stdout);
}

/* Every (n / sampled)th subscriber, spread over the connection order: the sockets a server
 * writes last in a pass are sampled as well as the ones it writes first. */
static int is_sampled(int i, int n, int sampled) {
    int stride = sampled > 0 && n / sampled > 0 ? n / sampled : 1;
    return i % stride == 0 && i / stride < sampled;
}

int main(int argc, char **argv) {
    if (argc < 6 || (argc - 3) % 3 != 0) {
        fprintf(stderr, "usage: %s <subscribers> <sampled> <host> <port> <path> ...\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[1]), sampled = atoi(argv[2]), targets = (argc - 3) / 3;
    struct rlimit files;
    getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
    Conn *conns = calloc(n, sizeof *conns);
    int poll = epoll_create1(0);
    for (int i = 0; i < n; i++) {
        char **t = argv + 3 + 3 * (i % targets);
        conns[i].sampled = is_sampled(i, n, sampled);
        subscribe(&conns[i], t[0], atoi(t[1]), t[2]);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
        if (epoll_ctl(poll, EPOLL_CTL_ADD, conns[i].fd, &ev) < 0) die("epoll_ctl");
    }
    struct epoll_event in = {.events = EPOLLIN, .data.ptr = NULL}; /* NULL: stdin */
    if (epoll_ctl(poll, EPOLL_CTL_ADD, 0, &in) < 0) die("epoll_ctl stdin");
    printf("READY %d\n", n);
    fflush(stdout);
    char line[256];
    size_t line_len = 0;
    struct epoll_event ready[1024];
    for (;;) {
        /* Nothing to read: nap 1 ms rather than wait in epoll_wait. On loopback the sender
         * wakes a receiver that waits, inside its own send (an IPI on this VM): perf charged
         * 8.7 % of the machine to the servers' kernel for waking this process once per frame.
         * A receiver on another machine costs a server nothing of the kind; polling each
         * millisecond leaves that cost out of what is measured, for at most 1 ms of latency. */
        int k = epoll_wait(poll, ready, 1024, 0);
        if (k == 0) {
            struct timespec nap = {0, 1000000};
            nanosleep(&nap, NULL);
            continue;
        }
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) die("epoll_wait");
        for (int e = 0; e < k; e++) {
            Conn *c = ready[e].data.ptr;
            if (c == NULL) { /* a command */
                ssize_t got = read(0, line + line_len, sizeof line - 1 - line_len);
                if (got <= 0) return 0;
                line_len += got;
                char *nl;
                while ((nl = memchr(line, '\n', line_len)) != NULL) {
                    *nl = 0;
                    if (strcmp(line, "go") == 0) counting = 1;
                    if (strcmp(line, "stop") == 0) {
                        counting = 0;
                        report();
                        return 0;
                    }
                    line_len -= nl + 1 - line;
                    memmove(line, nl + 1, line_len);
                }
                continue;
            }
            grow(c);
            ssize_t got = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
            if (got > 0) {
                c->len += got;
                frames_in(c);
            } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                epoll_ctl(poll, EPOLL_CTL_DEL, c->fd, NULL); /* closed by the server */
                close(c->fd);
            }
        }
    }
}
