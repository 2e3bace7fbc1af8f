/*
 * main.c: a program with no C library at all, linked against the freestanding
 * core (cmake/alloc_freestanding.cmake) with -nostdlib -static. That it links
 * shows the core needs nothing from the environment beyond what
 * include/alloc/freestanding.h lists; that it runs and exits 0 shows the
 * strategies work there: a bump region and a free list over static buffers,
 * a stack and a pool over buffers, an arena over another handle, the page allocator
 * failing cleanly (no OS), diagnostics through the program's write hook.
 *
 * Linux x86_64 and aarch64 only, because something has to start the program
 * and end it: _start and two raw system calls (write, exit_group) below. A
 * bare-metal program would use its reset handler and a UART instead.
 * Prints one line per check and "freestanding: N passed, N failed".
 */
#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "alloc/diag.h"
#include "alloc/freestanding.h"
#include "alloc/os.h"
#include "alloc/page.h"
#if ALLOC_FS_HAVE_BUMP
#include "alloc/bump.h"
#endif
#if ALLOC_FS_HAVE_ARENA
#include "alloc/arena.h"
#endif
#if ALLOC_FS_HAVE_POOL
#include "alloc/pool.h"
#endif
#if ALLOC_FS_HAVE_STACK
#include "alloc/stack.h"
#endif
#if ALLOC_FS_HAVE_FREELIST
#include "alloc/freelist.h"
#endif

/* --- the environment: entry, two system calls ---------------------------------- */

#if defined(__x86_64__)
__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "  xor %ebp, %ebp\n"
        "  and $-16, %rsp\n"
        "  call fs_main\n"
        "  mov %eax, %edi\n"
        "  mov $231, %eax\n" /* exit_group */
        "  syscall\n"
        "  hlt\n");

static long sys_write(int fd, const void *buf, size_t len)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(1L), "D"((long)fd), "S"(buf), "d"(len) : "rcx", "r11", "memory");
    return ret;
}

static _Noreturn void sys_exit(int code)
{
    __asm__ volatile("syscall" : : "a"(231L), "D"((long)code) : "rcx", "r11", "memory");
    __builtin_unreachable();
}
#elif defined(__aarch64__)
__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "  mov x29, #0\n"
        "  mov x30, #0\n"
        "  bl fs_main\n"
        "  mov x8, #94\n" /* exit_group; the status is already in x0 */
        "  svc #0\n");

static long sys_write(int fd, const void *buf, size_t len)
{
    register long x0 __asm__("x0") = fd;
    register long x1 __asm__("x1") = (long)buf;
    register long x2 __asm__("x2") = (long)len;
    register long x8 __asm__("x8") = 64;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x8) : "memory");
    return x0;
}

static _Noreturn void sys_exit(int code)
{
    register long x0 __asm__("x0") = code;
    register long x8 __asm__("x8") = 94;
    __asm__ volatile("svc #0" : : "r"(x0), "r"(x8) : "memory");
    __builtin_unreachable();
}
#else
#error "the freestanding test program starts itself on Linux x86_64 and aarch64 only"
#endif

/* --- what the core requires from the program (alloc/freestanding.h) --------------- */

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--) *d++ = *s++;
    } else {
        while (n--) d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y) return *x < *y ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

/* The optional hooks, overridden: diagnostics to fd 2, fatal ends exit 134. */
static size_t hook_bytes;

void alloc_freestanding_write(const char *text, size_t len)
{
    hook_bytes += len;
    (void)sys_write(2, text, len);
}

_Noreturn void alloc_freestanding_abort(void) { sys_exit(134); }

/* --- a minimal report ----------------------------------------------------------------- */

static unsigned passed, failed;

static void say(const char *text) { (void)sys_write(1, text, strlen(text)); }

static void expect(int ok, const char *what)
{
    char line[160];
    alloc_format(line, sizeof line, "%s %s\n", ok ? "PASS" : "FAIL", what);
    say(line);
    ok ? passed++ : failed++;
}

