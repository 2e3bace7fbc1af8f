/*
 * os.c: the public page-provider API (alloc/os.h) over a back end's raw
 * primitives (backend.h).
 *
 * What lives here rather than in a back end is policy that is the same on
 * every system: argument checks, rounding to pages, overflow checks, the page
 * size cache, and alignment beyond a page by over-mapping. To map len bytes at
 * an alignment A > page, it maps len + A - page bytes, which must contain an
 * A-aligned run of len bytes, and unmaps the unused head and tail; the cost is
 * one extra munmap or two, and no address-space waste afterwards.
 */
#include <errno.h>
#include <stdatomic.h>

#include "alloc/os.h"
#include "backend.h"
#include "inject.h"

/* The fault-injection seam (inject.h). count is read first and alone on the
 * hot path, so a disarmed seam costs one relaxed load. */
static struct {
    _Atomic unsigned ops, count;
    _Atomic int error;
} injection;

void alloc_os_inject_failure(unsigned ops, int error, unsigned count)
{
    atomic_store(&injection.count, 0);
    atomic_store(&injection.ops, ops);
    atomic_store(&injection.error, error);
    atomic_store(&injection.count, count);
}

unsigned alloc_os_injections_left(void) { return atomic_load(&injection.count); }

/* -error if a failure of op is injected (and consumes it), else 0. */
static int injected(unsigned op)
{
    unsigned left = atomic_load_explicit(&injection.count, memory_order_relaxed);
    if (ALLOC_LIKELY(left == 0)) return 0;
    if (!(atomic_load(&injection.ops) & op)) return 0;
    while (left != 0 && !atomic_compare_exchange_weak(&injection.count, &left, left - 1)) {
    }
    return left != 0 ? -atomic_load(&injection.error) : 0;
}

static _Atomic size_t cached_page_size;

size_t alloc_os_page_size(void)
{
    size_t page = atomic_load_explicit(&cached_page_size, memory_order_relaxed);
    if (ALLOC_LIKELY(page != 0)) return page;
    page = alloc_sys_page_size();
    if (page == 0 || !alloc_is_pow2(page)) page = 4096;
    atomic_store_explicit(&cached_page_size, page, memory_order_relaxed);
    return page;
}

const char *alloc_os_backend_name(void) { return alloc_sys_backend_name(); }

/* Whether an address-or-error result of a back end is an error. Not simply
 * r < 0: on 32-bit systems mappings above 2 GiB are negative as intptr_t.
 * Errors are -1..-4095 (the kernel's own convention), and no mapping can
 * start in the last page of the address space. */
static bool sys_failed(intptr_t r) { return r < 0 && r >= -4095; }

/* len rounded up to whole pages, or 0 if that overflows past ALLOC_MAX_LEN. */
static size_t round_to_pages(size_t len)
{
    size_t page = alloc_os_page_size();
    if (len > ALLOC_MAX_LEN - (page - 1)) return 0;
    return alloc_align_up(len, page);
}

int alloc_os_map(size_t len, size_t align, void **out)
{
    if (len == 0 || !alloc_is_pow2(align)) return -EINVAL;
    size_t page = alloc_os_page_size();
    size_t size = round_to_pages(len);
    if (size == 0) return -ENOMEM;
    int fail = injected(ALLOC_OS_OP_MAP);
    if (fail) return fail;
    if (align <= page) {
        intptr_t r = alloc_sys_map(size, ALLOC_SYS_PROT_READ | ALLOC_SYS_PROT_WRITE);
        if (sys_failed(r)) return (int)r;
        *out = (void *)r;
        return 0;
    }
    size_t slack = align - page;
    if (size > ALLOC_MAX_LEN - slack) return -ENOMEM;
    intptr_t r = alloc_sys_map(size + slack, ALLOC_SYS_PROT_READ | ALLOC_SYS_PROT_WRITE);
    if (sys_failed(r)) return (int)r;
    uintptr_t base = (uintptr_t)r;
    uintptr_t start = alloc_align_up(base, align);
    size_t head = start - base;
    size_t tail = slack - head;
    /* Trimming cannot fail for ranges inside a mapping we own, short of the
     * kernel running out of VMA slots; then the slack simply stays mapped. */
    if (head) (void)alloc_sys_unmap((void *)base, head);
    if (tail) (void)alloc_sys_unmap((void *)(start + size), tail);
    *out = (void *)start;
    return 0;
}

