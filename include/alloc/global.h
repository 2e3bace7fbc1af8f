/*
 * global.h: the global adapter. Any `allocator` as the process's malloc family,
 * in-process or, unchanged programs, through LD_PRELOAD=liballoc_preload.so.
 *
 * Two ways in:
 *   - LD_PRELOAD=.../liballoc_preload.so program: the library exports malloc,
 *     free, calloc, realloc, reallocarray, posix_memalign, aligned_alloc,
 *     memalign, valloc, pvalloc, malloc_usable_size, free_sized,
 *     free_aligned_sized and glibc's __libc_* aliases. ALLOC_STRATEGY in the
 *     environment picks the strategy behind them (see below), ALLOC_STATS=1
 *     (or yes/true/on; 0/no/false/off turn it off) prints the statistics at
 *     exit on standard error, one line naming the process id and program.
 *   - In a program: link the CMake target alloc::global_malloc (object files
 *     that define the malloc names, so the executable's malloc interposes the C
 *     library's for every shared object), then call
 *         alloc_global_install(my_arena_handle, 0);
 *     to make any handle the process's malloc from that point on. The plain
 *     alloc::global target has the same engine under alloc_global_* names only,
 *     for programs that want the adapter without replacing malloc.
 *
 * Strategies (ALLOC_STRATEGY, or alloc_global_select):
 *   default   52 size classes of 16 B .. 256 KiB carved from spans of a
 *             page heap shared by all classes, with a per-thread cache per
 *             class; larger blocks are spans of that heap up to 32 MiB and
 *             mappings of their own above.
 *   page      every block its own mapping (page granularity; a debugging aid:
 *             use-after-free of a freed large block faults).
 *   <name>    any strategy of the library that registers itself (arena, bump,
 *             freelist, pools) when it was compiled in: every request goes
 *             straight to it under one lock. Bump and arena as malloc are a
 *             real use: batch programs that never free get pointer-bump speed,
 *             and free does nothing.
 *   An unknown or absent name prints one warning and keeps the default.
 *
 * Semantics are glibc's: malloc(0) returns a unique non-NULL block; every block
 * is aligned to 16; failures return NULL with errno ENOMEM (sizes above
 * PTRDIFF_MAX, calloc and reallocarray overflow); realloc(NULL, n) is
 * malloc(n); realloc(p, 0) frees p and returns NULL; a failed realloc leaves p
 * valid; posix_memalign returns EINVAL for an alignment that is not a power of
 * two multiple of sizeof(void *) and leaves *out untouched; memalign,
 * aligned_alloc round a non-power-of-two alignment up (glibc 2.36); free(NULL)
 * does nothing; free never changes errno.
 *
 * How free knows a block. A small block (up to 256 KiB, alignment up to
 * 4 KiB) has no header: its span, found through a page map by address, gives
 * its size class, and the pointer must be the start of a block the span has
 * handed out. A free small block holds its freed tag (its address keyed by a
 * per-process secret) in its second word, so a second free is known. So the
 * overhead of a small block is its rounding to the size class (at most 25 %
 * above 128 B; none for multiples of 16 up to 128 B); an aligned one is a
 * block of a class whose size is a multiple of the alignment. Larger blocks,
 * and every block of another strategy or an installed handle, carry a 16-byte
 * header in front (usable length, source, offset, a check word keyed by the
 * secret), and A bytes in front at an alignment A > 16. A pointer that is not
 * a live block (not from this adapter, interior, or already freed) is reported
 * through alloc_report_misuse with the caller's address, which by default
 * prints one line and aborts; the adapter never follows such a pointer. (A
 * pointer outside the page heap whose 16 preceding bytes are unmapped faults
 * while being checked, which ends the process all the same.)
 *
 * Threads: every function is thread-safe. Small blocks go through a cache per
 * thread in front of one lock per size class, so threads mostly do not share
 * a lock. A thread's cache lives in a record the adapter maps itself (reached
 * through one initial-exec TLS pointer) and goes back to the classes when the
 * thread exits (a pthread key destructor). Threads whose exit hook never runs
 * (started by a library constructor before the adapter's, first malloc in a
 * key destructor of glibc's last round, vanished in a fork child) are found
 * later (same TLS block or thread id as a new thread, or no longer existing:
 * see alloc_global_trim_threads) and their cached blocks go back all the same.
 * Fork: in a multi-threaded process, handlers registered with pthread_atfork
 * take every lock before fork and release them in both parent and child, so
 * the child can allocate even if another thread was inside malloc. In a
 * single-threaded process they take no lock (as glibc's malloc), so a signal
 * handler that interrupts malloc or free may call fork. Initialisation is
 * lazy and never calls malloc (no dlsym, stdio, or pthread_key_create on that
 * path).
 *
 * Time: malloc and free of a cached class are O(1) without locks; a cache
 * miss takes one class lock and moves a batch; large
 * blocks cost one mmap/munmap (realloc of those is one mremap, no copy).
 * Spans are kept for reuse by their class and not returned to the system.
 */
