/*
 * l_util.c -- ms.util: the few system services the pure-Lua parts need and
 * Lua's standard library lacks.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ms_lua.h"

extern char **environ;

#define CHILD_TNAME "momsandbox.util.child"

/* ms.util.mkdir(path): create a folder and its parents (mkdir -p). */
static int l_mkdir(lua_State *L) {
  size_t len;
  const char *path = luaL_checklstring(L, 1, &len);
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, len + 1);
  memcpy(p, path, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (p[i] != '/' && p[i] != '\0') continue;
    char c = p[i];
    p[i] = '\0';
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
      return luaL_error(L, "cannot create folder %s: %s", p, strerror(errno));
    p[i] = c;
  }
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
    return luaL_error(L, "cannot create folder %s: not a folder", path);
  lua_pushstring(L, path);
  return 1;
}

/* ms.util.clock(): seconds on a monotonic clock, for timing. */
static int l_clock(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec);
  return 1;
}

/* ms.util.isatty(fileno): is the descriptor a terminal? (0 stdin, 1 stdout) */
static int l_isatty(lua_State *L) {
  lua_Integer fd = luaL_checkinteger(L, 1);
  luaL_argcheck(L, fd >= 0 && fd <= 0x7fffffff, 1, "not a file descriptor");
  lua_pushboolean(L, isatty((int)fd) == 1);
  return 1;
}

/* A string argument that C can use as a path: no zero bytes inside. */
static const char *checkpath(lua_State *L, int arg, size_t *len) {
  const char *s = luaL_checklstring(L, arg, len);
  luaL_argcheck(L, strlen(s) == *len, arg, "contains a zero byte");
  return s;
}

/* ------------------------------------------------------------- which */

static int executable(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Push the full path of the program that posix_spawnp would run for name
 * and return 1, or return 0.  Empty PATH entries mean the current folder,
 * as for execvp. */
static int pushwhich(lua_State *L, const char *name, size_t len) {
  if (strchr(name, '/') != NULL) {
    if (!executable(name)) return 0;
    lua_pushlstring(L, name, len);
    return 1;
  }
  const char *path = getenv("PATH");
  if (path == NULL) path = "/bin:/usr/bin";   /* execvp's default */
  for (;;) {
    const char *end = strchr(path, ':');
    size_t dirlen = end != NULL ? (size_t)(end - path) : strlen(path);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    if (dirlen == 0) luaL_addchar(&b, '.');
    else luaL_addlstring(&b, path, dirlen);
    luaL_addchar(&b, '/');
    luaL_addlstring(&b, name, len);
    luaL_pushresult(&b);
    if (executable(lua_tostring(L, -1))) return 1;
    lua_pop(L, 1);
    if (end == NULL) return 0;
    path = end + 1;
  }
}

/* ms.util.which(name): the full path of the program name, or nil. */
static int l_which(lua_State *L) {
  size_t len;
  const char *name = checkpath(L, 1, &len);
  luaL_argcheck(L, len > 0, 1, "empty program name");
  if (!pushwhich(L, name, len)) lua_pushnil(L);
  return 1;
}

/* ----------------------------------------------------------- tmpname */

/* ms.util.tmpname(path): create an empty file path .. ".tmp-XXXXXX" beside
 * path, so that a finished file can be renamed over path atomically (a
 * rename never crosses folders).  Returns its name. */
static int l_tmpname(lua_State *L) {
  size_t len;
  const char *path = checkpath(L, 1, &len);
  luaL_argcheck(L, len > 0 && path[len - 1] != '/', 1,
                "expected a file name, not a folder");
  const char *name = lua_pushfstring(L, "%s.tmp-XXXXXX", path);
  size_t size = strlen(name) + 1;
  char *tmpl = lua_newuserdatauv(L, size, 0);   /* mkstemp writes here */
  memcpy(tmpl, name, size);
  int fd = mkstemp(tmpl);
  if (fd < 0) {
    int err = errno;
    const char *slash = strrchr(path, '/');
    if (slash == NULL) lua_pushliteral(L, ".");
    else lua_pushlstring(L, path, slash == path ? 1 : (size_t)(slash - path));
    return luaL_error(L, "cannot create a file in folder %s: %s",
                      lua_tostring(L, -1), strerror(err));
  }
  /* mkstemp makes the file private (0600); the file it becomes should get
   * the permissions of any other new file. */
  mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  close(fd);
  lua_pushstring(L, tmpl);
  return 1;
}

/* --------------------------------------------------------------- run */

/* A running child and our ends of its pipes.  It lives in a to-be-closed
 * userdata, so that an error anywhere in l_run frees it. */
typedef struct child {
  pid_t pid;          /* 0 when there is no child to wait for */
  int fd[3];          /* our ends: its stdin, stdout, stderr; -1 closed */
  int kid[3];         /* its ends, until it has them */
  char *out[2];       /* what it wrote to stdout, stderr */
  size_t len[2], cap[2];
} child;

static void closefd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static int child_close(lua_State *L) {
  child *c = luaL_checkudata(L, 1, CHILD_TNAME);
  for (int i = 0; i < 3; i++) {
    closefd(&c->fd[i]);
    closefd(&c->kid[i]);
  }
  if (c->pid > 0) {   /* only when something failed half-way */
    kill(c->pid, SIGKILL);
    while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR) continue;
    c->pid = 0;
  }
  for (int i = 0; i < 2; i++) {
    free(c->out[i]);
    c->out[i] = NULL;
  }
  return 0;
}