static int filled(const unsigned char *p, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v) return 0;
    return 1;
}

/* --- the checks ------------------------------------------------------------------------- */

static void check_page_allocator_fails_cleanly(void)
{
    allocator pages = alloc_page_allocator();
    void *p = alloc_bytes(pages, 4096, 8);
    expect(p == NULL, "page allocator: no OS, so alloc gives NULL");
    expect(alloc_page_check(), "page allocator: check");
    const char *backend = alloc_os_backend_name();
    expect(memcmp(backend, "none", 5) == 0, "page provider: the 'none' back end");
}

static void check_diagnostics_reach_the_hook(void)
{
    size_t before = hook_bytes;
    char site[64];
    alloc_describe_addr((uintptr_t)&check_diagnostics_reach_the_hook, site, sizeof site);
    expect(site[0] == '0' && site[1] == 'x', "describe_addr: a bare address without a loader");
    alloc_freestanding_write("freestanding: (diagnostic hook test line)\n", 42);
    expect(hook_bytes == before + 42, "write hook: overridden by the program");
}

#if ALLOC_FS_HAVE_BUMP
static _Alignas(64) unsigned char bump_buffer[16 << 10];

static void check_bump(void)
{
    alloc_bump b;
    expect(alloc_bump_init(&b, bump_buffer, sizeof bump_buffer) == 0, "bump: init over a static buffer");
    allocator a = alloc_bump_allocator(&b);
    unsigned char *x = alloc_bytes(a, 100, 16);
    unsigned char *y = alloc_bytes(a, 300, 64);
    expect(x && y && alloc_is_aligned(x, 16) && alloc_is_aligned(y, 64), "bump: aligned blocks");
    if (x && y) {
        memset(x, 1, 100);
        memset(y, 2, 300);
        expect(filled(x, 100, 1) && filled(y, 300, 2), "bump: blocks disjoint");
    }
    expect(alloc_bytes(a, sizeof bump_buffer, 8) == NULL, "bump: over capacity gives NULL");
    expect(alloc_bump_check(&b), "bump: check");
    alloc_bump_reset(&b);
    expect(alloc_bump_used(&b) == 0 && alloc_bump_check(&b), "bump: reset");
    alloc_bump_deinit(&b);
}
#endif

#if ALLOC_FS_HAVE_ARENA && ALLOC_FS_HAVE_BUMP
static _Alignas(64) unsigned char arena_backing[128 << 10];

static void check_arena_over_a_handle(void)
{
    alloc_bump region;
    expect(alloc_bump_init(&region, arena_backing, sizeof arena_backing) == 0, "arena: bump region as backing");
    alloc_arena arena;
    alloc_arena_options opts = {.backing = alloc_bump_allocator(&region), .first_chunk = 4096};
    expect(alloc_arena_init(&arena, &opts) == 0, "arena: init over another handle");
    allocator a = alloc_arena_allocator(&arena);
    int ok = 1;
    for (unsigned i = 0; i < 64; i++) {
        unsigned char *p = alloc_bytes(a, 200 + i, 8);
        if (!p) {
            ok = 0;
            break;
        }
        memset(p, (int)i, 200 + i);
    }
    expect(ok, "arena: 64 blocks across several chunks");
    expect(alloc_arena_check(&arena), "arena: check");
    alloc_stats s;
    alloc_arena_stats(&arena, &s);
    expect(s.alloc_count == 64 && s.bytes_reserved > 4096, "arena: stats");
    alloc_arena_deinit(&arena);
    alloc_bump_deinit(&region);
}
#endif

#if ALLOC_FS_HAVE_STACK
static _Alignas(64) unsigned char stack_buffer[8 << 10];

