/*
 * track.h (internal): tells ASan and Valgrind which bytes inside our own
 * chunks, slabs and buffers are handed out and which are not, so that a user's
 * overrun or use-after-free inside an arena or pool is still reported.
 *
 * Every strategy uses only these macros; they compile to nothing unless the
 * build enables a tool (ALLOC_TRACK_ASAN is set automatically under
 * -fsanitize=address; ALLOC_TRACK_VALGRIND by the ALLOC_VALGRIND option).
 *
 * Two vocabularies, used together:
 *   - byte state (both tools): ALLOC_TRACK_NOACCESS marks bytes nobody may
 *     touch (free space, headers between blocks), ALLOC_TRACK_UNDEFINED marks
 *     bytes handed out but not yet written, ALLOC_TRACK_DEFINED marks bytes with
 *     meaningful contents (allocator metadata being read back).
 *   - blocks (Valgrind): a strategy that hands out many blocks from one region
 *     registers the region as a mempool (pool = the strategy's state pointer)
 *     and reports each block's birth, resize and death, so Valgrind's leak and
 *     invalid-free reports name the user's call sites.
 *
 * Metadata written by the allocator itself must be made accessible first
 * (ALLOC_TRACK_DEFINED / ALLOC_TRACK_UNDEFINED on the header range), and made
 * NOACCESS again afterwards where the user must not see it.
 */
#ifndef ALLOC_CORE_TRACK_H
#define ALLOC_CORE_TRACK_H

#include <stddef.h>

#if !defined(ALLOC_TRACK_ASAN)
#if defined(__SANITIZE_ADDRESS__)
#define ALLOC_TRACK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOC_TRACK_ASAN 1
#endif
#endif
#endif

