/*
 * test_global.c: the global adapter's engine through its alloc_global_* names
 * (the malloc names themselves are exercised by tests/global/probe.c and
 * stress.c, in-process and under LD_PRELOAD). alloc_global_check() runs after
 * every step. Criterion runs each test in its own process, so installs and
 * selections do not leak between tests.
 */
#define _DEFAULT_SOURCE 1
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc/diag.h"
#include "alloc/global.h"
#include "alloc/page.h"

#define CHECK() cr_assert(alloc_global_check(), "alloc_global_check failed at %s:%d", __FILE__, __LINE__)

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(seed + i);
}

static bool intact(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed + i)) return false;
    return true;
}

Test(global, malloc_zero_is_unique_and_aligned)
{
    void *a = alloc_global_malloc(0), *b = alloc_global_malloc(0);
    cr_assert(a && b && a != b);
    cr_assert(((uintptr_t)a & 15) == 0 && ((uintptr_t)b & 15) == 0);
    CHECK();
    alloc_global_free(a);
    alloc_global_free(b);
    CHECK();
}

Test(global, every_size_class_and_beyond)
{
    for (size_t n = 1; n < ((size_t)2 << 20); n = n * 5 / 4 + 1) {
        unsigned char *p = alloc_global_malloc(n);
        cr_assert_not_null(p, "malloc(%zu)", n);
        cr_assert(((uintptr_t)p & 15) == 0);
        cr_assert_geq(alloc_global_usable_size(p), n);
        fill(p, alloc_global_usable_size(p), (unsigned)n);
        CHECK();
        cr_assert(intact(p, alloc_global_usable_size(p), (unsigned)n));
        alloc_global_free(p);
        CHECK();
    }
}

Test(global, failures_set_enomem_and_change_nothing)
{
    alloc_stats before, after;
    alloc_global_stats(&before);
    errno = 0;
    cr_assert_null(alloc_global_malloc((size_t)PTRDIFF_MAX + 1));
    cr_assert_eq(errno, ENOMEM);
    errno = 0;
    cr_assert_null(alloc_global_calloc(SIZE_MAX / 2, 3));
    cr_assert_eq(errno, ENOMEM);
    unsigned char *p = alloc_global_malloc(100);
    fill(p, 100, 9);
    errno = 0;
    cr_assert_null(alloc_global_realloc(p, SIZE_MAX - 8));
    cr_assert_eq(errno, ENOMEM);
    errno = 0;
    cr_assert_null(alloc_global_reallocarray(p, SIZE_MAX / 2, 4));
    cr_assert_eq(errno, ENOMEM);
    cr_assert(intact(p, 100, 9), "a failed realloc keeps the block");
    void *out = (void *)0x77;
    cr_assert_eq(alloc_global_posix_memalign(&out, 24, 8), EINVAL);
    cr_assert_eq(alloc_global_posix_memalign(&out, 0, 8), EINVAL);
    cr_assert_eq(alloc_global_posix_memalign(&out, 64, SIZE_MAX - 64), ENOMEM);
    cr_assert_eq(out, (void *)0x77, "posix_memalign leaves *out alone on failure");
    alloc_global_free(p);
    CHECK();
    alloc_global_stats(&after);
    cr_assert_geq(after.failed_count, before.failed_count + 5);
    cr_assert_eq(after.bytes_in_use, before.bytes_in_use);
}

Test(global, calloc_zeroes_reused_blocks)
{
    for (size_t n = 16; n < ((size_t)1 << 20); n *= 3) {
        unsigned char *d = alloc_global_malloc(n);
        memset(d, 0xAB, n);
        alloc_global_free(d);
        unsigned char *z = alloc_global_calloc(n, 1);
        for (size_t i = 0; i < n; i++) cr_assert_eq(z[i], 0, "calloc(%zu) byte %zu", n, i);
        alloc_global_free(z);
        CHECK();
    }
}