/* fd moved above 2 and made close-on-exec (or -1 and errno). */
static int highfd(int fd) {
  int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int err = errno;
  close(fd);
  errno = err;
  return high;
}

/* A pipe whose ends are close-on-exec and above 2, so that the child's
 * dup2 onto 0, 1 and 2 always makes a fresh descriptor that survives exec
 * and nothing else leaks into it. */
static int openpipe(int *rd, int *wr) {
  int p[2];
  if (pipe(p) != 0) return errno;
  int err = 0;
  if ((p[0] = highfd(p[0])) < 0) err = errno;
  if ((p[1] = highfd(p[1])) < 0 && err == 0) err = errno;
  if (err != 0) {
    closefd(&p[0]);
    closefd(&p[1]);
    return err;
  }
  *rd = p[0];
  *wr = p[1];
  return 0;
}

static int makepipes(child *c) {
  int err;
  if ((err = openpipe(&c->kid[0], &c->fd[0])) != 0) return err;
  if ((err = openpipe(&c->fd[1], &c->kid[1])) != 0) return err;
  if ((err = openpipe(&c->fd[2], &c->kid[2])) != 0) return err;
  /* A full pipe must not block us while the child waits for us to read. */
  if (fcntl(c->fd[0], F_SETFL, O_NONBLOCK) != 0) return errno;
  return 0;
}

static int spawn(child *c, char *const argv[], const sigset_t *mask) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  int err = posix_spawn_file_actions_init(&fa);
  if (err != 0) return err;
  if ((err = posix_spawnattr_init(&attr)) != 0) {
    posix_spawn_file_actions_destroy(&fa);
    return err;
  }
  for (int i = 0; i < 3 && err == 0; i++)
    err = posix_spawn_file_actions_adddup2(&fa, c->kid[i], i);
  /* The child gets the caller's signal mask and a default SIGPIPE, whatever
   * we block or the host ignores. */
  if (err == 0) err = posix_spawnattr_setsigmask(&attr, mask);
  if (err == 0) err = posix_spawnattr_setsigdefault(&attr, &pipe_only);
  if (err == 0)
    err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
                                              POSIX_SPAWN_SETSIGDEF);
  if (err == 0) err = posix_spawnp(&c->pid, argv[0], &fa, &attr, argv, environ);
  if (err != 0) c->pid = 0;
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  for (int i = 0; i < 3; i++) closefd(&c->kid[i]);
  return err;
}

