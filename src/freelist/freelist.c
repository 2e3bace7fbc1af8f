/*
 * freelist.c: a coalescing free-list heap with boundary tags; TLSF segregated
 * fit by default, first fit and best fit over an address-ordered list.
 *
 * The algorithm
 * -------------
 * The heap is a set of regions; each region is tiled exactly by blocks,
 * ended by a zero-size sentinel that is always "used". A block is a header
 * word followed by its payload:
 *
 *       block b                                      next block
 *       v                                            v
 *       +--------+-----------------------------------+--------+----
 *       | size|f | payload (size - 8 bytes)          | size|f | ...
 *       +--------+-----------------------------------+--------+----
 *                ^ 16-byte aligned
 *
 * size counts the header and is a multiple of 16; blocks start 8 bytes
 * before a 16-byte boundary, so every payload is 16-aligned. The low bits of
 * the header hold flags: FREE (this block is free), PREV_FREE (the block
 * before it is free) and FIRST (it is the first block of its region). A free
 * block also keeps two list links at the start of its payload and a footer
 * (its size) in its last word:
 *
 *       | size|FREE | next | prev | ...unused... | size | (next block: PREV_FREE)
 *
 * The footer is the "boundary tag" of Knuth: it lets free find the block
 * before it in O(1), but it is only needed when that block is free, so a used
 * block needs no footer and its payload runs up to the next header. That is
 * why a live allocation costs one word, not two (the trick TLSF uses).
 *
 * free(b) marks b free, then merges it with the block after it if that one is
 * free (read its header at b + size) and with the block before it if the
 * PREV_FREE bit says so (read the footer at b - 8, then that block's header),
 * so two free blocks are never adjacent. alloc takes a free block of at least
 * the needed size off its list, splits off the rest as a new free block when
 * the rest can hold a free block (ALLOC_FREELIST_MIN_BLOCK, 32 bytes),
 * otherwise hands over the whole block. An aligned request first splits off
 * the leading gap before the aligned payload as a free block of its own.
 *
 * Finding a free block is the policy's job:
 *  - TLSF (Masmano et al., "TLSF: a new dynamic memory allocator for
 *    real-time systems", 2004): free blocks live in 56 x 32 lists by size
 *    class. The first level is the power of two of the size, the second level
 *    splits each power of two into 32 equal ranges; blocks under 512 bytes
 *    get 32 exact classes of 16 bytes. A bitmap per level says which lists are
 *    non-empty. A request is rounded up to the next class boundary, so any
 *    block of the first non-empty class at or above it fits: two
 *    find-first-set instructions find it. Insert and remove are O(1) too.
 *    Waste of the rounding is under 1/32 of the request.
 *  - First fit and best fit (Knuth, TAOCP vol. 1, 2.5): one list of all free
 *    blocks in address order, walked from the lowest address. Keeping address
 *    order makes free O(free blocks) when the block has no free neighbour;
 *    with a free neighbour the merged block simply takes the neighbour's place.
 *
 * Bounds: TLSF alloc and free O(1) (growing the heap adds one backing
 * allocation, a free that empties a region may give it back: one backing
 * free); list policies O(free blocks). resize is O(1) plus the policy's
 * insert/remove; remap that moves adds a copy. Overhead: 8 bytes per live
 * block plus rounding to 16 (at most 23 for len >= 24), minimum block 32
 * bytes; per region a 48-byte descriptor at its start and an 8-byte sentinel
 * at its end. Debug level 2 runs the invariant checker after every operation.
 *
 * The small-block cache (TLSF): most programs free and retake blocks of the
 * same few sizes, and for those the class path (search, unlink, split; on
 * free, two neighbour checks, up to two merges, relink) is most of the cost.
 * So a freed block of at most 4 KiB + 16 bytes first tries a LIFO list of
 * blocks of exactly its size (258 lists indexed by size / 16, the link in the
 * payload's first word); it keeps its header, with F_CACHED set, so its
 * neighbours see it as taken and never merge with it, and an alloc of that
 * block size pops it: a few loads and stores each way and no neighbour
 * touched (the idea of the "quick lists" of Weinstock and Wulf, 1988, and of
 * the per-size caches in front of many general heaps). What keeps it O(1)
 * and keeps the heap's memory use: each list holds at most 16 blocks, the
 * cache at most 2,048 blocks and min(4 MiB, reserved / 32) bytes (beyond
 * that a free takes the class path); a search that finds nothing in a heap
 * that cannot grow flushes the whole cache into the classes before it fails
 * (a constant bound, paid only by a full heap; a growing heap grows instead,
 * which bounds the latency of its allocs); trim flushes it. Two more
 * rules keep cached blocks from holding memory the heap would otherwise give
 * back or merge: a growing heap that is mostly free space skips the cache and
 * flushes it (otherwise cached blocks keep emptied regions alive), and an
 * aging hand (CLOCK) flushes a list no alloc has taken from during a whole
 * sweep (sizes the program stopped asking for). The bounds are a trade: a
 * cache too small to catch most frees of a program churning many sizes only
 * delays their merges to a time when the blocks' memory is cold again (no
 * gain); a few MiB, at most 1/32 of the heap, catches most of them. A cached
 * block counts as freed for the stats and in cached_blocks/cached_bytes for
 * the checker, which finds every flagged block on the list of its size.
 * Double free stays detected in every build (F_FREE or F_CACHED on free),
 * the tag and link of a cached block are checked before an alloc trusts
 * them, and its payload stays poisoned while it waits.
 *
 * Growth without copying: a block alone in its owned region grows by
 * extending the region (backing resize in place, or remap: mremap for pages,
 * so the pages move and nothing is copied), by at least half its length each
 * time; a block that must move past the large-block size moves into a region
 * of its own whose free tail is kept off the lists (F_UNLISTED) for it; a
 * block with a large enough free predecessor slides down into it (memmove).
 * Large freed ranges give their pages back (alloc_os_purge) once the heap's
 * free bytes pass retain_bytes.
 *
 * Damage: every tag the heap is about to trust is checked first (tag,
 * next_tag, prev_free_block, the safe unlinking in list_remove); on 64-bit
 * targets each header's top byte repeats its low byte, so short overruns
 * into the next header show. A damaged tag is reported, never followed.
 *
 * Regions: a region's descriptor sits at its 16-aligned start; the first
 * block follows at a fixed offset, so a block flagged FIRST finds its region
 * in O(1). That is how free notices a region that has become entirely free
 * (its first block is free and reaches the sentinel) and gives it back to
 * the backing allocator, or keeps it while empty regions add up to at most
 * retain_bytes (hysteresis).
 *
 * Sanitizers: everything not handed out (headers, free blocks, the tail of a
 * block after len) is poisoned for ASan and no-access for Valgrind; the heap
 * opens each metadata word for the instant it reads or writes it (word_get,
 * word_set). Each live block is a Valgrind mempool chunk of the heap.
 */
#include <errno.h>

#include "../core/internal.h"
#include "../core/trace.h"
#include "alloc/freelist.h"
#include "alloc/os.h"
#include "alloc/page.h"

#define HDR ALLOC_FREELIST_HEADER
#define GRAN ALLOC_FREELIST_GRANULE
#define MIN_BLOCK ALLOC_FREELIST_MIN_BLOCK
#define SL_LOG2 ALLOC_FREELIST_SL_LOG2
#define SL_COUNT ALLOC_FREELIST_SL_COUNT
#define FL_COUNT ALLOC_FREELIST_FL_COUNT
/* Blocks below this size have exact classes (fl 0): 32 classes of 16 bytes. */
#define SMALL_LIMIT ((size_t)SL_COUNT * GRAN)

#define F_FREE ((size_t)1)
#define F_PREV_FREE ((size_t)2)
/* On a block: the first block of its region. On a zero-size header: the
 * region's end sentinel (a zero-size header without it is damage). */
#define F_FIRST ((size_t)4)
/* On a free block: the reserved tail of a large block's own region, kept on
 * no list so that other requests do not take the room the block grows into. */
#define F_UNLISTED ((size_t)8)
/* On a block that is not free: it waits in the small-block cache. The same
 * bit as F_UNLISTED, which only free blocks carry. */
#define F_CACHED F_UNLISTED
#define F_MASK (GRAN - 1)
#define CACHE_MAX_BLOCK ALLOC_FREELIST_CACHE_MAX_BLOCK
#define CACHE_CLASSES ALLOC_FREELIST_CACHE_CLASSES
/* Blocks cached between two steps of the aging hand (a power of two). */
#define CACHE_AGE_EVERY ((size_t)64)

/* The tag's copy byte. On 64-bit targets the top byte of every header holds a
 * copy of its low byte (flags and the lowest size bits): an overrun of a few
 * bytes past a block rewrites the next header's low byte but not its top
 * byte, so the damage shows before the heap follows the tag. Sizes stay
 * below 2^56, more than any address space holds. 32-bit targets have no
 * spare byte and rely on the structural checks alone. */
#if SIZE_MAX > 0xFFFFFFFFu
#define TAG_COPY_SHIFT 56
#define TAG_SIZE_LIMIT (((size_t)1 << TAG_COPY_SHIFT) - 1)
/* v's size is below TAG_SIZE_LIMIT (every block size is checked against it
 * where it is made), so its top byte is free. */
