/*
 * server.c -- a small HTTP server for a host's interactive pages, on
 * libmicrohttpd, pulled by the host (momsandbox_host.h: ms_server_*).
 *
 * libmicrohttpd runs without a thread of its own ("external select"): the
 * host's thread runs it inside ms_server_next, so the host's code is never
 * called from another thread.  The access handler reads a request whole,
 * answers at once those that are not the page's (token, Host, method,
 * size), and queues the others with their connection suspended;
 * ms_server_next hands the first queued one over, and ms_server_reply
 * keeps the answer with the request and resumes the connection, whose
 * handler then sends it.  A request lives from the handler's first call
 * until libmicrohttpd's completion callback, which frees it.
 */
#define _GNU_SOURCE   /* getrandom */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/select.h>

#include "internal.h"

enum { TOKEN_BYTES = 16, SLICE_MS = 50 };

typedef struct request {
  struct request *next;           /* in the server's queue or taken list */
  struct MHD_Connection *conn;
  ms_request pub;                 /* what the host reads */
  char method[8];
  char *path;
  char *body;                     /* zero-terminated */
  size_t len, cap;
  unsigned refuse;                /* a status to answer at once, or 0 */
  int listed;                     /* 1: in queue or taken */
  struct MHD_Response *answer;    /* the host's, to send once resumed */
  unsigned status;
} request;

struct ms_server {
  struct MHD_Daemon *daemon;
  unsigned port;
  char token[2 * TOKEN_BYTES + 1];
  char host_ip[32], host_name[32];    /* the Host headers accepted */
  size_t max_body;
  request *queue, **queue_end;        /* read, waiting to be handed over */
  request *taken;                     /* handed over, waiting for a reply */
  unsigned sending;                   /* answered, not yet completed */
  unsigned last_id;
};

/* ----------------------------------------------------------- requests */

static void unlink_request(ms_server *s, request *r) {
  for (request **p = &s->queue; *p != NULL; p = &(*p)->next)
    if (*p == r) {
      *p = r->next;
      if (s->queue_end == &r->next) s->queue_end = p;
      break;
    }
  for (request **p = &s->taken; *p != NULL; p = &(*p)->next)
    if (*p == r) {
      *p = r->next;
      break;
    }
  r->listed = 0;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
                         enum MHD_RequestTerminationCode why) {
  (void)conn, (void)why;
  ms_server *s = cls;
  request *r = *ctx;
  if (r == NULL) return;
  if (r->listed) unlink_request(s, r);
  if (r->answer != NULL) MHD_destroy_response(r->answer);
  if (r->status != 0 && s->sending > 0) s->sending--;
  free(r->path);
  free(r->body);
  free(r);
  *ctx = NULL;
}

/* Compare without stopping at the first difference: how long a wrong token
 * took to refuse says nothing about the right one. */
static int same_token(const char *a, const char *b, size_t n) {
  unsigned char diff = 0;
  for (size_t i = 0; i < n; i++) diff |= (unsigned char)(a[i] ^ b[i]);
  return diff == 0;
}

/* The status to answer r with at once, or 0 for a request of the page's;
 * sets r->path to what follows the token. */
static unsigned screen(ms_server *s, request *r, const char *url, const char *method) {
  const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
  if (host == NULL || (strcmp(host, s->host_ip) != 0 && strcmp(host, s->host_name) != 0))
    return MHD_HTTP_FORBIDDEN;
  size_t n = strlen(s->token);
  if (url[0] != '/' || strlen(url + 1) < n || !same_token(url + 1, s->token, n) ||
      (url[1 + n] != '/' && url[1 + n] != '\0'))
    return MHD_HTTP_FORBIDDEN;
  if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
    return MHD_HTTP_METHOD_NOT_ALLOWED;
  strcpy(r->method, method);
  r->path = strdup(url[1 + n] == '\0' ? "/" : url + 1 + n);
  return r->path == NULL ? MHD_HTTP_INTERNAL_SERVER_ERROR : 0;
}

