/*
 * entry.c: the malloc family, the adapter as a handle, and its diagnostics.
 *
 * free(p) is told nothing but p, so every block must say what it is. There
 * are two kinds:
 *
 *   class blocks (every request up to 256 KiB at alignments up to 4 KiB):
 *     no header. The page map names p's span; the span gives the class, and
 *     p must be a boundary of a block the span has carved (classes.c). A free
 *     block carries its freed tag, so a second free is told from a first.
 *
 *   direct blocks (larger requests, and every block while another strategy
 *     is selected or a handle installed): a 16-byte header in front of the
 *     user pointer, which is aligned like the block:
 *
 *       [ alignment padding ... ][ len | meta | tag ][ user bytes (len) ... ]
 *
 *     len   usable bytes from the user pointer (what malloc_usable_size says)
 *     meta  source index (4 bits) and log2 of the user pointer's offset
 *     tag   32-bit check of (address, len, meta) keyed by a per-process
 *           secret from AT_RANDOM; a freed block's tag is flipped
 *
 * A pointer that is neither is foreign; a freed one (the freed tag, a flipped
 * header tag, or a direct block in the ring of recently freed ones) is a
 * double free from free and a use after free from realloc or
 * malloc_usable_size. Every case is reported before any state is touched,
 * naming the function called and its caller.
 *
 * An aligned request up to 4 KiB is a block of the smallest class whose
 * size is a multiple of the alignment (every block of such a class is
 * aligned: spans start on 64 KiB boundaries). Anything larger is direct.
 */

/* --- reporting ------------------------------------------------------------- */

/* Whether fn gives a block back (a second call is a double free) rather than
 * using it (a call after free is a use after free). */
static bool fn_releases(const char *fn) { return strncmp(fn, "free", 4) == 0; }

static ALLOC_NOINLINE void report_bad_pointer(const char *fn, const void *p, bool freed, uintptr_t ret_addr)
{
    char site[ALLOC_SITE_BUF];
    int saved = errno;
    const char *what = !freed               ? "foreign pointer: not allocated by alloc's malloc (never allocated "
                                              "here, freed long ago, or its header was overwritten)"
                       : fn_releases(fn)    ? "double free: the block was already freed"
                                            : "use after free: the block was already freed";
    NOTE(misuse, 1);
    alloc_report_misuse("%s(%p): %s; called from %s", fn, p, what, alloc_describe_addr(ret_addr, site, sizeof site));
    errno = saved;
}

/* Reports p, a direct block's pointer whose header (copied into *h, or NULL)
 * did not verify. A freed direct block keeps its flipped tag unless its
 * source wrote over it; then its address is in the ring. */
static ALLOC_NOINLINE void report_bad_direct(const char *fn, const void *p, const hdr *h, uintptr_t ret_addr)
{
    bool freed = (h && h->tag == (tag_of(p, h->len, h->meta) ^ TAG_FREED_FLIP)) || freed_ring_has(p);
    report_bad_pointer(fn, p, freed, ret_addr);
}

/* Reports p, a pointer into a class span that is not a live block. */
static ALLOC_NOINLINE void report_bad_class(const char *fn, const void *p, span *s, uintptr_t ret_addr)
{
    bool freed = false;
    if (block_index(s, p) != UINT32_MAX) {
        freed = tag_get((void *)(uintptr_t)p) == freed_tag(p);
        ALLOC_TRACK_NOACCESS((char *)(uintptr_t)p + sizeof(void *), sizeof(uintptr_t));
    }
    report_bad_pointer(fn, p, freed, ret_addr);
}

/*
 * Reads and verifies the header of p, a direct block, into *out. Returns
 * false after reporting when p is not a live direct block of the adapter.
 */