static inline size_t tag_with_copy(size_t v) { return v | (v << TAG_COPY_SHIFT); }
static inline bool tag_copy_ok(size_t h) { return ((h ^ (h >> TAG_COPY_SHIFT)) & 0xFF) == 0; }
static inline size_t flag_bits(size_t flag) { return flag | (flag << TAG_COPY_SHIFT); }
#else
#define TAG_SIZE_LIMIT SIZE_MAX
static inline size_t tag_with_copy(size_t v) { return v; }
static inline bool tag_copy_ok(size_t h) { return (void)h, true; }
static inline size_t flag_bits(size_t flag) { return flag; }
#endif

_Static_assert(sizeof(size_t) == sizeof(void *), "block links share words with sizes");
_Static_assert(GRAN > HDR && GRAN % HDR == 0, "payloads must be granule-aligned after a header");
_Static_assert(MIN_BLOCK % GRAN == 0 && MIN_BLOCK >= HDR + 2 * sizeof(void *) + HDR, "free block must fit");
_Static_assert(SMALL_LIMIT == 512, "class mapping assumes 512-byte small limit");
_Static_assert(CACHE_CLASSES == CACHE_MAX_BLOCK / GRAN + 1, "one cache list per block size up to the largest");
_Static_assert(ALLOC_FREELIST_CACHE_DEPTH < 256, "cache_count is a byte");

typedef struct alloc_freelist_region {
    struct alloc_freelist_region *next, *prev;
    void *base;      /* what the backing allocator returned, or the caller's buffer */
    size_t base_len; /* its length (as passed to the backing allocator, or the buffer size) */
    char *sentinel;  /* the end sentinel's header; blocks tile [first block, sentinel) */
    bool owned;      /* from the backing allocator, so it can be given back */
    bool sole;       /* a large block's own region: the free tail after its first block is unlisted */
    bool empty;      /* entirely free and kept for reuse (counted in retained_bytes) */
} region;

/* The first block of a region starts this far from the region's start. */
#define FIRST_OFFSET ((sizeof(region) + HDR + GRAN - 1) / GRAN * GRAN - HDR)
_Static_assert(FIRST_OFFSET + HDR + GRAN - 1 <= ALLOC_FREELIST_REGION_OVERHEAD, "region overhead documented");

/* --- metadata access ---------------------------------------------------------
 * Every read or write of a header, footer or link goes through these, so the
 * sanitizers see the word as accessible only while the heap touches it. */

static inline size_t word_get(const void *p)
{
    size_t v;
    alloc_meta_read(&v, p, sizeof v);
    return v;
}

static inline void word_set(void *p, size_t v) { alloc_meta_write(p, &v, sizeof v); }

static inline size_t hdr(const char *b) { return word_get(b); }
static inline void set_hdr(char *b, size_t v) { word_set(b, tag_with_copy(v)); }
static inline size_t size_of(size_t h) { return h & TAG_SIZE_LIMIT & ~F_MASK; }
static inline char *payload_of(char *b) { return b + HDR; }
static inline char *block_of(const void *p) { return (char *)p - HDR; }
static inline char *link_next(const char *b) { return (char *)word_get(b + HDR); }
static inline char *link_prev(const char *b) { return (char *)word_get(b + HDR + sizeof(void *)); }
static inline void set_next(char *b, const char *n) { word_set(b + HDR, (size_t)(uintptr_t)n); }
static inline void set_prev(char *b, const char *p) { word_set(b + HDR + sizeof(void *), (size_t)(uintptr_t)p); }
static inline void set_footer(char *b, size_t size) { word_set(b + size - HDR, size); }

/* Flags change in both bytes, so a damaged tag stays damaged (a read-modify-
 * write must not launder it into a valid one). */
static inline void set_flag(char *b, size_t flag) { word_set(b, hdr(b) | flag_bits(flag)); }
static inline void clear_flag(char *b, size_t flag) { word_set(b, hdr(b) & ~flag_bits(flag)); }

/* The tag of block b, which the heap is about to trust: its copy byte must
 * agree. Every build; a damaged tag is reported, never followed. */
ALLOC_INLINE size_t tag(const char *b)
{
    size_t h = hdr(b);
    ALLOC_CHECK(tag_copy_ok(h), "freelist: boundary tag at %p (%zx) is damaged (overrun of the block before it?)",
                (const void *)b, h);
    return h;
}

/* Whether [p, p + len) lies inside the span of addresses the heap's regions
 * have covered: the O(1) bound checked before a size or link read from a tag
 * is followed. */
static inline bool in_heap(const alloc_freelist *h, const void *p, size_t len)
{
    uintptr_t a = (uintptr_t)p;
    return a >= h->lo && a <= h->hi && len <= h->hi - a;
}

/* Whether p can be a block's address: inside the heap, 8 bytes before a
 * granule boundary. */
static inline bool plausible_block(const alloc_freelist *h, const void *p)
{
    return ((uintptr_t)p & (GRAN - 1)) == GRAN - HDR && in_heap(h, p, MIN_BLOCK);
}

static inline region *region_of_first(char *b) { return (region *)(void *)(b - FIRST_OFFSET); }
static inline char *first_block(region *r) { return (char *)r + FIRST_OFFSET; }

/* Block size for a payload of len bytes: header + len rounded up to the
 * granule, at least the minimum block. Callers ensure len <= ALLOC_MAX_LEN. */
static inline size_t block_need(size_t len)
{
    size_t n = (len + HDR + GRAN - 1) & ~(GRAN - 1);
    return n < MIN_BLOCK ? MIN_BLOCK : n;
}

/* Index of the highest set bit of x (x != 0). */
static inline unsigned msb(size_t x)
{
    return (unsigned)(sizeof(unsigned long long) * 8 - 1) - (unsigned)__builtin_clzll((unsigned long long)x);
}

/* --- TLSF class mapping -------------------------------------------------------- */

static inline void mapping(size_t size, unsigned *fl, unsigned *sl)
{
    if (size < SMALL_LIMIT) {
        *fl = 0;
        *sl = (unsigned)(size / GRAN);
    } else {
        unsigned f = msb(size);
        *sl = (unsigned)(size >> (f - SL_LOG2)) ^ SL_COUNT;
        *fl = f - (msb(SMALL_LIMIT) - 1);
    }
}

/* --- free lists -------------------------------------------------------------- */

ALLOC_INLINE void list_remove(alloc_freelist *h, char *b, size_t size)
{
    ALLOC_TRACE("freelist remove %p %zu", (void *)b, size);
    if (ALLOC_UNLIKELY(hdr(b) & F_UNLISTED)) {
        clear_flag(b, F_UNLISTED);
        h->free_bytes -= size;
        h->free_blocks--;
        return;
    }
    char *n = link_next(b), *p = link_prev(b);
    /* Safe unlinking: both links must lead back to b before either is written
     * through (an overrun into a free block's links must not become a write
     * anywhere it likes). */
    ALLOC_CHECK(!n || (plausible_block(h, n) && link_prev(n) == b),
                "freelist: free block %p has a damaged forward link %p", (void *)b, (void *)n);
    ALLOC_CHECK(!p || (plausible_block(h, p) && link_next(p) == b),
                "freelist: free block %p has a damaged backward link %p", (void *)b, (void *)p);
    if (n) set_prev(n, p);
    if (h->policy == ALLOC_FREELIST_TLSF) {
        unsigned fl, sl;
        mapping(size, &fl, &sl);
        if (p) {
            set_next(p, n);
        } else {
            ALLOC_CHECK(h->heads[fl][sl] == b, "freelist: damaged list: free block %p not at the head of its class", (void *)b);
            h->heads[fl][sl] = n;
            if (!n) {
                h->sl_bitmap[fl] &= ~(1u << sl);
                if (!h->sl_bitmap[fl]) h->fl_bitmap &= ~((uint64_t)1 << fl);
            }
        }
    } else if (p) {
        set_next(p, n);
    } else {
        h->addr_head = n;
    }
    h->free_bytes -= size;
    h->free_blocks--;
}

/* Links a free block (header and footer already written) into its list.
 * after: for the list policies, the free block known to precede b in address
 * order or NULL when unknown (then found by walking). */
ALLOC_INLINE void list_insert(alloc_freelist *h, char *b, size_t size, char *after, bool after_known)
{
    ALLOC_TRACE("freelist insert %p %zu", (void *)b, size);
    if (h->policy == ALLOC_FREELIST_TLSF) {
        unsigned fl, sl;
        mapping(size, &fl, &sl);
        char *head = h->heads[fl][sl];
        set_next(b, head);
        set_prev(b, NULL);
        if (head) set_prev(head, b);
        h->heads[fl][sl] = b;
        h->sl_bitmap[fl] |= 1u << sl;
        h->fl_bitmap |= (uint64_t)1 << fl;
    } else {
        if (!after_known) {
            after = NULL;
            for (char *c = h->addr_head; c && c < b; c = link_next(c)) after = c;
        }
        char *n = after ? link_next(after) : (char *)h->addr_head;
        set_next(b, n);
        set_prev(b, after);
        if (n) set_prev(n, b);
        if (after)
            set_next(after, b);
        else
            h->addr_head = b;
    }
    h->free_bytes += size;
    h->free_blocks++;
}

/* Lists free block t (header and footer written), which follows used block
 * u: unlisted when u is the large block of its own region (sole), whose
 * growth that room is kept for. */