static int append(request *r, const char *data, size_t size, size_t max) {
  if (size > max - r->len) return 0;
  if (r->len + size + 1 > r->cap) {
    size_t cap = r->cap ? r->cap : 256;
    while (cap < r->len + size + 1) cap *= 2;
    char *body = realloc(r->body, cap);
    if (body == NULL) return 0;
    r->body = body, r->cap = cap;
  }
  memcpy(r->body + r->len, data, size);
  r->len += size;
  r->body[r->len] = '\0';
  return 1;
}

/* A response of the bytes given, with the headers every answer has: not
 * kept by caches, not sniffed, and a page that loads nothing from
 * elsewhere. */
static struct MHD_Response *response(const char *type, const void *body, size_t len) {
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  if (resp == NULL) return NULL;
  MHD_add_response_header(resp, "Content-Type", type);
  MHD_add_response_header(resp, "Cache-Control", "no-store");
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(resp, "Content-Security-Policy",
                          "default-src 'none'; script-src 'unsafe-inline'; "
                          "style-src 'unsafe-inline'; connect-src 'self'; img-src data:");
  return resp;
}

static enum MHD_Result answer_now(struct MHD_Connection *conn, unsigned status) {
  static const char *const text[] = {"bad request\n", "forbidden\n", "method not allowed\n",
                                     "request too large\n", "server error\n"};
  const char *t = status == MHD_HTTP_BAD_REQUEST ? text[0]
                  : status == MHD_HTTP_FORBIDDEN ? text[1]
                  : status == MHD_HTTP_METHOD_NOT_ALLOWED ? text[2]
                  : status == MHD_HTTP_CONTENT_TOO_LARGE ? text[3] : text[4];
  struct MHD_Response *resp = response("text/plain; charset=utf-8", t, strlen(t));
  if (resp == NULL) return MHD_NO;
  enum MHD_Result ok = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *data, size_t *size, void **ctx) {
  (void)version;
  ms_server *s = cls;
  request *r = *ctx;
  if (r == NULL) {   /* the headers are in */
    r = calloc(1, sizeof *r);
    if (r == NULL) return MHD_NO;
    r->conn = conn;
    *ctx = r;
    r->refuse = screen(s, r, url, method);
    return MHD_YES;
  }
  if (*size > 0) {   /* a piece of the body */
    if (r->refuse == 0 && !append(r, data, *size, s->max_body))
      r->refuse = MHD_HTTP_CONTENT_TOO_LARGE;
    *size = 0;
    return MHD_YES;
  }
  if (r->answer != NULL) {   /* resumed with the host's answer */
    enum MHD_Result ok = MHD_queue_response(conn, r->status, r->answer);
    MHD_destroy_response(r->answer);
    r->answer = NULL;
    return ok;
  }
  if (r->refuse != 0) return answer_now(conn, r->refuse);
  r->pub.id = ++s->last_id ? s->last_id : ++s->last_id;   /* never 0 */
  r->pub.method = r->method;
  r->pub.path = r->path;
  r->pub.body = r->body != NULL ? r->body : "";
  r->pub.body_len = r->len;
  r->next = NULL;
  *s->queue_end = r;
  s->queue_end = &r->next;
  r->listed = 1;
  MHD_suspend_connection(conn);
  return MHD_YES;
}

/* ------------------------------------------------------------- server */

static ms_status new_token(char *out) {
  unsigned char bytes[TOKEN_BYTES];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno != EINTR)
      return ms_fail(MS_EIO, "ms_server_new: no random token: %s", strerror(errno));
    if (n > 0) got += (size_t)n;
  }
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof bytes; i++) {
    out[2 * i] = hex[bytes[i] >> 4];
    out[2 * i + 1] = hex[bytes[i] & 15];
  }
  out[2 * sizeof bytes] = '\0';
  return MS_OK;
}

