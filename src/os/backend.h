/*
 * backend.h (internal): the few primitives a back end provides to os.c.
 *
 * Each returns a non-negative result or a negative errno value: the libc back
 * end converts errno here, the asm back end gets -errno from the kernel
 * directly, so os.c sees one convention. Flags use the enums below; each back
 * end translates them (on Linux the values are the kernel's own).
 */
#ifndef ALLOC_OS_BACKEND_H
#define ALLOC_OS_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "../core/internal.h"

enum { ALLOC_SYS_PROT_NONE = 0, ALLOC_SYS_PROT_READ = 1, ALLOC_SYS_PROT_WRITE = 2 };
enum { ALLOC_SYS_ADVISE_DONTNEED, ALLOC_SYS_ADVISE_FREE, ALLOC_SYS_ADVISE_HUGEPAGE };

/* Anonymous private mapping anywhere; the address as intptr_t, or -errno. */
ALLOC_HIDDEN intptr_t alloc_sys_map(size_t len, int prot);
ALLOC_HIDDEN int alloc_sys_unmap(void *addr, size_t len);
/* mremap; -ENOSYS where unavailable. */
ALLOC_HIDDEN intptr_t alloc_sys_remap(void *addr, size_t old_len, size_t new_len, int may_move);
ALLOC_HIDDEN int alloc_sys_advise(void *addr, size_t len, int advice);
ALLOC_HIDDEN int alloc_sys_protect(void *addr, size_t len, int prot);
/* One write(2) to fd 2; bytes written or -errno. */
ALLOC_HIDDEN intptr_t alloc_sys_write_stderr(const char *buf, size_t len);
ALLOC_HIDDEN _Noreturn void alloc_sys_abort(void);
/* The page size as the system reports it, or 0 if it cannot tell. */
ALLOC_HIDDEN size_t alloc_sys_page_size(void);
ALLOC_HIDDEN const char *alloc_sys_backend_name(void);
/* The calling thread's kernel id (gettid), or -ENOSYS. */
ALLOC_HIDDEN long alloc_sys_thread_id(void);
/* tgkill(getpid(), tid, 0): 0 if that thread of this process exists, else -errno. */
ALLOC_HIDDEN int alloc_sys_thread_probe(long tid);
/* CLOCK_MONOTONIC in nanoseconds, or -errno. */
ALLOC_HIDDEN int64_t alloc_sys_monotonic_ns(void);

#endif /* ALLOC_OS_BACKEND_H */
