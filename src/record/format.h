/*
 * format.h (internal): the trace file's layout, shared by the writer
 * (recorder.c) and the reader (reader.c). docs/trace.md is the prose version;
 * keep the two in step.
 *
 * File = header region | chunk | chunk | ... | end record, every region
 * starting at a multiple of the recording's page size (chunks are mapped
 * straight into the file). All fixed-width fields are little endian.
 *
 * Header region (TRACE_HEADER_SIZE bytes, zero-padded):
 *   "ALCTRACE"  u32 version  u32 region size
 *   varint page size, pid, source, wall clock at start (ns), then two
 *   strings (varint length + bytes): program, strategy.
 * Chunk (capacity bytes, a multiple of the page size):
 *   u32 "CHNK"  u32 capacity  u32 used  u32 events  u32 thread  u32 flags
 *   u64 first seq  u64 time of the first event (ns since start)
 *   then `used` bytes of events (the rest is zero).
 * End record (one page):
 *   u32 "ENDT"  u32 capacity  u64 events  u64 unknown frees  u64 dropped
 *   u64 time (ns since start)
 *
 * Event: one lead byte, op = lead & 7, v = lead >> 3 when below 31, else
 * 31 + a varint that follows. Sequence numbers are implicit: each event that
 * is not TIME or GAP takes the thread's previous number + 1 (+ a pending GAP).
 *   0 MALLOC   v = size
 *   1 FREE     v = age (this event's seq - the block's allocating seq)
 *   2 REALLOC  v = age, varint new size
 *   3 CALLOC   v = size
 *   4 ALIGNED  v = size, one byte log2(alignment)
 *   5 RESIZE   v = age, varint new size
 *   6 EXT      v = sub-op: 0 TIME varint ns since the previous stamp
 *                          1 FAIL varint size
 *                          2 GAP varint (sequence numbers taken by other threads)
 *                          3 FREE_UNKNOWN
 *   7 (invalid)
 * Varints: 7 bits per byte, low first, high bit = more; at most 10 bytes.
 */
#ifndef ALLOC_RECORD_FORMAT_H
#define ALLOC_RECORD_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TRACE_MAGIC "ALCTRACE"
#define TRACE_CHUNK_MAGIC 0x4b4e4843u /* "CHNK" */
#define TRACE_END_MAGIC 0x54444e45u   /* "ENDT" */
#define TRACE_CHUNK_HEADER 40u
#define TRACE_END_SIZE 40u
#define TRACE_TIME_EVERY 256u /* a TIME stamp at least every this many events of a thread */

enum { TOP_MALLOC, TOP_FREE, TOP_REALLOC, TOP_CALLOC, TOP_ALIGNED, TOP_RESIZE, TOP_EXT };
enum { TEXT_TIME, TEXT_FAIL, TEXT_GAP, TEXT_FREE_UNKNOWN };

/* The longest encoding of one event: lead + 10-byte varint + 10-byte varint. */
#define TRACE_EVENT_MAX 21u

static inline size_t trace_put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Lead byte with op and v (v inline when below 31, else 31 and a varint). */
static inline size_t trace_put_lead(uint8_t *p, unsigned op, uint64_t v)
{
    if (v < 31) {
        p[0] = (uint8_t)(op | (unsigned)v << 3);
        return 1;
    }
    p[0] = (uint8_t)(op | 31u << 3);
    return 1 + trace_put_varint(p + 1, v - 31);
}

static inline void trace_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static inline void trace_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t trace_get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static inline uint64_t trace_get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

#endif /* ALLOC_RECORD_FORMAT_H */