static inline bool verify(const char *fn, const void *p, hdr *out, uintptr_t ret_addr)
{
    if (ALLOC_UNLIKELY(((uintptr_t)p & 15u) != 0 || (uintptr_t)p < 4096)) {
        report_bad_direct(fn, p, NULL, ret_addr);
        return false;
    }
    hdr *h = hdr_of(p);
    ALLOC_TRACK_DEFINED(h, HDR);
    *out = *h;
    ALLOC_TRACK_NOACCESS(h, HDR);
    if (ALLOC_LIKELY(out->tag == tag_of(p, out->len, out->meta))) {
        unsigned src = META_SOURCE(out->meta);
        if (ALLOC_LIKELY((out->meta & 0xFFu) == 0 && src >= SRC_PAGE && src < NSOURCES)) return true;
    }
    report_bad_direct(fn, p, out, ret_addr);
    return false;
}

/* Whether the class block p of span s is live: a block boundary the span has
 * handed out, without its freed tag. */
static inline bool class_block_live(const span *s, void *p)
{
    return ALLOC_LIKELY(block_index(s, p) != UINT32_MAX) && ALLOC_LIKELY(tag_get(p) != freed_tag(p));
}

/* What the slow entry points know of a block. */
typedef struct block_ref {
    span *s;    /* a class block's span, or NULL for a direct block */
    size_t len; /* usable bytes */
    hdr h;      /* a direct block's header */
} block_ref;

/* Finds and verifies any block; false after reporting if p is not live. */
static bool find_block(const char *fn, void *p, block_ref *out, uintptr_t ret_addr)
{
    span *s = span_of(p);
    if (s && s->kind == SPAN_CLASS) {
        if (!class_block_live(s, p)) {
            report_bad_class(fn, p, s, ret_addr);
            return false;
        }
        out->s = s;
        out->len = s->size;
        return true;
    }
    out->s = NULL;
    if (!verify(fn, p, &out->h, ret_addr)) return false;
    out->len = out->h.len;
    return true;
}

/* --- class blocks ------------------------------------------------------------- */

/* A free class block of size bytes handed out: its freed tag cleared, the
 * tools told. */
static inline void *hand_out(void *p, size_t size)
{
    tag_set(p, 0);
    ALLOC_TRACK_UNDEFINED(p, size);
    ALLOC_TRACK_MALLOCLIKE(p, size);
    (void)size;
    return p;
}

static ALLOC_NOINLINE void *class_alloc_general(unsigned cls)
{
    void *p = class_pop(cls);
    if (ALLOC_UNLIKELY(!p)) return NULL;
    NOTE(allocs, 1);
    NOTE_SIZE(in_use_add, class_size(cls));
    return hand_out(p, class_size(cls));
}

