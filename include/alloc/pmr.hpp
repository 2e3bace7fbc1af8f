/*
 * pmr.hpp: any allocator handle as a C++17 std::pmr::memory_resource.
 *
 * C++ code that uses polymorphic allocators (std::pmr::vector, string, map,
 * ...) can put its containers in an arena, a pool, a free list or any other
 * strategy by constructing an alloc_memory_resource over the strategy's
 * handle:
 *
 *     alloc_arena arena;
 *     alloc_arena_init(&arena, NULL);
 *     alloc_memory_resource res(alloc_arena_allocator(&arena));
 *     std::pmr::vector<int> v(&res);      // elements live in the arena
 *
 * Header-only: nothing here is compiled into the library, and the C library
 * stays free of C++.
 *
 * Contract:
 *   - do_allocate(bytes, align) passes bytes and align to the handle's alloc
 *     unchanged (through alloc_bytes_at: a zero-byte request gets the
 *     zero-length sentinel, never dereferenced by a container). When the handle
 *     returns NULL (memory exhausted, or an alignment above what the strategy
 *     documents) it throws std::bad_alloc, as memory_resource requires.
 *   - do_deallocate(p, bytes, align) passes the same three values to free;
 *     the standard guarantees they are those of the allocation, which is
 *     exactly alloc.h's contract.
 *   - do_is_equal is true iff the other resource is an alloc_memory_resource
 *     over the same handle (same ctx and vtable): memory from one may then be
 *     given back through the other. Without RTTI only the same object counts.
 *   - Time and space: one virtual call on top of the strategy's own cost; the
 *     resource holds the handle (two pointers) and nothing else.
 *   - Thread safety: as the strategy's (an arena or a pool is single-threaded;
 *     wrap it with alloc/locked.h, or use alloc_pool_mt, to share one).
 *   - The resource does not own the strategy: the strategy must outlive every
 *     container that uses the resource, and deinit stays the caller's job.
 */
#ifndef ALLOC_PMR_HPP
#define ALLOC_PMR_HPP

#if !defined(__cplusplus) || __cplusplus < 201703L
#error "alloc/pmr.hpp needs C++17 (std::pmr)"
#endif

#include <cstddef>
#include <memory_resource>
#include <new>

#include "alloc/alloc.h"

/* A std::pmr::memory_resource over an allocator handle (see above). */
class alloc_memory_resource : public std::pmr::memory_resource {
public:
    /* Wraps a; a must stay valid as long as the resource is used. */
    explicit alloc_memory_resource(allocator a) noexcept : handle_(a) {}

    /* The wrapped handle. */
    allocator handle() const noexcept { return handle_; }

private:
    void *do_allocate(std::size_t bytes, std::size_t align) override
    {
        void *p = alloc_bytes_at(handle_, bytes, align, ALLOC_RET_ADDR());
        if (!p) throw std::bad_alloc();
        return p;
    }

    void do_deallocate(void *p, std::size_t bytes, std::size_t align) override
    {
        alloc_free_at(handle_, p, bytes, align, ALLOC_RET_ADDR());
    }

    bool do_is_equal(const std::pmr::memory_resource &other) const noexcept override
    {
        if (this == &other) return true;
#if defined(__cpp_rtti) || defined(__GXX_RTTI)
        const alloc_memory_resource *o = dynamic_cast<const alloc_memory_resource *>(&other);
        return o && o->handle_.ctx == handle_.ctx && o->handle_.vtable == handle_.vtable;
#else
        return false;
#endif
    }

    allocator handle_;
};

#endif /* ALLOC_PMR_HPP */
