/*
 * descriptor.h: one description of each allocator configuration, read by the
 * conformance suite (tests/conformance), the fuzz driver (fuzz/) and the
 * benchmark contenders (bench/).
 *
 * A descriptor says how to make one configuration of a strategy (pool over
 * pages, arena over a bump buffer, the locked wrapper over the debug
 * wrapper, ...), how to check, measure, reset, save and restore it, and what
 * the harnesses may expect of it (its capabilities and limits). It is written
 * once, in tests/descriptors/<folder>.c, the file of the src/ folder the
 * strategy lives in. Every descriptor defined with DESCRIPTOR is a row of the
 * conformance suite; the fuzz targets and the bench contenders name the ones
 * they drive and pass desc_args to size or configure them.
 *
 * Lifetime: desc_make fills a desc_instance; desc_destroy releases it (the
 * strategy's deinit, then any inner instance, then the memory the descriptor
 * took through desc_memory_hooks). An instance is used by one thread at a
 * time unless the descriptor says DESC_THREAD_SAFE.
 */
#ifndef ALLOC_TESTS_DESCRIPTOR_H
#define ALLOC_TESTS_DESCRIPTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/stats.h"

#ifndef ALLOC_DEBUG
#define ALLOC_DEBUG 0
#endif

/* Capabilities: what a harness may expect of a configuration. */
enum {
    /* Only the most recent live block may be freed or resized (bump, stack). */
    DESC_LIFO_ONLY = 1u << 0,
    /* Total capacity is bounded (a fixed buffer, a live-byte limit): requests
     * may fail once it is approached. */
    DESC_FIXED_CAPACITY = 1u << 1,
    /* Freed memory is not reused until a reset (bump, arena). */
    DESC_NO_REUSE = 1u << 2,
    /* Every block has one size (pools): larger requests fail by contract. */
    DESC_FIXED_SIZE = 1u << 3,
    /* stats.bytes_in_use is not the sum of the live lengths (rounded up). */
    DESC_INEXACT_STATS = 1u << 4,
    /* Freeing a block twice ends the process with SIGABRT. */
    DESC_DETECTS_DOUBLE_FREE = 1u << 5,
    /* Freeing an address it never handed out ends the process with SIGABRT. */
    DESC_DETECTS_FOREIGN_FREE = 1u << 6,
    /* Under AddressSanitizer, reading a freed block is reported (SIGABRT). */
    DESC_POISONS_FREED = 1u << 7,
    /* Blocks may be freed on another thread than the one that got them. */
    DESC_THREAD_SAFE = 1u << 8,
};

/* A capability that holds only from ALLOC_DEBUG >= 1 (misuse detection). */
#if ALLOC_DEBUG >= 1
#define DESC_IN_DEBUG(caps) (caps)
#else
#define DESC_IN_DEBUG(caps) 0u
#endif

/* A capability that holds only in AddressSanitizer builds. */
#if defined(__SANITIZE_ADDRESS__)
#define DESC_IN_ASAN(caps) (caps)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DESC_IN_ASAN(caps) (caps)
#endif
#endif
#ifndef DESC_IN_ASAN
#define DESC_IN_ASAN(caps) 0u
#endif

struct descriptor;

/* One live allocator made from a descriptor. */
typedef struct desc_instance {
    allocator a;                  /* the handle every harness uses */
    const struct descriptor *desc;
    void *state;                  /* the strategy's object (from desc_memory_hooks.state) */
    size_t state_size;
    bool state_borrowed;          /* state is the caller's memory (desc_make_at): not freed */
    void *buffer;                 /* a backing buffer (from desc_memory_hooks.buffer), or NULL */
    size_t buffer_size;
    struct desc_instance *inner;  /* the allocator a wrapper or a nested strategy sits on, or NULL */
    unsigned caps;                /* the descriptor's capabilities, plus what make added */
    uintptr_t knob[2];            /* the descriptor's own per-instance values */
} desc_instance;

/* What a harness may ask of a configuration; zero fields take the descriptor's own. */
typedef struct desc_args {
    /* The strategy's own options or config struct (the type the descriptor's
     * comment names), replacing the descriptor's. */
    const void *options;
    /* Fixed-capacity configurations: the buffer's size in bytes, and how many
     * bytes past an aligned address it starts (an unaligned buffer). */
    size_t capacity;
    size_t skew;
    /* Fixed-size configurations: the object size and alignment. */
    size_t obj_size, obj_align;
    /* Strategies with several resets: which one (arena: alloc_arena_reset_mode + 1). */
    unsigned reset_mode;
    /* Wrappers and nested strategies: the allocator underneath and its args. */
    const struct descriptor *inner;
    const struct desc_args *inner_args;
} desc_args;

/* An opaque savepoint (a strategy's mark struct, copied in). */
typedef struct desc_mark {
    _Alignas(16) unsigned char bytes[64];
} desc_mark;

