/*
 * failing.c: the fault-injecting wrapper and the every-failure driver
 * (failing.h).
 *
 * The wrapper decides before forwarding: a request that a rule fails never
 * reaches the inner allocator, so nothing needs undoing. It keeps its own
 * alloc_stats from the lengths the contract makes callers pass back, which is
 * also how max_live_bytes is enforced without any per-block memory.
 *
 * The driver (after Zig's checkAllAllocationFailures) layers, per run:
 *
 *     test --> failing wrapper (fail_at = i) --> debug wrapper --> backing
 *
 * The debug wrapper sees every block the test really got, so a run that
 * returns with blocks still live has leaked on its error path; the wrapper's
 * deinit reports them (call sites included) and gives them back, so the next
 * run starts clean. The clean run fixes N, the number of allocations; a run
 * failing index i < N must end in ALLOC_TEST_OUT_OF_MEMORY with nothing live.
 * Cost: N + 1 runs of the test, so O(N^2) allocations in all.
 *
 * This file needs the debug wrapper (src/debug) in the same library.
 */
#include <string.h>

#include "../core/internal.h"
#include "alloc/debug.h"
#include "alloc/failing.h"

alloc_failing_options alloc_failing_default_options(void)
{
    alloc_failing_options o;
    memset(&o, 0, sizeof o);
    o.fail_at = ALLOC_FAILING_NEVER;
    o.max_total_bytes = SIZE_MAX;
    o.max_live_bytes = SIZE_MAX;
    return o;
}

static uint64_t next_random(alloc_failing *f)
{
    /* xorshift64: reproducible from the seed, never stuck at 0. */
    uint64_t x = f->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return f->rng = x;
}

/* true iff live bytes may grow by add. */
static bool live_allows(const alloc_failing *f, size_t add)
{
    return add <= f->opt.max_live_bytes && f->stats.bytes_in_use <= f->opt.max_live_bytes - add;
}

static bool should_fail_alloc(alloc_failing *f, size_t len)
{
    uint64_t index = f->allocations++;
    bool fail = false;
    if (f->opt.fail_at != ALLOC_FAILING_NEVER)
        fail |= f->opt.sticky ? index >= f->opt.fail_at : index == f->opt.fail_at;
    fail |= len > f->opt.max_total_bytes || f->total_bytes > f->opt.max_total_bytes - len;
    fail |= !live_allows(f, len);
    /* Draw even when already failing, so the random sequence depends only on
     * the number of allocations, not on the other rules. */
    if (f->opt.fail_per_million) fail |= next_random(f) % 1000000u < f->opt.fail_per_million;
    return fail;
}

static void *failing_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_failing *f = ctx;
    if (should_fail_alloc(f, len)) {
        f->induced++;
        alloc_stats_note_failed(&f->stats);
        return NULL;
    }
    void *p = f->inner.vtable->alloc(f->inner.ctx, len, align, ret_addr);
    if (!p) {
        alloc_stats_note_failed(&f->stats);
        return NULL;
    }
    f->total_bytes += len;
    alloc_stats_note_alloc(&f->stats, len);
    return p;
}

static bool growth_allowed(const alloc_failing *f, size_t len, size_t new_len)
{
    return new_len <= len || live_allows(f, new_len - len);
}

static bool failing_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_failing *f = ctx;
    if (f->opt.fail_resize || !growth_allowed(f, len, new_len)) {
        f->induced++;
        return false;
    }
    if (!f->inner.vtable->resize(f->inner.ctx, mem, len, align, new_len, ret_addr)) return false;
    alloc_stats_note_resize(&f->stats, len, new_len, true);
    return true;
}

static void *failing_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_failing *f = ctx;
    if (f->opt.fail_remap || !growth_allowed(f, len, new_len)) {
        f->induced++;
        alloc_stats_note_failed(&f->stats);
        return NULL;
    }
    void *q = f->inner.vtable->remap(f->inner.ctx, mem, len, align, new_len, ret_addr);
    if (!q) {
        alloc_stats_note_failed(&f->stats);
        return NULL;
    }
    alloc_stats_note_resize(&f->stats, len, new_len, false);
    return q;
}

static void failing_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_failing *f = ctx;
    f->inner.vtable->free(f->inner.ctx, mem, len, align, ret_addr);
    alloc_stats_note_free(&f->stats, len);
}

ALLOC_CHECKED_VTABLE(failing_vtable, failing_alloc, failing_resize, failing_remap, failing_free,
                     alloc_failing_check);

