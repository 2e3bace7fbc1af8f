/*
 * trace.h: where the strategies' event trace goes.
 *
 * A build configured with the CMake option ALLOC_TRACE (C macro
 * ALLOC_TRACE_ENABLED=1 for the library's sources) makes the strategies
 * describe their internal events, one line each: a free-list block split or
 * merged, a block put on or taken off a free list, a chunk or slab acquired
 * from the backing allocator. Lines start with the strategy's name and the
 * event ("freelist split ...", "freelist merge ..."), then key=value pairs.
 *
 * Every other build compiles the trace statements out entirely: their
 * arguments are not evaluated and the library's object code holds no call to
 * the trace emitter (CI checks this with nm). The functions below exist in
 * every build, so code that installs a sink compiles either way; in a build
 * without tracing the sink is simply never called.
 */
#ifndef ALLOC_TRACE_H
#define ALLOC_TRACE_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc/alloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Receives one event: line is NUL-terminated, has no trailing newline, and
 * len == strlen(line). Lines longer than ALLOC_TRACE_LINE_MAX - 1 bytes are
 * cut there. The line lives on the emitter's stack: copy it to keep it.
 *
 * The sink runs inside the allocator, possibly with the allocator's lock held
 * and in the middle of an operation: it must not call back into the allocator
 * that traced (nor into malloc when alloc is the process's malloc). It may be
 * called from any thread that uses a traced allocator.
 */
typedef void (*alloc_trace_sink)(const char *line, size_t len, void *user);

/* The longest line a sink receives, including the terminating NUL. */
#define ALLOC_TRACE_LINE_MAX 256

/*
 * Installs sink (with user passed back to it) for all traced events of the
 * process. NULL restores the default sink: hosted builds write each line to
 * standard error as "alloc: trace: <line>\n"; freestanding builds pass it to
 * alloc_freestanding_write (alloc/freestanding.h).
 * Not synchronised with concurrent events: install it before threads start.
 * O(1).
 */
ALLOC_API void alloc_set_trace_sink(alloc_trace_sink sink, void *user);

/*
 * true iff this library was built with ALLOC_TRACE, i.e. the strategies emit
 * events at all. Lets a program report that its trace request cannot be met.
 * O(1), thread-safe.
 */
ALLOC_API bool alloc_trace_enabled(void);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_TRACE_H */