typedef struct descriptor {
    const char *name;
    unsigned caps;
    size_t max_align; /* largest alignment the configuration documents */
    size_t max_len;   /* largest single request the harnesses may make */
    size_t max_live;  /* live bytes the harnesses keep at most (a capacity bound, with slack) */
    size_t state_size; /* bytes of state make asks desc_memory_hooks for */
    /* Sets up inst->state (zeroed, state_size bytes) and inst->a. false: could not. */
    bool (*make)(desc_instance *inst, const desc_args *args);
    /* Tears the strategy down (desc_destroy then frees the memory). */
    void (*deinit)(desc_instance *inst);
    bool (*check)(desc_instance *inst);                 /* NULL: no checker */
    bool (*stats)(desc_instance *inst, alloc_stats *out); /* NULL: no stats */
    void (*reset)(desc_instance *inst);                 /* NULL: no reset; else frees every block */
    bool (*save)(desc_instance *inst, desc_mark *m);    /* NULL: no savepoints */
    void (*restore)(desc_instance *inst, const desc_mark *m); /* only live marks */
} descriptor;

/* Where descriptors take memory: state (zeroed, 64-byte aligned) and backing
 * buffers (4096-byte aligned, contents unspecified). The defaults use the C
 * library; the benchmark maps both from the OS, outside the heaps it measures. */
typedef struct desc_memory {
    void *(*state)(size_t bytes);
    void (*state_free)(void *p, size_t bytes);
    void *(*buffer)(size_t bytes);
    void (*buffer_free)(void *p, size_t bytes);
} desc_memory;
extern desc_memory desc_memory_hooks;

/* Makes an instance of d (args NULL: all the descriptor's own). false: it
 * could not be made, and nothing is left to release. */
bool desc_make(const descriptor *d, desc_instance *inst, const desc_args *args);
/* As desc_make, with the strategy's object in the caller's memory: state_size
 * zeroed bytes, 64-byte aligned, that outlive the instance (so that inline
 * fast paths reach the object at a fixed offset from their own state). */
bool desc_make_at(const descriptor *d, desc_instance *inst, void *state, const desc_args *args);
void desc_destroy(desc_instance *inst);
/* The invariant checker (true without one), stats (false without), reset
 * (false without), savepoints (false without). */
bool desc_check(desc_instance *inst);
bool desc_stats(desc_instance *inst, alloc_stats *out);
bool desc_reset(desc_instance *inst);
bool desc_save(desc_instance *inst, desc_mark *m);
void desc_restore(desc_instance *inst, const desc_mark *m);

/* For make functions: a backing buffer of args->capacity (or dflt) bytes
 * (plus args->skew); returns its usable start and size, NULL on failure. */
void *desc_take_buffer(desc_instance *inst, const desc_args *args, size_t dflt, size_t *size);
/* For make functions of wrappers: makes the inner instance from args->inner
 * (or dflt) and returns its handle; false on failure. */
bool desc_make_inner(desc_instance *inst, const desc_args *args, const descriptor *dflt, allocator *out);
/* args->options, or dflt when the harness gave none. */
const void *desc_options(const desc_args *args, const void *dflt);

/* The registered descriptors, sorted by name (so that processes agree on
 * indices); NULL past the end. */
void desc_register(const descriptor *d);
size_t desc_count(void);
const descriptor *desc_at(size_t i);
const descriptor *desc_find(const char *name);

/* Defines a descriptor (extern, so harnesses may name it) and registers it
 * at load time. */
#define DESCRIPTOR(ident, ...)                                                                     \
    const descriptor ident = __VA_ARGS__;                                                          \
    __attribute__((constructor)) static void desc_register_##ident(void) { desc_register(&ident); }

/* The usual shapes of the operations over a strategy's object (inst->state
 * of type T): prefix##_stats, prefix##_deinit + prefix##_check +
 * prefix##_stats, prefix##_reset, and prefix##_save + prefix##_restore over
 * its mark type (restoring a mark the harness holds never fails). */
#define DESC_STATS_OP(prefix, T, stats_fn)                                                         \
    static bool prefix##_stats(desc_instance *inst, alloc_stats *out)                              \
    {                                                                                              \
        stats_fn((T *)inst->state, out);                                                           \
        return true;                                                                               \
    }
#define DESC_STATE_OPS(prefix, T, deinit_fn, check_fn, stats_fn)                                   \
    static void prefix##_deinit(desc_instance *inst) { deinit_fn((T *)inst->state); }              \
    static bool prefix##_check(desc_instance *inst) { return check_fn((T *)inst->state); }         \
    DESC_STATS_OP(prefix, T, stats_fn)
#define DESC_RESET_OP(prefix, T, reset_fn)                                                         \
    static void prefix##_reset(desc_instance *inst) { reset_fn((T *)inst->state); }
#define DESC_MARK_OPS(prefix, T, mark_type, save_fn, rollback_fn)                                  \
    static bool prefix##_save(desc_instance *inst, desc_mark *m)                                   \
    {                                                                                              \
        mark_type k = save_fn((T *)inst->state);                                                   \
        _Static_assert(sizeof k <= sizeof m->bytes, "mark too large");                             \
        memcpy(m->bytes, &k, sizeof k);                                                            \
        return true;                                                                               \
    }                                                                                              \
    static void prefix##_restore(desc_instance *inst, const desc_mark *m)                          \
    {                                                                                              \
        mark_type k;                                                                               \
        memcpy(&k, m->bytes, sizeof k);                                                            \
        if (rollback_fn((T *)inst->state, k) != 0) __builtin_trap();                               \
    }

/* The descriptors other files name. */
#define DESC_DECLARE(ident) extern const descriptor ident;
DESC_DECLARE(desc_page)
DESC_DECLARE(desc_c)
DESC_DECLARE(desc_debug_c)
DESC_DECLARE(desc_debug_page)

#endif /* ALLOC_TESTS_DESCRIPTOR_H */
