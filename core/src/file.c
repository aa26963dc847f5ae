/*
 * file.c -- writing a file as the user meant it, whole or not at all.
 *
 * A regular file (or a name not taken yet) is written into a temporary
 * file beside it and renamed over it only once everything is written: a
 * failure or a kill leaves the old file as it was; a file we may not
 * write is refused, whatever its folder allows.  A symbolic link is
 * followed, so its target is replaced and the link stays; the new file
 * keeps the mode and owner of the one it replaces.  A character device
 * (/dev/null, a terminal) or a FIFO that a process reads is written in
 * place; a folder, a block device, a socket or a FIFO nobody reads is
 * refused.  A write error is reported with the errno of the write that
 * failed ("No space left on device").
 *
 * The temporary file is locked while it is written, so that a later write
 * of the same file can tell one left by a killed process (unlocked, not
 * brand new) from one being written, and remove it.
 */
#define _GNU_SOURCE   /* fopencookie: the errno of the write that failed */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static const char TEMP_SUFFIX[] = ".tmp-XXXXXX";
enum { TEMP_LEN = sizeof TEMP_SUFFIX - 1, MAX_LINKS = 40 };
/* A temporary file younger than this may be one whose writer has not
 * locked it yet. */
enum { STALE_AFTER_SECONDS = 10 };

static ms_status cannot(const ms_file *file, int err) {
  return ms_fail(MS_EIO, "cannot write %s: %s", file->path, strerror(err));
}

static char *copy(const char *s, size_t len) {
  char *p = malloc(len + 1);
  if (p != NULL) memcpy(p, s, len), p[len] = '\0';
  return p;
}

/* ------------------------------------------------------ where it goes */

/* dir of path (up to and including its last '/') joined with name. */
static char *beside(const char *path, const char *name) {
  const char *slash = strrchr(path, '/');
  size_t dirlen = slash == NULL ? 0 : (size_t)(slash - path) + 1;
  size_t namelen = strlen(name);
  char *p = malloc(dirlen + namelen + 1);
  if (p == NULL) return NULL;
  memcpy(p, path, dirlen);
  memcpy(p + dirlen, name, namelen + 1);
  return p;
}

/* The name a write to path lands on: path with its last component's
 * symbolic links followed (also a link to a file not made yet), so that
 * the rename replaces the target, not the link.  NULL and errno. */
static char *final_target(const char *path) {
  char *cur = copy(path, strlen(path));
  char link[4096];
  for (int hops = 0; cur != NULL && hops < MAX_LINKS; hops++) {
    ssize_t n = readlink(cur, link, sizeof link - 1);
    if (n < 0) {
      if (errno == EINVAL || errno == ENOENT) return cur;   /* not a link */
      free(cur);
      return NULL;
    }
    if ((size_t)n == sizeof link - 1) {
      free(cur);
      errno = ENAMETOOLONG;
      return NULL;
    }
    link[n] = '\0';
    char *next = link[0] == '/' ? copy(link, (size_t)n) : beside(cur, link);
    free(cur);
    cur = next;
  }
  if (cur != NULL) errno = ELOOP;
  free(cur);
  return NULL;
}

/* --------------------------------------------- temporaries left behind */

static int is_temp_of(const char *name, const char *base, size_t baselen) {
  return strlen(name) == baselen + TEMP_LEN && memcmp(name, base, baselen) == 0 &&
         memcmp(name + baselen, TEMP_SUFFIX, TEMP_LEN - 6) == 0;
}

/* Remove the temporary file name in dir if its writer is gone: nobody
 * holds its lock and it is not brand new. */
static void remove_if_stale(int dir, const char *name) {
  int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      time(NULL) - st.st_mtime > STALE_AFTER_SECONDS &&
      flock(fd, LOCK_EX | LOCK_NB) == 0)
    unlinkat(dir, name, 0);
  close(fd);
}

/* Remove the temporary files of earlier writes of target that were
 * killed half-way. */