Test(global, realloc_semantics)
{
    unsigned char *p = alloc_global_realloc(NULL, 10);
    cr_assert_not_null(p);
    fill(p, 10, 1);
    size_t n = 10;
    for (size_t m = 17; m < ((size_t)8 << 20); m = m * 3 + 1) {
        p = alloc_global_realloc(p, m);
        cr_assert_not_null(p);
        cr_assert(intact(p, n, 1), "grow to %zu", m);
        fill(p, m, 1);
        n = m;
        CHECK();
    }
    while (n > 20) {
        n /= 5;
        p = alloc_global_realloc(p, n);
        cr_assert(intact(p, n, 1), "shrink to %zu", n);
        CHECK();
    }
    cr_assert_null(alloc_global_realloc(p, 0), "realloc(p, 0) frees and returns NULL");
    CHECK();
    alloc_stats s;
    alloc_global_stats(&s);
    cr_assert_gt(s.remap_count, 0, "large blocks grew by remapping");
}

Test(global, alignments)
{
    for (size_t a = 1; a <= ((size_t)8 << 20); a *= 2) {
        for (size_t n = 0; n < 70000; n = n * 7 + 1) {
            size_t want = a < 16 ? 16 : a;
            void *p = alloc_global_aligned_alloc(a, n);
            cr_assert(p && ((uintptr_t)p & (want - 1)) == 0, "aligned_alloc(%zu, %zu)", a, n);
            memset(p, 3, n);
            CHECK();
            alloc_global_free_aligned_sized(p, a, n);
            CHECK();
        }
    }
    void *m = alloc_global_memalign(48, 10);
    cr_assert(((uintptr_t)m & 63) == 0, "non-power-of-two alignments round up");
    alloc_global_free(m);
    long page = sysconf(_SC_PAGESIZE);
    void *v = alloc_global_valloc(1), *pv = alloc_global_pvalloc(1);
    cr_assert(((uintptr_t)v % (uintptr_t)page) == 0 && ((uintptr_t)pv % (uintptr_t)page) == 0);
    cr_assert_geq(alloc_global_usable_size(pv), (size_t)page);
    alloc_global_free(v);
    alloc_global_free(pv);
    CHECK();
}

Test(global, free_keeps_errno)
{
    void *a = alloc_global_malloc(10), *b = alloc_global_malloc((size_t)1 << 20);
    errno = 777;
    alloc_global_free(a);
    alloc_global_free(b);
    alloc_global_free(NULL);
    cr_assert_eq(errno, 777);
}

Test(global, stats_follow_the_blocks)
{
    alloc_stats s0, s1, s2;
    alloc_global_stats(&s0);
    void *p[100];
    for (int i = 0; i < 100; i++) p[i] = alloc_global_malloc((size_t)i * 1000);
    alloc_global_stats(&s1);
    cr_assert_eq(s1.alloc_count, s0.alloc_count + 100);
    cr_assert_geq(s1.bytes_in_use, s0.bytes_in_use + 99 * 50 * 1000);
    cr_assert_geq(s1.bytes_reserved, s1.bytes_in_use);
    for (int i = 0; i < 100; i++) alloc_global_free(p[i]);
    alloc_global_stats(&s2);
    cr_assert_eq(s2.free_count, s1.free_count + 100);
    cr_assert_eq(s2.bytes_in_use, s0.bytes_in_use);
    cr_assert_geq(s2.peak_bytes_in_use, s1.bytes_in_use);
    CHECK();
}

Test(global, stats_print_without_malloc)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    void *p = alloc_global_malloc(100);
    alloc_global_print_stats(fds[1]);
    close(fds[1]);
    char buf[1024] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    cr_assert_gt(n, 0);
    /* One line naming the process and the program, then the figures. */
    char head[64];
    snprintf(head, sizeof head, "alloc[%d ", (int)getpid());
    cr_assert(strncmp(buf, head, strlen(head)) == 0, "%s", buf);
    cr_assert(strstr(buf, "]: strategy default: in use") != NULL, "%s", buf);
    alloc_global_free(p);
}