ALLOC_INLINE void list_add_after_used(alloc_freelist *h, const char *u, char *t, size_t size, char *after,
                                bool after_known)
{
    if (ALLOC_UNLIKELY((hdr(u) & F_FIRST) && ((const region *)(const void *)(u - FIRST_OFFSET))->sole)) {
        set_flag(t, F_UNLISTED);
        h->free_bytes += size;
        h->free_blocks++;
        return;
    }
    list_insert(h, t, size, after, after_known);
}

/* Writes b as a free block of size (flags: FREE plus the given ones) with its
 * footer, and tells the next block its predecessor is free. */
static void make_free(char *b, size_t size, size_t flags)
{
    set_hdr(b, size | F_FREE | flags);
    set_footer(b, size);
    set_flag(b + size, F_PREV_FREE);
}

/* --- search ------------------------------------------------------------------ */

/* Bytes between block b and the first payload aligned to align inside it
 * that leaves either no gap or a gap that can be a free block. */
static inline size_t align_gap(const char *b, size_t align)
{
    uintptr_t pay = (uintptr_t)b + HDR;
    size_t gap = (size_t)(alloc_align_up(pay, align) - pay);
    if (gap != 0 && gap < MIN_BLOCK) gap += align; /* align > GRAN here, so align >= MIN_BLOCK */
    return gap;
}

ALLOC_INLINE char *find_tlsf(alloc_freelist *h, size_t need)
{
    if (need > SIZE_MAX / 2) return NULL; /* no block is that large; keeps the rounding from overflowing */
    size_t rounded = need;
    if (need >= SMALL_LIMIT) rounded += ((size_t)1 << (msb(need) - SL_LOG2)) - 1;
    unsigned fl, sl;
    mapping(rounded, &fl, &sl);
    if (fl < FL_COUNT) {
        uint32_t sl_map = h->sl_bitmap[fl] & (~0u << sl);
        if (!sl_map) {
            uint64_t fl_map = fl + 1 < 64 ? h->fl_bitmap & (~(uint64_t)0 << (fl + 1)) : 0;
            if (fl_map) {
                fl = (unsigned)__builtin_ctzll(fl_map);
                sl_map = h->sl_bitmap[fl];
            }
        }
        if (sl_map) return h->heads[fl][(unsigned)__builtin_ctz(sl_map)];
    }
    /* The good-fit rounding skipped the request's own class: its head may fit. */
    mapping(need, &fl, &sl);
    char *b = h->heads[fl][sl];
    if (b && size_of(hdr(b)) >= need) return b;
    return NULL;
}

static char *find_list(alloc_freelist *h, size_t need, size_t align)
{
    char *best = NULL;
    size_t best_size = SIZE_MAX;
    for (char *b = h->addr_head; b; b = link_next(b)) {
        size_t size = size_of(hdr(b));
        size_t gap = align > GRAN ? align_gap(b, align) : 0;
        if (size < gap || size - gap < need) continue;
        if (h->policy == ALLOC_FREELIST_FIRST_FIT || size == need) return b;
        if (size < best_size) {
            best = b;
            best_size = size;
        }
    }
    return best;
}

/* --- regions ------------------------------------------------------------------ */

/* Lays out a region over [mem, mem + len): descriptor, one free block,
 * sentinel. Returns NULL if len is too small. */
static region *region_setup(alloc_freelist *h, void *mem, size_t len, void *base, size_t base_len, bool owned)
{
    uintptr_t start = alloc_align_up((uintptr_t)mem, GRAN);
    if (start - (uintptr_t)mem > len) return NULL;
    uintptr_t end = (uintptr_t)mem + len;
    if (end - start < FIRST_OFFSET + MIN_BLOCK + GRAN) return NULL;
    uintptr_t sent = ((end - GRAN) & ~(uintptr_t)(GRAN - 1)) + (GRAN - HDR);
    region *r = (region *)start;
    char *b = first_block(r);
    size_t size = (size_t)((char *)sent - b);
    if (size < MIN_BLOCK) return NULL;
    *r = (region){NULL, NULL, base, base_len, (char *)sent, owned, false, false};
    ALLOC_TRACK_NOACCESS(b, (size_t)(end - (uintptr_t)b));
    if (!h->lo || start < h->lo) h->lo = start;
    if (end > h->hi) h->hi = end;
    set_hdr(r->sentinel, F_FIRST);
    make_free(b, size, F_FIRST);
    r->next = h->regions;
    if (h->regions) h->regions->prev = r;
    h->regions = r;
    h->region_count++;
    alloc_stats_note_reserve(&h->stats, base_len);
    list_insert(h, b, size, NULL, false);
    ALLOC_TRACE("freelist region add %p %zu", (void *)r, size);
    return r;
}

static void region_unlink(alloc_freelist *h, region *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        h->regions = r->next;
    if (r->next) r->next->prev = r->prev;
    h->region_count--;
    alloc_stats_note_release(&h->stats, r->base_len);
}

/* Gives an owned region back; its single free block is not on any list. */
static void region_release(alloc_freelist *h, region *r)
{
    void *base = r->base;
    size_t base_len = r->base_len;
    region_unlink(h, r);
    ALLOC_TRACE("freelist region release %p %zu", base, base_len);
    /* Hand the memory back without poison: the next owner of these addresses
     * must not inherit our shadow state. */
    ALLOC_TRACK_UNDEFINED(base, base_len);
    alloc_free_at(h->backing, base, base_len, GRAN, ALLOC_RET_ADDR());
}

static bool is_page_backing(const alloc_freelist *h) { return h->backing.vtable == &alloc_page_vtable; }

/* Rounds a region length up to whole pages when the backing allocator hands
 * out pages (it would round anyway; the heap may as well use them). 0 on
 * overflow. */
static size_t region_round(const alloc_freelist *h, size_t room)
{
    if (!is_page_backing(h)) return room;
    size_t page = alloc_os_page_size();
    if (room > ALLOC_MAX_LEN - page) return 0;
    return alloc_align_up(room, page);
}

/* Adds a region with room for a block of need bytes at the given alignment,
 * and at least at_least bytes long. Returns it (its one free block is
 * listed), or NULL. */
static region *grow(alloc_freelist *h, size_t need, size_t align, size_t at_least)
{
    if (!h->can_grow || need > TAG_SIZE_LIMIT / 2) return NULL;
    size_t room = need;
    /* Room for the leading gap of an aligned block, the region's own
     * overhead and the alignment of the backing memory. */
    size_t extra = (align > GRAN ? align + MIN_BLOCK : 0) + ALLOC_FREELIST_REGION_OVERHEAD + GRAN;
    if (room > ALLOC_MAX_LEN - extra) return NULL;
    room += extra;
    if (room < h->region_size) room = h->region_size;
    if (room < at_least) room = at_least;
    room = region_round(h, room);
    if (!room) return NULL;
    void *mem = alloc_bytes_at(h->backing, room, GRAN, ALLOC_RET_ADDR());
    if (!mem) return NULL;
    region *r = region_setup(h, mem, room, mem, room, true);
    ALLOC_CHECK(r != NULL, "freelist: grown region of %zu bytes too small", room);
    return r;
}

/* Gives back the physical pages of [from, from + len) that lie inside free
 * block b (size bytes) between its links and its footer, which stay. The OS
 * may refuse (locked pages): the block is free either way, so that is not an
 * error. */
static void purge_range(alloc_freelist *h, char *b, size_t size, char *from, size_t len)
{
    size_t page = alloc_os_page_size();
    uintptr_t keep_lo = (uintptr_t)b + HDR + 2 * sizeof(void *), keep_hi = (uintptr_t)b + size - HDR;
    uintptr_t lo = (uintptr_t)from > keep_lo ? (uintptr_t)from : keep_lo;
    uintptr_t hi = (uintptr_t)from + len < keep_hi ? (uintptr_t)from + len : keep_hi;
    lo = alloc_align_up(lo, page);
    hi &= ~(uintptr_t)(page - 1);
    if (hi <= lo) return;
    ALLOC_TRACE("freelist purge %p %zu", (void *)lo, (size_t)(hi - lo));
    (void)alloc_os_purge((void *)lo, (size_t)(hi - lo), false);
    h->purged_bytes += (size_t)(hi - lo);
}

/* After freeing [from, from + len) (a whole block, or the tail a shrink cut
 * off) into free block b: purges the freed pages when that range is at least
 * purge_min bytes and the heap's free bytes exceed retain_bytes. Only the
 * range just freed, never the rest of b: its neighbours' pages were purged
 * when they were freed, or were too few to be. The hysteresis: a heap whose
 * free space stays under retain_bytes (a loop that frees and takes the same
 * large block) does not purge and fault the same pages over and over; small
 * blocks never cost a system call. Only heaps that grow from the page
 * allocator purge (their memory reads back as zeros). */
static inline void maybe_purge(alloc_freelist *h, char *b, size_t size, char *from, size_t len)
{
    if (ALLOC_UNLIKELY(len >= h->purge_min) && h->free_bytes > h->retain_bytes && h->can_grow &&
        is_page_backing(h))
        purge_range(h, b, size, from, len);
}

/* --- taking and giving blocks ------------------------------------------------------ */

/* Splits the tail of used block b (size bytes) beyond need into a free block
 * when it is big enough to be one. Returns b's final size. The block after b
 * must not be free (callers merge it first). */