void alloc_failing_init(alloc_failing *f, allocator inner, const alloc_failing_options *opt)
{
    memset(f, 0, sizeof *f);
    f->inner = inner;
    f->opt = opt ? *opt : alloc_failing_default_options();
    f->rng = f->opt.seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    if (f->rng == 0) f->rng = 1;
}

allocator alloc_failing_allocator(alloc_failing *f) { return (allocator){f, &failing_vtable}; }

size_t alloc_failing_deinit(alloc_failing *f) { return f->stats.bytes_in_use; }

uint64_t alloc_failing_allocations(const alloc_failing *f) { return f->allocations; }

uint64_t alloc_failing_induced(const alloc_failing *f) { return f->induced; }

void alloc_failing_stats(const alloc_failing *f, alloc_stats *out) { *out = f->stats; }

bool alloc_failing_check(const alloc_failing *f)
{
    /* Successful allocations are a subset of the calls seen; the live limit
     * holds because growth past it is refused before the inner call. */
    return alloc_stats_consistent(&f->stats) && f->stats.alloc_count <= f->allocations &&
           f->stats.bytes_in_use <= f->opt.max_live_bytes;
}

/* --- the driver -------------------------------------------------------------- */

const char *alloc_failure_status_name(alloc_failure_status status)
{
    switch (status) {
    case ALLOC_FAILURES_PASSED: return "passed";
    case ALLOC_FAILURES_TEST_FAILED: return "test failed";
    case ALLOC_FAILURES_NO_OOM_IN_CLEAN: return "out of memory with no failure induced";
    case ALLOC_FAILURES_LEAKED: return "leaked";
    case ALLOC_FAILURES_SWALLOWED: return "swallowed an allocation failure";
    case ALLOC_FAILURES_NONDETERMINISTIC: return "nondeterministic allocations";
    case ALLOC_FAILURES_SETUP: return "setup failed";
    }
    return "?";
}

/* One run; fail_at ALLOC_FAILING_NEVER for the clean one. */
static alloc_failure_status one_run(allocator backing, int (*test)(allocator a, void *user), void *user,
                                    const alloc_failure_options *opt, uint64_t fail_at, alloc_failure_report *r)
{
    alloc_debug dbg;
    alloc_debug_options dopt = alloc_debug_default_options();
    dopt.report_leaks_at_deinit = opt->report_leaks;
    if (alloc_debug_init(&dbg, backing, &dopt) != 0) return ALLOC_FAILURES_SETUP;
    alloc_failing fail;
    alloc_failing_options fopt = alloc_failing_default_options();
    fopt.fail_at = fail_at;
    alloc_failing_init(&fail, alloc_debug_allocator(&dbg), &fopt);

    int result = test(alloc_failing_allocator(&fail), user);

    r->runs++;
    r->failing_index = fail_at;
    r->test_result = result;
    size_t leaked_bytes = 0;
    size_t leaked = alloc_debug_live_blocks(&dbg, &leaked_bytes);
    alloc_debug_deinit(&dbg);
    if (fail_at == ALLOC_FAILING_NEVER) r->allocations = alloc_failing_allocations(&fail);
    if (result != ALLOC_TEST_OK && result != ALLOC_TEST_OUT_OF_MEMORY) return ALLOC_FAILURES_TEST_FAILED;
    if (leaked) {
        r->leaked_blocks = leaked;
        r->leaked_bytes = leaked_bytes;
        return ALLOC_FAILURES_LEAKED;
    }
    if (fail_at == ALLOC_FAILING_NEVER)
        return result == ALLOC_TEST_OK ? ALLOC_FAILURES_PASSED : ALLOC_FAILURES_NO_OOM_IN_CLEAN;
    if (alloc_failing_induced(&fail) == 0) return ALLOC_FAILURES_NONDETERMINISTIC;
    if (result == ALLOC_TEST_OK && !opt->allow_swallowed) return ALLOC_FAILURES_SWALLOWED;
    return ALLOC_FAILURES_PASSED;
}

alloc_failure_status alloc_check_all_failures(allocator backing, int (*test)(allocator a, void *user), void *user,
                                              const alloc_failure_options *opt, alloc_failure_report *out)
{
    alloc_failure_options defaults = {false, true};
    if (!opt) opt = &defaults;
    alloc_failure_report r;
    memset(&r, 0, sizeof r);
    alloc_failure_status st = one_run(backing, test, user, opt, ALLOC_FAILING_NEVER, &r);
    for (uint64_t i = 0; st == ALLOC_FAILURES_PASSED && i < r.allocations; i++)
        st = one_run(backing, test, user, opt, i, &r);
    r.status = st;
    if (out) *out = r;
    return st;
}
