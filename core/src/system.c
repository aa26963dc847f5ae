/*
 * system.c -- the few system services that the bindings' pure-Lua parts
 * (figures through gnuplot, the scripts) need and Lua's standard library
 * lacks: a monotonic clock, terminals, folders, program lookup and
 * running a program without a shell.  Shared by the Lua 5.4 and LuaJIT
 * bindings; POSIX.
 */
#define _GNU_SOURCE   /* POSIX_SPAWN_SETSID */
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

#include "internal.h"

extern char **environ;

double ms_clock(void) { return ms_now(); }   /* the engine's (clock.c) */

int ms_isatty(int fd) { return fd >= 0 && isatty(fd) == 1; }

ms_status ms_mkdir(const char *path) {
  MS_NEED(path);
  size_t len = strlen(path);
  char *p = malloc(len + 1);
  if (p == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  memcpy(p, path, len + 1);
  ms_status st = MS_OK;
  for (size_t i = 1; i <= len && st == MS_OK; i++) {
    if (p[i] != '/' && p[i] != '\0') continue;
    char c = p[i];
    p[i] = '\0';
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
      st = ms_fail(MS_EIO, "cannot create folder %s: %s", p, strerror(errno));
    p[i] = c;
  }
  free(p);
  struct stat sb;
  if (st == MS_OK && (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)))
    st = ms_fail(MS_EIO, "cannot create folder %s: not a folder", path);
  return st;
}

/* ------------------------------------------------------------- which */

static int executable(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The path posix_spawnp would run for name, in a new string, or NULL.
 * Empty PATH entries mean the current folder, as for execvp. */
static char *locate(const char *name) {
  size_t namelen = strlen(name);
  if (namelen == 0) return NULL;
  if (strchr(name, '/') != NULL) {
    char *copy = executable(name) ? malloc(namelen + 1) : NULL;
    return copy != NULL ? memcpy(copy, name, namelen + 1) : NULL;
  }
  const char *path = getenv("PATH");
  if (path == NULL) path = "/bin:/usr/bin";   /* execvp's default */
  for (;;) {
    const char *end = strchr(path, ':');
    size_t dirlen = end != NULL ? (size_t)(end - path) : strlen(path);
    char *candidate = malloc(dirlen + namelen + 3);
    if (candidate == NULL) return NULL;
    if (dirlen == 0) strcpy(candidate, ".");
    else memcpy(candidate, path, dirlen), candidate[dirlen] = '\0';
    strcat(candidate, "/");
    strcat(candidate, name);
    if (executable(candidate)) return candidate;
    free(candidate);
    if (end == NULL) return NULL;
    path = end + 1;
  }
}

int ms_which(const char *name, char *buf, size_t size) {
  if (name == NULL || buf == NULL) return 0;
  char *path = locate(name);
  int fits = path != NULL && strlen(path) < size;
  if (fits) strcpy(buf, path);
  free(path);
  return fits;
}

/* --------------------------------------------------------------- run */

/* A running child and our ends of its pipes. */
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

/* Close what is open and wait for a child left running half-way. */
static void child_close(child *c) {
  for (int i = 0; i < 3; i++) {
    closefd(&c->fd[i]);
    closefd(&c->kid[i]);
  }
  if (c->pid > 0) {
    kill(c->pid, SIGKILL);
    while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR) continue;
    c->pid = 0;
  }
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
 * an errno value; *stage says what failed. */
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

ms_status ms_run(const char *const *argv, const char *input, size_t len,
                 ms_process *p) {
  MS_NEED(p);
  memset(p, 0, sizeof *p);
  if (input == NULL) len = 0;
  if (argv == NULL || argv[0] == NULL)
    return ms_fail(MS_EINVAL, "argv must hold at least the program name");
  child c;
  memset(&c, 0, sizeof c);
  for (int i = 0; i < 3; i++) c.fd[i] = c.kid[i] = -1;
  int status = 0;
  const char *stage;
  int err = run_child(&c, (char *const *)argv, input, len, &status, &stage);
  child_close(&c);
  if (err != 0) {
    free(c.out[0]);
    free(c.out[1]);
    /* posix_spawnp says EACCES, not ENOENT, when a folder on PATH cannot
     * be searched, wherever else it looked in vain. */
    int missing = 0;
    if (stage == cannot_start) {
      char *found = err == ENOENT ? NULL : locate(argv[0]);
      missing = found == NULL;
      free(found);
    }
    if (missing) return ms_fail(MS_EIO, "%s: not found", argv[0]);
    return ms_fail(MS_EIO, "%s: %s: %s", argv[0], stage, strerror(err));
  }
  p->status = WIFEXITED(status) ? WEXITSTATUS(status)
              : WIFSIGNALED(status) ? -WTERMSIG(status) : -1;
  p->ok = WIFEXITED(status) && p->status == 0;
  p->out = c.out[0];
  p->out_len = c.len[0];
  p->err = c.out[1];
  p->err_len = c.len[1];
  return MS_OK;
}

/* ------------------------------------------------------------- start */

/* The intermediate child of ms_start: start the program in a session of
 * its own on /dev/null and exit with 0, or with the errno value that
 * stopped it; the program is then init's to reap, never ours. */
static void start_orphan(char *const argv[]) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t none;
  sigemptyset(&none);
  pid_t pid;
  int err = posix_spawn_file_actions_init(&fa);
  if (err == 0) err = posix_spawnattr_init(&attr);
  for (int i = 0; i < 3 && err == 0; i++)
    err = posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
  if (err == 0) err = posix_spawnattr_setsigmask(&attr, &none);
  if (err == 0)
    err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
  if (err == 0) err = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
  _exit(err > 0 && err < 256 ? err : err == 0 ? 0 : EIO);
}

ms_status ms_start(const char *const *argv) {
  if (argv == NULL || argv[0] == NULL)
    return ms_fail(MS_EINVAL, "argv must hold at least the program name");
  pid_t pid = fork();
  if (pid < 0) return ms_fail(MS_EIO, "%s: cannot start: %s", argv[0], strerror(errno));
  if (pid == 0) start_orphan((char *const *)argv);
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ms_fail(MS_EIO, "%s: cannot start: %s", argv[0], strerror(errno));
  }
  int err = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
  if (err == 0) return MS_OK;
  char *found = err == ENOENT ? NULL : locate(argv[0]);
  int missing = found == NULL;
  free(found);
  if (missing) return ms_fail(MS_EIO, "%s: not found", argv[0]);
  return ms_fail(MS_EIO, "%s: cannot start: %s", argv[0], strerror(err));
}

void ms_process_free(ms_process *p) {
  if (p == NULL) return;
  free(p->out);
  free(p->err);
  p->out = p->err = NULL;
  p->out_len = p->err_len = 0;
}