#ifndef ALLOC_GLOBAL_H
#define ALLOC_GLOBAL_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc/alloc.h"
#include "alloc/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Flags for alloc_global_install. */
enum {
    /* The handle is safe to call from several threads at once (the page
     * allocator, a locked wrapper): the adapter adds no lock around it. */
    ALLOC_GLOBAL_THREAD_SAFE = 1u << 0,
};

/* The largest number of handles alloc_global_install accepts over a process's life. */
#define ALLOC_GLOBAL_MAX_INSTALLED 8

/*
 * Makes `a` the source of every later allocation of the malloc family (and of
 * the alloc_global_* functions). Blocks allocated before stay valid and are
 * freed to the allocator they came from (each header names its source).
 * Precondition: `a` stays usable while any block from it is live; its
 * alignment limit is at least 16 (the adapter asks for 16 or the requested
 * alignment, and 16 + alignment more bytes for the header).
 * Returns 0, or -ENOSPC after ALLOC_GLOBAL_MAX_INSTALLED installs.
 * Thread-safe, but blocks being allocated concurrently may come from either
 * the old or the new source. O(1).
 */
ALLOC_API int alloc_global_install(allocator a, unsigned flags);

/*
 * Selects a strategy by name (as ALLOC_STRATEGY does): "default", "page", or a
 * strategy compiled into the library. Returns 0, or -ENOENT for a name not
 * available (nothing changes). Thread-safe; same caveat as install. O(1).
 */
ALLOC_API int alloc_global_select(const char *name);

/* The name of the strategy new blocks currently come from ("default", "page",
 * "installed", ...). Never NULL. */
ALLOC_API const char *alloc_global_strategy_name(void);

/*
 * The malloc family under the adapter's own names (what the exported malloc,
 * free, ... call). Same semantics as the C functions, documented above.
 * Thread-safe. Memory is not zeroed except by calloc.
 */
ALLOC_API void *alloc_global_malloc(size_t size) ALLOC_MALLOC_ATTR;
ALLOC_API void alloc_global_free(void *p);
ALLOC_API void *alloc_global_calloc(size_t n, size_t size) ALLOC_MALLOC_ATTR;
ALLOC_API void *alloc_global_realloc(void *p, size_t size);
ALLOC_API void *alloc_global_reallocarray(void *p, size_t n, size_t size);
ALLOC_API int alloc_global_posix_memalign(void **out, size_t align, size_t size);
ALLOC_API void *alloc_global_memalign(size_t align, size_t size) ALLOC_MALLOC_ATTR;
ALLOC_API void *alloc_global_aligned_alloc(size_t align, size_t size) ALLOC_MALLOC_ATTR;
ALLOC_API void *alloc_global_valloc(size_t size) ALLOC_MALLOC_ATTR;
ALLOC_API void *alloc_global_pvalloc(size_t size) ALLOC_MALLOC_ATTR;
/* The bytes usable at p (at least what was asked for); 0 for NULL. */
ALLOC_API size_t alloc_global_usable_size(const void *p);
/* free with the size (and alignment) the caller asked for. A size larger than
 * the block's usable size is misuse: reported, and the block is not freed. */
ALLOC_API void alloc_global_free_sized(void *p, size_t size);
ALLOC_API void alloc_global_free_aligned_sized(void *p, size_t align, size_t size);

/*
 * The adapter as an `allocator` handle (thread-safe; any alignment; remap
 * moves large blocks with mremap). Lets library code that takes a handle use
 * whatever the process's malloc is.
 */
ALLOC_API allocator alloc_global_allocator(void);