static size_t trim_tail(alloc_freelist *h, char *b, size_t size, size_t need, bool purge)
{
    size_t rest = size - need;
    if (rest < MIN_BLOCK) return size;
    char *t = b + need;
    ALLOC_TRACE("freelist split %p %zu -> %zu + %zu", (void *)b, size, need, rest);
    make_free(t, rest, 0);
    set_hdr(b, need | (hdr(b) & (F_PREV_FREE | F_FIRST)));
    list_add_after_used(h, b, t, rest, NULL, false);
    if (purge) maybe_purge(h, t, rest, t, rest); /* a tail left by growth was never written: nothing to purge */
    return need;
}

static void cache_flush(alloc_freelist *h);
static void cache_age(alloc_freelist *h);
static void give(alloc_freelist *h, char *b);
static char *carve(alloc_freelist *h, char *b, size_t need, size_t align);

/* A used block of at least need bytes whose payload is aligned to align, or
 * NULL (nothing changed but perhaps a grown region). need is a block size. */
static char *take(alloc_freelist *h, size_t need, size_t align)
{
    size_t search = need;
    if (align > GRAN) {
        if (need > SIZE_MAX - align - MIN_BLOCK) return NULL;
        if (h->policy == ALLOC_FREELIST_TLSF) search = need + align + MIN_BLOCK;
    }
    char *b = h->policy == ALLOC_FREELIST_TLSF ? find_tlsf(h, search) : find_list(h, need, align);
    if (!b) {
        /* A growing heap grows (one backing call) rather than flush the
         * cache (up to cache_cap merges in one alloc): the memory the cache
         * holds is bounded by a fraction of the heap. When it cannot grow,
         * what waits in the cache may merge into a fit. */
        if (grow(h, need, align, 0)) {
            b = h->policy == ALLOC_FREELIST_TLSF ? find_tlsf(h, search) : find_list(h, need, align);
            ALLOC_CHECK(b != NULL, "freelist: no block of %zu bytes in a region grown for it", need);
        } else if (h->cached_blocks) {
            cache_flush(h);
            b = h->policy == ALLOC_FREELIST_TLSF ? find_tlsf(h, search) : find_list(h, need, align);
        }
        if (!b) return NULL;
    }
    return carve(h, b, need, align);
}

/* A block of need bytes at the start of a new region of its own, at least
 * room bytes long (the rest of the region stays a free block after it), or
 * NULL. For large blocks that grow: the block then fills the front of its
 * region and later growth extends the region (extend_region). */
static char *take_own_region(alloc_freelist *h, size_t need, size_t align, size_t room)
{
    region *r = grow(h, need, align, room);
    if (!r) return NULL;
    r->sole = align <= GRAN; /* an aligned block may not start the region: then it shares it */
    return carve(h, first_block(r), need, align);
}

/* Takes free block b off its list and makes a used block of need bytes
 * aligned to align from it, splitting off what is left. */
static char *carve(alloc_freelist *h, char *b, size_t need, size_t align)
{
    size_t hb = tag(b);
    size_t size = size_of(hb);
    ALLOC_CHECK((hb & F_FREE) && !(hb & F_PREV_FREE) && size >= need && in_heap(h, b, size),
                "freelist: block %p on a free list has a damaged tag %zx", (void *)b, hb);
    list_remove(h, b, size);
    if (hb & F_FIRST) {
        region *r = region_of_first(b);
        if (r->empty) {
            r->empty = false;
            h->retained_bytes -= r->base_len;
        }
    }
    size_t flags = hb & F_FIRST;
    if (align > GRAN) {
        size_t gap = align_gap(b, align);
        if (gap) {
            /* The leading gap becomes a free block of its own; its
             * predecessor is used (no two free blocks are adjacent). */
            ALLOC_TRACE("freelist split %p %zu -> %zu + %zu", (void *)b, size, gap, size - gap);
            set_hdr(b, gap | F_FREE | flags);
            set_footer(b, gap);
            list_insert(h, b, gap, NULL, false);
            b += gap;
            size -= gap;
            flags = F_PREV_FREE;
        }
    }
    size_t rest = size - need;
    if (rest >= MIN_BLOCK) {
        /* Split: the tail stays free, so the next block's PREV_FREE stays. */
        char *t = b + need;
        ALLOC_TRACE("freelist split %p %zu -> %zu + %zu", (void *)b, size, need, rest);
        set_hdr(b, need | flags);
        set_hdr(t, rest | F_FREE);
        set_footer(t, rest);
        list_add_after_used(h, b, t, rest, NULL, false);
        size = need;
    } else {
        clear_flag(b + size, F_PREV_FREE);
        set_hdr(b, size | flags);
    }
    h->used_blocks++;
    h->used_block_bytes += size;
    return b;
}

/* The tag of the block after b (size bytes), checked before anything
 * follows or writes it: its copy byte, "previous is free" clear when b is
 * used (b_free false), a zero size only on a sentinel, a size that stays
 * inside the heap, and for a free block a footer that agrees. Every build. */
ALLOC_INLINE size_t next_tag(const alloc_freelist *h, const char *b, size_t size, bool b_free)
{
    const char *n = b + size;
    ALLOC_CHECK(in_heap(h, n, HDR), "freelist: block %p has a damaged size (%zu) that leaves the heap", (const void *)b,
                size);
    size_t hn = tag(n);
    size_t ns = size_of(hn);
    ALLOC_CHECK(!(hn & F_PREV_FREE) == !b_free,
                "freelist: block %p after %p disagrees about whether its predecessor is free (tag %zx)",
                (const void *)n, (const void *)b, hn);
    if (ns == 0) {
        ALLOC_CHECK((hn & F_FIRST) && !(hn & F_FREE), "freelist: tag after %p (%zx) is damaged (zero size)",
                    (const void *)b, hn);
        return hn;
    }
    ALLOC_CHECK(ns >= MIN_BLOCK && !(hn & F_FIRST), "freelist: tag after %p (%zx) is damaged (size or flags "
                "impossible there)", (const void *)b, hn);
    /* Only a free neighbour's size is followed (to merge it): bound it and
     * check its footer. A used neighbour's size is never used here. */
    if (hn & F_FREE)
        ALLOC_CHECK(in_heap(h, n, ns + HDR) && word_get(n + ns - HDR) == ns,
                    "freelist: free block %p after %p has a damaged size or a footer disagreeing with its tag %zx",
                    (const void *)n, (const void *)b, hn);
    return hn;
}

/* The free block before b (whose tag says PREV_FREE), checked: a footer
 * that stays in the heap and agrees with that block's tag. */
ALLOC_INLINE char *prev_free_block(const alloc_freelist *h, char *b)
{
    size_t psize = word_get(b - HDR);
    ALLOC_CHECK(psize >= MIN_BLOCK && psize % GRAN == 0 && (uintptr_t)b - h->lo >= psize,
                "freelist: footer before %p (%zu) is damaged", (void *)b, psize);
    char *prev = b - psize;
    size_t hp = tag(prev);
    ALLOC_CHECK((hp & F_FREE) && !(hp & F_PREV_FREE) && size_of(hp) == psize,
                "freelist: footer before %p (%zu) disagrees with its block's tag %zx", (void *)b, psize, hp);
    return prev;
}

/* --- the small-block cache (see the essay at the top) ----------------------------------- */

/* Whether a growing heap is mostly free space (more than retain_bytes free,
 * and more than twice what is in use): then cached blocks would only keep
 * regions that could go back (and their pages) resident, so frees skip the
 * cache and the first of them flushes it. */
static inline bool mostly_free(const alloc_freelist *h)
{
    return h->free_bytes > h->retain_bytes && h->can_grow &&
           h->free_bytes / 2 > h->used_block_bytes - h->cached_bytes;
}

/* Caches used block b (tag hb, size bytes, its own tag already checked)
 * instead of freeing it. false, nothing changed: not small, no room, or the
 * heap is mostly free. */
ALLOC_INLINE bool cache_put(alloc_freelist *h, char *b, size_t hb, size_t size)
{
    if (size > CACHE_MAX_BLOCK || h->cached_blocks >= h->cache_cap || mostly_free(h)) return false;
    size_t c = size / GRAN;
    if (h->cache_count[c] >= ALLOC_FREELIST_CACHE_DEPTH) return false;
    size_t limit = h->stats.bytes_reserved / 32;
    if (h->cached_bytes + size > (limit < ALLOC_FREELIST_CACHE_BYTES ? limit : ALLOC_FREELIST_CACHE_BYTES))
        return false;
    /* Its size decides the list, and will be trusted when it is flushed:
     * check it and the tag that follows, as a free would (an overrun that
     * leaves a plausible tag saying "free" fails the footer check). */
    ALLOC_CHECK(size >= MIN_BLOCK, "freelist: block %p has a damaged tag %zx", (void *)b, hb);
    (void)next_tag(h, b, size, false);
    word_set(b, hb | flag_bits(F_CACHED));
    set_next(b, h->cache[c]);
    h->cache[c] = b;
    h->cache_count[c]++;
    h->cached_blocks++;
    h->cached_bytes += size;
    if (ALLOC_UNLIKELY((++h->cache_puts & (CACHE_AGE_EVERY - 1)) == 0)) cache_age(h);
    return true;
}

/* Takes the newest cached block of exactly size bytes (<= CACHE_MAX_BLOCK),
 * checked before it is trusted, or NULL. */
