/*
 * stack.h: the LIFO stack allocator, over a caller's buffer or a backing
 * allocator.
 *
 * Every block carries a small header recording where the stack stood before
 * it, so frees must come in reverse order of allocation and each one is
 * checked: freeing the top block pops it; freeing any other block is a
 * contract violation that is detected in every build. Markers release
 * everything above them at once.
 *
 * Contract of the handle (on top of alloc.h):
 *   alloc   pushes a block: header + padding + len above the top. Over a
 *           buffer: NULL iff it does not fit. Over a backing allocator: a new
 *           chunk (geometric growth) when it does not fit the current one;
 *           NULL iff the backing allocator fails. A failed alloc changes
 *           nothing but failed_count. Not zeroed. O(1).
 *   resize  the top block only, in place, within its buffer or chunk. Else
 *           false. O(1).
 *   remap   resize, else for the top block: a new top block (in a new chunk
 *           when over a backing allocator), contents copied, the old one
 *           released. NULL iff that cannot be had. O(len).
 *   free    the top block: popped, its bytes (and header) reusable at once
 *           (also when it was pushed before an open marker: see
 *           alloc_stack_save);
 *           a chunk left empty is kept as the one spare or given back, and
 *           a stack that empties keeps its largest chunk as the current one
 *           (returned at deinit). O(1), plus the chunks given back.
 *           Any other pointer (out of order, already freed, foreign) or a
 *           wrong len: debug builds report it via alloc_report_misuse, naming
 *           both blocks' allocation sites and the freeing call site (abort by
 *           default); release builds leave the state unchanged and count it
 *           in misuse_count.
 * Alignment: any power of two; blocks are at least 8-aligned (the header's
 * alignment). Over a backing allocator a block needs a chunk of header +
 * align - 1 + len bytes, which the backing allocator must be able to give.
 * Overhead: a 32-byte header per block, plus alignment padding.
 *
 * Cost: push and pop are O(1) (pop checks the LIFO order against the top
 * block's header). A pop that stays in its chunk, and a push/pop pair on an
 * empty stack, touch no chunk header; a chunk change costs a backing call
 * only when the spare cannot serve it. Measured figures live in
 * docs/benchmarks.md.
 *
 * Thread safety: none.
 *
 * Sanitizers: headers and every byte not handed out are poisoned (ASan) and
 * no-access (Valgrind); the stack is a Valgrind mempool whose blocks are the
 * allocations.
 */
#ifndef ALLOC_STACK_H
#define ALLOC_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "alloc/fit.h"
#include "alloc/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The header in front of every block. Private; visible for the fast path. */
typedef struct alloc_stack_header {
    uintptr_t prev_top; /* the top before this block was pushed */
    void *prev_block;   /* the block that was on top before this one (NULL: none) */
    size_t len;         /* the block's current length */
    uintptr_t ret_addr; /* where it was allocated (0 when unknown) */
} alloc_stack_header;

struct alloc_stack_chunk; /* private */

/* Growth policy over a backing allocator. Zero fields take the defaults. */
typedef struct alloc_stack_options {
    allocator backing;  /* .vtable NULL: the page allocator */
    size_t first_chunk; /* 0: 16 KiB; at least 256 */
    size_t max_chunk;   /* chunks double up to this; 0: 16 MiB */
} alloc_stack_options;

/* Open markers whose rollback the stack tracks through pops; see
 * alloc_stack_rollback for what happens beyond. */
#define ALLOC_STACK_LEVELS 16

/* Private: one open marker. */
typedef struct alloc_stack_level {
    uint64_t serial; /* the save that opened it */
    void *low;       /* the lowest top block since (NULL: empty): everything
                        above it was pushed after the marker */
} alloc_stack_level;

/* State of one stack; lives in caller memory. Fields are private. */
typedef struct alloc_stack {
    uintptr_t top, end;           /* free range of the buffer or current chunk */
    void *top_block;              /* user pointer of the top block, NULL when empty */
    uintptr_t base;               /* buffer mode: start of the buffer; chunk mode: 0 */
    struct alloc_stack_chunk *cur;   /* chunk mode: current chunk (prev chain: older) */
    struct alloc_stack_chunk *spare; /* chunk mode: one retained empty chunk */
    allocator backing;
    size_t first_chunk, max_chunk, next_size, chunk_count;
    unsigned slow;                /* non-zero: the fast path defers to the out-of-line one */
    alloc_stats stats;
    alloc_stack_level levels[ALLOC_STACK_LEVELS]; /* open markers, oldest first */
    unsigned level_count;
    uint64_t save_serial;         /* saves so far */
} alloc_stack;

/* A marker: the top block at the time it was taken. */
typedef struct alloc_stack_mark {
    void *top_block; /* the top block at save (NULL: the stack was empty) */
    uintptr_t top;   /* the top at save */
    uint64_t serial; /* which save this was */
    unsigned level;  /* its index among the open markers (ALLOC_STACK_LEVELS: none) */
} alloc_stack_mark;

