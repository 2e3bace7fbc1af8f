/* Tests of the single-threaded fixed-size pool (alloc_pool). */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/diag.h"
#include "alloc/page.h"
#include "alloc/pool.h"

/* --- a backing allocator that refuses after a budget of allocations ------- */

typedef struct budget {
    int allocs_left;
    int live;
    size_t last_align;
} budget;

static void *budget_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    budget *b = ctx;
    if (b->allocs_left <= 0) return NULL;
    void *p = alloc_page_allocator().vtable->alloc(NULL, len, align, ret_addr);
    if (p) {
        b->allocs_left--;
        b->live++;
        b->last_align = align;
    }
    return p;
}

static void budget_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    budget *b = ctx;
    b->live--;
    alloc_page_allocator().vtable->free(NULL, mem, len, align, ret_addr);
}

static const alloc_vtable budget_vtable = {budget_alloc, alloc_no_resize, alloc_no_remap, budget_free};

static allocator budget_allocator(budget *b) { return (allocator){b, &budget_vtable}; }

static void fill(void *p, size_t n, unsigned seed)
{
    unsigned char *c = p;
    for (size_t i = 0; i < n; i++) c[i] = (unsigned char)(seed * 31u + i);
}

static bool filled(const void *p, size_t n, unsigned seed)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != (unsigned char)(seed * 31u + i)) return false;
    return true;
}

static alloc_stats stats_of(const alloc_pool *p)
{
    alloc_stats s;
    alloc_pool_stats(p, &s);
    return s;
}

/* --- init ------------------------------------------------------------------ */

Test(pool, init_rejects_bad_configs)
{
    alloc_pool p;
    cr_assert_eq(alloc_pool_init(&p, NULL), -EINVAL);
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = 0}), -EINVAL);
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = 8, .obj_align = 3}), -EINVAL);
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = SIZE_MAX}), -EINVAL);
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = 64, .slab_bytes = 16}), -EINVAL,
                 "a slab too small for one object");
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = 64, .slab_bytes = 8192, .max_slab_bytes = 4096}),
                 -EINVAL, "max below first");
    char buf[256];
    cr_assert_eq(alloc_pool_init_buffer(&p, NULL, 100, 8, 8), -EINVAL);
    cr_assert_eq(alloc_pool_init_buffer(&p, buf, 40, 64, 8), -ENOMEM, "no room for header + object");
    cr_assert_eq(alloc_pool_init_buffer(&p, buf, sizeof buf, 64, 8), 0);
    alloc_pool_deinit(&p);
}

Test(pool, slot_size_and_alignment)
{
    size_t sizes[] = {1, 7, 8, 9, 24, 100, 4096, 5000};
    size_t aligns[] = {1, 8, 16, 64, 4096, 65536};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        for (size_t j = 0; j < sizeof aligns / sizeof *aligns; j++) {
            alloc_pool p;
            cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = sizes[i], .obj_align = aligns[j]}), 0);
            cr_assert_geq(p.stride, sizes[i]);
            cr_assert_eq(p.stride % (aligns[j] < 8 ? 8 : aligns[j]), 0);
            void *objs[20];
            for (int k = 0; k < 20; k++) {
                objs[k] = alloc_pool_get(&p);
                cr_assert_not_null(objs[k]);
                cr_assert(alloc_is_aligned(objs[k], aligns[j]), "size %zu align %zu: %p", sizes[i], aligns[j],
                          objs[k]);
                fill(objs[k], sizes[i], (unsigned)k);
            }
            for (int k = 0; k < 20; k++) cr_assert(filled(objs[k], sizes[i], (unsigned)k));
            cr_assert(alloc_pool_check(&p));
            for (int k = 19; k >= 0; k--) alloc_pool_put(&p, objs[k]);
            cr_assert(alloc_pool_check(&p));
            alloc_pool_deinit(&p);
        }
}

/* --- alloc/free -------------------------------------------------------------- */