ALLOC_INLINE char *cache_get(alloc_freelist *h, size_t size)
{
    size_t c = size / GRAN;
    char *b = h->cache[c];
    if (!b) return NULL;
    size_t hb = tag(b);
    char *n = link_next(b);
    ALLOC_CHECK((hb & (F_FREE | F_CACHED)) == F_CACHED && size_of(hb) == size && (!n || plausible_block(h, n)),
                "freelist: cached block %p has a damaged tag %zx or link %p", (void *)b, hb, (void *)n);
    h->cache[c] = n;
    h->cache_count[c]--;
    h->cache_hit[c] = 1;
    h->cached_blocks--;
    h->cached_bytes -= size;
    word_set(b, hb & ~flag_bits(F_CACHED));
    return b;
}

/* Frees every cached block into the size classes (merging as free does).
 * O(cached blocks): at most cache_cap. */
static void cache_flush(alloc_freelist *h)
{
    for (size_t c = 0; c < CACHE_CLASSES && h->cached_blocks; c++) {
        char *b;
        while ((b = cache_get(h, c * GRAN)) != NULL) give(h, b);
    }
}

/* The aging hand (a CLOCK sweep over the lists, one list per
 * CACHE_AGE_EVERY blocks cached): a list no alloc has taken from since the
 * hand last passed is flushed, so blocks of sizes the program no longer asks
 * for do not sit in the heap for good, cutting free space apart. At most
 * ALLOC_FREELIST_CACHE_DEPTH frees. */
static ALLOC_NOINLINE void cache_age(alloc_freelist *h)
{
    size_t c = h->cache_hand;
    h->cache_hand = c + 1 < CACHE_CLASSES ? c + 1 : 0;
    if (h->cache_hit[c]) {
        h->cache_hit[c] = 0;
        return;
    }
    char *b;
    while ((b = cache_get(h, c * GRAN)) != NULL) give(h, b);
    h->cache_hit[c] = 0;
}

/* Whether a free block spans its whole region. */
static inline bool spans_region(char *b, size_t hb)
{
    return (hb & F_FIRST) && size_of(hdr(b + size_of(hb))) == 0;
}

/* Frees used block b: merges with free neighbours, then lists the result or
 * gives its region back. */
static void give(alloc_freelist *h, char *b)
{
    size_t hb = tag(b);
    size_t size = size_of(hb);
    ALLOC_CHECK(size >= MIN_BLOCK && !(hb & F_FREE), "freelist: block %p has a damaged tag %zx", (void *)b, hb);
    char *next = b + size;
    size_t hn = next_tag(h, b, size, false);
    char *prev = hb & F_PREV_FREE ? prev_free_block(h, b) : NULL;
    char *freed = b;
    size_t freed_len = size;
    h->used_blocks--;
    h->used_block_bytes -= size;
    char *after = NULL;
    bool after_known = false;
    if (hn & F_FREE) {
        size_t nsize = size_of(hn);
        ALLOC_TRACE("freelist merge %p %zu + %p %zu", (void *)b, size, (void *)next, nsize);
        if (h->policy != ALLOC_FREELIST_TLSF && !(hn & F_UNLISTED)) {
            after = link_prev(next); /* the merged block takes next's place */
            after_known = true;
        }
        list_remove(h, next, nsize);
        size += nsize;
    }
    if (prev) {
        size_t hp = hdr(prev);
        size_t psize = size_of(hp);
        ALLOC_TRACE("freelist merge %p %zu + %p %zu", (void *)prev, psize, (void *)b, size);
        if (h->policy != ALLOC_FREELIST_TLSF) {
            after = link_prev(prev);
            after_known = true;
        }
        list_remove(h, prev, psize);
        b = prev;
        hb = hp;
        size += psize;
    }
    size_t flags = hb & F_FIRST;
    make_free(b, size, flags);
    if (spans_region(b, size | flags)) {
        region *r = region_of_first(b);
        r->sole = false; /* its block is gone: the region is ordinary free space */
        if (r->owned) {
            if (h->retained_bytes + r->base_len > h->retain_bytes) {
                clear_flag(b + size, F_PREV_FREE);
                region_release(h, r);
                return;
            }
            r->empty = true;
            h->retained_bytes += r->base_len;
        }
    }
    list_insert(h, b, size, after, after_known);
    maybe_purge(h, b, size, freed, freed_len);
}

/* --- debug validation of a pointer handed back ------------------------------------------ */

static region *region_containing(const alloc_freelist *h, const void *p)
{
    for (region *r = h->regions; r; r = r->next)
        if ((const char *)p >= first_block(r) && (const char *)p < r->sentinel) return r;
    return NULL;
}

/* Debug builds: whether mem is a live block of h that matches len and align
 * (when len != 0). Reports misuse (returning false) or corruption. */
static bool validate_live(const alloc_freelist *h, const void *mem, size_t len, size_t align, uintptr_t ret_addr,
                          const char *op)
{
    char site[ALLOC_SITE_BUF];
    region *r = alloc_is_aligned(mem, GRAN) ? region_containing(h, mem) : NULL;
    if (!r || (char *)mem - HDR < first_block(r)) {
        alloc_report_misuse("freelist: %s of %p, which this heap did not hand out (called from %s)", op, mem,
                            alloc_describe_addr(ret_addr, site, sizeof site));
        return false;
    }
    char *b = block_of(mem);
    size_t hb = tag(b);
    if (hb & (F_FREE | F_CACHED)) {
        alloc_report_misuse("freelist: %s of %p, which is already free (double free; called from %s)", op, mem,
                            alloc_describe_addr(ret_addr, site, sizeof site));
        return false;
    }
    size_t size = size_of(hb);
    ALLOC_CHECK(size >= MIN_BLOCK && size <= (size_t)(r->sentinel - b),
                "freelist: damaged tag of %p gives size %zu beyond its region", mem, size);
    size_t hn = hdr(b + size);
    ALLOC_CHECK(!(hn & F_PREV_FREE) && (size_of(hn) == 0 || size_of(hn) <= (size_t)(r->sentinel - (b + size))),
                "freelist: tag after %p (%zx) disagrees with it", mem, hn);
    if (hb & F_PREV_FREE) {
        size_t psize = word_get(b - HDR);
        ALLOC_CHECK(psize >= MIN_BLOCK && psize <= (size_t)(b - first_block(r)) && psize % GRAN == 0,
                    "freelist: damaged footer before %p gives size %zu beyond its region", mem, psize);
        size_t hp = hdr(b - psize);
        ALLOC_CHECK((hp & F_FREE) && size_of(hp) == psize, "freelist: footer before %p disagrees with tag %zx",
                    mem, hp);
    }
    if (len && (size - HDR < len || size - block_need(len) >= MIN_BLOCK)) {
        alloc_report_misuse("freelist: %s of %p with len %zu, but the block holds %zu bytes (called from %s)", op, mem,
                            len, size - HDR, alloc_describe_addr(ret_addr, site, sizeof site));
        return false;
    }
    if (len && !alloc_is_aligned(mem, align)) {
        alloc_report_misuse("freelist: %s of %p with align %zu, which it does not have (called from %s)", op, mem,
                            align, alloc_describe_addr(ret_addr, site, sizeof site));
        return false;
    }
    return true;
}

static void debug_fill(void *p, size_t n, int byte)
{
#if ALLOC_DEBUG_CHECKS
    ALLOC_TRACK_UNDEFINED(p, n);
    memset(p, byte, n);
    ALLOC_TRACK_NOACCESS(p, n);
#else
    (void)p, (void)n, (void)byte;
#endif
}

/* --- vtable -------------------------------------------------------------------------- */

/* Allocates len bytes; whole_block: hand out (and count) the block's usable
 * size rather than len. */
static inline void *alloc_common(alloc_freelist *h, size_t len, size_t align, bool whole_block)
{
    if (ALLOC_UNLIKELY(len > ALLOC_MAX_LEN || len == 0 || !alloc_is_pow2(align))) {
        alloc_stats_note_failed(&h->stats);
        return NULL;
    }
    size_t need = block_need(len);
    char *b = need <= CACHE_MAX_BLOCK && align <= GRAN ? cache_get(h, need) : NULL;
    if (!b) b = take(h, need, align);
    if (!b) {
        alloc_stats_note_failed(&h->stats);
        return NULL;
    }
    char *p = payload_of(b);
    size_t usable = size_of(hdr(b)) - HDR;
    if (whole_block) len = usable;
    debug_fill(p, usable, ALLOC_FILL_ALLOCATED);
    ALLOC_TRACK_UNDEFINED(p, len);
    ALLOC_TRACK_POOL_ALLOC(h, p, len);
    alloc_stats_note_alloc(&h->stats, len);
    return p;
}

static void *fl_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ret_addr;
    void *p = alloc_common(ctx, len, align, false);
    ALLOC_ASSERT_EXPENSIVE(alloc_freelist_check(ctx));
    return p;
}

/* Frees the block at p, of which len bytes were handed out; counted is the
 * length the stats subtract. */
static void release_block(alloc_freelist *h, char *p, size_t len, size_t counted)
{
    char *b = block_of(p);
    ALLOC_TRACK_NOACCESS(p, len);
    ALLOC_TRACK_POOL_FREE(h, p);
    size_t hb = hdr(b);
    debug_fill(p, size_of(hb) - HDR, ALLOC_FILL_FREED);
    if (!cache_put(h, b, hb, size_of(hb))) {
        give(h, b);
        if (ALLOC_UNLIKELY(h->cached_blocks != 0) && mostly_free(h)) cache_flush(h);
    }
    alloc_stats_note_free(&h->stats, counted);
}

