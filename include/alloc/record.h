/*
 * record.h: record a program's allocations, read the recording back.
 *
 * Three parts, one file format (docs/trace.md):
 *
 *   recorder   alloc_recorder writes events (allocation, free, realloc, resize,
 *              failure) to a trace file. It never calls malloc: its state, its
 *              per-thread buffers and its address -> block table are mapped
 *              from the OS, so it can sit inside malloc itself. The preload
 *              library records the whole malloc family when the environment
 *              variable ALLOC_TRACE names a file (alloc_record_global_*).
 *   wrapper    alloc_record_wrapper records the handle calls (alloc, resize,
 *              remap, free with len and align) of any allocator, so a
 *              library's own use of a handle can be recorded and replayed.
 *   reader     alloc_trace_parse turns a trace file's bytes into one array of
 *              events in the order they happened, with dense block numbers
 *              and every free's size, or a clear error naming the offset.
 *
 * Recording in brief: every event takes the next number of one process-wide
 * sequence (one atomic increment); a block's id is the sequence number of the
 * event that allocated it, and a free stores only the distance back to it, so
 * short-lived blocks cost a byte. Each thread appends to its own chunk of the
 * file, mapped shared: a store into the chunk is in the file's page cache at
 * once, so a thread that exits, a child that calls _exit after fork, or a
 * process killed by a signal loses nothing it had recorded. What can be lost
 * is stated at alloc_record_global_start.
 *
 * The replay tool (alloc-replay, tools/replay) reads traces with this reader.
 * Origins: the varints are LEB128 (as in DWARF and Protocol Buffers); the
 * address table is linear probing with backward-shift deletion (Knuth, TAOCP
 * vol. 3, 6.4, algorithm R).
 */
#ifndef ALLOC_RECORD_H
#define ALLOC_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "alloc/atomic.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The format version this library writes and reads. */
#define ALLOC_TRACE_VERSION 1u

/* --- recording --------------------------------------------------------------- */

/* A recording in progress: one trace file. Opaque; lives in memory mapped from the OS. */
typedef struct alloc_recorder alloc_recorder;

/* What a recording holds (header flag): the malloc family, or handle calls. */
enum alloc_record_source {
    ALLOC_RECORD_MALLOC = 1, /* malloc, calloc, realloc, free, memalign & co. */
    ALLOC_RECORD_HANDLE = 2, /* an allocator's alloc, resize, remap, free */
};

/* How a block was asked for (the reader reports it as the event's op). */
enum alloc_record_kind {
    ALLOC_RECORD_KIND_MALLOC = 0, /* malloc, or a handle's alloc at natural alignment */
    ALLOC_RECORD_KIND_CALLOC = 1, /* zeroed */
    ALLOC_RECORD_KIND_ALIGNED = 2, /* memalign, posix_memalign, aligned_alloc, or a handle's alloc */
};

/*
 * Creates the trace file path (truncating it) and writes its header, with
 * program (any string; NULL: the running program's name) and source.
 * *out receives the recorder. Returns 0, or -errno from creating or sizing the
 * file, -ENOMEM if its state cannot be mapped, -EINVAL for a NULL path or an
 * unknown source. At most 16 recorders are open at once (-EMFILE beyond).
 * Thread-safe. Never calls malloc.
 */
ALLOC_API int alloc_recorder_open(alloc_recorder **out, const char *path, const char *program,
                                  enum alloc_record_source source);

/*
 * Writes the end record (event count, frees of unknown blocks, events dropped)
 * and releases everything (O(threads that recorded) unmaps, one file write).
 * Not thread-safe against events on r. Precondition: no thread records into r any more
 * (the global recorder is never closed, only ended: alloc_record_global_stop).
 * Returns 0 or the first -errno met while recording or ending (the trace may
 * then miss events; the end record says how many). O(threads that recorded).
 */
ALLOC_API int alloc_recorder_close(alloc_recorder *r);

/*
 * The events. Each is thread-safe and lock-free apart from one striped spin
 * lock around the address table (a short critical section), and O(1)
 * amortised. None calls malloc; none fails visibly: a chunk that cannot be
 * mapped or a thread beyond the recorder's 1024 concurrent threads drops the
 * event and counts it (the end record and alloc_trace.dropped tell).
 *
 * alloc_record_alloc: p came back from an allocation of size bytes at align
 *   (0 = natural) by kind; p == NULL records a failed request.
 * alloc_record_free: p is about to be freed. Call it BEFORE the real free: once
 *   freed, another thread can be handed the same address. A p the recorder
 *   never saw (allocated before recording started) is recorded as an unknown
 *   free and counted. NULL is ignored.
 * alloc_record_realloc: old (non-NULL) became p with new_size bytes (p may equal
 *   old); p == NULL records a failed realloc (old stays live). The block keeps
 *   its id.
 * alloc_record_resize: an in-place resize of p to new_size succeeded.
 */
