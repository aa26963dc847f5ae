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
 * and marked for transparent huge pages, one fault per 2 MiB.
 */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "internal.h"

enum { BIG = 4 << 20 };   /* below this, calloc does just as well */

void *ms_calloc(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  return calloc(count ? count : 1, size ? size : 1);
}

void *ms_big_alloc(size_t bytes) {
#ifdef MADV_HUGEPAGE
  if (bytes >= BIG) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    madvise(p, bytes, MADV_HUGEPAGE);   /* a hint: failure is harmless */
    return p;
  }
#endif
  return calloc(bytes ? bytes : 1, 1);
}

void ms_big_free(void *p, size_t bytes) {
  if (p == NULL) return;
#ifdef MADV_HUGEPAGE
  if (bytes >= BIG) {
    munmap(p, bytes);
    return;
  }
#endif
  (void)bytes;
  free(p);
}
