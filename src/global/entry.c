/*
 * entry.c: the malloc family, the adapter as a handle, and its diagnostics.
 *
 * Every block the adapter hands out carries a 16-byte header right in front of
 * the user pointer, because free(p) tells us nothing else:
 *
 *     block start                         user pointer (16-aligned)
 *     |<------------- offset ------------->|
 *     [ alignment padding ... ][ len | meta | tag ][ user bytes (len) ... ]
 *
 *   len   usable bytes from the user pointer (what malloc_usable_size says)
 *   meta  size class + 1 (0: a direct block), source index (4 bits), and the
 *         offset: in 16-byte units for class blocks, as log2 for direct ones
 *   tag   32-bit check of (address, len, meta) keyed by a per-process secret
 *         from AT_RANDOM; a freed block's tag is flipped by a constant
 * A free whose header does not verify is a double free (the flipped tag, or a
 * direct block in the ring of recently freed ones), a use after free (the
 * same, reached from realloc or malloc_usable_size) or a foreign pointer; all
 * are reported before any state is touched, naming the function called.
 *
 * Alignment above 16 for a small request takes a class block of
 * len + align + 16 bytes and puts the user pointer at the first aligned
 * address after the header (align up to 4 KiB); anything bigger is direct.
 */

/* --- reporting ------------------------------------------------------------- */

/* Whether fn gives a block back (a second call is a double free) rather than
 * using it (a call after free is a use after free). */
static bool fn_releases(const char *fn) { return strncmp(fn, "free", 4) == 0; }

static ALLOC_NOINLINE void report_bad_pointer(const char *fn, const void *p, const hdr *h, uintptr_t ret_addr)
{
    char site[ALLOC_SITE_BUF];
    int saved = errno;
    /* A freed class block keeps its flipped tag; a freed direct block may have
     * been overwritten by its source, but its address is in the ring. */
    bool freed = (h && h->tag == (tag_of(p, h->len, h->meta) ^ TAG_FREED_FLIP)) || freed_ring_has(p);
    const char *what = !freed               ? "foreign pointer: not allocated by alloc's malloc (never allocated "
                                              "here, freed long ago, or its header was overwritten)"
                       : fn_releases(fn)    ? "double free: the block was already freed"
                                            : "use after free: the block was already freed";
    NOTE(misuse, 1);
    alloc_report_misuse("%s(%p): %s; called from %s", fn, p, what, alloc_describe_addr(ret_addr, site, sizeof site));
    errno = saved;
}

/*
 * Reads and verifies p's header into *out. Returns false after reporting when
 * p is not a live block of the adapter.
 */
static inline bool verify(const char *fn, const void *p, hdr *out, uintptr_t ret_addr)
{
    if (ALLOC_UNLIKELY(((uintptr_t)p & 15u) != 0 || (uintptr_t)p < 4096)) {
        report_bad_pointer(fn, p, NULL, ret_addr);
        return false;
    }
    hdr *h = hdr_of(p);
    ALLOC_TRACK_DEFINED(h, HDR);
    *out = *h;
    ALLOC_TRACK_NOACCESS(h, HDR);
    if (ALLOC_LIKELY(out->tag == tag_of(p, out->len, out->meta))) {
        unsigned cls = META_CLASS(out->meta), src = META_SOURCE(out->meta);
        if (ALLOC_LIKELY(cls ? cls <= NCLASS && src == SRC_CLASSES : src >= SRC_PAGE && src < NSOURCES))
            return true;
    }
    report_bad_pointer(fn, p, out, ret_addr);
    return false;
}

/* --- class blocks ------------------------------------------------------------- */

static void *class_alloc_general(size_t len, size_t align);

/* A class block for len bytes at align (<= MAX_CLASS_ALIGN); NULL if none fits or OOM. */
/*
 * The fast path of both directions rests on one fact: a cached block's freed
 * header differs from the live header of an unaligned (offset 16) block of
 * the same class only by TAG_FREED_FLIP. So malloc flips the tag back and free
 * (after verifying the live tag) flips it again: one hash per malloc/free
 * pair, in free.
 */
static inline void *class_alloc(size_t len, size_t align)
{
    if (ALLOC_LIKELY(align <= HDR)) {
        unsigned cls = class_of(len + HDR);
        tcache *t = tc_self;
        bin *b = t ? &t->bins[cls] : NULL;
        void *p = b ? b->head : NULL;
        if (ALLOC_LIKELY(p != NULL)) {
            b->head = link_get(p);
            b->count--;
            size_t usable = class_size(cls) - HDR;
            hdr *h = hdr_of(p);
            ALLOC_TRACK_DEFINED(h, HDR);
            h->tag ^= TAG_FREED_FLIP;
            ALLOC_TRACK_NOACCESS(h, HDR);
            ALLOC_TRACK_UNDEFINED(p, usable);
            ALLOC_TRACK_MALLOCLIKE(p, usable);
            count(&t->c.allocs, 1);
            count_size(&t->c.in_use_add, usable);
            return p;
        }
    }
    return class_alloc_general(len, align);
}