Test(pool, objects_are_distinct_and_reused)
{
    alloc_pool p;
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = 40, .obj_align = 8}), 0);
    enum { N = 3000 };
    static unsigned char *objs[N];
    for (unsigned i = 0; i < N; i++) {
        objs[i] = alloc_pool_get(&p);
        cr_assert_not_null(objs[i]);
        fill(objs[i], 40, i);
        if (i % 500 == 0) cr_assert(alloc_pool_check(&p));
    }
    for (unsigned i = 0; i < N; i++) cr_assert(filled(objs[i], 40, i), "object %u overwritten", i);
    alloc_stats s = stats_of(&p);
    cr_assert_eq(s.bytes_in_use, (size_t)N * 40);
    cr_assert_eq(s.alloc_count, N);
    size_t reserved = s.bytes_reserved;
    /* free every other object, allocate them again: no new slab, same slots */
    for (unsigned i = 0; i < N; i += 2) alloc_pool_put(&p, objs[i]);
    cr_assert(alloc_pool_check(&p));
    for (unsigned i = 0; i < N; i += 2) {
        unsigned char *q = alloc_pool_get(&p);
        cr_assert(alloc_pool_owns(&p, q));
        objs[i] = q;
        fill(q, 40, i);
    }
    for (unsigned i = 0; i < N; i++) cr_assert(filled(objs[i], 40, i));
    s = stats_of(&p);
    cr_assert_eq(s.bytes_reserved, reserved, "reuse took a new slab");
    cr_assert_eq(s.peak_bytes_in_use, (size_t)N * 40);
    for (unsigned i = 0; i < N; i++) alloc_pool_put(&p, objs[i]);
    s = stats_of(&p);
    cr_assert_eq(s.bytes_in_use, 0);
    cr_assert_eq(s.free_count, s.alloc_count);
    cr_assert(alloc_pool_check(&p));
    alloc_pool_deinit(&p);
}

Test(pool, slabs_grow_geometrically)
{
    budget b = {.allocs_left = 100};
    alloc_pool p;
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = 64, .backing = budget_allocator(&b),
                                                          .slab_bytes = 4096, .max_slab_bytes = 32768}),
                 0);
    cr_assert_eq(b.live, 0, "init takes no memory");
    for (int i = 0; i < 4000; i++) cr_assert_not_null(alloc_pool_get(&p));
    /* 4 + 8 + 16 + 32 KiB, then 32 KiB slabs: ~4000 * 64 B = 256 KiB needs 4 + 6 more */
    cr_assert_leq(b.live, 12);
    cr_assert_geq(b.live, 8);
    cr_assert_eq(stats_of(&p).bytes_reserved, (size_t)(4 + 8 + 16) * 1024 + (size_t)(b.live - 3) * 32768);
    cr_assert(alloc_pool_check(&p));
    alloc_pool_deinit(&p);
    cr_assert_eq(b.live, 0, "deinit returns every slab");
}

Test(pool, backing_failure_changes_nothing)
{
    budget b = {.allocs_left = 1};
    alloc_pool p;
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = 100, .backing = budget_allocator(&b)}), 0);
    size_t n = 0;
    void *objs[1000];
    while ((objs[n] = alloc_pool_get(&p)) != NULL) {
        fill(objs[n], 100, (unsigned)n);
        n++;
        cr_assert_lt(n, 1000);
    }
    cr_assert_gt(n, 8);
    alloc_stats s = stats_of(&p);
    cr_assert_eq(s.failed_count, 1);
    cr_assert_eq(s.alloc_count, n);
    cr_assert(alloc_pool_check(&p));
    cr_assert_null(alloc_bytes(alloc_pool_allocator(&p), 100, 8));
    cr_assert_eq(alloc_pool_preheat(&p, 1), -ENOMEM);
    cr_assert(alloc_pool_check(&p));
    for (size_t i = 0; i < n; i++) cr_assert(filled(objs[i], 100, (unsigned)i));
    alloc_pool_put(&p, objs[3]);
    cr_assert_eq(alloc_pool_get(&p), objs[3], "a freed slot is reused first (LIFO)");
    for (size_t i = 0; i < n; i++) alloc_pool_put(&p, objs[i]);
    alloc_pool_deinit(&p);
    cr_assert_eq(b.live, 0);
}

/* --- the handle ---------------------------------------------------------------- */