/* The allocator handle view of the adapter. */
Test(global, as_an_allocator_handle)
{
    allocator a = alloc_global_allocator();
    char *s = alloc_strdup(a, "hello");
    cr_assert_str_eq(s, "hello");
    char *big = alloc_bytes(a, (size_t)1 << 20, 4096);
    cr_assert(big && ((uintptr_t)big & 4095) == 0);
    char *r = alloc_realloc(a, big, (size_t)1 << 20, 4096, (size_t)3 << 20);
    cr_assert_not_null(r);
    alloc_free(a, r, (size_t)3 << 20, 4096);
    alloc_free_str(a, s);
    CHECK();
}

/* --- selection and installation -------------------------------------------- */

Test(global, select_by_name)
{
    cr_assert_str_eq(alloc_global_strategy_name(), "default");
    void *before = alloc_global_malloc(100);
    cr_assert_eq(alloc_global_select("page"), 0);
    cr_assert_str_eq(alloc_global_strategy_name(), "page");
    void *p = alloc_global_malloc(100);
    cr_assert_eq((uintptr_t)p % 4096, 16, "page strategy: one mapping per block, header first");
    alloc_global_free(before); /* a block of the old strategy still frees */
    alloc_global_free(p);
    cr_assert_eq(alloc_global_select("no-such-strategy"), -ENOENT);
    cr_assert_str_eq(alloc_global_strategy_name(), "page");
    CHECK();
}

/* A counting allocator over the page allocator, to see the adapter route to it. */
static atomic_int counted_allocs, counted_frees;
static void *count_alloc(void *ctx, size_t len, size_t align, uintptr_t ra)
{
    (void)ctx;
    atomic_fetch_add(&counted_allocs, 1);
    return alloc_page_vtable.alloc(NULL, len, align, ra);
}
static void count_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ra)
{
    (void)ctx;
    atomic_fetch_add(&counted_frees, 1);
    alloc_page_vtable.free(NULL, mem, len, align, ra);
}
static const alloc_vtable counting_vtable = {count_alloc, alloc_no_resize, alloc_no_remap, count_free};

Test(global, install_routes_to_the_handle_and_frees_old_blocks_to_their_source)
{
    void *old = alloc_global_malloc(64);
    cr_assert_eq(alloc_global_install((allocator){NULL, &counting_vtable}, 0), 0);
    cr_assert_str_eq(alloc_global_strategy_name(), "installed");
    unsigned char *p = alloc_global_malloc(200);
    cr_assert_eq(atomic_load(&counted_allocs), 1);
    fill(p, 200, 5);
    p = alloc_global_realloc(p, 5000); /* no remap: alloc + copy + free */
    cr_assert(intact(p, 200, 5));
    cr_assert_eq(atomic_load(&counted_allocs), 2);
    cr_assert_eq(atomic_load(&counted_frees), 1);
    alloc_global_free(old);
    cr_assert_eq(atomic_load(&counted_frees), 1, "the old block went back to the classes");
    alloc_global_free(p);
    cr_assert_eq(atomic_load(&counted_frees), 2);
    CHECK();
}

Test(global, install_limit)
{
    int r = 0;
    for (int i = 0; i < ALLOC_GLOBAL_MAX_INSTALLED; i++)
        r |= alloc_global_install(alloc_page_allocator(), ALLOC_GLOBAL_THREAD_SAFE);
    cr_assert_eq(r, 0);
    cr_assert_eq(alloc_global_install(alloc_page_allocator(), 0), -ENOSPC);
}

/* --- threads and fork ------------------------------------------------------- */

enum { XFER = 2000 };
static void *volatile handoff[4][XFER];

static void *producer(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < XFER; i++) {
        size_t n = (size_t)(i * 37 + id) % 3000;
        unsigned char *p = alloc_global_malloc(n + 1);
        fill(p, n + 1, (unsigned)(id + i));
        handoff[id][i] = p;
    }
    return NULL;
}