/*
 * Process-wide statistics. bytes_in_use counts usable bytes of live blocks
 * (headers excluded, which bytes_reserved includes; a small block counts its
 * whole size class); counts are
 * summed over every thread's cache, read without stopping the threads, so a
 * snapshot taken while other threads allocate is approximate. peak_bytes_in_use
 * is the highest in-use total seen at a stats read, a span refill or a direct
 * (large) block: exact for direct blocks, a lower bound for small ones. Counts and peaks never decrease. O(threads).
 */
ALLOC_API void alloc_global_stats(alloc_stats *out);

/*
 * Invariant check: every class free list and the calling thread's cache hold
 * only freed blocks of the right class with their freed tags, counts agree, and
 * the stats are consistent. Takes the class locks one at a time. O(free blocks).
 * Returns true iff everything holds.
 */
ALLOC_API bool alloc_global_check(void);

/* Writes the stats as text to file descriptor fd with write(2); what
 * ALLOC_STATS=1 does at exit. Never allocates. */
ALLOC_API void alloc_global_print_stats(int fd);

/* Gives the calling thread's cached blocks back to their classes (done
 * automatically at thread exit). O(cached blocks). */
ALLOC_API void alloc_global_thread_flush(void);

/*
 * Finds the thread caches whose threads have ended without their exit hook
 * (the kernel no longer knows their thread id) and gives their cached blocks
 * back to the classes and their records back for reuse. The adapter also does
 * this by itself, amortised, as new threads start; this call forces it.
 * Returns how many caches were retired. O(threads) system calls.
 */
ALLOC_API size_t alloc_global_trim_threads(void);

/*
 * Gives every free page it can back to the system (what malloc_trim(0) does):
 * flushes the calling thread's cache, returns the classes' empty spans to the
 * page heap and purges every free span there (MADV_DONTNEED; the address
 * range stays reserved and reads as zero when reused). Other threads' caches
 * are theirs (they go back when those threads exit). Returns the bytes
 * purged (0 if there were none). O(classes + free spans) plus the system
 * calls. A purge the system refuses is counted (alloc_global_info), not
 * reported: the pages stay and are tried again later.
 */
ALLOC_API size_t alloc_global_trim(void);

/*
 * The page heap's purge policy (also ALLOC_PURGE_DELAY_MS and
 * ALLOC_RETAIN_BYTES in the environment): a free span's pages go back to the
 * system once it has been free for delay_ms milliseconds (checked whenever the
 * heap is used; default 100), and at once, largest spans first, while free
 * resident bytes exceed the retained limit (down to half of it): the larger
 * of retain_bytes (default 64 MiB) and half the bytes of the spans in use.
 * delay_ms 0 purges on the next heap operation; retain_bytes 0 purges every
 * free span at once. Returns 0, or -EINVAL for a delay outside 0..3,600,000 ms.
 * Thread-safe; applies from the next heap operation.
 */
ALLOC_API int alloc_global_set_decay(long delay_ms, size_t retain_bytes);

/* Figures of the page heap (alloc_global_info), in bytes unless named otherwise. */
typedef struct alloc_global_heap_info {
    size_t heap_mapped;        /* chunks mapped for spans (never unmapped; purged instead) */
    size_t heap_free;          /* in free spans, resident or purged */
    size_t heap_dirty;         /* in free spans whose pages may be resident */
    size_t heap_free_spans;    /* number of free spans */
    size_t mapped_blocks;      /* blocks that are mappings of their own (above 32 MiB) */
    size_t mapped_block_bytes; /* their bytes, and those of other sources' direct blocks */
    size_t in_use;             /* usable bytes of live blocks (as alloc_global_stats) */
    size_t mapped_block_in_use; /* the part of in_use in blocks that are mappings of their own */
    size_t purged;             /* total bytes purged so far */
    size_t purge_failures;     /* purges the system refused */
} alloc_global_heap_info;

/* Fills *out (what mallinfo2 and malloc_stats report). O(threads + free spans). */
ALLOC_API void alloc_global_info(alloc_global_heap_info *out);

/*
 * The fork handlers (registered with pthread_atfork automatically); public for
 * programs that fork by other means. prepare takes every lock of the adapter;
 * parent and child release them.
 */
ALLOC_API void alloc_global_fork_prepare(void);
ALLOC_API void alloc_global_fork_parent(void);
ALLOC_API void alloc_global_fork_child(void);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_GLOBAL_H */