/* Feed the next piece of input; close the child's stdin when all is
 * written or when it stopped reading (EPIPE: not our failure). */
static void feed(child *c, const char *in, size_t inlen, size_t *done) {
  size_t chunk = inlen - *done < 65536 ? inlen - *done : 65536;
  ssize_t n = write(c->fd[0], in + *done, chunk);
  if (n > 0) *done += (size_t)n;
  else if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (*done == inlen || n <= 0) closefd(&c->fd[0]);
}

/* Read what is there from stdout (k = 0) or stderr (k = 1). */
static int drain(child *c, int k) {
  if (c->cap[k] - c->len[k] < 65536) {
    size_t cap = c->cap[k] * 2 + 65536;
    char *p = realloc(c->out[k], cap);
    if (p == NULL) return ENOMEM;
    c->out[k] = p;
    c->cap[k] = cap;
  }
  ssize_t n = read(c->fd[k + 1], c->out[k] + c->len[k], c->cap[k] - c->len[k]);
  if (n > 0) c->len[k] += (size_t)n;
  else if (n == 0) closefd(&c->fd[k + 1]);
  else if (errno != EINTR && errno != EAGAIN) return errno;
  return 0;
}

/* Write the input and collect both outputs at once with poll, so that a
 * child blocked on a full stdout pipe can never wait for us while we wait
 * for it to read its stdin. */
static int talk(child *c, const char *in, size_t inlen) {
  size_t done = 0;
  if (inlen == 0) closefd(&c->fd[0]);
  while (c->fd[0] >= 0 || c->fd[1] >= 0 || c->fd[2] >= 0) {
    struct pollfd p[3];
    for (int i = 0; i < 3; i++) {
      p[i].fd = c->fd[i];   /* poll ignores negative descriptors */
      p[i].events = i == 0 ? POLLOUT : POLLIN;
      p[i].revents = 0;
    }
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (p[0].revents) feed(c, in, inlen, &done);
    for (int k = 0; k < 2; k++) {
      int err = p[k + 1].revents ? drain(c, k) : 0;
      if (err != 0) return err;
    }
  }
  return 0;
}

static int reap(child *c, int *status) {
  while (waitpid(c->pid, status, 0) < 0) {
    if (errno != EINTR) return errno;
  }
  c->pid = 0;
  return 0;
}

static const char cannot_start[] = "cannot start";

/* Run the child with SIGPIPE blocked, so that a child that exits without
 * reading all its input makes our write fail with EPIPE instead of killing
 * the whole process; a SIGPIPE raised on the way is discarded.  Returns 0 or
 * an errno value; *stage says what failed.  Raises no Lua error, so the
 * signal mask is always restored. */
static int run_child(child *c, char *const argv[], const char *in,
                     size_t inlen, int *status, const char **stage) {
  sigset_t pipe_only, old, pending;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigprocmask(SIG_BLOCK, &pipe_only, &old);
  sigpending(&pending);
  int was_pending = sigismember(&pending, SIGPIPE);
  int err;
  *stage = "cannot create pipes";
  if ((err = makepipes(c)) == 0) {
    *stage = cannot_start;
    if ((err = spawn(c, argv, &old)) == 0) {
      *stage = "cannot talk to it";
      err = talk(c, in, inlen);
      for (int i = 0; i < 3; i++) closefd(&c->fd[i]);
      int err2 = reap(c, status);
      if (err == 0) err = err2;
    }
  }
  sigpending(&pending);
  if (!was_pending && sigismember(&pending, SIGPIPE)) {
    struct timespec zero = {0, 0};
    sigtimedwait(&pipe_only, NULL, &zero);
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  return err;
}

/* The strings of the table argv as a NULL-terminated array; the strings
 * stay on the stack while the array is in use. */
static char **checkargv(lua_State *L, int arg) {
  luaL_checktype(L, arg, LUA_TTABLE);
  lua_Integer n = luaL_len(L, arg);
  luaL_argcheck(L, n >= 1, arg, "argv must hold at least the program name");
  luaL_argcheck(L, n < 65536, arg, "too many arguments");
  luaL_checkstack(L, (int)n + 4, "too many arguments");
  char **argv = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *argv, 0);
  for (lua_Integer i = 1; i <= n; i++) {
    size_t len;
    const char *s = lua_rawgeti(L, arg, i) == LUA_TSTRING
                        ? lua_tolstring(L, -1, &len) : NULL;
    if (s == NULL || strlen(s) != len)
      luaL_argerror(L, arg, lua_pushfstring(L, "argv[%I] must be a string "
                                           "without zero bytes", i));
    argv[i - 1] = (char *)s;
  }
  argv[n] = NULL;
  return argv;
}

