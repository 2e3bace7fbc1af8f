/*
 * trace.h (internal): zero-cost event tracing for the strategies (splits,
 * merges, free-list insertions, chunk and slab acquisition).
 *
 * ALLOC_TRACE(fmt, ...) formats one line and hands it to the sink installed
 * with alloc_set_trace_sink (include/alloc/trace.h). Unless the build defines
 * ALLOC_TRACE_ENABLED=1 the macro expands to nothing at all: its arguments are
 * not evaluated and the object code has no trace calls.
 *
 * Lines start with the strategy's name and the event: "freelist split ...",
 * "freelist merge ...", so tests can match them.
 */
#ifndef ALLOC_CORE_TRACE_H
#define ALLOC_CORE_TRACE_H

#if defined(ALLOC_TRACE_ENABLED) && ALLOC_TRACE_ENABLED
#include "alloc/diag.h"
void alloc_trace_emit(const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 1, 2), visibility("hidden")))
#endif
    ;
#define ALLOC_TRACE(...) alloc_trace_emit(__VA_ARGS__)
#else
#define ALLOC_TRACE(...) ((void)0)
#endif

#endif /* ALLOC_CORE_TRACE_H */
