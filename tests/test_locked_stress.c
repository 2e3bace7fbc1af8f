/*
 * test_locked_stress.c: several threads share one handle through the locked
 * wrapper (mutex, then spin lock), over a debug wrapper, whose hash table any
 * unserialised access would corrupt (and ThreadSanitizer would report). Each
 * thread keeps its own blocks filled with its own byte and checks them before
 * every free, so a block handed to two threads shows up as damage.
 *
 * A plain program (its own main; exit status 0 = pass) rather than a
 * Criterion suite, because Criterion cannot start under ThreadSanitizer; the
 * TSan CI job runs the tests named *_stress.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "alloc/c_allocator.h"
#include "alloc/debug.h"
#include "alloc/locked.h"

enum { THREADS = 4, ROUNDS = 20000, SLOTS = 64 };

static int failures;

#define EXPECT(cond, ...)                                              \
    do {                                                               \
        if (!(cond)) {                                                 \
            fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                              \
            fputc('\n', stderr);                                       \
            failures++;                                                \
        }                                                              \
    } while (0)

typedef struct worker {
    allocator a;
    unsigned seed;
    int damaged, failed;
} worker;

static void *churn(void *arg)
{
    worker *w = arg;
    unsigned char *blocks[SLOTS] = {0};
    size_t lens[SLOTS] = {0}, aligns[SLOTS] = {0};
    unsigned x = w->seed;
    unsigned char mark = (unsigned char)w->seed;
    for (int r = 0; r < ROUNDS; r++) {
        x = x * 1103515245u + 12345u;
        size_t i = (x >> 8) % SLOTS;
        if (!blocks[i]) {
            lens[i] = 1 + (x >> 12) % 512;
            aligns[i] = (size_t)1 << ((x >> 4) % 6);
            blocks[i] = alloc_bytes(w->a, lens[i], aligns[i]);
            if (!blocks[i]) {
                w->failed++;
                continue;
            }
            memset(blocks[i], mark, lens[i]);
            continue;
        }
        for (size_t k = 0; k < lens[i]; k++)
            if (blocks[i][k] != mark) {
                w->damaged++;
                break;
            }
        if ((x >> 20) & 1) {
            size_t new_len = 1 + (x >> 3) % 700;
            unsigned char *q = alloc_realloc(w->a, blocks[i], lens[i], aligns[i], new_len);
            if (!q) {
                w->failed++;
                continue;
            }
            memset(q, mark, new_len);
            blocks[i] = q;
            lens[i] = new_len;
            continue;
        }
        alloc_free(w->a, blocks[i], lens[i], aligns[i]);
        blocks[i] = NULL;
    }
    for (size_t i = 0; i < SLOTS; i++)
        if (blocks[i]) alloc_free(w->a, blocks[i], lens[i], aligns[i]);
    return NULL;
}

static void run(alloc_lock_kind kind, const char *name)
{
    alloc_debug dbg;
    EXPECT(alloc_debug_init(&dbg, alloc_c_allocator(), NULL) == 0, "%s: debug init", name);
    alloc_locked l;
    EXPECT(alloc_locked_init(&l, alloc_debug_allocator(&dbg), kind) == 0, "%s: locked init", name);
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){alloc_locked_allocator(&l), 0x51u + 0x1000u * (unsigned)i, 0, 0};
        EXPECT(pthread_create(&t[i], NULL, churn, &w[i]) == 0, "%s: thread %d", name, i);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        EXPECT(w[i].damaged == 0, "%s: thread %d found %d damaged blocks", name, i, w[i].damaged);
        EXPECT(w[i].failed == 0, "%s: thread %d saw %d failed requests", name, i, w[i].failed);
    }
    alloc_stats s, ds;
    alloc_locked_stats(&l, &s);
    EXPECT(alloc_locked_check(&l), "%s: locked check", name);
    EXPECT(s.alloc_count == s.free_count && s.bytes_in_use == 0, "%s: %llu allocs, %llu frees, %zu bytes live", name,
           (unsigned long long)s.alloc_count, (unsigned long long)s.free_count, s.bytes_in_use);
    alloc_locked_lock(&l);
    EXPECT(alloc_debug_check(&dbg), "%s: the debug table was corrupted", name);
    alloc_locked_unlock(&l);
    alloc_debug_stats(&dbg, &ds);
    EXPECT(ds.alloc_count == s.alloc_count && ds.misuse_count == 0, "%s: wrapper and inner disagree", name);
    printf("%s: %llu allocations, %llu remaps and resizes, %llu contended acquisitions\n", name,
           (unsigned long long)s.alloc_count, (unsigned long long)(s.remap_count + s.resize_count),
           (unsigned long long)alloc_locked_contended(&l));
    alloc_locked_deinit(&l);
    EXPECT(alloc_debug_deinit(&dbg) == 0, "%s: leaked", name);
}

int main(void)
{
    run(ALLOC_LOCK_MUTEX, "mutex");
    run(ALLOC_LOCK_SPIN, "spin");
    if (failures) fprintf(stderr, "%d failures\n", failures);
    return failures != 0;
}