/*
 * Initialises s over buf[0, cap) (no growth). Returns 0, or -EINVAL (s
 * untouched) iff s is NULL, buf is NULL with cap > 0, cap > ALLOC_MAX_LEN or
 * buf + cap wraps. O(1) (O(cap) under sanitizer tracking).
 */
ALLOC_API int alloc_stack_init_buffer(alloc_stack *s, void *buf, size_t cap);

/*
 * Initialises s over a backing allocator (opts NULL: the page allocator,
 * default sizes). Takes no memory until the first push. Returns 0, or -EINVAL
 * iff s is NULL, first_chunk < 256, first_chunk > max_chunk or max_chunk >
 * ALLOC_MAX_LEN / 2. O(1).
 */
ALLOC_API int alloc_stack_init(alloc_stack *s, const alloc_stack_options *opts);

/* Releases every block and gives every chunk back (buffer mode: unpoisons the
 * buffer). Live blocks at this point are not misuse. O(chunks). */
ALLOC_API void alloc_stack_deinit(alloc_stack *s);

/* The handle (ctx = s). Not thread-safe. */
ALLOC_API allocator alloc_stack_allocator(alloc_stack *s);

/* Out-of-line push (what the vtable calls). len > 0, align a power of two.
 * NULL iff it does not fit / the backing allocator fails. O(1). */
ALLOC_API void *alloc_stack_alloc(alloc_stack *s, size_t len, size_t align, uintptr_t ret_addr);

/*
 * Takes a marker and records it as open (which is why s is not const): a pop
 * of the block that was on top at the marker, or of any block under it, is
 * legal and the marker follows it down, so that a rollback still finds where
 * the blocks pushed after the marker begin. Never fails. O(1).
 */
ALLOC_API alloc_stack_mark alloc_stack_save(alloc_stack *s);

/*
 * Pops every block pushed after m (bytes poisoned; bytes_in_use lowered by
 * each one's length, so it is exact). m stays open; markers taken after it
 * are closed. Blocks from before m popped since (legal) do not make m stale.
 * Returns 0, or -EINVAL (nothing changed; misuse reported in debug builds,
 * counted in misuse_count) iff m is stale: taken before a reset or above an
 * earlier rollback. With more than ALLOC_STACK_LEVELS markers open, the
 * markers taken beyond are not tracked through pops: a rollback to one pops
 * down to its top block, and is refused if that block is no longer on the
 * stack. O(blocks popped + open markers).
 */
ALLOC_API int alloc_stack_rollback(alloc_stack *s, alloc_stack_mark m);

/* Pops everything at once, without walking the blocks: keeps the largest
 * chunk as the current one and gives the others back. Live blocks at this
 * point are not misuse. O(chunks) (plus O(bytes in use) in debug builds and
 * under sanitizer tracking, which fill and poison them). */
ALLOC_API void alloc_stack_reset(alloc_stack *s);

/* The top block (NULL when empty). O(1). */
ALLOC_API void *alloc_stack_top(const alloc_stack *s);

/* Live blocks. O(blocks). */
ALLOC_API size_t alloc_stack_depth(const alloc_stack *s);

/* Bytes left above the top in the buffer or current chunk. O(1). */
ALLOC_API size_t alloc_stack_remaining(const alloc_stack *s);

/* Fills *out. O(1). */
ALLOC_API void alloc_stack_stats(const alloc_stack *s, alloc_stats *out);

/* Calls walker(block, len, true, user) for every live block, top first (len
 * as pushed). Returns false iff the walker stopped the walk. The walker must
 * not push or pop. O(blocks). */
ALLOC_API bool alloc_stack_walk(const alloc_stack *s, alloc_walker walker, void *user);

/* Invariant check: a walk of the block chain (each header's prev_top below
 * its block, lengths summing to bytes_in_use), the open markers and the
 * chunks. O(blocks + chunks). */
ALLOC_API bool alloc_stack_check(const alloc_stack *s);

/*
 * Inline fast push for hot loops: as alloc_stack_alloc with ret_addr 0.
 * Preconditions: len > 0, align a power of two. Not thread-safe. Defers to
 * the out-of-line path when the block does not fit the current buffer or
 * chunk and in builds with sanitizer tracking.
 */
ALLOC_INLINE void *alloc_stack_alloc_fast(alloc_stack *s, size_t len, size_t align)
{
    if (align < 8) align = 8;
    uintptr_t top = s->top;
    uintptr_t p = alloc_bump_fit(top, s->end, sizeof(alloc_stack_header), len, align);
    if (ALLOC_UNLIKELY(s->slow | !p)) return alloc_stack_alloc(s, len, align, 0);
    alloc_stack_header *h = (alloc_stack_header *)(p - sizeof *h);
    h->prev_top = top;
    h->prev_block = s->top_block;
    h->len = len;
    h->ret_addr = 0;
    s->top = p + len;
    s->top_block = (void *)p;
    s->stats.alloc_count++;
    s->stats.bytes_in_use += len;
    alloc_peak_raise(&s->stats.peak_bytes_in_use, s->stats.bytes_in_use);
    return (void *)p;
}

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_STACK_H */