Test(pool, handle_serves_only_what_fits)
{
    alloc_pool p;
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = 48, .obj_align = 16}), 0);
    allocator a = alloc_pool_allocator(&p);
    cr_assert_null(alloc_bytes(a, 49, 8), "longer than the object");
    cr_assert_null(alloc_bytes(a, 8, 32), "more aligned than the object");
    cr_assert_eq(stats_of(&p).failed_count, 2);
    unsigned char *x = alloc_bytes(a, 1, 1);
    unsigned char *y = alloc_bytes(a, 48, 16);
    cr_assert(x && y && x != y);
    cr_assert(alloc_is_aligned(x, 16) && alloc_is_aligned(y, 16));
    /* resize within the slot, never beyond */
    fill(x, 1, 5);
    cr_assert(alloc_resize(a, x, 1, 1, 48));
    cr_assert(filled(x, 1, 5));
    fill(x, 48, 6);
    cr_assert_not(alloc_resize(a, x, 48, 1, 49));
    cr_assert_eq(alloc_remap(a, x, 48, 1, 20), x);
    cr_assert_null(alloc_remap(a, x, 20, 1, 4096));
    cr_assert(filled(x, 20, 6));
    /* realloc beyond the slot cannot be done by a 48-byte pool */
    cr_assert_null(alloc_realloc(a, x, 20, 1, 100));
    alloc_stats s = stats_of(&p);
    cr_assert_eq(s.resize_count, 1);
    cr_assert_eq(s.remap_count, 1);
    cr_assert(alloc_pool_check(&p));
    alloc_free(a, x, 20, 1);
    alloc_free(a, y, 48, 16);
    cr_assert_eq(stats_of(&p).bytes_in_use, 0);
    cr_assert(alloc_pool_check(&p));
    alloc_pool_deinit(&p);
}

Test(pool, typed_helpers)
{
    typedef struct node {
        struct node *next;
        double value;
        int key;
    } node;
    alloc_pool p;
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = sizeof(node), .obj_align = _Alignof(node)}), 0);
    allocator a = alloc_pool_allocator(&p);
    node *head = NULL;
    for (int i = 0; i < 1000; i++) {
        node *n = alloc_create(a, node);
        cr_assert_not_null(n);
        *n = (node){head, i * 0.5, i};
        head = n;
    }
    int expect = 999;
    while (head) {
        node *next = head->next;
        cr_assert_eq(head->key, expect);
        cr_assert_float_eq(head->value, expect * 0.5, 1e-9);
        expect--;
        alloc_destroy(a, node, head);
        head = next;
    }
    cr_assert(alloc_pool_check(&p));
    alloc_pool_deinit(&p);
}

/* --- preheat, reset, trim ---------------------------------------------------------- */

Test(pool, preheat_reserves_up_front)
{
    budget b = {.allocs_left = 100};
    alloc_pool p;
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = 32, .backing = budget_allocator(&b)}), 0);
    cr_assert_eq(alloc_pool_preheat(&p, 1000), 0);
    cr_assert_geq(alloc_pool_capacity_left(&p), 1000);
    int slabs = b.live;
    cr_assert_gt(slabs, 0);
    cr_assert(alloc_pool_check(&p));
    b.allocs_left = 0; /* from here the backing allocator refuses */
    void *objs[1000];
    for (int i = 0; i < 1000; i++) {
        objs[i] = alloc_pool_get(&p);
        cr_assert_not_null(objs[i], "object %d of a preheated 1000 needed a slab", i);
    }
    cr_assert_eq(b.live, slabs);
    cr_assert(alloc_pool_check(&p));
    cr_assert_eq(alloc_pool_preheat(&p, alloc_pool_capacity_left(&p)), 0, "already there: no slab needed");
    for (int i = 0; i < 1000; i++) alloc_pool_put(&p, objs[i]);
    alloc_pool_deinit(&p);
    cr_assert_eq(b.live, 0);
}

Test(pool, reset_frees_everything_keeps_slabs)
{
    alloc_pool p;
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = 24}), 0);
    void *first = NULL;
    for (int i = 0; i < 2000; i++) {
        void *o = alloc_pool_get(&p);
        if (!first) first = o;
        fill(o, 24, (unsigned)i);
    }
    alloc_stats before = stats_of(&p);
    alloc_pool_reset(&p);
    cr_assert(alloc_pool_check(&p));
    alloc_stats after = stats_of(&p);
    cr_assert_eq(after.bytes_in_use, 0);
    cr_assert_eq(after.bytes_reserved, before.bytes_reserved, "reset keeps slabs");
    cr_assert_eq(after.peak_bytes_in_use, before.peak_bytes_in_use, "peaks never decrease");
    cr_assert_eq(after.alloc_count, before.alloc_count);
    cr_assert_geq(alloc_pool_capacity_left(&p), 2000);
    /* slabs are reused in the order they were taken */
    cr_assert_eq(alloc_pool_get(&p), first);
    for (int i = 1; i < 2000; i++) cr_assert_not_null(alloc_pool_get(&p));
    cr_assert_eq(stats_of(&p).bytes_reserved, before.bytes_reserved, "refilling after reset took a slab");
    cr_assert_eq(stats_of(&p).peak_bytes_in_use, before.peak_bytes_in_use);
    cr_assert_not_null(alloc_pool_get(&p));
    cr_assert_gt(stats_of(&p).peak_bytes_in_use, before.peak_bytes_in_use);
    cr_assert(alloc_pool_check(&p));
    alloc_pool_deinit(&p);
}