static void *consumer(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < XFER; i++) {
        size_t n = (size_t)(i * 37 + id) % 3000;
        unsigned char *p = handoff[id][i];
        if (!intact(p, n + 1, (unsigned)(id + i))) return (void *)1;
        alloc_global_free(p);
    }
    return NULL;
}

Test(global, blocks_freed_by_other_threads)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, producer, (void *)(intptr_t)i);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, consumer, (void *)(intptr_t)((i + 1) % 4));
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        cr_assert_null(r, "contents intact across threads");
    }
    /* Every exited thread's cache went back to the classes: check sees a
     * consistent heap and nothing live. */
    CHECK();
    alloc_stats s;
    alloc_global_stats(&s);
    cr_assert_eq(s.alloc_count, s.free_count);
}

/* An allocator that, once armed, parks inside alloc (that is, inside the
 * adapter's lock for this source) until released. */
static atomic_int slow_armed, slow_inside;
static void *slow_alloc(void *ctx, size_t len, size_t align, uintptr_t ra)
{
    (void)ctx;
    if (atomic_exchange(&slow_armed, 0)) {
        atomic_store(&slow_inside, 1);
        usleep(200 * 1000);
    }
    return alloc_page_vtable.alloc(NULL, len, align, ra);
}
static const alloc_vtable slow_vtable = {slow_alloc, alloc_no_resize, alloc_no_remap, count_free};

static void *alloc_in_thread(void *arg)
{
    (void)arg;
    return alloc_global_malloc(100);
}

/* alloc_global_thread_flush gives a thread's cached blocks back: their spans
 * empty and go back to the page heap; alloc_global_trim then purges them. */
Test(global, thread_flush_and_trim_give_memory_back)
{
    enum { N = 64 };
    size_t len = (size_t)16 << 10; /* a class with four blocks per cache, eight per span */
    void *blocks[N];
    for (int i = 0; i < N; i++) {
        blocks[i] = alloc_global_malloc(len);
        cr_assert_not_null(blocks[i]);
        memset(blocks[i], 7, len);
    }
    for (int i = 0; i < N; i++) alloc_global_free(blocks[i]);
    alloc_global_heap_info before, flushed, trimmed;
    alloc_global_info(&before);
    alloc_global_thread_flush();
    alloc_global_info(&flushed);
    CHECK();
    /* The cache held a span's last blocks: that span is free now. */
    cr_assert_gt(flushed.heap_free, before.heap_free, "heap free %zu -> %zu", before.heap_free, flushed.heap_free);
    size_t purged = alloc_global_trim();
    alloc_global_info(&trimmed);
    cr_assert_gt(purged, 0);
    cr_assert_eq(trimmed.heap_dirty, 0, "trim left %zu dirty bytes", trimmed.heap_dirty);
    cr_assert_geq(trimmed.purged, before.purged + purged);
    /* Purged memory is reused, and reads as written. */
    unsigned char *p = alloc_global_malloc(len);
    cr_assert_not_null(p);
    memset(p, 9, len);
    cr_assert_eq(p[len - 1], 9);
    alloc_global_free(p);
    CHECK();
}

/* Options: a delay outside 0..1 hour is refused and changes nothing. */
Test(global, set_decay_checks_its_arguments)
{
    cr_assert_eq(alloc_global_set_decay(-1, 0), -EINVAL);
    cr_assert_eq(alloc_global_set_decay(3600L * 1000 + 1, 0), -EINVAL);
    cr_assert_eq(alloc_global_set_decay(0, 0), 0);
    void *p = alloc_global_malloc((size_t)1 << 20);
    alloc_global_free(p);
    alloc_global_heap_info info;
    alloc_global_info(&info);
    cr_assert_eq(info.heap_dirty, 0, "retain 0 keeps nothing resident (%zu)", info.heap_dirty);
    cr_assert_eq(alloc_global_set_decay(100, (size_t)64 << 20), 0);
    CHECK();
}

