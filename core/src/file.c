/*
 * file.c -- writing files whole or not at all: output goes to a temporary
 * file beside the target, renamed over it only once everything is written.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

int ms_open_temp(char *name) {
  size_t len = strlen(name);
  memcpy(name + len, ".tmp-XXXXXX", sizeof ".tmp-XXXXXX");
  int fd = mkstemp(name);
  if (fd < 0) return -1;
  /* mkstemp makes the file private (0600); the file it becomes should get
   * the permissions of any other new file. */
  mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  return fd;
}

ms_status ms_file_begin(const char *path, ms_file *file) {
  size_t len = strlen(path);
  file->fp = NULL;
  file->path = path;
  file->tmp = malloc(len + sizeof ".tmp-XXXXXX");
  if (file->tmp == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  memcpy(file->tmp, path, len + 1);
  int fd = ms_open_temp(file->tmp);
  if (fd < 0 || (file->fp = fdopen(fd, "w")) == NULL) {
    ms_status st = ms_fail(MS_EIO, "cannot write %s: %s", path, strerror(errno));
    if (fd >= 0) {
      close(fd);
      remove(file->tmp);
    }
    free(file->tmp);
    file->tmp = NULL;
    return st;
  }
  return MS_OK;
}

ms_status ms_file_end(ms_file *file, ms_status st) {
  if (file->tmp == NULL) return st;
  int failed = ferror(file->fp);
  int err = errno;
  if (fclose(file->fp) != 0 && !failed) {
    failed = 1;
    err = errno;
  }
  if (st == MS_OK && failed)
    st = ms_fail(MS_EIO, "cannot write %s: %s", file->path, strerror(err));
  if (st == MS_OK && rename(file->tmp, file->path) != 0)
    st = ms_fail(MS_EIO, "cannot write %s: %s", file->path, strerror(errno));
  if (st != MS_OK) remove(file->tmp);
  free(file->tmp);
  file->tmp = NULL;
  return st;
}

void ms_file_put_number(FILE *fp, double x, int first) {
  char buf[32];
  ms_format_double(buf, sizeof buf, x);
  if (!first) fputc(',', fp);
  fputs(buf, fp);
}

ms_status ms_write_file(const char *path, const void *data, size_t size) {
  ms_file file;
  ms_status st = ms_file_begin(path, &file);
  if (st != MS_OK) return st;
  fwrite(data, 1, size, file.fp);
  return ms_file_end(&file, MS_OK);
}
