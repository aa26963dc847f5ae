/*
 * internal.h -- helpers shared by the engine's sources; not installed.
 */
#ifndef MS_INTERNAL_H
#define MS_INTERNAL_H

#include <stdio.h>

#include "momsandbox.h"

/* Record a detail message for ms_last_error() and return status. */
ms_status ms_fail(ms_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Loops poll this every few thousand steps: MS_EINTR after ms_interrupt(). */
ms_status ms_interrupted(void);
void ms_interrupt_clear(void);

/* torch.lerp(a, b, w) on one scalar, as ATen computes it (Adam, RMSprop). */
static inline double ms_lerp(double a, double b, double w) {
  return (w < 0 ? -w : w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w);
}

/* Overflow-checked allocation of count * size bytes, zero-filled. */
void *ms_calloc(size_t count, size_t size);

/* Name a built-in objective and record what is known of it: a plotting
 * window (4 numbers) and a global minimiser (dim numbers); either may be
 * NULL. */
void ms_objective_describe(ms_objective *obj, const char *name,
                           const double *window, const double *minimizer);

/* Large zero-filled buffers, backed by huge pages where possible (mem.c);
 * free with the same size. */
void *ms_big_alloc(size_t bytes);
void ms_big_free(void *p, size_t bytes);

/* A file written whole or not at all (file.c): write to fp, then
 * ms_file_end renames the temporary file over path, or removes it when
 * anything failed. */
typedef struct ms_file {
  FILE *fp;
  const char *path;
  char *tmp;
} ms_file;

ms_status ms_file_begin(const char *path, ms_file *file);
ms_status ms_file_end(ms_file *file, ms_status st);

/* The built-in update rules (rules/builtin.c). */
extern const ms_rule_class *const ms_rule_builtin[];
extern const size_t ms_rule_builtin_count;

#endif