static void fl_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_freelist *h = ctx;
    if (ALLOC_DEBUG_CHECKS) {
        if (!validate_live(h, mem, len, align, ret_addr, "free")) {
            alloc_stats_note_misuse(&h->stats);
            return;
        }
    } else if (tag(block_of(mem)) & (F_FREE | F_CACHED)) {
        char site[ALLOC_SITE_BUF];
        alloc_report_misuse("freelist: free of %p, which is already free (double free; called from %s)", mem,
                            alloc_describe_addr(ret_addr, site, sizeof site));
        alloc_stats_note_misuse(&h->stats);
        return;
    }
    release_block(h, mem, len, len);
    ALLOC_ASSERT_EXPENSIVE(alloc_freelist_check(h));
}

/* In-place resize of used block b to hold new_len; false if it cannot. */
static bool resize_block(alloc_freelist *h, char *b, size_t new_len)
{
    if (new_len > ALLOC_MAX_LEN) return false;
    size_t need = block_need(new_len);
    size_t hb = tag(b);
    size_t size = size_of(hb);
    char *next = b + size;
    size_t hn = next_tag(h, b, size, false);
    bool shrinking = need < size;
    if (need > size) {
        if (!(hn & F_FREE) || size + size_of(hn) < need) return false;
        size_t nsize = size_of(hn);
        ALLOC_TRACE("freelist merge %p %zu + %p %zu", (void *)b, size, (void *)next, nsize);
        list_remove(h, next, nsize);
        h->used_block_bytes += nsize;
        size += nsize;
        set_hdr(b, size | (hb & F_MASK));
        clear_flag(b + size, F_PREV_FREE);
    } else if (size - need >= MIN_BLOCK && (hn & F_FREE)) {
        /* The freed tail merges with the free block after it. */
        size_t nsize = size_of(hn);
        size_t rest = size - need;
        ALLOC_TRACE("freelist split %p %zu -> %zu + %zu", (void *)b, size, need, rest);
        ALLOC_TRACE("freelist merge %p %zu + %p %zu", (void *)(b + need), rest, (void *)next, nsize);
        char *after = link_prev(next);
        list_remove(h, next, nsize);
        set_hdr(b, need | (hb & F_MASK));
        make_free(b + need, rest + nsize, 0);
        list_add_after_used(h, b, b + need, rest + nsize, after, true);
        maybe_purge(h, b + need, rest + nsize, b + need, rest);
        h->used_block_bytes -= rest;
        return true;
    }
    size_t final = trim_tail(h, b, size, need, shrinking);
    h->used_block_bytes -= size - final;
    return true;
}

/* Grows the owned region whose first block is the used block b (followed by
 * the sentinel, or by one free block and the sentinel) so that b can grow to
 * need bytes: through the backing allocator's resize (in place), or, when
 * may_move, its remap (the page allocator's is mremap: the pages move, no
 * byte is copied). The region grows geometrically (to at least 1.5 times its
 * length) so that a block grown step by step reaches n bytes in O(log n)
 * backing calls. On success the new space is a free block after b (merged
 * with the old free tail) and the result is b's address, moved along with the
 * region; payload_len bytes of b's payload stay defined for the sanitizers.
 * NULL: nothing changed. O(1) plus the backing call (and, for the list
 * policies, the walk that lists a block). */
static char *extend_region(alloc_freelist *h, char *b, size_t need, bool may_move, size_t payload_len)
{
    size_t hb = hdr(b);
    if (!(hb & F_FIRST) || !h->can_grow || need > TAG_SIZE_LIMIT / 2) return NULL;
    region *r = region_of_first(b);
    if (!r->owned) return NULL;
    size_t size = size_of(hb);
    char *next = b + size;
    size_t hn = hdr(next);
    size_t nsize = (hn & F_FREE) ? size_of(hn) : 0;
    if (next + nsize != r->sentinel) return NULL; /* other blocks after b: the region is not b's alone */
    char *old_base = r->base;
    size_t old_len = r->base_len;
    size_t front = (size_t)(b - old_base); /* descriptor and alignment before b */
    /* b, a minimum free block after it, the sentinel and its alignment. */
    size_t want = front + need + MIN_BLOCK + HDR + GRAN;
    size_t geometric = old_len + old_len / 2;
    size_t new_len = region_round(h, want > geometric ? want : geometric);
    if (!new_len) return NULL;
    if (nsize) list_remove(h, next, nsize); /* its links must not be read at the old address after a move */
    char *nb;
    if (may_move) {
        nb = alloc_remap_at(h->backing, old_base, old_len, GRAN, new_len, ALLOC_RET_ADDR());
    } else {
        nb = alloc_resize_at(h->backing, old_base, old_len, GRAN, new_len, ALLOC_RET_ADDR()) ? old_base : NULL;
        if (!nb && want < geometric && (new_len = region_round(h, want)) != 0 &&
            alloc_resize_at(h->backing, old_base, old_len, GRAN, new_len, ALLOC_RET_ADDR()))
            nb = old_base;
    }
    if (!nb) {
        if (nsize) list_add_after_used(h, b, next, nsize, NULL, false);
        return NULL;
    }
    ptrdiff_t delta = nb - old_base;
    region *nr = (region *)(void *)((char *)r + delta);
    char *nblk = b + delta;
    uintptr_t end = (uintptr_t)nb + new_len;
    if (delta) {
        /* The old addresses are gone (unmapped by the move): clear their
         * shadow so whatever is mapped there next starts clean, then close
         * the new copy of the region again except b's payload. */
        ALLOC_TRACK_UNDEFINED(old_base, old_len);
        ALLOC_TRACK_NOACCESS(first_block(nr), (size_t)(end - (uintptr_t)first_block(nr)));
        ALLOC_TRACK_DEFINED(payload_of(nblk), payload_len);
        if (nr->prev)
            nr->prev->next = nr;
        else
            h->regions = nr;
        if (nr->next) nr->next->prev = nr;
    } else {
        ALLOC_TRACK_NOACCESS(old_base + old_len, new_len - old_len);
    }
    ALLOC_TRACE("freelist region extend %p %zu -> %p %zu", (void *)old_base, old_len, (void *)nb, new_len);
    nr->base = nb;
    nr->base_len = new_len;
    alloc_stats_note_release(&h->stats, old_len);
    alloc_stats_note_reserve(&h->stats, new_len);
    if ((uintptr_t)nb < h->lo) h->lo = (uintptr_t)nb;
    if (end > h->hi) h->hi = end;
    nr->sentinel = (char *)(((end - GRAN) & ~(uintptr_t)(GRAN - 1)) + (GRAN - HDR));
    set_hdr(nr->sentinel, F_FIRST);
    char *tail = nblk + size;
    size_t tsize = (size_t)(nr->sentinel - tail);
    make_free(tail, tsize, 0);
    list_add_after_used(h, nblk, tail, tsize, NULL, false);
    return nblk;
}

/* Grows used block b (payload p, len bytes live) to need bytes into the free
 * block before it (and the free block after it, if any): the payload moves
 * down by one memmove inside the coalesced space. Returns the new block, or
 * NULL (nothing changed) when the neighbours are too small or the new payload
 * would miss align. O(1) plus the move of len bytes. */
static char *grow_backwards(alloc_freelist *h, char *b, size_t need, size_t align, size_t len, size_t new_len)
{
    size_t hb = hdr(b);
    if (!(hb & F_PREV_FREE)) return NULL;
    size_t size = size_of(hb);
    char *prev = prev_free_block(h, b);
    size_t hp = hdr(prev);
    size_t psize = size_of(hp);
    char *next = b + size;
    size_t hn = next_tag(h, b, size, false);
    size_t nsize = (hn & F_FREE) ? size_of(hn) : 0;
    size_t total = psize + size + nsize;
    char *q = payload_of(prev), *p = payload_of(b);
    if (total < need || !alloc_is_aligned(q, align)) return NULL;
    ALLOC_TRACE("freelist grow backwards %p %zu -> %p %zu", (void *)b, size, (void *)prev, total);
    list_remove(h, prev, psize);
    if (nsize) list_remove(h, next, nsize);
    /* Open the space in front of the payload (the free block and b's
     * header), move, then close what the new block does not cover. */
    ALLOC_TRACK_UNDEFINED(q, (size_t)(p - q));
    memmove(q, p, len);
    char *live_end = p + len > q + new_len ? p + len : q + new_len;
    ALLOC_TRACK_NOACCESS(q + len, (size_t)(live_end - (q + len)));
    ALLOC_TRACK_UNDEFINED(q + len, new_len - len);
    set_hdr(prev, total | (hp & F_FIRST));
    clear_flag(prev + total, F_PREV_FREE);
    h->used_block_bytes += total - size;
    size_t final = trim_tail(h, prev, total, need, false);
    h->used_block_bytes -= total - final;
    return prev;
}