ALLOC_API void alloc_record_alloc(alloc_recorder *r, const void *p, size_t size, size_t align,
                                  enum alloc_record_kind kind);
ALLOC_API void alloc_record_free(alloc_recorder *r, const void *p);
ALLOC_API void alloc_record_realloc(alloc_recorder *r, const void *old, const void *p, size_t new_size);
ALLOC_API void alloc_record_resize(alloc_recorder *r, const void *p, size_t new_size);

/*
 * Seals the calling thread's chunk in r (one unmap) and gives its slot back, as thread
 * exit does automatically (pthread key destructor). Recording again from this
 * thread takes a new chunk. Thread-safe. O(1).
 */
ALLOC_API void alloc_recorder_thread_done(alloc_recorder *r);

/* --- the malloc family (the preload library, or alloc as malloc in-process) --- */

/*
 * true while the global recorder records. Read by the malloc family of
 * src/global before each call (ALLOC_ATOMIC_LOAD_RELAXED): one load and a
 * predicted branch when off. Written only by the recorder.
 */
ALLOC_API extern ALLOC_ATOMIC(bool) alloc_record_on;

/*
 * Starts recording every malloc-family call of this process to path (or to
 * "<path>.<pid>" when path exists already: a program that a recorded program
 * runs inherits ALLOC_TRACE and must not overwrite its parent's trace), when
 * alloc is the process's malloc (LD_PRELOAD of the preload library, or the
 * in-process malloc of alloc::global_malloc); the preload library calls it
 * at load time when ALLOC_TRACE is set. The header names the strategy from
 * ALLOC_STRATEGY. Returns 0, -EALREADY if recording, or alloc_recorder_open's
 * errors. Thread-safe.
 *
 * Process events:
 *   thread exit   the thread's chunk is sealed; nothing is lost (the chunk is a
 *                 shared mapping of the file).
 *   fork          the child records to "<path>.<child pid>" from the fork on
 *                 (truncating an old file of that name);
 *                 the parent's file is the parent's alone. Blocks the child
 *                 inherited are unknown to its trace: their frees are
 *                 recorded as unknown frees.
 *   exit          the end record is written (atexit order: after handlers
 *                 registered before recording started).
 *   _exit, exec,  everything recorded stays in the file; only the end record
 *   a signal      is missing, and the reader reports the trace as cut off.
 *   lost          calls made before the library's constructor ran (by the
 *                 dynamic loader or earlier constructors), and events past
 *                 1024 concurrent threads or after a failed chunk mapping
 *                 (counted in the end record when it is written).
 */
ALLOC_API int alloc_record_global_start(const char *path);

/* Stops recording and writes the end record. Calls in flight on other threads
 * may still append to their chunks (they are read back too). Thread-safe. */
ALLOC_API void alloc_record_global_stop(void);

/* The global recorder, or NULL when not recording. O(1), thread-safe. */
ALLOC_API alloc_recorder *alloc_record_global(void);

/* The hooks the malloc family calls when alloc_record_on is true: the
 * alloc_record_* events on the global recorder (same contracts); nothing when
 * it has stopped. */
ALLOC_API void alloc_record_global_alloc(const void *p, size_t size, size_t align, enum alloc_record_kind kind);
ALLOC_API void alloc_record_global_free(const void *p);
ALLOC_API void alloc_record_global_realloc(const void *old, const void *p, size_t new_size);

/* --- the tracing wrapper --------------------------------------------------- */

/* A wrapper that records every call of inner into rec. State in caller memory. */
typedef struct alloc_record_wrapper {
    allocator inner;     /* the allocator whose calls are recorded */
    alloc_recorder *rec; /* where they are recorded */
} alloc_record_wrapper;

/*
 * Wraps inner so that its alloc, resize, remap and free are recorded into rec
 * (opened with ALLOC_RECORD_HANDLE) and then passed on. The handle is as
 * thread-safe as inner is; recording adds O(1) amortised per call. A failed
 * alloc is recorded as a failure; a failed resize, or a remap that returns
 * NULL ("move it yourself"), is not recorded (nothing changed; the caller's
 * alloc + copy + free that follows is). w must outlive the handle; rec must
 * outlive w.
 */