#if defined(ALLOC_TRACK_ASAN) && ALLOC_TRACK_ASAN
void __asan_poison_memory_region(void const volatile *addr, size_t size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
int __asan_address_is_poisoned(void const volatile *addr);
#define ALLOC_ASAN_POISON(p, n) __asan_poison_memory_region((p), (n))
#define ALLOC_ASAN_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#define ALLOC_ASAN_IS_POISONED(p) __asan_address_is_poisoned(p)
/* ASan poisons at 8-byte granularity: a region that starts unaligned cannot be
 * partly poisoned, which is why strategies keep block starts 8-aligned. */
#define ALLOC_TRACK_ASAN_ENABLED 1
#else
#define ALLOC_ASAN_POISON(p, n) ((void)(p), (void)(n))
#define ALLOC_ASAN_UNPOISON(p, n) ((void)(p), (void)(n))
#define ALLOC_ASAN_IS_POISONED(p) ((void)(p), 0)
#define ALLOC_TRACK_ASAN_ENABLED 0
#endif

#if defined(ALLOC_TRACK_VALGRIND) && ALLOC_TRACK_VALGRIND
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
#define ALLOC_VG_NOACCESS(p, n) ((void)VALGRIND_MAKE_MEM_NOACCESS((p), (n)))
#define ALLOC_VG_UNDEFINED(p, n) ((void)VALGRIND_MAKE_MEM_UNDEFINED((p), (n)))
#define ALLOC_VG_DEFINED(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
/* Brackets a read that may race with another thread's change of the bytes'
 * state (a lock-free pop's peek at a slot someone else may just have taken
 * and freed again). The bytes' state is left alone, so nothing stays opened
 * up, and memcheck's error reporting is off for this thread meanwhile. */
#define ALLOC_VG_QUIET_BEGIN() VALGRIND_DISABLE_ERROR_REPORTING
#define ALLOC_VG_QUIET_END() VALGRIND_ENABLE_ERROR_REPORTING
#define ALLOC_TRACK_POOL_CREATE(pool) VALGRIND_CREATE_MEMPOOL((pool), 0, 0)
#define ALLOC_TRACK_POOL_DESTROY(pool) VALGRIND_DESTROY_MEMPOOL(pool)
#define ALLOC_TRACK_POOL_ALLOC(pool, p, n) VALGRIND_MEMPOOL_ALLOC((pool), (p), (n))
#define ALLOC_TRACK_POOL_FREE(pool, p) VALGRIND_MEMPOOL_FREE((pool), (p))
#define ALLOC_TRACK_POOL_CHANGE(pool, old_p, new_p, n) \
    VALGRIND_MEMPOOL_CHANGE((pool), (old_p), (new_p), (n))
/* Forgets every block of pool outside [p, p+n) (savepoint rollback, reset). */
#define ALLOC_TRACK_POOL_TRIM(pool, p, n) VALGRIND_MEMPOOL_TRIM((pool), (p), (n))
#define ALLOC_TRACK_MALLOCLIKE(p, n) VALGRIND_MALLOCLIKE_BLOCK((p), (n), 0, 0)
#define ALLOC_TRACK_FREELIKE(p) VALGRIND_FREELIKE_BLOCK((p), 0)
#define ALLOC_TRACK_RUNNING_ON_VALGRIND() RUNNING_ON_VALGRIND
#define ALLOC_TRACK_VALGRIND_ENABLED 1
#else
#define ALLOC_VG_NOACCESS(p, n) ((void)(p), (void)(n))
#define ALLOC_VG_UNDEFINED(p, n) ((void)(p), (void)(n))
#define ALLOC_VG_DEFINED(p, n) ((void)(p), (void)(n))
#define ALLOC_VG_QUIET_BEGIN() ((void)0)
#define ALLOC_VG_QUIET_END() ((void)0)
#define ALLOC_TRACK_POOL_CREATE(pool) ((void)(pool))
#define ALLOC_TRACK_POOL_DESTROY(pool) ((void)(pool))
#define ALLOC_TRACK_POOL_ALLOC(pool, p, n) ((void)(pool), (void)(p), (void)(n))
#define ALLOC_TRACK_POOL_FREE(pool, p) ((void)(pool), (void)(p))
#define ALLOC_TRACK_POOL_CHANGE(pool, old_p, new_p, n) \
    ((void)(pool), (void)(old_p), (void)(new_p), (void)(n))
#define ALLOC_TRACK_POOL_TRIM(pool, p, n) ((void)(pool), (void)(p), (void)(n))
#define ALLOC_TRACK_MALLOCLIKE(p, n) ((void)(p), (void)(n))
#define ALLOC_TRACK_FREELIKE(p) ((void)(p))
#define ALLOC_TRACK_RUNNING_ON_VALGRIND() 0
#define ALLOC_TRACK_VALGRIND_ENABLED 0
#endif

/* Byte state, for both tools at once. */
#define ALLOC_TRACK_NOACCESS(p, n) (ALLOC_ASAN_POISON((p), (n)), ALLOC_VG_NOACCESS((p), (n)))
#define ALLOC_TRACK_UNDEFINED(p, n) (ALLOC_ASAN_UNPOISON((p), (n)), ALLOC_VG_UNDEFINED((p), (n)))
#define ALLOC_TRACK_DEFINED(p, n) (ALLOC_ASAN_UNPOISON((p), (n)), ALLOC_VG_DEFINED((p), (n)))

#define ALLOC_TRACK_ENABLED (ALLOC_TRACK_ASAN_ENABLED || ALLOC_TRACK_VALGRIND_ENABLED)

/* Allocator code that must read bytes the user may have poisoned (e.g. a
 * debug fill check) is excluded from instrumentation with this. */
#if defined(__GNUC__) || defined(__clang__)
#define ALLOC_NO_SANITIZE_ADDRESS __attribute__((no_sanitize_address))
#else
#define ALLOC_NO_SANITIZE_ADDRESS
#endif

#endif /* ALLOC_CORE_TRACK_H */
