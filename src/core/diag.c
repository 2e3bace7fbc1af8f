/*
 * diag.c: reporting contract violations and corruption, and the libc-free
 * formatter they use. Nothing here allocates or calls stdio, so it is safe
 * inside a malloc replacement and in a freestanding build.
 */
#include <stdarg.h>

#include "internal.h"
#if defined(ALLOC_FREESTANDING) && ALLOC_FREESTANDING
#include "alloc/freestanding.h"
#else
#include "alloc/os.h"
#endif

static alloc_misuse_handler misuse_handler;
static void *misuse_user;

void alloc_set_misuse_handler(alloc_misuse_handler handler, void *user)
{
    misuse_handler = handler;
    misuse_user = user;
}

/* --- formatter ----------------------------------------------------------- */

typedef struct out_buf {
    char *buf;
    size_t cap;
    size_t len; /* would-be length, may exceed cap */
} out_buf;

static void put_char(out_buf *o, char c)
{
    if (o->len + 1 < o->cap) o->buf[o->len] = c;
    o->len++;
}

static void put_str(out_buf *o, const char *s)
{
    if (!s) s = "(null)";
    while (*s) put_char(o, *s++);
}

/* v in base, right-aligned in width characters (with sign, if negative). */
static void put_number(out_buf *o, unsigned long long v, unsigned base, bool negative, int width)
{
    char digits[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    for (int pad = width - n - (negative ? 1 : 0); pad > 0; pad--) put_char(o, ' ');
    if (negative) put_char(o, '-');
    while (n) put_char(o, digits[--n]);
}

static void put_unsigned(out_buf *o, unsigned long long v, unsigned base) { put_number(o, v, base, false, 0); }

size_t alloc_format_va(char *buf, size_t cap, const char *fmt, va_list ap)
{
    out_buf o = {buf, cap, 0};
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            put_char(&o, *f);
            continue;
        }
        f++;
        int width = 0; /* a field width: numbers are right-aligned in it */
        while (*f >= '0' && *f <= '9' && width < 64) width = width * 10 + (*f++ - '0');
        int longness = 0; /* 0 int, 1 long, 2 long long, 3 size_t */
        if (*f == 'z') {
            longness = 3;
            f++;
        } else if (*f == 'l') {
            longness = 1;
            f++;
            if (*f == 'l') {
                longness = 2;
                f++;
            }
        }
        switch (*f) {
        case 's': put_str(&o, va_arg(ap, const char *)); break;
        case 'c': put_char(&o, (char)va_arg(ap, int)); break;
        case 'd':
        case 'i': {
            long long v = longness == 2   ? va_arg(ap, long long)
                          : longness == 1 ? va_arg(ap, long)
                          : longness == 3 ? (long long)va_arg(ap, size_t)
                                          : va_arg(ap, int);
            unsigned long long mag = (unsigned long long)v;
            if (v < 0) mag = 0ULL - mag;
            put_number(&o, mag, 10, v < 0, width);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long long v = longness == 2   ? va_arg(ap, unsigned long long)
                                   : longness == 1 ? va_arg(ap, unsigned long)
                                   : longness == 3 ? va_arg(ap, size_t)
                                                   : va_arg(ap, unsigned);
            put_number(&o, v, *f == 'x' ? 16u : 10u, false, width);
            break;
        }
        case 'p':
            put_str(&o, "0x");
            put_unsigned(&o, (uintptr_t)va_arg(ap, void *), 16);
            break;
        case '%': put_char(&o, '%'); break;
        case '\0': f--; break;
        default:
            put_char(&o, '%');
            put_char(&o, *f);
            break;
        }
    }
    if (cap) buf[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len;
}

size_t alloc_format(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = alloc_format_va(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

/* --- reporting ----------------------------------------------------------- */

#define MESSAGE_CAP 1024

#if defined(ALLOC_FREESTANDING) && ALLOC_FREESTANDING
/* No operating system: the program routes text and fatal ends through these
 * weak hooks (alloc/freestanding.h) by defining its own. */
__attribute__((weak)) void alloc_freestanding_write(const char *text, size_t len)
{
    (void)text, (void)len;
}

__attribute__((weak)) _Noreturn void alloc_freestanding_abort(void) { __builtin_trap(); }

#define diag_write alloc_freestanding_write
#define diag_abort alloc_freestanding_abort
#else
#define diag_write alloc_os_write_stderr
#define diag_abort alloc_os_abort
#endif

static void write_line(const char *prefix, const char *msg)
{
    char line[MESSAGE_CAP + 32];
    size_t n = alloc_format(line, sizeof line, "%s%s\n", prefix, msg);
    diag_write(line, n < sizeof line ? n : sizeof line - 1);
}

/* Formats a variadic function's message (fmt and what follows it) into the
 * array msg. */
#define FORMAT_MESSAGE(msg, fmt)                                                                             \
    do {                                                                                                     \
        va_list ap;                                                                                          \
        va_start(ap, fmt);                                                                                   \
        alloc_format_va(msg, sizeof msg, fmt, ap);                                                           \
        va_end(ap);                                                                                          \
    } while (0)

/* A misuse message is handed to the handler if one is installed (which may
 * return), else printed before the program ends. */
static void misuse(const char *msg)
{
    if (misuse_handler) {
        misuse_handler(msg, misuse_user);
        return;
    }
    write_line("alloc: misuse: ", msg);
    diag_abort();
}

void alloc_report_misuse(const char *fmt, ...)
{
    char msg[MESSAGE_CAP];
    FORMAT_MESSAGE(msg, fmt);
    misuse(msg);
}

void alloc_report_misuse_from(uintptr_t ret_addr, const char *fmt, ...)
{
    char msg[MESSAGE_CAP], site[ALLOC_SITE_BUF];
    va_list ap;
    va_start(ap, fmt);
    size_t n = alloc_format_va(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < sizeof msg)
        alloc_format(msg + n, sizeof msg - n, " (called from %s)", alloc_describe_addr(ret_addr, site, sizeof site));
    misuse(msg);
}

void alloc_report_note(const char *fmt, ...)
{
    char msg[MESSAGE_CAP];
    FORMAT_MESSAGE(msg, fmt);
    write_line("alloc: note: ", msg);
}

_Noreturn void alloc_report_corruption(const char *fmt, ...)
{
    char msg[MESSAGE_CAP];
    FORMAT_MESSAGE(msg, fmt);
    if (misuse_handler) misuse_handler(msg, misuse_user);
    write_line("alloc: corrupted heap metadata: ", msg);
    diag_abort();
}
