/*
 * momsandbox_host.h -- what the programs that host the engine (the Lua
 * bindings, the momsandbox CLI) need from the system and their language's
 * standard library lacks: running a program without a shell, writing a
 * file whole or not at all, folders, program lookup, terminals, a clock,
 * Ctrl-C for the engine's long calls, and a local HTTP server for
 * interactive pages.  POSIX (core/src/system.c, file.c, clock.c, sigint.c,
 * server.c).
 *
 * The rules of momsandbox.h hold here too: plain C declarations that
 * LuaJIT's ffi.cdef accepts once the '#' lines are removed (declared
 * after momsandbox.h), statuses and ms_last_error() for failures.
 */
#ifndef MOMSANDBOX_HOST_H
#define MOMSANDBOX_HOST_H

#include <stddef.h>

#include "momsandbox.h"

/* ------------------------------------------------------------------ Ctrl-C */

/* Around a call from an interpreter: SIGINT calls ms_interrupt, and the
 * handler that was there before (the interpreter's, which stops its own
 * code) still runs: at once, from the call's first poll of ms_interrupted
 * on, when defer_host is 0 (hosts whose callbacks catch the errors that
 * handler may cause, as lua_pcall does); when the call ends, and with ours
 * in place from the start, when it is 1 (LuaJIT: an FFI callback must
 * never raise).  A second SIGINT before then ends the process; an ignored
 * SIGINT stays ignored.  The outermost end clears ms_interrupt's request,
 * served by then; begin keeps one made before it, which stops the call.
 * Pairs nest; process-wide, so call them from one thread. */
void ms_sigint_begin(int defer_host);
void ms_sigint_end(void);

/* ------------------------------------------------------------------- files */

/* Write size bytes to path as every writer of the engine does (trace,
 * sweep and training CSV files too).  A regular file, or a name not taken
 * yet, is written whole or not at all: into a temporary file beside it,
 * renamed over it only once everything is written; a symbolic link is
 * followed (its target is replaced, the link stays), and the file keeps
 * its mode (and, where permitted, its owner).  A character device or a
 * FIFO that a process reads is written in place.  A folder, a block
 * device, a socket or a FIFO nobody reads is refused.  Temporary files
 * left by a killed write of the same file are removed. */
ms_status ms_write_file(const char *path, const void *data, size_t size);

/* Create a folder and its parents (mkdir -p). */
ms_status ms_mkdir(const char *path);

/* ------------------------------------------------------ system services
 * What the bindings' pure-Lua parts (figures through gnuplot, scripts)
 * need; shared by the Lua 5.4 and LuaJIT bindings.                        */

double ms_clock(void);             /* seconds on the engine's monotonic clock */
int ms_isatty(int fd);             /* 1 if the descriptor is a terminal */
/* The path of the program posix_spawnp runs for name (looked up in PATH
 * unless it holds a '/') into size bytes at buf: 1 if found (and it fits). */
int ms_which(const char *name, char *buf, size_t size);
/* A program run by ms_run: how it ended and what it wrote. */
typedef struct ms_process {
  int ok;           /* 1: it exited with status 0 */
  int status;       /* its exit status, or minus the signal that killed it */
  char *out, *err;  /* its stdout and stderr, out_len and err_len bytes */
  size_t out_len, err_len;
} ms_process;

/* Run the program argv[0] (looked up in PATH) with the arguments argv[1..]
 * (argv ends with NULL) directly, without a shell: write len bytes of input
 * to its stdin while collecting its stdout and stderr (a child that writes
 * much before it reads cannot deadlock), then wait for it.  MS_EIO when it
 * cannot be run, "gnuplot: not found" for a missing program.  Free what it
 * wrote with ms_process_free. */
ms_status ms_run(const char *const *argv, const char *input, size_t len,
                 ms_process *p);
void ms_process_free(ms_process *p);
/* Start the program argv[0] (looked up in PATH) with the arguments
 * argv[1..] directly, without a shell, and without waiting for it: in a
 * session of its own, on /dev/null, never this process's child (a browser
 * opening a page).  MS_EIO when it cannot be started ("NAME: not found"). */
ms_status ms_start(const char *const *argv);

/* ------------------------------------------------------------ HTTP server
 * A small HTTP server for a host's interactive pages (ms.explore), on
 * libmicrohttpd, pulled by the host so that no thread of the engine ever
 * runs the host's code: ms_server_next runs the server on the calling
 * thread until a request has come and hands it over; ms_server_reply
 * answers it.  It listens on 127.0.0.1 only, on a port the system chose,
 * and answers itself, without handing them over, the requests that are
 * not the page's: 403 without the token as the path's first segment
 * ("/<token>/..."), or with a Host header other than 127.0.0.1:<port> or
 * localhost:<port> (a name that resolves here elsewhere: DNS rebinding);
 * 405 for a method other than GET and POST; 413 for a body over the
 * limit; 400 for what is no HTTP (libmicrohttpd). */
typedef struct ms_server ms_server;
/* A request handed over: its fields live until it is answered or the
 * server is freed. */
typedef struct ms_request {
  unsigned id;          /* what ms_server_reply answers; 0: no request */
  const char *method;   /* "GET" or "POST" */
  const char *path;     /* after the token: "/" or "/name..." */
  const char *body;     /* POST: the body (zero-terminated too), else "" */
  size_t body_len;
} ms_request;

/* Start a server whose requests carry a new random token (16 bytes from
 * the system's generator, 32 hex digits) and bodies of at most max_body
 * bytes. */
ms_status ms_server_new(size_t max_body, ms_server **out);
unsigned ms_server_port(const ms_server *s);        /* 0 for NULL */
const char *ms_server_token(const ms_server *s);    /* NULL for NULL */
/* Serve until a request is there (it is in *req) or timeout_ms
 * milliseconds have passed (req->id is 0; a negative timeout waits as long
 * as it takes).  MS_EINTR when ms_interrupt() asked to stop. */
ms_status ms_server_next(ms_server *s, int timeout_ms, ms_request *req);
/* Answer request id with status, content type and len bytes of body
 * (copied); MS_EINVAL when no request id awaits an answer. */
ms_status ms_server_reply(ms_server *s, unsigned id, int status,
                          const char *content_type, const void *body,
                          size_t len);
/* Answer what is still open (replies being sent get up to a second, the
 * requests not answered 503), close every connection and the port. */
void ms_server_free(ms_server *s);

#endif
