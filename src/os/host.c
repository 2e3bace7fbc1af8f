/*
 * host.c: files, clocks, process facts and thread hooks through the C library
 * (host.h), for every hosted build whatever its page back end.
 *
 * The recorder needs a little more of the system than pages: a trace file it
 * can map shared (so that what a thread stored survives _exit and exec), a
 * clock, the pid, an environment variable, and two hooks: a pthread key whose
 * destructor runs at thread exit, and pthread_atfork. All of it is here rather
 * than in src/record so that the system stays behind src/os. Every function
 * saves and restores errno, and none allocates: each is called from inside
 * malloc when alloc is the process's malloc.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1 /* program_invocation_name */
#endif
#define _FILE_OFFSET_BITS 64 /* traces above 2 GiB on 32-bit systems */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host.h"

extern char *program_invocation_name;

/* fd moved to 100 or above when possible (the original closed). */
static int move_high(int fd)
{
    if (fd < 0 || fd >= 100) return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 100);
    if (high < 0) return fd;
    close(fd);
    return high;
}

int alloc_host_file_create(const char *path, bool exclusive)
{
    int saved = errno;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC), 0644);
    int r = fd < 0 ? -errno : move_high(fd);
    errno = saved;
    return r;
}

int alloc_host_file_reopen(const char *path)
{
    int saved = errno;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    int r = fd < 0 ? -errno : move_high(fd);
    errno = saved;
    return r;
}

uint64_t alloc_host_file_identity(int fd)
{
    int saved = errno;
    struct stat st;
    uint64_t id = 0;
    if (fstat(fd, &st) == 0) id = ((uint64_t)st.st_dev << 40) ^ (uint64_t)st.st_ino ^ 1u;
    errno = saved;
    return id;
}

int alloc_host_absolute_path(const char *path, char *out, size_t cap)
{
    size_t n = strlen(path);
    if (path[0] == '/') {
        if (n >= cap) return -ENAMETOOLONG;
        memcpy(out, path, n + 1);
        return 0;
    }
    int saved = errno;
    if (!getcwd(out, cap)) {
        int e = -errno;
        errno = saved;
        return e;
    }
    size_t d = strlen(out);
    if (d + 1 + n >= cap) return -ENAMETOOLONG;
    out[d] = '/';
    memcpy(out + d + 1, path, n + 1);
    return 0;
}

int alloc_host_file_resize(int fd, uint64_t len)
{
    int saved = errno;
    int r = ftruncate(fd, (off_t)len) == 0 ? 0 : -errno;
    errno = saved;
    return r;
}

int alloc_host_file_map(int fd, uint64_t offset, size_t len, void **out)
{
    int saved = errno;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
    int r = 0;
    if (p == MAP_FAILED)
        r = -errno;
    else
        *out = p;
    errno = saved;
    return r;
}

int alloc_host_file_write_at(int fd, uint64_t offset, const void *buf, size_t len)
{
    int saved = errno;
    const char *b = (const char *)buf;
    int r = 0;
    while (len > 0) {
        ssize_t n = pwrite(fd, b, len, (off_t)offset);
        if (n < 0) {
            if (errno == EINTR) continue;
            r = -errno;
            break;
        }
        b += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
    }
    errno = saved;
    return r;
}

void alloc_host_file_close(int fd)
{
    int saved = errno;
    close(fd);
    errno = saved;
}

int alloc_host_pid(void) { return (int)getpid(); }

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    int saved = errno;
    if (clock_gettime(id, &ts) != 0) ts.tv_sec = ts.tv_nsec = 0;
    errno = saved;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t alloc_host_monotonic_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
uint64_t alloc_host_realtime_ns(void) { return clock_ns(CLOCK_REALTIME); }

const char *alloc_host_getenv(const char *name) { return getenv(name); }

const char *alloc_host_program(void)
{
    return program_invocation_name && program_invocation_name[0] ? program_invocation_name : "?";
}

static pthread_key_t exit_key;

int alloc_host_thread_exit_hook(void (*fn)(void *))
{
    int e = pthread_key_create(&exit_key, fn);
    return e ? -e : 0;
}

void alloc_host_thread_exit_arm(void *value) { (void)pthread_setspecific(exit_key, value); }

int alloc_host_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
    int e = pthread_atfork(prepare, parent, child);
    return e ? -e : 0;
}
