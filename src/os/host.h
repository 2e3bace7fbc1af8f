/*
 * host.h (internal): the operating-system services of a hosted build beyond
 * pages: files, process and thread facts, clocks, and the thread-exit and
 * fork hooks. The recorder (src/record) is their only user; they live here so
 * that src/os stays the one place that talks to the system.
 *
 * Same convention as backend.h: 0 or a non-negative result on success, a
 * negative errno value on failure; errno itself is saved and restored, so a
 * malloc replacement that records never disturbs its caller's errno. None of
 * these calls malloc. Not compiled into the freestanding core.
 */
#ifndef ALLOC_OS_HOST_H
#define ALLOC_OS_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/internal.h"

/* Creates path for reading and writing, mode 0644, close-on-exec: truncating
 * an existing file, or with exclusive failing with -EEXIST if there is one.
 * The descriptor, or -errno. */
ALLOC_HIDDEN int alloc_host_file_create(const char *path, bool exclusive);
/* Sets the file's length (ftruncate). 0 or -errno. */
ALLOC_HIDDEN int alloc_host_file_resize(int fd, uint64_t len);
/* Maps [offset, offset + len) of the file shared and read-write: stores made
 * there reach the file through the page cache even if the process dies
 * without another system call. offset page-aligned. 0 or -errno. */
ALLOC_HIDDEN int alloc_host_file_map(int fd, uint64_t offset, size_t len, void **out);
/* Writes all of buf at offset (pwrite, retried on short writes). 0 or -errno. */
ALLOC_HIDDEN int alloc_host_file_write_at(int fd, uint64_t offset, const void *buf, size_t len);
ALLOC_HIDDEN void alloc_host_file_close(int fd);
/* The identity of the file behind fd (device and inode in one value), or 0
 * if fd is not open. Lets a long-lived descriptor be checked before use: a
 * program may close it and open another file under the same number. */
ALLOC_HIDDEN uint64_t alloc_host_file_identity(int fd);
/* Opens an existing path for reading and writing, close-on-exec, at a
 * descriptor number of 100 or more (out of the way of programs that expect
 * to own the small numbers). The descriptor, or -errno. */
ALLOC_HIDDEN int alloc_host_file_reopen(const char *path);
/* Makes path absolute against the current directory into out[cap]. 0, or
 * -ENAMETOOLONG, or -errno of getcwd. */
ALLOC_HIDDEN int alloc_host_absolute_path(const char *path, char *out, size_t cap);

ALLOC_HIDDEN int alloc_host_pid(void);
/* Monotonic clock and wall clock, nanoseconds. */
ALLOC_HIDDEN uint64_t alloc_host_monotonic_ns(void);
ALLOC_HIDDEN uint64_t alloc_host_realtime_ns(void);
/* The value of an environment variable, or NULL. No allocation. */
ALLOC_HIDDEN const char *alloc_host_getenv(const char *name);
/* The running program's name as it was started (argv[0]), or "?". */
ALLOC_HIDDEN const char *alloc_host_program(void);

/* Registers fn to run, with the value given to alloc_host_thread_exit_arm,
 * when a thread that armed it exits (pthread key destructor). Once per
 * process, before threads arm it. 0 or -errno. */
ALLOC_HIDDEN int alloc_host_thread_exit_hook(void (*fn)(void *));
/* Arms the hook for the calling thread with a non-NULL value. */
ALLOC_HIDDEN void alloc_host_thread_exit_arm(void *value);
/* pthread_atfork. 0 or -errno. */
ALLOC_HIDDEN int alloc_host_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void));

#endif /* ALLOC_OS_HOST_H */
