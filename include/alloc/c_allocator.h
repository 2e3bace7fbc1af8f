/*
 * c_allocator.h: a handle over the C library's malloc family.
 *
 * The baseline the benchmarks compare against, and a backing allocator for
 * tests. Whatever malloc the process has (glibc, jemalloc, alloc's own global
 * adapter) is what this handle uses.
 *
 * Contract (on top of alloc.h):
 *   alloc   malloc for align <= alignof(max_align_t), else posix_memalign.
 *           Any power-of-two align. Not zeroed. NULL iff malloc fails.
 *   resize  succeeds iff new_len fits the block's usable size
 *           (malloc_usable_size, where the C library has it); never moves.
 *   remap   realloc for align <= alignof(max_align_t); NULL above (the
 *           caller copies, keeping the alignment).
 *   free    free.
 * Overhead and time: those of the C library. Thread-safe: as malloc is.
 */
#ifndef ALLOC_C_ALLOCATOR_H
#define ALLOC_C_ALLOCATOR_H

#include "alloc/alloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The C library's malloc as an allocator (stateless; ctx is NULL). */
ALLOC_API allocator alloc_c_allocator(void);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_C_ALLOCATOR_H */