/* The owner's count of a bin (a load and a store, no locked instruction). */
static inline void bin_note(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

/* Pops a block off bin b of class cls: the freed tag cleared, the tools told. */
static inline void *bin_pop(bin *b, unsigned cls, void *p)
{
    b->head = link_get(p);
    b->count--;
    bin_note(&b->allocs);
    return hand_out(p, class_size(cls));
}

/* Pushes p, a live block of size bytes, onto bin b (which has room). */
static inline void bin_push(bin *b, void *p, size_t size)
{
    ALLOC_TRACK_FREELIKE(p);
    mark_freed(p, size, b->head);
    b->head = p;
    b->count++;
    bin_note(&b->frees);
}

/* A block of class cls; NULL when memory is exhausted. */
static inline void *class_alloc(unsigned cls)
{
    tcache *t = tc_self;
    if (ALLOC_LIKELY(t != NULL)) {
        bin *b = &t->bins[cls];
        void *p = b->head;
        if (ALLOC_LIKELY(p != NULL)) return bin_pop(b, cls, p);
    }
    return class_alloc_general(cls);
}

/* Gives back p, a live block of class span s (verified by the caller). */
static inline void class_release(void *p, const span *s)
{
    unsigned cls = s->cls;
    size_t size = s->size;
    tcache *t = tc_self;
    if (ALLOC_LIKELY(t != NULL)) {
        bin *b = &t->bins[cls];
        if (ALLOC_LIKELY(b->count < b->cap)) {
            bin_push(b, p, size);
            return;
        }
    }
    ALLOC_TRACK_FREELIKE(p);
    NOTE(frees, 1);
    NOTE_SIZE(in_use_sub, size);
    mark_freed(p, size, NULL);
    class_push(p, cls);
}

/*
 * The fast paths of the exported malloc and free: a hit in the calling
 * thread's cache, or NULL (false) for the general path, which does all the
 * work again with every check. A thread has a cache only after the engine is
 * initialised, so neither tests the initialisation; nothing here needs a
 * stack frame, and the general paths are calls in tail position.
 */
static inline void *malloc_fast(size_t len)
{
    tcache *t = tc_self;
    if (ALLOC_UNLIKELY(t == NULL || len > atomic_load_explicit(&fast_max, memory_order_relaxed))) return NULL;
    unsigned cls = class_small_table[(len + 15) / 16];
    bin *b = &t->bins[cls];
    void *p = b->head;
    if (ALLOC_UNLIKELY(p == NULL)) return NULL;
    return bin_pop(b, cls, p);
}

static inline bool free_fast(void *p)
{
    span *s = span_of(p);
    if (ALLOC_UNLIKELY(s == NULL || s->kind != SPAN_CLASS || !class_block_live(s, p))) return false;
    tcache *t = tc_self;
    if (ALLOC_UNLIKELY(t == NULL)) return false;
    bin *b = &t->bins[s->cls];
    if (ALLOC_UNLIKELY(b->count >= b->cap)) return false;
    bin_push(b, p, s->size);
    return true;
}

/* --- the family ---------------------------------------------------------------- */

static inline void *fail_nomem(void)
{
    NOTE(failed, 1);
    errno = ENOMEM;
    return NULL;
}

/* The allocation behind every entry point. align is a power of two >= 16. */
static inline void *alloc_impl(size_t len, size_t align, bool zero, uintptr_t ret_addr)
{
    ensure_init();
    if (ALLOC_UNLIKELY(len > ALLOC_MAX_LEN)) return fail_nomem();
    unsigned src = atomic_load_explicit(&active_source, memory_order_relaxed);
    if (ALLOC_LIKELY(src == SRC_CLASSES)) {
        if (ALLOC_LIKELY(len <= MAX_CLASS_BLOCK && align <= MAX_CLASS_ALIGN)) {
            unsigned cls = ALLOC_LIKELY(align <= HDR) ? class_of(len) : class_of_aligned(len, align);
            if (ALLOC_LIKELY(cls < NCLASS)) {
                void *p = class_alloc(cls);
                if (ALLOC_UNLIKELY(!p)) return fail_nomem();
                if (zero) memset(p, 0, len);
                return p;
            }
        }
        src = large_source(len, align);
    }
    void *p = direct_alloc(src, len, align, zero, ret_addr);
    if (ALLOC_UNLIKELY(!p)) return fail_nomem();
    return p;
}

static inline void release(void *p, const block_ref *r, uintptr_t ret_addr)
{
    if (r->s)
        class_release(p, r->s);
    else
        direct_free(p, &r->h, ret_addr);
}

static inline void free_impl(void *p, const char *fn, uintptr_t ret_addr)
{
    if (!p) return;
    block_ref r;
    if (ALLOC_LIKELY(find_block(fn, p, &r, ret_addr))) release(p, &r, ret_addr);
}

/* The general paths behind malloc_fast and free_fast, out of line. */
static ALLOC_NOINLINE void *malloc_slow(size_t len, uintptr_t ret_addr)
{
    return alloc_impl(len, HDR, false, ret_addr);
}

static ALLOC_NOINLINE void free_slow(void *p, uintptr_t ret_addr) { free_impl(p, "free", ret_addr); }

static void *realloc_impl(void *p, size_t len, uintptr_t ret_addr)
{
    if (!p) return alloc_impl(len, HDR, false, ret_addr);
    if (len == 0) {
        free_impl(p, "realloc", ret_addr);
        return NULL;
    }
    block_ref r;
    if (!find_block("realloc", p, &r, ret_addr)) {
        errno = EINVAL;
        return NULL;
    }
    if (len > ALLOC_MAX_LEN) return fail_nomem();
    bool defaults = atomic_load_explicit(&active_source, memory_order_relaxed) == SRC_CLASSES;
    if (r.s) {
        /* Stay in the block if it fits and is not more than twice too big. */
        if (len <= r.len && (len >= r.len / 2 || r.len <= 64)) return p;
    } else {
        unsigned src = META_SOURCE(r.h.meta);
        size_t offset = block_offset(r.h.meta);
        if (!(src == SRC_HEAP && len > HEAP_LARGE_MAX - offset) &&
            !(defaults && len <= MAX_CLASS_BLOCK && len < r.len / 2) && len <= ALLOC_MAX_LEN - offset) {
            /* The source grows or shrinks it where it is if it can (the heap's
             * neighbouring span, mremap for a mapping of its own). Not when it
             * leaves the heap's band for a mapping, or shrinks into the classes. */
            source *s = &sources[src];
            char *base = (char *)p - offset;
            ALLOC_TRACK_DEFINED(hdr_of(p), HDR); /* the header moves with the block */
            track_direct_slack(src, p, r.len, offset, false);
            if (s->locked) engine_lock(&s->lock);
            char *moved = alloc_remap_at(s->a, base, r.len + offset, offset, len + offset, ret_addr);
            if (s->locked) engine_unlock(&s->lock);
            if (moved) {
                void *user = moved + offset;
                ALLOC_TRACK_FREELIKE(p);
                hdr_write(user, len, r.h.meta);
                ALLOC_TRACK_MALLOCLIKE(user, len);
                track_direct_slack(src, user, len, offset, true);
                ALLOC_TRACK_DEFINED(user, r.len < len ? r.len : len); /* the contents moved along */
                if (src != SRC_HEAP) {
                    note_direct_reserve(len + offset);
                    atomic_fetch_sub_explicit(&direct_bytes, r.len + offset, memory_order_relaxed);
                }
                note_direct_in_use(len, r.len);
                if (src == SRC_PAGE) atomic_fetch_add_explicit(&page_in_use, len - r.len, memory_order_relaxed);
                NOTE(remaps, 1);
                NOTE_SIZE(in_use_add, len);
                NOTE_SIZE(in_use_sub, r.len);
                return user;
            }
            ALLOC_TRACK_NOACCESS(hdr_of(p), HDR);
            track_direct_slack(src, p, r.len, offset, true);
        }
    }
    /* Moving. A block that grows past the classes into the heap gets half
     * its size again as room, so a buffer grown by small steps moves
     * O(log n) times (each time into a span that can often grow in place
     * too), never once per page: amortised O(1) copying per byte of growth.
     * Past the heap's band it moves once to a mapping of its own, which
     * mremap grows without copying. */
    size_t want = len;
    if (defaults && len > r.len && len > MAX_CLASS_BLOCK && len <= HEAP_LARGE_MAX - HDR) {
        want = len + len / 2;
        if (want > HEAP_LARGE_MAX - HDR) want = HEAP_LARGE_MAX - HDR;
    }
    void *fresh = alloc_impl(want, HDR, false, ret_addr);
    if (!fresh) return NULL; /* errno set; p untouched */
    memcpy(fresh, p, r.len < len ? r.len : len);
    release(p, &r, ret_addr);
    return fresh;
}

/* glibc's memalign: alignments up to 16 are plain malloc; others round up to a
 * power of two; more than half the address space is EINVAL. */
static void *memalign_impl(size_t align, size_t len, uintptr_t ret_addr)
{
    if (align <= HDR) return alloc_impl(len, HDR, false, ret_addr);
    if (align > SIZE_MAX / 2 + 1) {
        errno = EINVAL;
        return NULL;
    }
    if (!alloc_is_pow2(align)) align = (size_t)1 << (64 - __builtin_clzll((unsigned long long)align));
    return alloc_impl(len, align, false, ret_addr);
}

/* Exported, with an explicit caller address (the malloc names pass theirs). */
ALLOC_HIDDEN void *alloc_global_malloc_at(size_t size, uintptr_t ret_addr);
ALLOC_HIDDEN void alloc_global_free_at(void *p, uintptr_t ret_addr);
ALLOC_HIDDEN void *alloc_global_calloc_at(size_t n, size_t size, uintptr_t ret_addr);
ALLOC_HIDDEN void *alloc_global_realloc_at(void *p, size_t size, uintptr_t ret_addr);
ALLOC_HIDDEN void *alloc_global_reallocarray_at(void *p, size_t n, size_t size, uintptr_t ret_addr);
ALLOC_HIDDEN int alloc_global_posix_memalign_at(void **out, size_t align, size_t size, uintptr_t ret_addr);
ALLOC_HIDDEN void *alloc_global_memalign_at(size_t align, size_t size, uintptr_t ret_addr);
ALLOC_HIDDEN void *alloc_global_valloc_at(size_t size, uintptr_t ret_addr);
ALLOC_HIDDEN void *alloc_global_pvalloc_at(size_t size, uintptr_t ret_addr);
ALLOC_HIDDEN size_t alloc_global_usable_size_at(const void *p, uintptr_t ret_addr);
ALLOC_HIDDEN void alloc_global_free_sized_at(void *p, size_t align, size_t size, uintptr_t ret_addr);

void *alloc_global_malloc_at(size_t size, uintptr_t ret_addr)
{
    void *p = malloc_fast(size);
    return ALLOC_LIKELY(p != NULL) ? p : malloc_slow(size, ret_addr);
}

void alloc_global_free_at(void *p, uintptr_t ret_addr)
{
    if (ALLOC_LIKELY(free_fast(p))) return;
    free_slow(p, ret_addr);
}

void *alloc_global_calloc_at(size_t n, size_t size, uintptr_t ret_addr)
{
    size_t total;
    if (alloc_mul_overflows(n, size, &total)) {
        ensure_init();
        return fail_nomem();
    }
    return alloc_impl(total, HDR, true, ret_addr);
}

void *alloc_global_realloc_at(void *p, size_t size, uintptr_t ret_addr)
{
    return realloc_impl(p, size, ret_addr);
}

void *alloc_global_reallocarray_at(void *p, size_t n, size_t size, uintptr_t ret_addr)
{
    size_t total;
    if (alloc_mul_overflows(n, size, &total)) {
        ensure_init();
        return fail_nomem();
    }
    return realloc_impl(p, total, ret_addr);
}

int alloc_global_posix_memalign_at(void **out, size_t align, size_t size, uintptr_t ret_addr)
{
    if (align % sizeof(void *) != 0 || !alloc_is_pow2(align)) return EINVAL;
    /* glibc sets errno to ENOMEM as well as returning it. */
    void *p = alloc_impl(size, align > HDR ? align : HDR, false, ret_addr);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

void *alloc_global_memalign_at(size_t align, size_t size, uintptr_t ret_addr)
{
    return memalign_impl(align, size, ret_addr);
}

void *alloc_global_valloc_at(size_t size, uintptr_t ret_addr)
{
    return memalign_impl(alloc_os_page_size(), size, ret_addr);
}

void *alloc_global_pvalloc_at(size_t size, uintptr_t ret_addr)
{
    size_t page = alloc_os_page_size();
    if (size > ALLOC_MAX_LEN - page) {
        ensure_init();
        return fail_nomem();
    }
    size_t rounded = alloc_align_up(size, page);
    return memalign_impl(page, rounded, ret_addr);
}

size_t alloc_global_usable_size_at(const void *p, uintptr_t ret_addr)
{
    if (!p) return 0;
    block_ref r;
    if (!find_block("malloc_usable_size", (void *)(uintptr_t)p, &r, ret_addr)) return 0;
    return r.len;
}

void alloc_global_free_sized_at(void *p, size_t align, size_t size, uintptr_t ret_addr)
{
    if (!p) return;
    block_ref r;
    int saved = errno;
    if (find_block("free_sized", p, &r, ret_addr)) {
        bool aligned_ok = align == 0 || ((uintptr_t)p & (align - 1)) == 0;
        if (ALLOC_UNLIKELY(size > r.len || !aligned_ok)) {
            char site[ALLOC_SITE_BUF];
            NOTE(misuse, 1);
            alloc_report_misuse("free_sized(%p, %zu): the block has %zu usable bytes at alignment %zu; "
                                "size or alignment does not match, called from %s",
                                p, size, r.len, align, alloc_describe_addr(ret_addr, site, sizeof site));
        } else {
            release(p, &r, ret_addr);
        }
    }
    errno = saved;
}

void *alloc_global_malloc(size_t size) { return alloc_global_malloc_at(size, ALLOC_RET_ADDR()); }
void alloc_global_free(void *p) { alloc_global_free_at(p, ALLOC_RET_ADDR()); }
void *alloc_global_calloc(size_t n, size_t size) { return alloc_global_calloc_at(n, size, ALLOC_RET_ADDR()); }
void *alloc_global_realloc(void *p, size_t size) { return realloc_impl(p, size, ALLOC_RET_ADDR()); }
void *alloc_global_reallocarray(void *p, size_t n, size_t size)
{
    return alloc_global_reallocarray_at(p, n, size, ALLOC_RET_ADDR());
}
int alloc_global_posix_memalign(void **out, size_t align, size_t size)
{
    return alloc_global_posix_memalign_at(out, align, size, ALLOC_RET_ADDR());
}
void *alloc_global_memalign(size_t align, size_t size) { return memalign_impl(align, size, ALLOC_RET_ADDR()); }
void *alloc_global_aligned_alloc(size_t align, size_t size)
{
    return memalign_impl(align, size, ALLOC_RET_ADDR());
}
void *alloc_global_valloc(size_t size) { return alloc_global_valloc_at(size, ALLOC_RET_ADDR()); }
void *alloc_global_pvalloc(size_t size) { return alloc_global_pvalloc_at(size, ALLOC_RET_ADDR()); }
size_t alloc_global_usable_size(const void *p) { return alloc_global_usable_size_at(p, ALLOC_RET_ADDR()); }
void alloc_global_free_sized(void *p, size_t size) { alloc_global_free_sized_at(p, 0, size, ALLOC_RET_ADDR()); }
void alloc_global_free_aligned_sized(void *p, size_t align, size_t size)
{
    alloc_global_free_sized_at(p, align, size, ALLOC_RET_ADDR());
}


/* --- the adapter as a handle -------------------------------------------------------- */

static void *handle_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ctx;
    void *p = alloc_impl(len, align > HDR ? align : HDR, false, ret_addr);
    return p;
}

static bool handle_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    (void)ctx, (void)len, (void)align;
    block_ref r;
    if (!find_block("resize", mem, &r, ret_addr)) return false;
    if (new_len <= r.len) {
        NOTE(resizes, 1);
        return true;
    }
    return false;
}

static void *handle_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    (void)ctx, (void)len;
    block_ref r;
    if (!find_block("remap", mem, &r, ret_addr)) return NULL;
    if (new_len <= r.len) return mem;
    if (r.s || align > HDR) return NULL;
    void *moved = realloc_impl(mem, new_len, ret_addr);
    return moved;
}

static void handle_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ctx, (void)len, (void)align;
    free_impl(mem, "free", ret_addr);
}

static const alloc_vtable global_vtable = {handle_alloc, handle_resize, handle_remap, handle_free};

allocator alloc_global_allocator(void) { return (allocator){NULL, &global_vtable}; }