ms_status ms_server_new(size_t max_body, ms_server **out) {
  MS_NEED(out);
  *out = NULL;
  ms_server *s = calloc(1, sizeof *s);
  if (s == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  s->max_body = max_body;
  s->queue_end = &s->queue;
  ms_status st = new_token(s->token);
  if (st != MS_OK) {
    free(s);
    return st;
  }
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;   /* the system chooses a free port */
  s->daemon = MHD_start_daemon(
      MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL, on_request, s,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
      MHD_OPTION_END);
  const union MHD_DaemonInfo *info =
      s->daemon != NULL ? MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
  if (info == NULL || info->port == 0) {
    if (s->daemon != NULL) MHD_stop_daemon(s->daemon);
    free(s);
    return ms_fail(MS_EIO, "ms_server_new: cannot listen on 127.0.0.1");
  }
  s->port = info->port;
  snprintf(s->host_ip, sizeof s->host_ip, "127.0.0.1:%u", s->port);
  snprintf(s->host_name, sizeof s->host_name, "localhost:%u", s->port);
  *out = s;
  return MS_OK;
}

unsigned ms_server_port(const ms_server *s) { return s != NULL ? s->port : 0; }

const char *ms_server_token(const ms_server *s) { return s != NULL ? s->token : NULL; }

/* Wait up to ms milliseconds for the server's sockets, then serve them. */
static void serve(ms_server *s, long ms) {
  fd_set rs, ws, es;
  FD_ZERO(&rs);
  FD_ZERO(&ws);
  FD_ZERO(&es);
  MHD_socket max = 0;
  MHD_UNSIGNED_LONG_LONG mhd_ms;
  if (MHD_get_timeout(s->daemon, &mhd_ms) == MHD_YES && mhd_ms < (MHD_UNSIGNED_LONG_LONG)ms)
    ms = (long)mhd_ms;
  if (MHD_get_fdset(s->daemon, &rs, &ws, &es, &max) == MHD_YES) {
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (select(max + 1, &rs, &ws, &es, &tv) > 0) {
      MHD_run_from_select(s->daemon, &rs, &ws, &es);
      return;
    }
  }
  MHD_run(s->daemon);   /* timeouts of idle connections */
}

ms_status ms_server_next(ms_server *s, int timeout_ms, ms_request *req) {
  MS_NEED(s);
  MS_NEED(req);
  memset(req, 0, sizeof *req);
  double deadline = ms_now() + timeout_ms / 1e3;
  MHD_run(s->daemon);
  for (;;) {
    request *r = s->queue;
    if (r != NULL) {   /* hand it over: from the queue to the taken list */
      s->queue = r->next;
      if (s->queue == NULL) s->queue_end = &s->queue;
      r->next = s->taken;
      s->taken = r;
      *req = r->pub;
      return MS_OK;
    }
    if (ms_interrupted()) return ms_fail(MS_EINTR, "interrupted");
    double left = timeout_ms < 0 ? SLICE_MS / 1e3 : deadline - ms_now();
    if (left <= 0) return MS_OK;
    serve(s, left * 1e3 < SLICE_MS ? (long)(left * 1e3) + 1 : SLICE_MS);
  }
}

ms_status ms_server_reply(ms_server *s, unsigned id, int status, const char *content_type,
                          const void *body, size_t len) {
  MS_NEED(s);
  MS_NEED(content_type);
  if (body == NULL && len > 0) return ms_null(__func__, "body");
  if (status < 100 || status > 599)
    return ms_fail(MS_EINVAL, "ms_server_reply: status %d is no HTTP status", status);
  request *r = s->taken;
  while (r != NULL && r->pub.id != id) r = r->next;
  if (r == NULL || id == 0)
    return ms_fail(MS_EINVAL, "ms_server_reply: no request %u awaits an answer", id);
  r->answer = response(content_type, len > 0 ? body : "", len);
  if (r->answer == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  r->status = (unsigned)status;
  unlink_request(s, r);
  s->sending++;
  MHD_resume_connection(r->conn);
  MHD_run(s->daemon);   /* the handler queues the answer */
  MHD_run(s->daemon);   /* and it goes out */
  return MS_OK;
}

void ms_server_free(ms_server *s) {
  if (s == NULL) return;
  static const char busy[] = "server closed\n";
  while (s->queue != NULL) {   /* hand over the rest, to be answered 503 */
    ms_request req;
    ms_server_next(s, 0, &req);
  }
  while (s->taken != NULL)
    ms_server_reply(s, s->taken->pub.id, MHD_HTTP_SERVICE_UNAVAILABLE,
                    "text/plain; charset=utf-8", busy, sizeof busy - 1);
  /* the answers given get a second to go out */
  double deadline = ms_now() + 1;
  while (s->sending > 0 && ms_now() < deadline) serve(s, 10);
  MHD_stop_daemon(s->daemon);
  free(s);
}