/* ms.util.run(argv [, input]): run the program argv[1] (looked up in PATH)
 * with the arguments argv[2..], directly, without a shell; write input to
 * its stdin; wait for it.  Returns ok, status, stdout, stderr: ok is true
 * when it exited with status 0; status is its exit status, or minus the
 * number of the signal that killed it.  When it cannot be run at all:
 * nil and a message ("gnuplot: not found"). */
static int l_run(lua_State *L) {
  size_t inlen;
  const char *in = luaL_optlstring(L, 2, "", &inlen);
  lua_settop(L, 2);
  char **argv = checkargv(L, 1);
  child *c = lua_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c);
  for (int i = 0; i < 3; i++) c->fd[i] = c->kid[i] = -1;
  luaL_setmetatable(L, CHILD_TNAME);
  lua_toclose(L, -1);
  int status = 0;
  const char *stage;
  int err = run_child(c, argv, in, inlen, &status, &stage);
  if (err != 0) {
    /* posix_spawnp says EACCES, not ENOENT, when a folder on PATH cannot
     * be searched, wherever else it looked in vain. */
    int missing = stage == cannot_start &&
                  (err == ENOENT || !pushwhich(L, argv[0], strlen(argv[0])));
    lua_pushnil(L);
    if (missing)
      lua_pushfstring(L, "%s: not found", argv[0]);
    else
      lua_pushfstring(L, "%s: %s: %s", argv[0], stage, strerror(err));
    return 2;
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status)
             : WIFSIGNALED(status) ? -WTERMSIG(status) : -1;
  lua_pushboolean(L, WIFEXITED(status) && code == 0);
  lua_pushinteger(L, code);
  lua_pushlstring(L, c->out[0] != NULL ? c->out[0] : "", c->len[0]);
  lua_pushlstring(L, c->out[1] != NULL ? c->out[1] : "", c->len[1]);
  return 4;
}

/* ms.util.write(path, text): a file written whole or not at all. */
static int l_write(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  size_t size;
  const char *text = luaL_checklstring(L, 2, &size);
  if (ms_write_file(path, text, size) != MS_OK)
    return luaL_error(L, "%s", ms_last_error());
  return 0;
}

/* ms.util.format(x): the shortest decimal that reads back as x exactly,
 * for CSV files that are both exact and readable. */
static int l_format(lua_State *L) {
  char buf[32];
  ms_format_double(buf, sizeof buf, luaL_checknumber(L, 1));
  lua_pushstring(L, buf);
  return 1;
}

static const luaL_Reg util[] = {
    {"mkdir", l_mkdir},   {"clock", l_clock},     {"isatty", l_isatty},
    {"which", l_which},   {"tmpname", l_tmpname}, {"run", l_run},
    {"write", l_write},   {"format", l_format},   {NULL, NULL}};

static const luaL_Reg child_meta[] = {
    {"__close", child_close}, {"__gc", child_close}, {NULL, NULL}};

void ms_lua_open_util(lua_State *L) {
  luaL_newmetatable(L, CHILD_TNAME);
  luaL_setfuncs(L, child_meta, 0);
  lua_pop(L, 1);
  luaL_newlib(L, util);
  lua_setfield(L, -2, "util");
}