Test(global, fork_while_another_thread_holds_the_lock)
{
    cr_assert_eq(alloc_global_install((allocator){NULL, &slow_vtable}, 0), 0);
    atomic_store(&slow_armed, 1);
    pthread_t t;
    pthread_create(&t, NULL, alloc_in_thread, NULL);
    while (!atomic_load(&slow_inside)) usleep(1000);
    /* The other thread is inside the source's lock now. */
    pid_t pid = fork();
    if (pid == 0) {
        void *p = alloc_global_malloc(100); /* same source: needs that lock */
        void *q = alloc_global_malloc(10); /* and the classes' */
        alloc_global_free(p);
        alloc_global_free(q);
        _exit(alloc_global_check() ? 0 : 2);
    }
    cr_assert_gt(pid, 0);
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
    void *r;
    pthread_join(t, &r);
    cr_assert_not_null(r);
    alloc_global_free(r);
    CHECK();
}

/* --- misuse ------------------------------------------------------------------ */

Test(global, foreign_free_aborts, .signal = SIGABRT)
{
    static char not_heap[64] __attribute__((aligned(16)));
    alloc_global_free(not_heap + 32);
}

Test(global, unaligned_free_aborts, .signal = SIGABRT)
{
    char *p = alloc_global_malloc(40);
    alloc_global_free(p + 1);
}

Test(global, double_free_aborts, .signal = SIGABRT)
{
    void *p = alloc_global_malloc(40);
    alloc_global_free(p);
    alloc_global_free(p);
}

static const alloc_vtable keeping_vtable = {count_alloc, alloc_no_resize, alloc_no_remap, alloc_no_free};

Test(global, double_free_of_a_direct_block_aborts, .signal = SIGABRT)
{
    /* A source that never unmaps (as an arena would), so the second free
     * reads the flipped tag rather than faulting on an unmapped page. */
    cr_assert_eq(alloc_global_install((allocator){NULL, &keeping_vtable}, 0), 0);
    void *p = alloc_global_malloc((size_t)300 << 10);
    alloc_global_free(p);
    alloc_global_free(p);
}

Test(global, foreign_realloc_aborts, .signal = SIGABRT)
{
    static char not_heap[64] __attribute__((aligned(16)));
    (void)alloc_global_realloc(not_heap + 16, 100);
}

Test(global, free_sized_with_a_wrong_size_aborts, .signal = SIGABRT)
{
    void *p = alloc_global_malloc(40);
    alloc_global_free_sized(p, 4000);
}

static int reports;
static void count_report(const char *msg, void *user)
{
    (void)msg, (void)user;
    reports++;
}

Test(global, a_returning_handler_leaves_the_heap_intact)
{
    alloc_set_misuse_handler(count_report, NULL);
    void *p = alloc_global_malloc(40);
    alloc_global_free(p);
    alloc_global_free(p);
    cr_assert_eq(reports, 1);
    CHECK();
    alloc_stats s;
    alloc_global_stats(&s);
    cr_assert_eq(s.misuse_count, 1);
    alloc_set_misuse_handler(NULL, NULL);
}

/* A zero-length block at an alignment of 64 KiB used to put its pointer at
 * the end of its one-unit heap span, in the next span: free looked that span
 * up and, when it was a class span with a free block there, called a first
 * free a double free. Every direct block now has a byte after its pointer. */
Test(global, zero_length_aligned_blocks_stay_in_their_own_span)
{
    alloc_set_misuse_handler(count_report, NULL);
    for (int round = 0; round < 64; round++) {
        void *a = alloc_global_memalign(65536, 0);
        cr_assert_not_null(a);
        void *small[40];
        for (int i = 0; i < 40; i++) small[i] = alloc_global_malloc(4000);
        for (int i = 0; i < 40; i++) alloc_global_free(small[i]);
        cr_assert_geq(alloc_global_usable_size(a), 1);
        alloc_global_free(a);
    }
    cr_assert_eq(reports, 0, "a first free was reported as misuse");
    CHECK();
    alloc_set_misuse_handler(NULL, NULL);
}