Test(pool, trim_returns_wholly_free_slabs)
{
    budget b = {.allocs_left = 100};
    alloc_pool p;
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = 64, .backing = budget_allocator(&b),
                                                          .slab_bytes = 4096, .max_slab_bytes = 4096}),
                 0);
    enum { N = 600 };
    void *objs[N];
    for (int i = 0; i < N; i++) objs[i] = alloc_pool_get(&p);
    int slabs = b.live;
    cr_assert_geq(slabs, 10);
    cr_assert_eq(alloc_pool_trim(&p), 0, "nothing is free");
    /* keep objects 0 and N-1 (first and last slab); free the rest */
    for (int i = 1; i < N - 1; i++) alloc_pool_put(&p, objs[i]);
    size_t got = alloc_pool_trim(&p);
    cr_assert(alloc_pool_check(&p));
    cr_assert_eq(got, (size_t)(slabs - 2) * 4096);
    cr_assert_eq(b.live, 2);
    cr_assert_eq(stats_of(&p).bytes_reserved, 2 * 4096);
    cr_assert(alloc_pool_owns(&p, objs[0]) && alloc_pool_owns(&p, objs[N - 1]));
    /* still usable: free slots in the kept slabs come first */
    for (int i = 1; i < N - 1; i++) {
        objs[i] = alloc_pool_get(&p);
        cr_assert_not_null(objs[i]);
        fill(objs[i], 64, (unsigned)i);
    }
    cr_assert(alloc_pool_check(&p));
    for (int i = 1; i < N - 1; i++) cr_assert(filled(objs[i], 64, (unsigned)i));
    for (int i = 0; i < N; i++) alloc_pool_put(&p, objs[i]);
    alloc_pool_trim(&p);
    cr_assert_eq(b.live, 0);
    cr_assert_eq(stats_of(&p).bytes_reserved, 0);
    cr_assert(alloc_pool_check(&p));
    cr_assert_not_null(alloc_pool_get(&p), "usable after trimming to nothing");
    alloc_pool_deinit(&p);
    cr_assert_eq(b.live, 0);
}

/* --- buffer pool ------------------------------------------------------------------- */

Test(pool, buffer_pool_exhausts_and_recovers)
{
    size_t need = alloc_pool_buffer_bytes(72, 8, 100);
    cr_assert_gt(need, 100 * 72);
    cr_assert_eq(alloc_pool_buffer_bytes(0, 8, 10), 0);
    cr_assert_eq(alloc_pool_buffer_bytes(SIZE_MAX / 2, 8, 4), 0, "overflow");
    for (size_t misalign = 0; misalign < 8; misalign++) {
        unsigned char *raw = malloc(need + 8);
        alloc_pool p;
        cr_assert_eq(alloc_pool_init_buffer(&p, raw + misalign, need, 72, 8), 0);
        void *objs[200];
        size_t n = 0;
        while (n < 200 && (objs[n] = alloc_pool_get(&p)) != NULL) {
            cr_assert((unsigned char *)objs[n] >= raw + misalign &&
                      (unsigned char *)objs[n] + 72 <= raw + misalign + need);
            fill(objs[n], 72, (unsigned)n);
            n++;
        }
        cr_assert_geq(n, 100, "buffer_bytes(100) held only %zu", n);
        cr_assert_lt(n, 200);
        cr_assert_null(alloc_pool_get(&p));
        cr_assert_null(alloc_bytes(alloc_pool_allocator(&p), 8, 8));
        cr_assert_eq(alloc_pool_preheat(&p, 1), -ENOMEM);
        cr_assert_eq(alloc_pool_trim(&p), 0);
        cr_assert(alloc_pool_check(&p));
        for (size_t i = 0; i < n; i++) cr_assert(filled(objs[i], 72, (unsigned)i));
        alloc_pool_put(&p, objs[n / 2]);
        cr_assert_eq(alloc_pool_get(&p), objs[n / 2]);
        alloc_pool_reset(&p);
        cr_assert_eq(alloc_pool_capacity_left(&p), n);
        alloc_pool_deinit(&p);
        free(raw);
    }
}

