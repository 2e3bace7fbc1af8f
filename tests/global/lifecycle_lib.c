/*
 * lifecycle_lib.c: a shared library whose constructor starts a thread that
 * mallocs, frees and exits, and joins it, all before the constructors of
 * libraries initialised after it (alloc's preload library among them, by ELF
 * init order). The thread's stack and TLS then go back to the C library's
 * cache and are handed to the program's next thread. Only in the ctor-thread
 * mode of lifecycle.c.
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

/* glibc passes main's arguments to constructors: only the ctor-thread mode
 * starts the thread (a started thread makes the process multi-threaded for
 * good, and the single-threaded modes must stay single-threaded). */
__attribute__((constructor)) static void start_early_thread(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "ctor-thread") != 0) return;
    pthread_t t;
    if (pthread_create(&t, NULL, early_thread, NULL) == 0) pthread_join(t, NULL);
}

int lifecycle_lib_thread_blocks(void) { return blocks_done; }
