/* The HTTP server of ms.explore (server.c): requests of the page reach the
 * host whole and get its answers; what is not the page's is answered by
 * the server itself (token, Host, method, size, no HTTP) and never stops
 * it; Ctrl-C and timeouts end a wait; once freed, the port is closed.
 * The client runs on a thread of its own, the server on the main one, as
 * a host runs it. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "check.h"
#include "momsandbox_host.h"
#include "momsandbox_pull.h"

static unsigned port;

/* Connect to 127.0.0.1:port: the socket, or -1 when refused. */
static int dial(unsigned p) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((unsigned short)p);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

typedef struct exchange {
  const char *request;
  size_t len;
  char response[8192];
  pthread_t thread;
} exchange;

/* Send the request, read until the server closes or sends a whole answer. */
static void *client(void *arg) {
  exchange *x = arg;
  int fd = dial(port);
  if (fd < 0) return NULL;
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (write(fd, x->request, x->len) < 0) {
    close(fd);
    return NULL;
  }
  size_t got = 0;
  for (;;) {
    ssize_t n = read(fd, x->response + got, sizeof x->response - 1 - got);
    if (n <= 0) break;
    got += (size_t)n;
    x->response[got] = '\0';
    const char *end = strstr(x->response, "\r\n\r\n");
    const char *cl = strstr(x->response, "Content-Length: ");
    if (end != NULL && cl != NULL &&
        strlen(end + 4) >= strtoul(cl + strlen("Content-Length: "), NULL, 10))
      break;
  }
  close(fd);
  return NULL;
}

static void start(exchange *x, const char *request, size_t len) {
  memset(x, 0, sizeof *x);
  x->request = request;
  x->len = len;
  pthread_create(&x->thread, NULL, client, x);
}

/* Serve until the client has its answer: for requests the server answers
 * by itself, nothing reaches the host. */
static void finish_refused(ms_server *s, exchange *x) {
  ms_request req;
  int handed = 0;
  for (int i = 0; i < 20; i++) {
    ms_server_next(s, 20, &req);
    if (req.id != 0) handed = 1;
  }
  pthread_join(x->thread, NULL);
  CHECK(!handed);
}

static char *format(const char *fmt, const char *a, unsigned p) {
  static char buf[2][1024];
  static int k;
  k = !k;
  snprintf(buf[k], sizeof buf[k], fmt, a, p);
  return buf[k];
}

static void test_page_requests(ms_server *s, const char *token) {
  exchange x;
  char *get = format("GET /%s/ HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", token, port);
  start(&x, get, strlen(get));
  ms_request req;
  CHECK_OK(ms_server_next(s, 5000, &req));
  CHECK(req.id != 0);
  CHECK(req.method != NULL && strcmp(req.method, "GET") == 0);
  CHECK(req.path != NULL && strcmp(req.path, "/") == 0);
  CHECK(req.body_len == 0);
  CHECK_OK(ms_server_reply(s, req.id, 200, "text/plain", "hello", 5));
  CHECK_STATUS(ms_server_reply(s, req.id, 200, "text/plain", "again", 5), MS_EINVAL);
  for (int i = 0; i < 5; i++) ms_server_next(s, 10, &req);
  pthread_join(x.thread, NULL);
  CHECK(strncmp(x.response, "HTTP/1.1 200", 12) == 0);
  CHECK(strstr(x.response, "\r\n\r\nhello") != NULL);
  CHECK(strstr(x.response, "Content-Security-Policy: default-src 'none'") != NULL);

  /* a body with a zero byte, and the name localhost */
  static const char body[] = "{\"lr\":0.5}\0tail";
  char post[1024];
  int n = snprintf(post, sizeof post,
                   "POST /%s/trace HTTP/1.1\r\nHost: localhost:%u\r\n"
                   "Content-Length: %zu\r\n\r\n",
                   token, port, sizeof body - 1);
  memcpy(post + n, body, sizeof body - 1);
  start(&x, post, (size_t)n + sizeof body - 1);
  CHECK_OK(ms_server_next(s, 5000, &req));
  CHECK(req.id != 0 && strcmp(req.method, "POST") == 0);
  CHECK(req.path != NULL && strcmp(req.path, "/trace") == 0);
  CHECK(req.body_len == sizeof body - 1 && memcmp(req.body, body, sizeof body - 1) == 0);
  CHECK_OK(ms_server_reply(s, req.id, 404, "application/json", "{}", 2));
  for (int i = 0; i < 5; i++) ms_server_next(s, 10, &req);
  pthread_join(x.thread, NULL);
  CHECK(strncmp(x.response, "HTTP/1.1 404", 12) == 0);
}

