/*
 * stress_test: random allocations and frees of varied sizes and alignments,
 * with the allocator's invariant checker after every step.
 *
 * The same workload runs over
 *   - the free-list heap with each of its three policies (TLSF, first fit,
 *     best fit),
 *   - a pool (requests up to its object size),
 *   - the slab allocator (size classes up to 32 KiB, the page allocator above),
 * each wrapped in the debug wrapper, which checks every free against what was
 * handed out and puts a canary after every block. Each block is filled with a
 * pattern derived from its index and verified before it is freed, so a block
 * handed out twice or overlapping another would be caught.
 * Usage: example_stress_test [steps] (default 20000).
 */
#include <alloc/alloc.h>
#include <alloc/debug.h>
#include <alloc/freelist.h>
#include <alloc/pool.h>
#include <alloc/slab.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 512

typedef struct slot {
    unsigned char *p;
    size_t len, align;
} slot;

typedef bool (*checker)(void *state);

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t next_random(void)
{
    /* xorshift64*: reproducible, good enough to pick sizes. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

static unsigned char pattern(size_t i, size_t k) { return (unsigned char)(i * 31 + k * 7 + 1); }

/* Runs the workload; returns 0, or 1 with a message on the first problem. */
static int stress(const char *name, allocator a, checker check, void *state, size_t max_len, size_t max_align,
                  unsigned steps)
{
    static slot slots[SLOTS];
    memset(slots, 0, sizeof slots);
    unsigned long allocs = 0, frees = 0, failures = 0;
    for (unsigned step = 0; step < steps; step++) {
        size_t i = (size_t)(next_random() % SLOTS);
        slot *s = &slots[i];
        if (s->p) {
            for (size_t k = 0; k < s->len; k++) {
                if (s->p[k] != pattern(i, k)) {
                    fprintf(stderr, "%s: block %zu corrupted at byte %zu (step %u)\n", name, i, k, step);
                    return 1;
                }
            }
            alloc_free(a, s->p, s->len, s->align);
            s->p = NULL;
            frees++;
        } else {
            /* Mostly small sizes, sometimes large ones (a realistic mix). */
            uint64_t r = next_random();
            size_t len = (r & 7) ? 1 + (size_t)(r >> 8) % 256 : 1 + (size_t)(r >> 8) % max_len;
            if (len > max_len) len = max_len;
            size_t align = (size_t)1 << ((r >> 40) % 7); /* 1 .. 64 */
            if (align > max_align) align = max_align;
            s->p = alloc_bytes(a, len, align);
            if (!s->p) {
                failures++;
                continue;
            }
            if (!alloc_is_aligned(s->p, align)) {
                fprintf(stderr, "%s: misaligned block (step %u)\n", name, step);
                return 1;
            }
            s->len = len;
            s->align = align;
            for (size_t k = 0; k < len; k++) s->p[k] = pattern(i, k);
            allocs++;
        }
        if (!check(state)) {
            fprintf(stderr, "%s: invariant check failed at step %u\n", name, step);
            return 1;
        }
    }
    for (size_t i = 0; i < SLOTS; i++)
        if (slots[i].p) alloc_free(a, slots[i].p, slots[i].len, slots[i].align);
    printf("%-22s %6lu allocs %6lu frees %4lu refused, invariants held after every step\n", name, allocs,
           frees, failures);
    return check(state) ? 0 : 1;
}

typedef struct wrapped {
    alloc_debug dbg;
    checker inner_check;
    void *inner_state;
} wrapped;

static bool check_wrapped(void *state)
{
    wrapped *w = state;
    return alloc_debug_check(&w->dbg) && w->inner_check(w->inner_state);
}

static bool check_freelist(void *state) { return alloc_freelist_check(state); }
static bool check_pool(void *state) { return alloc_pool_check(state); }
static bool check_slab(void *state) { return alloc_slab_check(state); }

static int run_wrapped(const char *name, allocator inner, checker check, void *state, size_t max_len,
                       size_t max_align, unsigned steps)
{
    wrapped w = {.inner_check = check, .inner_state = state};
    alloc_debug_options opt = alloc_debug_default_options();
    opt.leaks_are_misuse = true; /* a leak ends the program: the workload frees everything */
    if (alloc_debug_init(&w.dbg, inner, &opt) != 0) return 1;
    int rc = stress(name, alloc_debug_allocator(&w.dbg), check_wrapped, &w, max_len, max_align, steps);
    size_t leaked = alloc_debug_deinit(&w.dbg);
    return rc || leaked;
}

int main(int argc, char **argv)
{
    unsigned steps = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 20000;
    const alloc_freelist_policy policies[] = {ALLOC_FREELIST_TLSF, ALLOC_FREELIST_FIRST_FIT,
                                              ALLOC_FREELIST_BEST_FIT};
    for (size_t i = 0; i < 3; i++) {
        alloc_freelist heap;
        alloc_freelist_config cfg = {.policy = policies[i]};
        if (alloc_freelist_init(&heap, &cfg) != 0) return 1;
        char name[40];
        snprintf(name, sizeof name, "freelist/%s", alloc_freelist_policy_name(policies[i]));
        int rc = run_wrapped(name, alloc_freelist_allocator(&heap), check_freelist, &heap, 8192, 64, steps);
        alloc_freelist_deinit(&heap);
        if (rc) return 1;
    }

    /* A pool serves one size class: every request up to 256 bytes, align up
     * to 64 (the debug wrapper's canary rides inside the slot). */
    alloc_pool pool;
    alloc_pool_config pcfg = {.obj_size = 256 + 16, .obj_align = 64};
    if (alloc_pool_init(&pool, &pcfg) != 0) return 1;
    int rc = run_wrapped("pool/272", alloc_pool_allocator(&pool), check_pool, &pool, 256, 64, steps);
    alloc_pool_deinit(&pool);
    if (rc) return rc;

    alloc_slab slab;
    if (alloc_slab_init(&slab, NULL) != 0) return 1;
    rc = run_wrapped("slab", alloc_slab_allocator(&slab), check_slab, &slab, 65536, 64, steps);
    alloc_slab_deinit(&slab);
    return rc;
}