static ALLOC_NOINLINE void *class_alloc_general(size_t len, size_t align)
{
    size_t extra = align > HDR ? align : 0;
    size_t block = len + HDR + extra;
    unsigned cls = class_of(block);
    void *p = class_pop(cls);
    if (ALLOC_UNLIKELY(!p)) return NULL;
    size_t size = class_size(cls);
    size_t offset = HDR;
    if (extra) {
        uintptr_t start = (uintptr_t)p - HDR;
        offset = alloc_align_up(start + HDR, align) - start;
    }
    void *user = (char *)p - HDR + offset;
    size_t usable = size - offset;
    ALLOC_TRACK_UNDEFINED(user, usable);
    hdr_write(user, usable, (cls + 1u) | (uint32_t)((offset / 16) << 12));
    ALLOC_TRACK_MALLOCLIKE(user, usable);
    NOTE(allocs, 1);
    NOTE_SIZE(in_use_add, usable);
    return user;
}

static inline void class_free(void *user, const hdr *h)
{
    unsigned cls = META_CLASS(h->meta) - 1u;
    tcache *t = tc_self;
    bin *b = t ? &t->bins[cls] : NULL;
    if (ALLOC_LIKELY(META_OFF(h->meta) == 1 && b && b->count < cache_cap(cls))) {
        /* Unaligned block into a cache with room: flip the verified tag. */
        hdr *live = hdr_of(user);
        ALLOC_TRACK_FREELIKE(user);
        count(&t->c.frees, 1);
        count_size(&t->c.in_use_sub, h->len);
        ALLOC_TRACK_DEFINED(live, HDR);
        live->tag = h->tag ^ TAG_FREED_FLIP;
        ALLOC_TRACK_NOACCESS(live, HDR);
#if ALLOC_DEBUG_CHECKS
        ALLOC_TRACK_UNDEFINED(user, h->len);
        memset(user, ALLOC_FILL_FREED, h->len);
#endif
        ALLOC_TRACK_NOACCESS(user, h->len);
        link_set(user, b->head);
        b->head = user;
        b->count++;
        return;
    }
    void *canon = (char *)user - block_offset(h->meta) + HDR;
    ALLOC_TRACK_FREELIKE(user);
    NOTE(frees, 1);
    NOTE_SIZE(in_use_sub, h->len);
    if (canon != user) {
        /* An aligned block: its own header, not the block's, is what a second
         * free would find. Flip it, and remember the address (the block's
         * link word or a debug fill may land on that header). */
        hdr *live = hdr_of(user);
        ALLOC_TRACK_DEFINED(live, HDR);
        live->tag = h->tag ^ TAG_FREED_FLIP;
        ALLOC_TRACK_NOACCESS(live, HDR);
        freed_ring_note(user);
    }
    mark_freed(canon, cls);
    class_push(canon, cls);
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
        if (ALLOC_LIKELY(align <= MAX_CLASS_ALIGN && len <= MAX_CLASS_BLOCK - HDR - (align > HDR ? align : 0))) {
            void *p = class_alloc(len, align);
            if (ALLOC_UNLIKELY(!p)) return fail_nomem();
            if (zero) memset(p, 0, len);
            return p;
        }
        src = large_source(len, align);
    }
    void *p = direct_alloc(src, len, align, zero, ret_addr);
    if (ALLOC_UNLIKELY(!p)) return fail_nomem();
    return p;
}

static inline void free_impl(void *p, const char *fn, uintptr_t ret_addr)
{
    if (!p) return;
    hdr h;
    if (ALLOC_LIKELY(verify(fn, p, &h, ret_addr))) {
        if (META_CLASS(h.meta))
            class_free(p, &h);
        else
            direct_free(p, &h, ret_addr);
    }
}