static bool resize_impl(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_freelist *h = ctx;
    if (ALLOC_DEBUG_CHECKS && !validate_live(h, mem, len, align, ret_addr, "resize")) {
        alloc_stats_note_misuse(&h->stats);
        return false;
    }
    char *p = mem;
    if (new_len < len) ALLOC_TRACK_NOACCESS(p + new_len, len - new_len);
    if (!resize_block(h, block_of(mem), new_len)) {
        /* Only growth fails; a block alone in its region can still grow
         * in place if the backing allocator extends the region. */
        if (!extend_region(h, block_of(mem), block_need(new_len), false, len)) return false;
        ALLOC_CHECK(resize_block(h, block_of(mem), new_len), "freelist: extended region did not fit %zu", new_len);
    }
    if (new_len > len) ALLOC_TRACK_UNDEFINED(p + len, new_len - len);
    ALLOC_TRACK_POOL_CHANGE(h, p, p, new_len);
    alloc_stats_note_resize(&h->stats, len, new_len, true);
    return true;
}

static void *remap_impl(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_freelist *h = ctx;
    if (ALLOC_DEBUG_CHECKS && !validate_live(h, mem, len, align, ret_addr, "remap")) {
        alloc_stats_note_misuse(&h->stats);
        return NULL;
    }
    char *p = mem;
    if (new_len <= ALLOC_MAX_LEN && new_len >= len) {
        if (resize_block(h, block_of(mem), new_len)) {
            ALLOC_TRACK_UNDEFINED(p + len, new_len - len);
            ALLOC_TRACK_POOL_CHANGE(h, p, p, new_len);
            alloc_stats_note_resize(&h->stats, len, new_len, false);
            return mem;
        }
    } else if (new_len < len) {
        ALLOC_TRACK_NOACCESS(p + new_len, len - new_len);
        resize_block(h, block_of(mem), new_len);
        ALLOC_TRACK_POOL_CHANGE(h, p, p, new_len);
        alloc_stats_note_resize(&h->stats, len, new_len, false);
        return mem;
    }
    if (new_len > TAG_SIZE_LIMIT / 2) {
        alloc_stats_note_failed(&h->stats);
        return NULL;
    }
    size_t need = block_need(new_len);
    /* A block alone in its region: grow the region (mremap for pages). The
     * region may move only where the new address keeps the alignment. */
    bool may_move = align <= GRAN || (is_page_backing(h) && align <= alloc_os_page_size());
    char *eb = extend_region(h, block_of(mem), need, may_move, len);
    if (eb) {
        ALLOC_CHECK(resize_block(h, eb, new_len), "freelist: extended region did not fit %zu", new_len);
        char *q = payload_of(eb);
        ALLOC_TRACK_UNDEFINED(q + len, new_len - len);
        ALLOC_TRACK_POOL_CHANGE(h, p, q, new_len);
        alloc_stats_note_resize(&h->stats, len, new_len, false);
        return q;
    }
    /* A free block before it: slide down into the coalesced space. */
    char *bb = grow_backwards(h, block_of(mem), need, align, len, new_len);
    if (bb) {
        char *q = payload_of(bb);
        ALLOC_TRACK_POOL_CHANGE(h, p, q, new_len);
        alloc_stats_note_resize(&h->stats, len, new_len, false);
        return q;
    }
    /* Move: a new block, the contents, then the old block back. A large
     * block moves into a region of its own, half again as long as it needs,
     * whose later growth is in place or through extend_region. */
    char *nb = NULL;
    if (need >= h->large_block && h->can_grow) {
        size_t room = need + need / 2 + ALLOC_FREELIST_REGION_OVERHEAD + GRAN;
        nb = take_own_region(h, need, align, room);
    }
    if (!nb) nb = take(h, need, align);
    if (!nb) {
        alloc_stats_note_failed(&h->stats);
        return NULL;
    }
    char *q = payload_of(nb);
    ALLOC_TRACK_UNDEFINED(q, new_len);
    ALLOC_TRACK_POOL_ALLOC(h, q, new_len);
    memcpy(q, p, len);
    ALLOC_TRACK_NOACCESS(p, len);
    ALLOC_TRACK_POOL_FREE(h, p);
    debug_fill(p, size_of(hdr(block_of(p))) - HDR, ALLOC_FILL_FREED);
    give(h, block_of(p));
    alloc_stats_note_resize(&h->stats, len, new_len, false);
    return q;
}

static bool fl_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    bool done = resize_impl(ctx, mem, len, align, new_len, ret_addr);
    ALLOC_ASSERT_EXPENSIVE(alloc_freelist_check(ctx));
    return done;
}

static void *fl_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    void *p = remap_impl(ctx, mem, len, align, new_len, ret_addr);
    ALLOC_ASSERT_EXPENSIVE(alloc_freelist_check(ctx));
    return p;
}

static const alloc_vtable freelist_vtable = {fl_alloc, fl_resize, fl_remap, fl_free};

/* --- public ---------------------------------------------------------------------------- */

int alloc_freelist_init(alloc_freelist *heap, const alloc_freelist_config *config)
{
    alloc_freelist_config c = config ? *config : (alloc_freelist_config){0};
    if ((unsigned)c.policy > ALLOC_FREELIST_BEST_FIT) return -EINVAL;
    if (c.buffer_size && !c.buffer) return -EINVAL;
    if (c.buffer && c.buffer_size < ALLOC_FREELIST_MIN_BUFFER) return -EINVAL;
    if (c.no_grow && !c.buffer) return -EINVAL;
    if (c.region_size > ALLOC_MAX_LEN) return -EINVAL;
    memset(heap, 0, sizeof *heap);
    heap->policy = c.policy;
    heap->can_grow = !c.no_grow;
    heap->backing = c.backing.vtable ? c.backing : alloc_page_allocator();
    heap->region_size = c.region_size ? c.region_size : ALLOC_FREELIST_DEFAULT_REGION_SIZE;
    heap->retain_bytes = c.retain_bytes ? c.retain_bytes : heap->region_size;
    /* Small regions scale both thresholds down (and let the fuzzer reach
     * those paths with small requests). */
    heap->large_block = heap->region_size / 4 < ALLOC_FREELIST_LARGE_BLOCK ? heap->region_size / 4
                                                                            : ALLOC_FREELIST_LARGE_BLOCK;
    heap->purge_min = heap->region_size < ALLOC_FREELIST_PURGE_MIN ? heap->region_size : ALLOC_FREELIST_PURGE_MIN;
    /* The list policies stay the textbook algorithms: no cache. */
    heap->cache_cap = c.policy == ALLOC_FREELIST_TLSF && !c.no_cache ? ALLOC_FREELIST_CACHE_BLOCKS : 0;
    ALLOC_TRACK_POOL_CREATE(heap);
    if (c.buffer) {
        region *r = region_setup(heap, c.buffer, c.buffer_size, c.buffer, c.buffer_size, false);
        ALLOC_CHECK(r != NULL, "freelist: buffer of %zu bytes too small", c.buffer_size);
    }
    return 0;
}

void alloc_freelist_deinit(alloc_freelist *heap)
{
    region *r = heap->regions;
    while (r) {
        region *next = r->next;
        if (r->owned) {
            region_release(heap, r);
        } else {
            /* The caller's buffer goes back unpoisoned. */
            void *base = r->base;
            size_t len = r->base_len;
            region_unlink(heap, r);
            ALLOC_TRACK_UNDEFINED(base, len);
        }
        r = next;
    }
    ALLOC_TRACK_POOL_DESTROY(heap);
    memset(heap, 0, sizeof *heap);
}

allocator alloc_freelist_allocator(alloc_freelist *heap) { return (allocator){heap, &freelist_vtable}; }

int alloc_freelist_add_buffer(alloc_freelist *heap, void *buffer, size_t size)
{
    if (!buffer || size < ALLOC_FREELIST_MIN_BUFFER) return -EINVAL;
    return region_setup(heap, buffer, size, buffer, size, false) ? 0 : -EINVAL;
}

void *alloc_freelist_alloc_usable(alloc_freelist *heap, size_t len, size_t align)
{
    return alloc_common(heap, len, align, true);
}

size_t alloc_freelist_usable_size(const alloc_freelist *heap, const void *ptr)
{
    if (ALLOC_DEBUG_CHECKS && !validate_live(heap, ptr, 0, 1, ALLOC_RET_ADDR(), "usable_size")) return 0;
    (void)heap;
    return size_of(hdr(block_of(ptr))) - HDR;
}

void alloc_freelist_free_unsized(alloc_freelist *heap, void *ptr, uintptr_t ret_addr)
{
    if (!ptr) return;
    if (ALLOC_DEBUG_CHECKS && !validate_live(heap, ptr, 0, 1, ret_addr, "free")) {
        alloc_stats_note_misuse(&heap->stats);
        return;
    }
    size_t hb = tag(block_of(ptr));
    if (hb & (F_FREE | F_CACHED)) {
        char site[ALLOC_SITE_BUF];
        alloc_report_misuse("freelist: free of %p, which is already free (double free; called from %s)", ptr,
                            alloc_describe_addr(ret_addr, site, sizeof site));
        alloc_stats_note_misuse(&heap->stats);
        return;
    }
    size_t usable = size_of(hb) - HDR;
    /* A block allocated with less than its usable size must not take
     * bytes_in_use below zero. */
    size_t counted = usable < heap->stats.bytes_in_use ? usable : heap->stats.bytes_in_use;
    release_block(heap, ptr, usable, counted);
}

bool alloc_freelist_owns(const alloc_freelist *heap, const void *ptr)
{
    return region_containing(heap, ptr) != NULL;
}

static void purge_whole(alloc_freelist *h, char *b, size_t size) { purge_range(h, b, size, b, size); }