ALLOC_API allocator alloc_record_wrap(alloc_record_wrapper *w, allocator inner, alloc_recorder *rec);

/* --- reading ----------------------------------------------------------------- */

/* What an event did (alloc_trace_event.op). */
enum alloc_trace_op {
    ALLOC_TRACE_MALLOC = 0,  /* new block of size bytes */
    ALLOC_TRACE_CALLOC = 1,  /* new zeroed block */
    ALLOC_TRACE_ALIGNED = 2, /* new block aligned to 1 << align_log2 */
    ALLOC_TRACE_FREE = 3,    /* block freed; size = its size then */
    ALLOC_TRACE_REALLOC = 4, /* block now has size bytes (was old_size), may have moved */
    ALLOC_TRACE_RESIZE = 5,  /* block now has size bytes in place (was old_size) */
    ALLOC_TRACE_FAIL = 6,    /* an allocation or realloc of size bytes failed */
    ALLOC_TRACE_FREE_UNKNOWN = 7, /* free of a block allocated before the recording */
};

/* One event of a trace, as the reader gives it back. */
typedef struct alloc_trace_event {
    uint64_t seq;      /* process-wide order of the event (strictly increasing) */
    uint64_t time_ns;  /* since the recording started; exact at least every 256 events of a thread */
    uint64_t size;     /* bytes: the block's size after the event (its size at a free) */
    uint64_t old_size; /* REALLOC, RESIZE: the size before */
    uint64_t offset;   /* where the event starts in the file (for messages) */
    uint32_t block;    /* dense block number, 0 .. blocks - 1; UINT32_MAX for FAIL, FREE_UNKNOWN */
    uint32_t thread;   /* recording thread number, 0 .. threads - 1 */
    uint8_t op;        /* enum alloc_trace_op */
    uint8_t align_log2; /* the block's alignment (0: natural) */
} alloc_trace_event;

/* A whole trace read back: the header's facts and every event in order. */
typedef struct alloc_trace {
    uint32_t version;    /* format version (ALLOC_TRACE_VERSION) */
    uint32_t source;     /* enum alloc_record_source */
    uint64_t page_size;  /* the recording machine's page size */
    int64_t pid;         /* the recorded process */
    uint64_t start_realtime_ns; /* wall clock at the start (ns since 1970) */
    char program[256];   /* the recorded program's name as started (argv[0]), or the recorder's caller's */
    char strategy[64];   /* ALLOC_STRATEGY at recording time ("" = default) */
    alloc_trace_event *events; /* count events, in seq order */
    size_t count;        /* events */
    size_t blocks;       /* blocks allocated in the trace */
    uint32_t threads;    /* recording threads (thread numbers are 0 .. threads - 1) */
    bool complete;       /* the end record is present */
    uint64_t dropped;    /* events the recorder could not store (end record) */
    uint64_t payload_bytes; /* encoded event bytes (bytes per event = payload_bytes / count) */
    uint64_t file_bytes; /* size of the whole file */
    allocator a;         /* what events came from */
} alloc_trace;

/* A reader error: where in the file and what was expected there. */
typedef struct alloc_trace_error {
    uint64_t offset;   /* byte offset in the file of the bad field */
    char message[200]; /* what was found and what was expected, NUL-terminated */
} alloc_trace_error;

/*
 * Parses a whole trace file held in memory (data, len bytes). On success
 * fills *t (events allocated through a) and returns 0. On bad input returns
 * -EINVAL (not a trace, corrupt, truncated: err->offset and err->message say
 * where and what was expected), -EPROTONOSUPPORT (another format version), or
 * -ENOMEM (a failed allocation through a); *t is then empty and owns nothing.
 * Never reads outside [data, data + len). O(n log n) in events for
 * multi-threaded traces (chunks merged by sequence), O(n) otherwise.
 * Thread-safe for distinct t.
 */
ALLOC_API int alloc_trace_parse(alloc_trace *t, const void *data, size_t len, allocator a,
                                alloc_trace_error *err);

/* Frees what alloc_trace_parse allocated, through the allocator it was given.
 * t may be zeroed or already freed. O(1). Not thread-safe for the same t. */
ALLOC_API void alloc_trace_free(alloc_trace *t);

/* The op's name ("malloc", "free", ...; "?" beyond the enum). O(1), thread-safe. */
ALLOC_API const char *alloc_trace_op_name(unsigned op);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_RECORD_H */
