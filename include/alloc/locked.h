/*
 * locked.h: makes any allocator safe to share between threads by holding one
 * lock around every call to it.
 *
 * Two locks:
 *   ALLOC_LOCK_MUTEX  a pthread mutex (the default): sleeps under contention,
 *                     right when critical sections can be long (a free list
 *                     walk, a page mapping) or threads outnumber cores.
 *   ALLOC_LOCK_SPIN   a test-and-test-and-set spin lock with exponential
 *                     backoff (a pause instruction, then sched_yield after a
 *                     while): no system call on the uncontended path, right
 *                     for short critical sections (bump, pool) on few threads.
 *
 * The wrapper adds nothing else: no memory, no change in the inner
 * allocator's bounds beyond waiting for the lock. Operations of the inner
 * allocator that bypass the handle (its check, stats, reset) are not
 * protected; run them under alloc_locked_lock / alloc_locked_unlock.
 *
 * Thread safety: every function here is thread-safe except init and deinit,
 * which must not race with any other use of the wrapper.
 */
#ifndef ALLOC_LOCKED_H
#define ALLOC_LOCKED_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "alloc/atomic.h"
#include "alloc/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The lock a wrapper holds around each call (see the two kinds above). */
typedef enum alloc_lock_kind {
    ALLOC_LOCK_MUTEX = 0, /* a pthread mutex */
    ALLOC_LOCK_SPIN = 1,  /* a test-and-test-and-set spin lock with backoff */
} alloc_lock_kind;

/* State of one locked wrapper; lives in caller memory (visible for sizeof).
 * Read it through the functions below. */
typedef struct alloc_locked {
    allocator inner;              /* the wrapped allocator */
    alloc_lock_kind kind;         /* the lock in use */
    pthread_mutex_t mutex;        /* ALLOC_LOCK_MUTEX */
    ALLOC_ALIGNAS(64) ALLOC_ATOMIC(int) spin; /* ALLOC_LOCK_SPIN: 0 free, 1 held */
    uint64_t contended;           /* acquisitions that had to wait (under the lock) */
    alloc_stats stats;            /* kept under the lock */
} alloc_locked;

/*
 * Initialises l in caller memory around inner with the given lock. Returns 0,
 * -EINVAL (unknown kind or inner without a vtable), or the negated error of
 * pthread_mutex_init. O(1).
 */
ALLOC_API int alloc_locked_init(alloc_locked *l, allocator inner, alloc_lock_kind kind);

/* Destroys the lock. No thread may be using the wrapper. The inner allocator
 * is untouched (it belongs to the caller). */
ALLOC_API void alloc_locked_deinit(alloc_locked *l);

/* The thread-safe handle. */
ALLOC_API allocator alloc_locked_allocator(alloc_locked *l);

/* Holds the lock (for calls on the inner allocator that bypass the handle). */
ALLOC_API void alloc_locked_lock(alloc_locked *l);
ALLOC_API void alloc_locked_unlock(alloc_locked *l);

/* Stats of the traffic through the wrapper (taken under the lock). */
ALLOC_API void alloc_locked_stats(alloc_locked *l, alloc_stats *out);

/* Lock acquisitions that found the lock held (under the lock). */
ALLOC_API uint64_t alloc_locked_contended(alloc_locked *l);

/* Consistency of the wrapper's stats, taken under the lock. */
ALLOC_API bool alloc_locked_check(alloc_locked *l);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_LOCKED_H */