static void check_stack(void)
{
    alloc_stack s;
    expect(alloc_stack_init_buffer(&s, stack_buffer, sizeof stack_buffer) == 0, "stack: init over a buffer");
    allocator a = alloc_stack_allocator(&s);
    unsigned char *x = alloc_bytes(a, 100, 8);
    unsigned char *y = alloc_bytes(a, 200, 32);
    expect(x && y && alloc_is_aligned(y, 32) && alloc_stack_depth(&s) == 2, "stack: two frames");
    if (x && y) {
        memset(x, 5, 100);
        memset(y, 6, 200);
        expect(alloc_resize(a, y, 200, 32, 400) && filled(x, 100, 5), "stack: top grows in place");
        alloc_free(a, y, 400, 32);
        alloc_free(a, x, 100, 8);
    }
    expect(alloc_stack_depth(&s) == 0 && alloc_stack_check(&s), "stack: LIFO frees, check");
    alloc_stack_deinit(&s);
}
#endif

#if ALLOC_FS_HAVE_POOL
static _Alignas(64) unsigned char pool_buffer[8 << 10];

static void check_pool(void)
{
    alloc_pool pool;
    expect(alloc_pool_init_buffer(&pool, pool_buffer, sizeof pool_buffer, 48, 16) == 0, "pool: init over a buffer");
    allocator a = alloc_pool_allocator(&pool);
    void *objs[512];
    size_t n = 0;
    while (n < 512 && (objs[n] = alloc_bytes(a, 48, 16)) != NULL) memset(objs[n++], 7, 48);
    expect(n > 8 && n < 512, "pool: fixed buffer runs out");
    expect(alloc_pool_check(&pool), "pool: check when full");
    while (n) alloc_free(a, objs[--n], 48, 16);
    expect(alloc_pool_check(&pool) && alloc_bytes(a, 48, 16) != NULL, "pool: reusable after freeing");
    alloc_pool_deinit(&pool);
}
#endif

#if ALLOC_FS_HAVE_FREELIST
static _Alignas(64) unsigned char heap_buffer[64 << 10];

static void check_freelist(void)
{
    alloc_freelist heap;
    alloc_freelist_config config = {.buffer = heap_buffer, .buffer_size = sizeof heap_buffer, .no_grow = true};
    expect(alloc_freelist_init(&heap, &config) == 0, "freelist: init over a static buffer, no growth");
    allocator a = alloc_freelist_allocator(&heap);
    unsigned char *x = alloc_bytes(a, 1000, 16);
    unsigned char *y = alloc_bytes(a, 3000, 64);
    expect(x && y && alloc_is_aligned(y, 64), "freelist: aligned blocks");
    if (x && y) {
        memset(x, 3, 1000);
        memset(y, 4, 3000);
        unsigned char *z = alloc_realloc(a, x, 1000, 16, 5000);
        expect(z && filled(z, 1000, 3) && filled(y, 3000, 4), "freelist: realloc keeps contents");
        if (z) alloc_free(a, z, 5000, 16);
        alloc_free(a, y, 3000, 64);
    }
    expect(alloc_bytes(a, sizeof heap_buffer, 8) == NULL, "freelist: over capacity gives NULL");
    expect(alloc_freelist_check(&heap), "freelist: check");
    alloc_stats s;
    alloc_freelist_stats(&heap, &s);
    expect(s.bytes_in_use == 0 && s.alloc_count >= 2 && s.free_count == s.alloc_count, "freelist: stats");
    alloc_freelist_deinit(&heap);
}
#endif

int fs_main(void);

int fs_main(void)
{
    check_page_allocator_fails_cleanly();
    check_diagnostics_reach_the_hook();
#if ALLOC_FS_HAVE_BUMP
    check_bump();
#endif
#if ALLOC_FS_HAVE_ARENA && ALLOC_FS_HAVE_BUMP
    check_arena_over_a_handle();
#endif
#if ALLOC_FS_HAVE_STACK
    check_stack();
#endif
#if ALLOC_FS_HAVE_POOL
    check_pool();
#endif
#if ALLOC_FS_HAVE_FREELIST
    check_freelist();
#endif
    char line[80];
    alloc_format(line, sizeof line, "freestanding: %u passed, %u failed\n", passed, failed);
    say(line);
    return failed == 0 && passed > 0 ? 0 : 1;
}
