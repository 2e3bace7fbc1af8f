/*
 * lifecycle_lib.c: a shared library whose constructor starts a thread that
 * mallocs, frees and exits, and joins it, all before the constructors of
 * libraries initialised after it (alloc's preload library among them, by ELF
 * init order). The thread's stack and TLS then go back to the C library's
 * cache and are handed to the program's next thread. Only in the ctor-thread
 * mode of lifecycle.c; in its atfork-malloc mode, it registers fork handlers
 * that allocate.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef ALLOC_STRESS_ENGINE
#include "alloc/global.h"
#define malloc alloc_global_malloc
#define free alloc_global_free
#endif

int lifecycle_lib_thread_blocks(void);

static int blocks_done;

static void *early_thread(void *arg)
{
    (void)arg;
    void *p[8];
    for (int i = 0; i < 8; i++) {
        p[i] = malloc((size_t)16 << (i % 6));
        if (p[i]) memset(p[i], i, 16);
    }
    for (int i = 0; i < 8; i++)
        if (p[i]) {
            free(p[i]);
            blocks_done++;
        }
    /* Leave a few blocks in this thread's cache. */
    for (int i = 0; i < 4; i++) free(malloc(48));
    return NULL;
}

/* atfork-malloc: fork handlers that allocate, registered by this library's
 * constructor, so before the adapter's own (its constructor runs later, or
 * it registers on first use): glibc runs this prepare handler after the
 * adapter's, and these parent and child handlers before the adapter's, all
 * while the adapter's prepare holds its locks. Sizes from a cached class to
 * an uncached one and a page heap block, so every lock kind is asked for. */
static void *atfork_kept;
static int atfork_calls;

static void atfork_churn(void)
{
    static const size_t sizes[] = {48, 3000, 100000, (size_t)1 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *p = malloc(sizes[i]);
        if (p) memset(p, 1, sizes[i] < 64 ? sizes[i] : 64);
        free(p);
    }
    atfork_calls++;
}

static void atfork_prepare(void) { atfork_churn(); }
static void atfork_parent(void) { atfork_churn(); }
static void atfork_child(void)
{
    atfork_churn();
    atfork_kept = malloc(64); /* the child frees it: from the classes again */
}

int lifecycle_lib_atfork_calls(void);
int lifecycle_lib_atfork_calls(void)
{
    free(atfork_kept);
    atfork_kept = NULL;
    return atfork_calls;
}

/* glibc passes main's arguments to constructors: only the ctor-thread mode
 * starts the thread (a started thread makes the process multi-threaded for
 * good, and the single-threaded modes must stay single-threaded). */
__attribute__((constructor)) static void start_early_thread(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "atfork-malloc") == 0) pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    if (argc < 2 || strcmp(argv[1], "ctor-thread") != 0) return;
    pthread_t t;
    if (pthread_create(&t, NULL, early_thread, NULL) == 0) pthread_join(t, NULL);
}

int lifecycle_lib_thread_blocks(void) { return blocks_done; }