/* Purges every listed free block: O(free blocks). */
static void purge_all(alloc_freelist *h)
{
    if (!h->can_grow || !is_page_backing(h)) return;
    if (h->policy == ALLOC_FREELIST_TLSF) {
        for (unsigned fl = 0; fl < FL_COUNT; fl++)
            for (unsigned sl = 0; sl < SL_COUNT; sl++)
                for (char *c = h->heads[fl][sl]; c; c = link_next(c)) purge_whole(h, c, size_of(hdr(c)));
    } else {
        for (char *c = h->addr_head; c; c = link_next(c)) purge_whole(h, c, size_of(hdr(c)));
    }
    /* The reserved tails of large blocks' own regions are on no list. */
    for (region *r = h->regions; r; r = r->next) {
        if (!r->sole) continue;
        char *b = first_block(r);
        char *t = b + size_of(hdr(b));
        if (hdr(t) & F_UNLISTED) purge_whole(h, t, size_of(hdr(t)));
    }
}

size_t alloc_freelist_trim(alloc_freelist *heap)
{
    size_t given = 0;
    cache_flush(heap);
    region *r = heap->regions;
    while (r) {
        region *next = r->next;
        if (r->empty) {
            char *b = first_block(r);
            size_t size = size_of(hdr(b));
            list_remove(heap, b, size);
            clear_flag(b + size, F_PREV_FREE);
            r->empty = false;
            heap->retained_bytes -= r->base_len;
            given += r->base_len;
            region_release(heap, r);
        }
        r = next;
    }
    purge_all(heap);
    return given;
}

const char *alloc_freelist_policy_name(alloc_freelist_policy policy)
{
    switch (policy) {
    case ALLOC_FREELIST_TLSF: return "tlsf";
    case ALLOC_FREELIST_FIRST_FIT: return "first-fit";
    case ALLOC_FREELIST_BEST_FIT: return "best-fit";
    }
    return "?";
}

/* --- walking and checking ----------------------------------------------------------------- */

bool alloc_freelist_walk(const alloc_freelist *heap, alloc_freelist_walker walker, void *user)
{
    for (region *r = heap->regions; r; r = r->next) {
        for (char *b = first_block(r); b < r->sentinel;) {
            size_t hb = hdr(b);
            size_t size = size_of(hb);
            if (size == 0) return true; /* corrupt: never loop forever (the checker reports it) */
            if (!walker(payload_of(b), size - HDR, !(hb & (F_FREE | F_CACHED)), user)) return false;
            b += size;
        }
    }
    return true;
}

bool alloc_freelist_check(const alloc_freelist *heap)
{
    const alloc_freelist *h = heap;
    size_t free_blocks = 0, free_bytes = 0, used_blocks = 0, used_bytes = 0, regions = 0, reserved = 0,
           retained = 0, unlisted = 0, cached = 0, cached_bytes = 0;
    for (region *r = h->regions; r; r = r->next) {
        if (++regions > h->region_count) return false;
        if (r->next && r->next->prev != r) return false;
        reserved += r->base_len;
        if (r->empty) {
            if (!r->owned) return false;
            retained += r->base_len;
        }
        char *b = first_block(r);
        bool prev_free = false;
        size_t region_blocks = 0;
        while (b < r->sentinel) {
            size_t hb = hdr(b);
            if (!tag_copy_ok(hb)) return false;
            size_t size = size_of(hb);
            if (size < MIN_BLOCK || size > (size_t)(r->sentinel - b)) return false;
            if (!!(hb & F_PREV_FREE) != prev_free) return false;
            if (!!(hb & F_FIRST) != (b == first_block(r))) return false;
            bool is_free = (hb & F_FREE) != 0;
            if (is_free) {
                if (prev_free) return false; /* two adjacent free blocks */
                /* Unlisted: only the tail right after the first block of a sole region. */
                if ((hb & F_UNLISTED) && (!r->sole || region_blocks != 1 || (hdr(first_block(r)) & F_FREE)))
                    return false;
                if (hb & F_UNLISTED) unlisted++;
                if (word_get(b + size - HDR) != size) return false;
                free_blocks++;
                free_bytes += size;
            } else {
                if (hb & F_CACHED) {
                    cached++;
                    cached_bytes += size;
                }
                used_blocks++;
                used_bytes += size;
            }
            prev_free = is_free;
            region_blocks++;
            b += size;
        }
        if (b != r->sentinel) return false;
        size_t hs = hdr(r->sentinel);
        if (size_of(hs) != 0 || (hs & F_FREE) || !(hs & F_FIRST) || !!(hs & F_PREV_FREE) != prev_free) return false;
        if (r->empty && region_blocks != 1) return false;
    }
    if (regions != h->region_count || free_blocks != h->free_blocks || free_bytes != h->free_bytes ||
        used_blocks != h->used_blocks || used_bytes != h->used_block_bytes || retained != h->retained_bytes)
        return false;
    if (reserved != h->stats.bytes_reserved) return false;
    if (cached != h->cached_blocks || cached_bytes != h->cached_bytes || cached > h->cache_cap ||
        h->cache_hand >= CACHE_CLASSES)
        return false;
    if (h->used_blocks - h->cached_blocks != h->stats.alloc_count - h->stats.free_count) return false;
    /* The cache: each list ends after exactly its count of blocks of its
     * size, each flagged; as many in all as the walk found flagged, so every
     * cached block is on exactly one list. */
    size_t listed_cached = 0;
    for (size_t c = 0; c < CACHE_CLASSES; c++) {
        const char *e = h->cache[c];
        for (size_t k = 0; k < h->cache_count[c]; k++, e = link_next(e)) {
            if (!e || !region_containing(h, e)) return false;
            size_t he = hdr(e);
            if ((he & (F_FREE | F_CACHED)) != F_CACHED || size_of(he) != c * GRAN) return false;
        }
        if (e || h->cache_count[c] > ALLOC_FREELIST_CACHE_DEPTH) return false;
        listed_cached += h->cache_count[c];
    }
    if (listed_cached != cached) return false;
    if (h->stats.bytes_in_use > used_bytes) return false;
    if (!alloc_stats_consistent(&h->stats)) return false;

    /* The lists: links mutual, every entry free, counts match the walk. */
    size_t listed_blocks = 0;
    if (h->policy == ALLOC_FREELIST_TLSF) {
        if (h->addr_head) return false;
        for (unsigned fl = 0; fl < FL_COUNT; fl++) {
            if (!!(h->fl_bitmap & ((uint64_t)1 << fl)) != (h->sl_bitmap[fl] != 0)) return false;
            for (unsigned sl = 0; sl < SL_COUNT; sl++) {
                const char *c = h->heads[fl][sl];
                if (!!(h->sl_bitmap[fl] & (1u << sl)) != (c != NULL)) return false;
                const char *prev = NULL;
                for (; c; prev = c, c = link_next(c)) {
                    if (++listed_blocks > free_blocks || !region_containing(h, c)) return false;
                    size_t hc = hdr(c);
                    if (hc & F_UNLISTED) return false;
                    unsigned f, s;
                    mapping(size_of(hc), &f, &s);
                    if (!(hc & F_FREE) || f != fl || s != sl || link_prev(c) != prev) return false;
                }
            }
        }
        if (h->fl_bitmap >> FL_COUNT) return false;
    } else {
        if (h->fl_bitmap) return false;
        const char *prev = NULL;
        for (const char *c = h->addr_head; c; prev = c, c = link_next(c)) {
            if (++listed_blocks > free_blocks || !region_containing(h, c)) return false;
            if (!(hdr(c) & F_FREE) || (hdr(c) & F_UNLISTED) || link_prev(c) != prev || (prev && prev >= c))
                return false;
        }
    }
    /* Entries are distinct (mutual links, bounded length, one class per
     * size or strict address order) free blocks inside the heap; as many as
     * the walk found, so every free block is listed exactly once. */
    return listed_blocks + unlisted == free_blocks;
}

void alloc_freelist_stats(const alloc_freelist *heap, alloc_stats *out) { *out = heap->stats; }

void alloc_freelist_heap_info(const alloc_freelist *heap, alloc_freelist_info *out)
{
    const alloc_freelist *h = heap;
    size_t largest = 0;
    if (h->policy == ALLOC_FREELIST_TLSF) {
        if (h->fl_bitmap) {
            unsigned fl = msb((size_t)h->fl_bitmap);
            unsigned sl = msb((size_t)h->sl_bitmap[fl]);
            for (const char *c = h->heads[fl][sl]; c; c = link_next(c)) {
                size_t s = size_of(hdr(c));
                if (s > largest) largest = s;
            }
        }
    } else {
        for (const char *c = h->addr_head; c; c = link_next(c)) {
            size_t s = size_of(hdr(c));
            if (s > largest) largest = s;
        }
    }
    *out = (alloc_freelist_info){
        .base = h->stats,
        .free_bytes = h->free_bytes,
        .largest_free = largest,
        .free_blocks = h->free_blocks,
        .used_blocks = h->used_blocks - h->cached_blocks,
        .overhead_bytes = h->used_block_bytes - h->cached_bytes - h->stats.bytes_in_use,
        .region_count = h->region_count,
        .retained_bytes = h->retained_bytes,
        .purged_bytes = h->purged_bytes,
        .cached_blocks = h->cached_blocks,
        .cached_bytes = h->cached_bytes,
        .fragmentation = h->free_bytes ? 1.0 - (double)largest / (double)h->free_bytes : 0.0,
    };
}
