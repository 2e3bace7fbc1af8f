/*
 * fit.h: arithmetic shared by the strategies' out-of-line code and the inline
 * fast paths of bump.h and stack.h. Installed because those public inline
 * functions need it; not an interface of its own (the names may change with
 * the strategies that use them). Freestanding: no libc, no state.
 */
#ifndef ALLOC_FIT_H
#define ALLOC_FIT_H

#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Bump fit: where a block of len bytes, preceded by head bytes of header,
 * starts when placed at the first address at or above top + head that is a
 * multiple of align, provided the block ends at or below end.
 * Preconditions: top <= end, align a power of two; len and head any value
 * (sums are compared against end - top, so nothing overflows).
 * Returns the block's start (top + padding + head), or 0 iff it does not fit.
 * Changes nothing: callers move their top only after a non-zero answer, so a
 * failed fit leaves no damage. O(1), no loop.
 */
ALLOC_INLINE uintptr_t alloc_bump_fit(uintptr_t top, uintptr_t end, size_t head, size_t len, size_t align)
{
    size_t avail = (size_t)(end - top);
    size_t need = (size_t)((-(top + head)) & (align - 1)) + head;
    if (ALLOC_UNLIKELY((need > avail) | (len > avail - need))) return 0;
    return top + need;
}

/* Raises a high-water mark: *peak becomes max(*peak, value). Peaks never
 * decrease. Not atomic (pool_mt keeps its own compare-and-swap). O(1). */
ALLOC_INLINE void alloc_peak_raise(size_t *peak, size_t value)
{
    if (value > *peak) *peak = value;
}

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_FIT_H */
