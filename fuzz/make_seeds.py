#!/usr/bin/env python3
"""Writes the small hand-made seed corpus of every fuzz target.

Usage: python3 fuzz/make_seeds.py [target...]   (default: every target_*.c)

Each seed is a short operation program for driver.c (byte 0: variant; then
opcode bytes with their arguments). They cover the operations the fuzzer
should start from: mixed sizes and alignments, growth and shrinking by
resize, remap and realloc, savepoints and resets, frees in both orders.
"""
import glob
import os
import sys

ALLOC, FREE, RESIZE, REMAP, REALLOC, SAVE, RESTORE, RESET = 0, 6, 9, 10, 11, 13, 14, 15


def small(n):        # length bytes 0x00-0x7f: 1..32
    return [(n - 1) & 31]


def medium(n):       # 0x80-0xbf: 1..1024
    v = (n - 1) % 1024
    return [0x80 | (v >> 8), v & 0xFF]


def large(n):        # 0xc0-0xdf: 1..8192
    v = (n - 1) % 8192
    return [0xC0 | (v >> 8), v & 0xFF]


def huge(n):         # 0xe0-0xff: up to the target's max_len
    v = n - 1
    return [0xE0, v >> 8, v & 0xFF]


def align(shift):    # 1 << shift for shift < 5, larger ones through the high range
    return [shift] if shift < 5 else [160 + shift]


def program(variant, ops):
    out = [variant]
    for op in ops:
        out += op
    return bytes(out)


def seeds(variant):
    mixed = []
    for i, ln in enumerate([small(8), medium(100), large(3000), small(1), medium(1000), huge(40000)]):
        mixed.append([ALLOC] + ln + align(i % 7))
    mixed += [[FREE, 1], [FREE, 3], [ALLOC] + medium(200) + align(3), [FREE, 0], [15, 200]]
    grow = [[ALLOC] + small(24) + align(3)]
    for ln in [medium(100), large(5000), medium(700), small(5)]:
        grow += [[RESIZE, 0] + ln, [REMAP, 0] + ln, [REALLOC, 0] + ln]
    lifo = [[ALLOC] + small(16) + align(2), [ALLOC] + medium(300) + align(4),
            [RESIZE, 9] + medium(600), [FREE, 9], [ALLOC] + large(2000) + align(6), [FREE, 9], [FREE, 9]]
    marks = [[ALLOC] + small(10) + align(0), [SAVE], [ALLOC] + medium(64) + align(3),
             [SAVE], [ALLOC] + large(1500) + align(5), [REMAP, 2] + large(2500), [RESTORE],
             [ALLOC] + small(30) + align(1), [RESTORE], [ALLOC] + small(3) + align(0), [RESET, 0]]
    many = [[ALLOC] + small(1 + i % 32) + align(i % 5) for i in range(120)] + [[FREE, (i * 7) & 0xFF] for i in range(120)]
    return {"mixed": program(variant, mixed), "grow": program(variant, grow), "lifo": program(variant, lifo),
            "marks": program(variant, marks), "many": program(variant + 1, many)}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    targets = sys.argv[1:] or [os.path.basename(p)[len("target_"):-2] for p in glob.glob(os.path.join(here, "target_*.c"))]
    for t in targets:
        d = os.path.join(here, "corpus", t)
        os.makedirs(d, exist_ok=True)
        for variant in (0, 5):
            for name, data in seeds(variant).items():
                with open(os.path.join(d, "seed-%s-%d" % (name, variant)), "wb") as f:
                    f.write(data)


if __name__ == "__main__":
    main()
