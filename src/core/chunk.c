/*
 * chunk.c: taking chunks from a backing allocator and giving them back, for
 * the strategies that carve their own blocks out of chunks (arena, stack;
 * see the glossary in internal.h).
 *
 * Every such strategy did the same four things around its backing
 * allocator's alloc and free: round the request up to what the backing
 * allocator hands out anyway (a page allocator maps whole pages; asking for
 * them lets the chunk use the tail), check the alignment it promised, count
 * the bytes as reserved, and keep the chunk poisoned until blocks are carved
 * from it. Doing them here keeps the order (poison after the check, count
 * only what was had) the same for all of them.
 */
#include "internal.h"

#include "alloc/os.h"
#include "alloc/page.h"

size_t alloc_backing_round(allocator backing, size_t len)
{
    size_t granule = alloc_page_granule(backing);
    if (granule <= 1) return len;
    if (len > ALLOC_MAX_LEN - granule) return 0;
    return alloc_align_up(len, granule);
}

void *alloc_chunk_take(allocator backing, size_t *size, size_t align, alloc_stats *stats, uintptr_t ret_addr)
{
    ALLOC_ASSERT(alloc_is_pow2(align) && *size > 0);
    size_t n = alloc_backing_round(backing, *size);
    if (!n) return NULL;
    void *c = backing.vtable->alloc(backing.ctx, n, align, ret_addr);
    if (!c) return NULL;
    ALLOC_CHECK(alloc_is_aligned(c, align), "chunk: backing allocator returned %p, not %zu-aligned", c, align);
    alloc_stats_note_reserve(stats, n);
    ALLOC_TRACK_NOACCESS(c, n);
    *size = n;
    return c;
}

void alloc_chunk_give(allocator backing, void *chunk, size_t size, size_t align, alloc_stats *stats,
                      uintptr_t ret_addr)
{
    ALLOC_ASSERT(chunk != NULL && alloc_is_aligned(chunk, align));
    /* The next owner of these bytes must not inherit our poison. */
    ALLOC_TRACK_UNDEFINED(chunk, size);
    backing.vtable->free(backing.ctx, chunk, size, align, ret_addr);
    alloc_stats_note_release(stats, size);
}