static void remove_stale_temps(const char *target) {
  const char *slash = strrchr(target, '/');
  const char *base = slash == NULL ? target : slash + 1;
  char *dirname = slash == NULL ? copy(".", 1)
                  : copy(target, slash == target ? 1 : (size_t)(slash - target));
  DIR *d = dirname != NULL ? opendir(dirname) : NULL;
  free(dirname);
  if (d == NULL) return;
  size_t baselen = strlen(base);
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (is_temp_of(e->d_name, base, baselen)) remove_if_stale(dirfd(d), e->d_name);
  closedir(d);
}

/* -------------------------------------------------------- the stream */

/* fp's writes go straight to the descriptor, and the first failure's
 * errno is kept: stdio's own would be overwritten by later calls. */
static ssize_t cookie_write(void *cookie, const char *buf, size_t size) {
  ms_file *file = cookie;
  size_t done = 0;
  while (done < size && file->err == 0) {
    ssize_t n = write(file->fd, buf + done, size - done);
    if (n > 0) done += (size_t)n;
    else if (n < 0 && errno == EINTR) continue;
    else file->err = n < 0 ? errno : EIO;
  }
  return (ssize_t)done;
}

static ms_status open_stream(ms_file *file) {
  cookie_io_functions_t io = {NULL, cookie_write, NULL, NULL};
  file->fp = fopencookie(file, "w", io);
  return file->fp != NULL ? MS_OK : ms_fail(MS_ENOMEM, "out of memory");
}

/* A FIFO whose reader goes away makes a write fail with EPIPE, reported
 * like any failed write, instead of killing the process with SIGPIPE. */
static void block_sigpipe(ms_file *file) {
  sigset_t pipe_only, *old = malloc(sizeof *old);
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  if (old != NULL && pthread_sigmask(SIG_BLOCK, &pipe_only, old) == 0)
    file->old_mask = old;
  else
    free(old);
}

/* Discard the SIGPIPE the writes raised (unless the caller had blocked
 * it already) and restore the mask. */
static void unblock_sigpipe(ms_file *file) {
  sigset_t *old = file->old_mask, pipe_only, pending;
  if (old == NULL) return;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  struct timespec zero = {0, 0};
  if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) &&
      !sigismember(old, SIGPIPE))
    sigtimedwait(&pipe_only, NULL, &zero);
  pthread_sigmask(SIG_SETMASK, old, NULL);
  free(old);
  file->old_mask = NULL;
}

/* ------------------------------------------------------ the two ways */

/* Into a new temporary file beside target, which replaces it at the end;
 * old describes the file it replaces, or is NULL. */
static ms_status begin_replace(ms_file *file, const struct stat *old) {
  file->target = final_target(file->path);
  if (file->target == NULL) return cannot(file, errno);
  /* a file its owner made read-only is not replaced behind their back,
   * though the folder would allow it (as `echo > file` would refuse) */
  if (old != NULL && access(file->target, W_OK) != 0) return cannot(file, errno);
  remove_stale_temps(file->target);
  size_t len = strlen(file->target);
  if ((file->tmp = malloc(len + sizeof TEMP_SUFFIX)) == NULL)
    return ms_fail(MS_ENOMEM, "out of memory");
  memcpy(file->tmp, file->target, len);
  memcpy(file->tmp + len, TEMP_SUFFIX, sizeof TEMP_SUFFIX);
  if ((file->fd = mkstemp(file->tmp)) < 0) {
    int err = errno;
    free(file->tmp);
    file->tmp = NULL;
    if (old == NULL) return cannot(file, err);   /* a missing folder, say */
    /* the file is there: its folder failed (/proc/version: "No such file") */
    return ms_fail(MS_EIO, "cannot write %s: no temporary file can be made beside it (%s)",
                   file->path, strerror(err));
  }
  flock(file->fd, LOCK_EX);   /* mine until renamed: see remove_if_stale */
  if (old != NULL) {
    /* as root (or owning the group) the owner stays; otherwise the file
     * becomes the writer's, as any rewrite by another user would */
    if (old->st_uid != geteuid() || old->st_gid != getegid())
      (void)!fchown(file->fd, old->st_uid, old->st_gid);
    fchmod(file->fd, old->st_mode & 07777);
  } else {
    mode_t mask = umask(0);   /* mkstemp's file is private (0600) */
    umask(mask);
    fchmod(file->fd, 0666 & ~mask);
  }
  return open_stream(file);
}

