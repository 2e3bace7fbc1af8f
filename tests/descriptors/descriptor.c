/*
 * descriptor.c: the table of descriptors and the life cycle every harness
 * shares (make, destroy, and the optional operations with their defaults).
 */
#include "descriptor.h"

#include <stdlib.h>
#include <string.h>

/* --- memory ------------------------------------------------------------------- */

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

static void *state_default(size_t bytes)
{
    void *p = aligned_alloc(64, round_up(bytes ? bytes : 1, 64));
    if (p) memset(p, 0, bytes);
    return p;
}

static void *buffer_default(size_t bytes) { return aligned_alloc(4096, round_up(bytes ? bytes : 1, 4096)); }

static void free_default(void *p, size_t bytes)
{
    (void)bytes;
    free(p);
}

desc_memory desc_memory_hooks = {state_default, free_default, buffer_default, free_default};

/* --- life cycle --------------------------------------------------------------- */

static void release(desc_instance *inst)
{
    if (inst->inner) {
        desc_destroy(inst->inner);
        desc_memory_hooks.state_free(inst->inner, sizeof *inst->inner);
    }
    if (inst->buffer) desc_memory_hooks.buffer_free(inst->buffer, inst->buffer_size);
    if (inst->state && !inst->state_borrowed) desc_memory_hooks.state_free(inst->state, inst->state_size);
    memset(inst, 0, sizeof *inst);
}

bool desc_make_at(const descriptor *d, desc_instance *inst, void *state, const desc_args *args)
{
    static const desc_args none;
    memset(inst, 0, sizeof *inst);
    inst->desc = d;
    inst->caps = d->caps;
    inst->state_size = d->state_size;
    inst->state = state;
    inst->state_borrowed = state != NULL;
    if (d->state_size && !state) {
        inst->state = desc_memory_hooks.state(d->state_size);
        if (!inst->state) return false;
    }
    if (!d->make(inst, args ? args : &none)) {
        release(inst);
        return false;
    }
    return true;
}

bool desc_make(const descriptor *d, desc_instance *inst, const desc_args *args)
{
    return desc_make_at(d, inst, NULL, args);
}

void desc_destroy(desc_instance *inst)
{
    if (inst->desc->deinit) inst->desc->deinit(inst);
    release(inst);
}

bool desc_check(desc_instance *inst) { return !inst->desc->check || inst->desc->check(inst); }

bool desc_stats(desc_instance *inst, alloc_stats *out)
{
    return inst->desc->stats && inst->desc->stats(inst, out);
}

bool desc_reset(desc_instance *inst)
{
    if (!inst->desc->reset) return false;
    inst->desc->reset(inst);
    return true;
}

bool desc_save(desc_instance *inst, desc_mark *m) { return inst->desc->save && inst->desc->save(inst, m); }

void desc_restore(desc_instance *inst, const desc_mark *m) { inst->desc->restore(inst, m); }

void *desc_take_buffer(desc_instance *inst, const desc_args *args, size_t dflt, size_t *size)
{
    size_t want = args->capacity ? args->capacity : dflt;
    inst->buffer_size = want + args->skew;
    inst->buffer = desc_memory_hooks.buffer(inst->buffer_size);
    if (!inst->buffer) return NULL;
    *size = want;
    return (unsigned char *)inst->buffer + args->skew;
}

bool desc_make_inner(desc_instance *inst, const desc_args *args, const descriptor *dflt, allocator *out)
{
    inst->inner = desc_memory_hooks.state(sizeof *inst->inner);
    if (!inst->inner) return false;
    if (!desc_make(args->inner ? args->inner : dflt, inst->inner, args->inner_args)) {
        desc_memory_hooks.state_free(inst->inner, sizeof *inst->inner);
        inst->inner = NULL;
        return false;
    }
    *out = inst->inner->a;
    return true;
}

const void *desc_options(const desc_args *args, const void *dflt) { return args->options ? args->options : dflt; }

/* --- the table ---------------------------------------------------------------- */

#define MAX_DESCRIPTORS 128
static const descriptor *table[MAX_DESCRIPTORS];
static size_t table_count;
static bool table_sorted;

void desc_register(const descriptor *d)
{
    if (table_count < MAX_DESCRIPTORS) table[table_count++] = d;
    table_sorted = false;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp((*(const descriptor *const *)a)->name, (*(const descriptor *const *)b)->name);
}

size_t desc_count(void)
{
    if (!table_sorted) {
        qsort(table, table_count, sizeof table[0], compare_names);
        table_sorted = true;
    }
    return table_count;
}

const descriptor *desc_at(size_t i) { return i < desc_count() ? table[i] : NULL; }

const descriptor *desc_find(const char *name)
{
    for (size_t i = 0; i < desc_count(); i++)
        if (strcmp(table[i]->name, name) == 0) return table[i];
    return NULL;
}
