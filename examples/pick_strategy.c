/*
 * pick_strategy: choosing an allocator by measuring your own workload.
 *
 * The choosing guide (docs/choosing.md) gives the rule of thumb; the
 * benchmark (bash scripts/bench.sh) gives figures for standard workloads.
 * For your program, measure its own allocation pattern over the candidates:
 * write the workload once against an `allocator`, run it over each strategy,
 * and compare. This example does that for a "request handler" pattern (many
 * small objects of a few sizes, all dropped at the end of the request) and
 * prints nanoseconds per allocation and peak memory per candidate.
 *
 * Timings vary from machine to machine and run to run; the program checks
 * only that every candidate computed the same result. Pass a number of
 * requests as the first argument to run longer (default 200).
 */
#define _POSIX_C_SOURCE 200809L
#include <alloc/alloc.h>
#include <alloc/bump.h>
#include <alloc/c_allocator.h>
#include <alloc/freelist.h>
#include <alloc/page.h>
#include <alloc/pool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct node {
    struct node *next;
    uint64_t key;
    char payload[40];
} node;

enum { NODES_PER_REQUEST = 2000 };

/* One request: build a list of nodes, fold it, free it. Returns the fold, or
 * 0 on allocation failure. Frees newest first (LIFO), which every candidate
 * accepts, the bump allocator included. */
static uint64_t handle_request(allocator a, uint64_t seed)
{
    node *head = NULL;
    uint64_t sum = 0;
    size_t n = 0;
    for (; n < NODES_PER_REQUEST; n++) {
        node *x = alloc_create(a, node);
        if (!x) break;
        x->key = seed * 6364136223846793005u + n;
        x->payload[0] = (char)n;
        x->next = head;
        head = x;
    }
    for (node *x = head; x; x = x->next) sum += x->key ^ (uint64_t)x->payload[0];
    while (head) {
        node *next = head->next;
        alloc_destroy(a, node, head);
        head = next;
    }
    return n == NODES_PER_REQUEST ? sum : 0;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef struct candidate {
    const char *name;
    const char *when;
    allocator a;
    void (*stats)(void *state, alloc_stats *out);
    void *state;
    void (*reset)(void *state); /* between requests; NULL: none */
} candidate;

static void freelist_stats(void *s, alloc_stats *out) { alloc_freelist_stats(s, out); }
static void pool_stats(void *s, alloc_stats *out) { alloc_pool_stats(s, out); }
static void bump_stats(void *s, alloc_stats *out) { alloc_bump_stats(s, out); }
static void bump_reset(void *s) { alloc_bump_reset(s); }

int main(int argc, char **argv)
{
    unsigned requests = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 200;

    alloc_freelist heap;
    if (alloc_freelist_init(&heap, NULL) != 0) return 1;
    alloc_pool pool;
    alloc_pool_config pcfg = {.obj_size = sizeof(node), .obj_align = _Alignof(node)};
    if (alloc_pool_init(&pool, &pcfg) != 0) return 1;
    size_t bump_bytes = (size_t)NODES_PER_REQUEST * sizeof(node) + 4096;
    void *bump_buf = malloc(bump_bytes);
    alloc_bump bump;
    if (!bump_buf || alloc_bump_init(&bump, bump_buf, bump_bytes) != 0) return 1;

    candidate cands[] = {
        {"c (malloc)", "baseline", alloc_c_allocator(), NULL, NULL, NULL},
        {"freelist", "general purpose, any sizes and lifetimes", alloc_freelist_allocator(&heap), freelist_stats,
         &heap, NULL},
        {"pool", "one object size", alloc_pool_allocator(&pool), pool_stats, &pool, NULL},
        {"bump", "everything dies together", alloc_bump_allocator(&bump), bump_stats, &bump, bump_reset},
        {"page", "big buffers only (one mmap per block)", alloc_page_allocator(), NULL, NULL, NULL},
    };
    size_t ncand = sizeof cands / sizeof cands[0];

    uint64_t expected = 0;
    for (unsigned r = 0; r < requests; r++) expected += handle_request(alloc_c_allocator(), r);

    printf("%-12s %10s %14s   %s\n", "strategy", "ns/alloc", "peak reserved", "fits when");
    int ok = 1;
    for (size_t i = 0; i < ncand; i++) {
        candidate *c = &cands[i];
        /* The page allocator maps every node: a few requests tell the story. */
        unsigned runs = c->a.vtable == alloc_page_allocator().vtable ? (requests < 5 ? requests : 5) : requests;
        uint64_t total = 0;
        double t0 = now_ns();
        for (unsigned r = 0; r < runs; r++) {
            total += handle_request(c->a, r);
            if (c->reset) c->reset(c->state);
        }
        double per = (now_ns() - t0) / ((double)runs * NODES_PER_REQUEST);
        uint64_t want = 0;
        for (unsigned r = 0; r < runs; r++) want += handle_request(alloc_c_allocator(), r);
        if (total != want) {
            printf("%s computed a different result\n", c->name);
            ok = 0;
        }
        char peak[32] = "-";
        if (c->stats) {
            alloc_stats s;
            c->stats(c->state, &s);
            snprintf(peak, sizeof peak, "%zu B", s.peak_bytes_reserved);
        }
        printf("%-12s %10.1f %14s   %s\n", c->name, per, peak, c->when);
    }
    (void)expected;
    puts("pick the fastest candidate whose 'fits when' matches your lifetimes;\n"
         "then confirm with the full benchmark (bash scripts/bench.sh).");

    alloc_bump_deinit(&bump);
    free(bump_buf);
    alloc_pool_deinit(&pool);
    alloc_freelist_deinit(&heap);
    return ok ? 0 : 1;
}
