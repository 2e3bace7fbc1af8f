/*
 * os.h: the page provider. The only part of alloc that talks to the operating
 * system; every strategy that needs fresh memory gets it here (usually through
 * the page allocator of page.h).
 *
 * Two back ends, chosen when the library is built (CMake ALLOC_OS_BACKEND):
 *   asm   raw Linux system calls in inline assembly (x86_64, aarch64); no libc
 *         in the path from allocator to kernel.
 *   libc  mmap & co. from the C library, for every other POSIX system.
 *
 * Every function returns 0 on success or a negative errno value (-ENOMEM,
 * -EINVAL, ...); MAP_FAILED never leaks out as a pointer, and errno is never
 * read or written. All functions are thread-safe and async-signal-safe.
 * Lengths are rounded up to whole pages where noted; addresses given back must
 * be page-aligned.
 */
#ifndef ALLOC_OS_H
#define ALLOC_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Protection for alloc_os_protect. */
enum alloc_os_prot {
    ALLOC_OS_PROT_NONE = 0,  /* guard page: any access faults */
    ALLOC_OS_PROT_READ = 1,
    ALLOC_OS_PROT_READ_WRITE = 3,
};

/* The name of the back end compiled in: "asm-x86_64", "asm-aarch64", "libc", or
 * "none" in the freestanding core (no OS: every map fails; alloc/freestanding.h). */
ALLOC_API const char *alloc_os_backend_name(void);

/* The page size (4096 on x86_64; 4, 16 or 64 KiB on aarch64). Cached after the first call. */
ALLOC_API size_t alloc_os_page_size(void);

/*
 * Maps len bytes (rounded up to pages) of fresh, zeroed, read-write memory,
 * aligned to align (a power of two; values below the page size mean the page
 * size). Alignments above the page size over-map by align - page and trim.
 * On success stores the address in *out and returns 0; else returns -EINVAL
 * (len == 0, align not a power of two), -ENOMEM (len or len + align overflows,
 * or the kernel refuses) or another -errno, and leaves *out untouched.
 */
ALLOC_API int alloc_os_map(size_t len, size_t align, void **out);

/* Unmaps [addr, addr + len) (len rounded up to pages). addr page-aligned. */
ALLOC_API int alloc_os_unmap(void *addr, size_t len);

/*
 * Changes a mapping from old_len to new_len bytes (both rounded up to pages),
 * keeping its contents. With may_move false the mapping grows or shrinks only
 * in place (-ENOMEM if the following pages are taken); with may_move true the
 * kernel may move it without copying (mremap). *out receives the address.
 * -ENOSYS where the system has no mremap (libc back end off Linux): callers
 * then copy.
 */
ALLOC_API int alloc_os_remap(void *addr, size_t old_len, size_t new_len, bool may_move, void **out);

/*
 * Tells the OS that [addr, addr + len) is unused: the pages stay mapped but
 * their physical memory may be reclaimed. lazy == false (MADV_DONTNEED): the
 * next read sees zeros. lazy == true (MADV_FREE where available, else
 * DONTNEED): contents are undefined until written.
 */
ALLOC_API int alloc_os_purge(void *addr, size_t len, bool lazy);

/* Changes protection of whole pages (guard pages: ALLOC_OS_PROT_NONE). */
ALLOC_API int alloc_os_protect(void *addr, size_t len, enum alloc_os_prot prot);

/* Asks for transparent huge pages on the range (advice; -EINVAL where unsupported). */
ALLOC_API int alloc_os_hint_huge(void *addr, size_t len);

/* Writes len bytes to standard error, retrying short writes. For diagnostics. */
ALLOC_API void alloc_os_write_stderr(const char *buf, size_t len);

/*
 * The calling thread's kernel thread id (Linux gettid(2)): positive, unique
 * among the live threads of the system, reused after the thread ends.
 * -ENOSYS where the system has no such id (the freestanding back end). O(1).
 */
ALLOC_API long alloc_os_thread_id(void);

/*
 * Whether the thread with kernel id tid (from alloc_os_thread_id) still exists
 * in this process: 1 yes, 0 no (it has ended; Linux tgkill(2) with signal 0
 * says ESRCH), or a negative errno when the system cannot tell (-ENOSYS,
 * -EINVAL for tid <= 0). Sends no signal. A 0 is final for that thread: it
 * can no longer run; a 1 may be a later thread that reuses the id. O(1).
 */
ALLOC_API int alloc_os_thread_alive(long tid);

/*
 * A monotonic clock (CLOCK_MONOTONIC) in nanoseconds, for decay delays; a
 * negative errno where the system has none (-ENOSYS, freestanding). One
 * system call with the asm back end (it does not use the vDSO), so callers
 * keep it off fast paths. O(1).
 */
ALLOC_API int64_t alloc_os_monotonic_ns(void);

/* Ends the process with SIGABRT, without running atexit handlers or flushing stdio. */
ALLOC_API ALLOC_NORETURN void alloc_os_abort(void);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_OS_H */