/* Class blocks have no header: the span decides, so an interior pointer and
 * a block the span never handed out are foreign, and the heap is unharmed. */
static char last_report[512];
static void keep_report(const char *msg, void *user)
{
    (void)user;
    reports++;
    snprintf(last_report, sizeof last_report, "%s", msg);
}

Test(global, interior_and_never_allocated_class_pointers_are_foreign)
{
    alloc_set_misuse_handler(keep_report, NULL);
    unsigned char *p = alloc_global_malloc(100);
    fill(p, 100, 7);
    alloc_global_free(p + 16);
    cr_assert_eq(reports, 1);
    cr_assert(strstr(last_report, "foreign pointer"), "%s", last_report);
    /* A 224 KiB class carves one block at a time: the next one is uncarved. */
    unsigned char *big = alloc_global_malloc(200000);
    size_t size = alloc_global_usable_size(big);
    cr_assert_geq(size, 200000);
    alloc_global_free(big + size);
    cr_assert_eq(reports, 2);
    cr_assert(strstr(last_report, "foreign pointer"), "%s", last_report);
    cr_assert(intact(p, 100, 7));
    CHECK();
    alloc_global_free(p);
    alloc_global_free(big);
    cr_assert_eq(reports, 2);
    CHECK();
    alloc_set_misuse_handler(NULL, NULL);
}

Test(global, class_blocks_carry_no_header)
{
    /* Every size up to 128 bytes that is a multiple of 16 is a class of its
     * own: the block is exactly the request. */
    for (size_t n = 16; n <= 128; n += 16) {
        void *p = alloc_global_malloc(n);
        cr_assert_eq(alloc_global_usable_size(p), n, "malloc(%zu) has %zu usable bytes", n, alloc_global_usable_size(p));
        alloc_global_free(p);
    }
    /* Above that, rounding keeps within a quarter. */
    for (size_t n = 129; n <= (size_t)256 << 10; n = n * 5 / 4) {
        void *p = alloc_global_malloc(n);
        size_t u = alloc_global_usable_size(p);
        cr_assert(u >= n && u <= n + n / 4 + 16, "malloc(%zu) has %zu usable bytes", n, u);
        alloc_global_free(p);
    }
    CHECK();
}

Test(global, aligned_class_blocks_are_plain_blocks_of_an_aligned_class)
{
    for (size_t align = 32; align <= 4096; align *= 2) {
        for (size_t n = 1; n <= 3 * align; n += align / 2) {
            void *p = alloc_global_aligned_alloc(align, n);
            cr_assert_not_null(p);
            cr_assert_eq((uintptr_t)p % align, 0, "aligned_alloc(%zu, %zu) = %p", align, n, p);
            size_t u = alloc_global_usable_size(p);
            cr_assert(u >= n && u % align == 0, "aligned_alloc(%zu, %zu): %zu usable bytes", align, n, u);
            memset(p, 0xAB, u);
            alloc_global_free(p);
        }
    }
    CHECK();
}

/* A pointer into a span that went back to the page heap (and was merged
 * with its free neighbours) finds no span, or a free one: it is reported,
 * and nothing is touched. The page map names only spans that hold the
 * address, which the check verifies. */
Test(global, a_stale_pointer_into_a_released_span_is_reported)
{
    alloc_set_misuse_handler(keep_report, NULL);
    enum { N = 200 };
    void *blocks[N];
    for (int i = 0; i < N; i++) blocks[i] = alloc_global_malloc(4000);
    for (int i = 0; i < N; i++) alloc_global_free(blocks[i]);
    alloc_global_trim(); /* the caches' blocks back, empty spans to the heap */
    CHECK();
    for (int i = 0; i < N; i += 37) alloc_global_free(blocks[i]);
    cr_assert_eq(reports, (N + 36) / 37, "%d reports", reports);
    CHECK();
    alloc_set_misuse_handler(NULL, NULL);
}