/* Into the file itself: a device or a FIFO, whose reader would gain
 * nothing from a temporary file; a FIFO nobody reads is refused rather
 * than waited for. */
static ms_status begin_in_place(ms_file *file, mode_t mode) {
  if (S_ISDIR(mode)) return ms_fail(MS_EIO, "cannot write %s: it is a folder", file->path);
  if (S_ISBLK(mode))
    return ms_fail(MS_EIO, "cannot write %s: it is a block device", file->path);
  if (S_ISSOCK(mode)) return ms_fail(MS_EIO, "cannot write %s: it is a socket", file->path);
  if (!S_ISCHR(mode) && !S_ISFIFO(mode))
    return ms_fail(MS_EIO, "cannot write %s: not a regular file", file->path);
  file->fd = open(file->path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (file->fd < 0 && errno == ENXIO && S_ISFIFO(mode))
    return ms_fail(MS_EIO, "cannot write %s: no process reads this FIFO", file->path);
  if (file->fd < 0) return cannot(file, errno);
  fcntl(file->fd, F_SETFL, fcntl(file->fd, F_GETFL) & ~O_NONBLOCK);
  if (S_ISFIFO(mode)) block_sigpipe(file);
  return open_stream(file);
}

/* ------------------------------------------------------------- public */

ms_status ms_file_begin(const char *path, ms_file *file) {
  memset(file, 0, sizeof *file);
  file->fd = -1;
  file->path = path;
  if (path == NULL || path[0] == '\0')
    return ms_fail(MS_EINVAL, "a file name must not be empty");
  if (path[strlen(path) - 1] == '/')
    return ms_fail(MS_EIO, "cannot write %s: it names a folder", path);
  struct stat st;
  ms_status status;
  if (stat(path, &st) == 0)
    status = S_ISREG(st.st_mode) ? begin_replace(file, &st)
                                 : begin_in_place(file, st.st_mode);
  else if (errno == ENOENT) status = begin_replace(file, NULL);
  else status = cannot(file, errno);
  return status == MS_OK ? MS_OK : ms_file_end(file, status);
}

ms_status ms_file_end(ms_file *file, ms_status st) {
  if (file->fp != NULL && fclose(file->fp) != 0 && file->err == 0) file->err = EIO;
  file->fp = NULL;
  if (st == MS_OK && file->err != 0) st = cannot(file, file->err);
  if (st == MS_OK && file->tmp != NULL && rename(file->tmp, file->target) != 0)
    st = cannot(file, errno);
  if (st != MS_OK && file->tmp != NULL) unlink(file->tmp);
  /* closed after the rename: the lock guards the name until then, and a
   * network file system may report a failed write only here */
  if (file->fd >= 0 && close(file->fd) != 0 && st == MS_OK && file->tmp == NULL)
    st = cannot(file, errno);
  unblock_sigpipe(file);
  free(file->tmp);
  free(file->target);
  file->tmp = file->target = NULL;
  file->fd = -1;
  return st;
}

void ms_file_put_number(FILE *fp, double x, int first) {
  char buf[32];
  ms_format_double(buf, sizeof buf, x);
  if (!first) fputc(',', fp);
  fputs(buf, fp);
}

ms_status ms_write_file(const char *path, const void *data, size_t size) {
  MS_NEED(path);
  if (data == NULL && size > 0) return ms_fail(MS_EINVAL, "no data to write");
  if (size > PTRDIFF_MAX) return ms_fail(MS_ERANGE, "cannot write %zu bytes", size);
  ms_file file;
  ms_status st = ms_file_begin(path, &file);
  if (st != MS_OK) return st;
  if (size > 0 && fwrite(data, 1, size, file.fp) != size && file.err == 0)
    file.err = EIO;
  return ms_file_end(&file, MS_OK);
}
