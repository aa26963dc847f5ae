/*
 * mem.c -- the engine's allocation: zero-filled arrays whose size is a
 * product (count * size, checked for overflow), and large zero-filled
 * buffers (trajectories, data, sweep results).
 *
 * A product that wraps would allocate too little: ms_calloc returns NULL
 * for it, as for memory that is not there.
 *
 * Writing to fresh memory costs a page fault per 4 KiB page, and on
 * virtual machines a fault is slow: filling a 32 MiB trajectory took 7x
 * longer than computing it.  Large buffers are therefore mapped directly
 * at an address aligned to 2 MiB and marked for transparent huge pages,
 * one fault per 2 MiB; trajectories reuse the last one given back.
 */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "internal.h"

/* Below this, calloc does just as well.  A sweep's results of 256^2 runs
 * (2 MiB) faulted in 4 KiB at a time cost a fifth of its time on one
 * thread: from 1 MiB on, a huge page is worth its slack. */
enum { BIG = 1 << 20 };
#define HUGE_PAGE ((size_t)2 << 20)

void *ms_calloc(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  return calloc(count ? count : 1, size ? size : 1);
}

#ifdef MADV_HUGEPAGE
/* The length mapped for a buffer of `bytes`: whole huge pages, so that the
 * last one is not left to 4 KiB faults. */
static size_t mapped(size_t bytes) {
  return (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

/* `bytes` of fresh zeroed memory at an address aligned to 2 MiB, marked
 * for huge pages: mmap alone aligns to 4 KiB, and the kernel backs only
 * aligned 2 MiB ranges with a huge page -- a trajectory of 48 MB faulted
 * in 4 KiB at a time cost 2.5 ns a step.  The slack is unmapped. */
static void *map_aligned(size_t bytes) {
  size_t len = mapped(bytes);
  if (len < bytes || len + HUGE_PAGE < len) return NULL;
  char *p = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  char *start = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
  if (start > p) munmap(p, (size_t)(start - p));
  size_t tail = (size_t)(p + len + HUGE_PAGE - (start + len));
  if (tail > 0) munmap(start + len, tail);
  madvise(start, len, MADV_HUGEPAGE);   /* a hint: failure is harmless */
  return start;
}
#endif

void *ms_big_alloc(size_t bytes) {
#ifdef MADV_HUGEPAGE
  if (bytes >= BIG) return map_aligned(bytes);
#endif
  return calloc(bytes ? bytes : 1, 1);
}

void ms_big_free(void *p, size_t bytes) {
  if (p == NULL) return;
#ifdef MADV_HUGEPAGE
  if (bytes >= BIG) {
    munmap(p, mapped(bytes));
    return;
  }
#endif
  (void)bytes;
  free(p);
}

/* ------------------------------------------------ reused large buffers
 * A trajectory is written before it is read, so it needs no zeroed
 * memory: the last large buffer given back is kept and handed out again
 * to a buffer of as many huge pages, which spares the next run of that
 * length its page faults and the kernel's zeroing of every page (a run of
 * 2e6 steps at d = 2 writes 48 MB).  One buffer is kept: a long run's
 * memory is given back to the system when a run of another length comes. */

static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static void *kept;          /* the buffer kept, or NULL */
static size_t kept_bytes;   /* the size it was asked for with */

void *ms_big_take(size_t bytes) {
  if (bytes < BIG) return malloc(bytes ? bytes : 1);
#ifdef MADV_HUGEPAGE
  pthread_mutex_lock(&kept_lock);
  void *p = kept;
  size_t have = kept_bytes;
  kept = NULL;
  pthread_mutex_unlock(&kept_lock);
  if (p != NULL && mapped(have) == mapped(bytes)) return p;
  ms_big_free(p, have);
#endif
  return ms_big_alloc(bytes);
}

void ms_big_give(void *p, size_t bytes) {
  if (p == NULL) return;
  if (bytes < BIG) {
    free(p);
    return;
  }
  pthread_mutex_lock(&kept_lock);
  void *old = kept;
  size_t old_bytes = kept_bytes;
  kept = p;
  kept_bytes = bytes;
  pthread_mutex_unlock(&kept_lock);
  ms_big_free(old, old_bytes);
}
