/*
 * atomic.h: the one atomics vocabulary of alloc, for the fields of public
 * structs that threads share (the bump allocator's top, pool_mt's free-list
 * head and counters, the locked wrapper's spin lock, the recorder's switch).
 *
 * The library is C11 and uses <stdatomic.h> throughout: _Atomic fields and
 * atomic_*_explicit calls with the weakest order that is correct, stated
 * where it is used. Public headers must also compile as C++, which has no
 * _Atomic before C++23; there the field is a std::atomic<T>, which for the
 * lock-free integers and pointers used here has the size, alignment and
 * representation of C's _Atomic T on GCC and Clang. C++ code never touches
 * these fields (they are private), it only needs the struct's layout.
 * Installed because the public headers need it; not an interface of its own.
 */
#ifndef ALLOC_ATOMIC_H
#define ALLOC_ATOMIC_H

#ifdef __cplusplus
#include <atomic>
#define ALLOC_ATOMIC(T) std::atomic<T>
#define ALLOC_ATOMIC_LOAD_RELAXED(p) std::atomic_load_explicit((p), std::memory_order_relaxed)
#define ALLOC_ATOMIC_STORE_RELAXED(p, v) std::atomic_store_explicit((p), (v), std::memory_order_relaxed)
#else
#include <stdatomic.h>
/* An atomic field of type T: _Atomic(T) in C, std::atomic<T> in C++. */
#define ALLOC_ATOMIC(T) _Atomic(T)
/* A relaxed load of *p (an ALLOC_ATOMIC field): no ordering, only atomicity. */
#define ALLOC_ATOMIC_LOAD_RELAXED(p) atomic_load_explicit((p), memory_order_relaxed)
/* A relaxed store of v into *p (an ALLOC_ATOMIC field). */
#define ALLOC_ATOMIC_STORE_RELAXED(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#endif

#endif /* ALLOC_ATOMIC_H */