static void refused(ms_server *s, const char *request, const char *status) {
  exchange x;
  start(&x, request, strlen(request));
  finish_refused(s, &x);
  if (strncmp(x.response, status, strlen(status)) != 0) {
    fprintf(stderr, "for %s\nexpected %s, got %.40s\n", request, status, x.response);
    check_failures++;
  }
}

static void test_refusals(ms_server *s, const char *token) {
  char wrong[64];
  strcpy(wrong, token);
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  refused(s, format("GET /%s/ HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", "", port),
          "HTTP/1.1 403");
  refused(s, format("GET /%s/ HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", wrong, port),
          "HTTP/1.1 403");
  refused(s, format("GET /%sx/ HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", token, port),
          "HTTP/1.1 403");
  refused(s, format("GET /x/%s/ HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", token, port),
          "HTTP/1.1 403");
  /* a name that resolves here (DNS rebinding), another port, no Host */
  refused(s, format("GET /%s/ HTTP/1.1\r\nHost: evil.example:%u\r\n\r\n", token, port),
          "HTTP/1.1 403");
  refused(s, format("GET /%s/ HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", token, port + 1),
          "HTTP/1.1 403");
  refused(s, format("GET /%s/ HTTP/1.0\r\n\r\n", token, port), "HTTP/1.1 403");
  refused(s, format("DELETE /%s/ HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", token, port),
          "HTTP/1.1 405");
  char big[512];
  snprintf(big, sizeof big,
           "POST /%s/trace HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Length: 300\r\n\r\n"
           "%0300d", token, port, 0);
  refused(s, big, "HTTP/1.1 413");
  refused(s, "\x01\x02 garbage\r\n\r\n", "HTTP/1.1 400");
  refused(s, "GET / HTTP/9.9\r\n\r\n", "HTTP/1.1 505");
}

static void test_waits(ms_server *s) {
  ms_request req;
  double t0 = ms_clock();
  CHECK_OK(ms_server_next(s, 100, &req));
  double waited = ms_clock() - t0;
  CHECK(req.id == 0 && req.method == NULL);
  CHECK(waited >= 0.09 && waited < 2);
  ms_interrupt();
  CHECK_STATUS(ms_server_next(s, -1, &req), MS_EINTR);
  ms_interrupt_clear();
  CHECK_STATUS(ms_server_reply(s, 12345, 200, "text/plain", "", 0), MS_EINVAL);
  CHECK_ERROR_HAS("no request 12345 awaits an answer");
  CHECK_STATUS(ms_server_reply(s, 0, 99, "text/plain", "", 0), MS_EINVAL);
}

/* A request taken and never answered is answered 503 when the server is
 * freed, and the port is closed then. */
static void test_free(ms_server *s, const char *token) {
  exchange x;
  char *get = format("GET /%s/late HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", token, port);
  start(&x, get, strlen(get));
  ms_request req;
  CHECK_OK(ms_server_next(s, 5000, &req));
  CHECK(req.id != 0);
  ms_server_free(s);
  pthread_join(x.thread, NULL);
  CHECK(strncmp(x.response, "HTTP/1.1 503", 12) == 0);
  int fd = dial(port);
  CHECK(fd < 0);
  if (fd >= 0) close(fd);
}

int main(void) {
  ms_server *s = NULL;
  CHECK_OK(ms_server_new(200, &s));
  if (s == NULL) return check_report("test_server");
  port = ms_server_port(s);
  CHECK(port > 0);
  char token[64];
  snprintf(token, sizeof token, "%s", ms_server_token(s));
  CHECK(strlen(token) == 32 && strspn(token, "0123456789abcdef") == 32);
  ms_server *t = NULL;
  CHECK_OK(ms_server_new(200, &t));
  CHECK(t != NULL && strcmp(ms_server_token(t), token) != 0 && ms_server_port(t) != port);
  ms_server_free(t);

  test_page_requests(s, token);
  test_refusals(s, token);
  test_waits(s);
  test_page_requests(s, token);   /* still serving after all that */
  test_free(s, token);
  CHECK(ms_server_port(NULL) == 0 && ms_server_token(NULL) == NULL);
  CHECK_STATUS(ms_server_new(1, NULL), MS_EINVAL);
  return check_report("test_server");
}