int alloc_os_unmap(void *addr, size_t len)
{
    if (len == 0 || !alloc_is_aligned(addr, alloc_os_page_size())) return -EINVAL;
    size_t size = round_to_pages(len);
    if (size == 0) return -EINVAL;
    int fail = injected(ALLOC_OS_OP_UNMAP);
    if (fail) return fail;
    return alloc_sys_unmap(addr, size);
}

int alloc_os_remap(void *addr, size_t old_len, size_t new_len, bool may_move, void **out)
{
    if (old_len == 0 || new_len == 0 || !alloc_is_aligned(addr, alloc_os_page_size())) return -EINVAL;
    size_t old_size = round_to_pages(old_len);
    size_t new_size = round_to_pages(new_len);
    if (old_size == 0) return -EINVAL;
    if (new_size == 0) return -ENOMEM;
    if (old_size == new_size) {
        *out = addr;
        return 0;
    }
    int fail = injected(ALLOC_OS_OP_REMAP);
    if (fail) return fail;
    intptr_t r = alloc_sys_remap(addr, old_size, new_size, may_move);
    if (sys_failed(r)) return (int)r;
    *out = (void *)r;
    return 0;
}

int alloc_os_purge(void *addr, size_t len, bool lazy)
{
    if (len == 0 || !alloc_is_aligned(addr, alloc_os_page_size())) return -EINVAL;
    size_t size = round_to_pages(len);
    if (size == 0) return -EINVAL;
    int fail = injected(ALLOC_OS_OP_PURGE);
    if (fail) return fail;
    if (lazy) {
        int r = alloc_sys_advise(addr, size, ALLOC_SYS_ADVISE_FREE);
        if (r != -EINVAL) return r; /* kernels before 4.5 lack MADV_FREE: fall through */
    }
    return alloc_sys_advise(addr, size, ALLOC_SYS_ADVISE_DONTNEED);
}

int alloc_os_protect(void *addr, size_t len, enum alloc_os_prot prot)
{
    if (len == 0 || !alloc_is_aligned(addr, alloc_os_page_size())) return -EINVAL;
    size_t size = round_to_pages(len);
    if (size == 0) return -EINVAL;
    int fail = injected(ALLOC_OS_OP_PROTECT);
    if (fail) return fail;
    int sys_prot = ALLOC_SYS_PROT_NONE;
    if (prot & ALLOC_OS_PROT_READ) sys_prot |= ALLOC_SYS_PROT_READ;
    if (prot == ALLOC_OS_PROT_READ_WRITE) sys_prot |= ALLOC_SYS_PROT_WRITE;
    return alloc_sys_protect(addr, size, sys_prot);
}

int alloc_os_hint_huge(void *addr, size_t len)
{
    if (len == 0 || !alloc_is_aligned(addr, alloc_os_page_size())) return -EINVAL;
    size_t size = round_to_pages(len);
    if (size == 0) return -EINVAL;
    return alloc_sys_advise(addr, size, ALLOC_SYS_ADVISE_HUGEPAGE);
}

void alloc_os_write_stderr(const char *buf, size_t len)
{
    while (len > 0) {
        intptr_t n = alloc_sys_write_stderr(buf, len);
        if (n == -EINTR) continue;
        if (n <= 0) return;
        buf += n;
        len -= (size_t)n;
    }
}

_Noreturn void alloc_os_abort(void) { alloc_sys_abort(); }

long alloc_os_thread_id(void) { return alloc_sys_thread_id(); }

int alloc_os_thread_alive(long tid)
{
    if (tid <= 0) return -EINVAL;
    int r = alloc_sys_thread_probe(tid);
    if (r == 0 || r == -EPERM) return 1; /* EPERM: it exists, we may not signal it */
    if (r == -ESRCH) return 0;
    return r;
}

int64_t alloc_os_monotonic_ns(void) { return alloc_sys_monotonic_ns(); }
