/*
 * spin.h: the spin lock with a pause, for the short critical sections of the
 * locked wrapper, pool_mt's growth and the recorder (hosted builds only: it
 * may yield the CPU).
 *
 * Test-and-test-and-set: a waiter spins on a plain load (the cache line
 * stays shared among waiters) and tries the exchange only when the lock
 * looks free, so the line does not bounce between cores while it is held.
 * Between loads it pauses (the CPU's spin-wait hint), doubling the pauses up
 * to ALLOC_SPIN_PAUSES, then yields so that a preempted holder can run:
 * essential when threads outnumber cores. Not fair, not recursive.
 *
 * The lock word is an int, 0 free and 1 held, declared with ALLOC_ATOMIC
 * (alloc/atomic.h) where it lives in a public struct; zero-initialised means
 * free. Acquire on lock, release on unlock: what the holder wrote is seen by
 * the next holder.
 */
#ifndef ALLOC_CORE_SPIN_H
#define ALLOC_CORE_SPIN_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#define ALLOC_SPIN_PAUSES 64

/* The CPU's spin-wait hint; nothing where there is none. */
static inline void alloc_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/* Takes the lock. Returns true iff it was held by someone else when we came
 * (the locked wrapper counts contention with it). */
static inline bool alloc_spin_lock(atomic_int *lock)
{
    if (!atomic_exchange_explicit(lock, 1, memory_order_acquire)) return false;
    unsigned pauses = 1;
    for (;;) {
        while (atomic_load_explicit(lock, memory_order_relaxed)) {
            if (pauses <= ALLOC_SPIN_PAUSES) {
                for (unsigned i = 0; i < pauses; i++) alloc_cpu_relax();
                pauses *= 2;
            } else {
                sched_yield();
            }
        }
        if (!atomic_exchange_explicit(lock, 1, memory_order_acquire)) return true;
    }
}

/* Releases a lock the caller holds. */
static inline void alloc_spin_unlock(atomic_int *lock) { atomic_store_explicit(lock, 0, memory_order_release); }

#endif /* ALLOC_CORE_SPIN_H */