/* --- misuse -------------------------------------------------------------------------- */

#if ALLOC_DEBUG >= 1
static alloc_pool death_pool;

static void *death_setup(void)
{
    cr_assert_eq(alloc_pool_init(&death_pool, &(alloc_pool_config){.obj_size = 32}), 0);
    return alloc_pool_get(&death_pool);
}

Test(pool_misuse, interior_pointer_aborts, .signal = SIGABRT)
{
    char *o = death_setup();
    alloc_pool_put(&death_pool, o + 8);
}

Test(pool_misuse, never_allocated_slot_aborts, .signal = SIGABRT)
{
    char *o = death_setup();
    /* the next slot of the same slab exists but was never handed out */
    alloc_pool_put(&death_pool, o + death_pool.stride);
}

Test(pool_misuse, resize_after_free_aborts, .signal = SIGABRT)
{
    void *o = death_setup();
    alloc_pool_put(&death_pool, o);
    alloc_resize(alloc_pool_allocator(&death_pool), o, 32, 8, 16);
}

static char last_message[512];
static int messages;
static void record(const char *message, void *user)
{
    (void)user;
    strncpy(last_message, message, sizeof last_message - 1);
    messages++;
}

static void named_call_site(alloc_pool *p, void *o) { alloc_free(alloc_pool_allocator(p), o, 32, 8); }

Test(pool_misuse, tolerated_misuse_changes_nothing)
{
    alloc_set_misuse_handler(record, NULL);
    alloc_pool p;
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = 32}), 0);
    void *o = alloc_pool_get(&p);
    void *keep = alloc_pool_get(&p);
    alloc_pool_put(&p, o);
    alloc_stats before = stats_of(&p);
    named_call_site(&p, o);
    cr_assert_eq(messages, 1);
    cr_assert(strstr(last_message, "already freed"), "message: %s", last_message);
    cr_assert(strstr(last_message, "called from"), "message: %s", last_message);
    alloc_stats after = stats_of(&p);
    cr_assert_eq(after.free_count, before.free_count);
    cr_assert_eq(after.misuse_count, before.misuse_count + 1);
    cr_assert(alloc_pool_check(&p));
    int x;
    alloc_pool_put(&p, &x);
    cr_assert_eq(messages, 2);
    cr_assert(strstr(last_message, "not an object of this pool"), "message: %s", last_message);
    cr_assert(alloc_pool_check(&p));
    alloc_pool_put(&p, keep);
    cr_assert_eq(stats_of(&p).bytes_in_use, 0);
    alloc_pool_deinit(&p);
    alloc_set_misuse_handler(NULL, NULL);
}
#endif

#if defined(__SANITIZE_ADDRESS__)
/* The pool tells ASan which bytes are handed out: misuse inside a slab is caught. */
Test(pool_asan, overrun_past_requested_length_is_reported, .signal = SIGABRT)
{
    alloc_pool p;
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = 64}), 0);
    volatile char *o = alloc_bytes(alloc_pool_allocator(&p), 40, 8);
    o[40] = 1; /* inside the 64-byte slot, past the 40 bytes asked for */
}
#endif

/* Debug builds walk every carved slot with its live bit; release builds keep
 * no bit and walk the free list only. Either way a freed slot is seen free. */
typedef struct slot_census {
    size_t used, free;
    bool saw_freed;
    const void *freed;
} slot_census;

static bool census(void *block, size_t len, bool used, void *user)
{
    slot_census *c = user;
    cr_assert_eq(len, 24);
    if (used)
        c->used++;
    else
        c->free++;
    if (block == c->freed) c->saw_freed = !used;
    return true;
}

Test(pool, walk_reports_slots_and_their_state)
{
    alloc_pool p;
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = 24, .obj_align = 8}), 0);
    void *o[5];
    for (int i = 0; i < 5; i++) o[i] = alloc_pool_get(&p);
    alloc_pool_put(&p, o[2]);
    slot_census c = {.freed = o[2]};
    cr_assert(alloc_pool_walk(&p, census, &c));
    cr_assert(c.saw_freed, "the freed slot is walked as free");
    cr_assert_eq(c.free, 1);
#if ALLOC_DEBUG >= 1
    cr_assert_eq(c.used, 4);
#else
    cr_assert_eq(c.used, 0);
#endif
    for (int i = 0; i < 5; i++)
        if (i != 2) alloc_pool_put(&p, o[i]);
    cr_assert(alloc_pool_check(&p));
    alloc_pool_deinit(&p);
}