static void *realloc_impl(void *p, size_t len, uintptr_t ret_addr)
{
    if (!p) return alloc_impl(len, HDR, false, ret_addr);
    if (len == 0) {
        free_impl(p, "realloc", ret_addr);
        return NULL;
    }
    hdr h;
    if (!verify("realloc", p, &h, ret_addr)) {
        errno = EINVAL;
        return NULL;
    }
    if (len > ALLOC_MAX_LEN) return fail_nomem();
    unsigned src = META_SOURCE(h.meta);
    size_t offset = block_offset(h.meta);
    bool defaults = atomic_load_explicit(&active_source, memory_order_relaxed) == SRC_CLASSES;
    if (META_CLASS(h.meta)) {
        /* Stay in the block if it fits and is not more than twice too big. */
        if (len <= h.len && (len >= h.len / 2 || h.len <= 64)) return p;
    } else if (!(src == SRC_HEAP && len > HEAP_LARGE_MAX - offset) &&
               !(defaults && len <= MAX_CLASS_BLOCK - HDR && len < h.len / 2) && len <= ALLOC_MAX_LEN - offset) {
        /* The source grows or shrinks it where it is if it can (the heap's
         * neighbouring span, mremap for a mapping of its own). Not when it
         * leaves the heap's band for a mapping, or shrinks into the classes. */
        source *s = &sources[src];
        char *base = (char *)p - offset;
        ALLOC_TRACK_DEFINED(hdr_of(p), HDR); /* the header moves with the block */
        if (s->locked) pthread_mutex_lock(&s->lock);
        char *moved = alloc_remap_at(s->a, base, h.len + offset, offset, len + offset, ret_addr);
        if (s->locked) pthread_mutex_unlock(&s->lock);
        if (moved) {
            void *user = moved + offset;
            ALLOC_TRACK_FREELIKE(p);
            hdr_write(user, len, h.meta);
            ALLOC_TRACK_MALLOCLIKE(user, len);
            ALLOC_TRACK_DEFINED(user, h.len < len ? h.len : len); /* the contents moved along */
            if (src != SRC_HEAP) {
                note_direct_reserve(len + offset);
                atomic_fetch_sub_explicit(&direct_bytes, h.len + offset, memory_order_relaxed);
            }
            note_direct_in_use(len, h.len);
            if (src == SRC_PAGE) atomic_fetch_add_explicit(&page_in_use, len - h.len, memory_order_relaxed);
            NOTE(remaps, 1);
            NOTE_SIZE(in_use_add, len);
            NOTE_SIZE(in_use_sub, h.len);
            return user;
        }
        ALLOC_TRACK_NOACCESS(hdr_of(p), HDR);
    }
    /* Moving. A block that grows past the classes into the heap gets half
     * its size again as room, so a buffer grown by small steps moves
     * O(log n) times (each time into a span that can often grow in place
     * too), never once per page: amortised O(1) copying per byte of growth.
     * Past the heap's band it moves once to a mapping of its own, which
     * mremap grows without copying. */
    size_t want = len;
    if (defaults && len > h.len && len > MAX_CLASS_BLOCK - HDR && len <= HEAP_LARGE_MAX - HDR) {
        want = len + len / 2;
        if (want > HEAP_LARGE_MAX - HDR) want = HEAP_LARGE_MAX - HDR;
    }
    void *fresh = alloc_impl(want, HDR, false, ret_addr);
    if (!fresh) return NULL; /* errno set; p untouched */
    memcpy(fresh, p, h.len < len ? h.len : len);
    if (META_CLASS(h.meta))
        class_free(p, &h);
    else
        direct_free(p, &h, ret_addr);
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
    return alloc_impl(size, HDR, false, ret_addr);
}

void alloc_global_free_at(void *p, uintptr_t ret_addr) { free_impl(p, "free", ret_addr); }

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
    hdr h;
    if (!verify("malloc_usable_size", p, &h, ret_addr)) return 0;
    return h.len;
}

void alloc_global_free_sized_at(void *p, size_t align, size_t size, uintptr_t ret_addr)
{
    if (!p) return;
    hdr h;
    int saved = errno;
    if (verify("free_sized", p, &h, ret_addr)) {
        bool aligned_ok = align == 0 || ((uintptr_t)p & (align - 1)) == 0;
        if (ALLOC_UNLIKELY(size > h.len || !aligned_ok)) {
            char site[ALLOC_SITE_BUF];
            NOTE(misuse, 1);
            alloc_report_misuse("free_sized(%p, %zu): the block has %zu usable bytes at alignment %zu; "
                                "size or alignment does not match, called from %s",
                                p, size, h.len, align, alloc_describe_addr(ret_addr, site, sizeof site));
        } else if (META_CLASS(h.meta)) {
            class_free(p, &h);
        } else {
            direct_free(p, &h, ret_addr);
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
    hdr h;
    if (!verify("resize", mem, &h, ret_addr)) return false;
    if (new_len <= h.len) {
        NOTE(resizes, 1);
        return true;
    }
    return false;
}

static void *handle_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    (void)ctx, (void)len;
    hdr h;
    if (!verify("remap", mem, &h, ret_addr)) return NULL;
    if (new_len <= h.len) return mem;
    if (META_CLASS(h.meta) || align > HDR) return NULL;
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

