/*
 * locked.c: the locked wrapper (locked.h).
 *
 * Every vtable call takes the lock, forwards, and updates the wrapper's stats
 * before releasing it, so the stats are exact however many threads share the
 * handle.
 *
 * The spin lock is the core one (core/spin.h: test-and-test-and-set with a
 * doubling pause, then yields). The lock field sits on its own cache line
 * (alignas 64 in the struct).
 *
 * Bounds: O(1) added per call plus the wait for the lock; no memory.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "../core/internal.h"
#include "../core/spin.h"
#include "alloc/locked.h"

static void acquire(alloc_locked *l)
{
    bool waited;
    if (l->kind == ALLOC_LOCK_SPIN) {
        waited = alloc_spin_lock(&l->spin);
    } else {
        waited = pthread_mutex_trylock(&l->mutex) != 0;
        if (waited) {
            int r = pthread_mutex_lock(&l->mutex);
            ALLOC_CHECK(r == 0, "locked: pthread_mutex_lock failed (error %d)", r);
        }
    }
    if (waited) l->contended++;
}

static void release(alloc_locked *l)
{
    if (l->kind == ALLOC_LOCK_SPIN)
        alloc_spin_unlock(&l->spin);
    else
        pthread_mutex_unlock(&l->mutex);
}

static void *locked_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_locked *l = ctx;
    acquire(l);
    void *p = l->inner.vtable->alloc(l->inner.ctx, len, align, ret_addr);
    if (p)
        alloc_stats_note_alloc(&l->stats, len);
    else
        alloc_stats_note_failed(&l->stats);
    release(l);
    return p;
}

static bool locked_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_locked *l = ctx;
    acquire(l);
    bool ok = l->inner.vtable->resize(l->inner.ctx, mem, len, align, new_len, ret_addr);
    if (ok) alloc_stats_note_resize(&l->stats, len, new_len, true);
    release(l);
    return ok;
}

static void *locked_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_locked *l = ctx;
    acquire(l);
    void *q = l->inner.vtable->remap(l->inner.ctx, mem, len, align, new_len, ret_addr);
    if (q)
        alloc_stats_note_resize(&l->stats, len, new_len, false);
    else
        alloc_stats_note_failed(&l->stats);
    release(l);
    return q;
}

static void locked_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_locked *l = ctx;
    acquire(l);
    l->inner.vtable->free(l->inner.ctx, mem, len, align, ret_addr);
    alloc_stats_note_free(&l->stats, len);
    release(l);
}

static const alloc_vtable locked_vtable = {locked_alloc, locked_resize, locked_remap, locked_free};

int alloc_locked_init(alloc_locked *l, allocator inner, alloc_lock_kind kind)
{
    if (!l || !inner.vtable || (kind != ALLOC_LOCK_MUTEX && kind != ALLOC_LOCK_SPIN)) return -EINVAL;
    memset(l, 0, sizeof *l);
    l->inner = inner;
    l->kind = kind;
    if (kind == ALLOC_LOCK_MUTEX) {
        int r = pthread_mutex_init(&l->mutex, NULL);
        if (r != 0) return -r;
    }
    return 0;
}

void alloc_locked_deinit(alloc_locked *l)
{
    if (l->kind == ALLOC_LOCK_MUTEX) pthread_mutex_destroy(&l->mutex);
    l->inner.vtable = NULL;
}

allocator alloc_locked_allocator(alloc_locked *l) { return (allocator){l, &locked_vtable}; }

void alloc_locked_lock(alloc_locked *l) { acquire(l); }

void alloc_locked_unlock(alloc_locked *l) { release(l); }

void alloc_locked_stats(alloc_locked *l, alloc_stats *out)
{
    acquire(l);
    *out = l->stats;
    release(l);
}

uint64_t alloc_locked_contended(alloc_locked *l)
{
    acquire(l);
    uint64_t n = l->contended;
    release(l);
    return n;
}

bool alloc_locked_check(alloc_locked *l)
{
    acquire(l);
    bool ok = l->inner.vtable != NULL && alloc_stats_consistent(&l->stats);
    release(l);
    return ok;
}
