/*
 * stats.h: the one statistics record every strategy and wrapper fills.
 *
 * Fields a strategy cannot know are 0 (documented in its header). Peaks and
 * counts never decrease over the life of an allocator (a reset does not clear
 * them); the "current" fields go up and down.
 */
#ifndef ALLOC_STATS_H
#define ALLOC_STATS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Counters and byte totals of one allocator (see above for monotonicity). */
typedef struct alloc_stats {
    size_t bytes_in_use;        /* sum of the lengths of live allocations, as requested */
    size_t peak_bytes_in_use;   /* highest bytes_in_use so far; never decreases */
    size_t bytes_reserved;      /* bytes currently held from the backing allocator or buffer */
    size_t peak_bytes_reserved; /* highest bytes_reserved so far; never decreases */
    uint64_t alloc_count;       /* successful allocations; never decreases */
    uint64_t free_count;        /* frees that gave memory back; never decreases */
    uint64_t resize_count;      /* successful in-place resizes; never decreases */
    uint64_t remap_count;       /* successful remaps (moved or not); never decreases */
    uint64_t failed_count;      /* alloc and remap requests that returned NULL; never decreases */
    uint64_t misuse_count;      /* contract violations detected and tolerated in release
                                   builds (e.g. out-of-order free); never decreases */
} alloc_stats;

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_STATS_H */
