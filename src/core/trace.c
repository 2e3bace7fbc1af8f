/*
 * trace.c: the trace sink (alloc/trace.h) and the emitter behind ALLOC_TRACE
 * (trace.h).
 *
 * The emitter formats one event into a fixed stack buffer with the library's
 * own libc-free formatter, so tracing never allocates and cannot recurse into
 * an allocator that is in the middle of an operation (or serving as malloc).
 * Cost per event: one format pass over the message, O(line length), plus the
 * sink. No state besides the installed sink.
 *
 * The sink functions are compiled in every build, so a program that installs
 * a sink builds against either flavour of the library. The emitter exists only
 * in trace-enabled builds: everywhere else no strategy calls it (ALLOC_TRACE
 * expands to nothing), and leaving it out lets a symbol check (nm) prove that.
 */
#include "trace.h"

#include "alloc/trace.h"
#include "internal.h"
#if defined(ALLOC_FREESTANDING) && ALLOC_FREESTANDING
#include "alloc/freestanding.h"
#else
#include "alloc/os.h"
#endif

static alloc_trace_sink trace_sink;
static void *trace_user;

void alloc_set_trace_sink(alloc_trace_sink sink, void *user)
{
    trace_sink = sink;
    trace_user = user;
}

bool alloc_trace_enabled(void)
{
#if defined(ALLOC_TRACE_ENABLED) && ALLOC_TRACE_ENABLED
    return true;
#else
    return false;
#endif
}

#if defined(ALLOC_TRACE_ENABLED) && ALLOC_TRACE_ENABLED

/* The sink used while none is installed: one prefixed line on the diagnostic
 * output, written in a single call so that concurrent lines do not interleave
 * mid-line on a pipe. */
static void default_sink(const char *line, size_t len, void *user)
{
    (void)user;
    char out[ALLOC_TRACE_LINE_MAX + 16];
    size_t n = alloc_format(out, sizeof out, "alloc: trace: %s\n", line);
    if (n >= sizeof out) n = sizeof out - 1;
    (void)len;
#if defined(ALLOC_FREESTANDING) && ALLOC_FREESTANDING
    alloc_freestanding_write(out, n);
#else
    alloc_os_write_stderr(out, n);
#endif
}

void alloc_trace_emit(const char *fmt, ...)
{
    char line[ALLOC_TRACE_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    size_t n = alloc_format_va(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n >= sizeof line) n = sizeof line - 1; /* cut; alloc_format terminated it */
    alloc_trace_sink sink = trace_sink;
    if (sink)
        sink(line, n, trace_user);
    else
        default_sink(line, n, NULL);
}

#endif /* ALLOC_TRACE_ENABLED */
