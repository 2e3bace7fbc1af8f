/*
 * replay.c: runs a target without libFuzzer (any compiler), for ctest.
 *
 *   fuzz_replay_<target> [PATH...] [--random COUNT SEED]
 *
 * Each PATH is an input file or a directory of them (the committed seed
 * corpus); --random adds COUNT pseudo-random inputs from SEED, so the replay
 * also explores a little beyond the corpus, identically on every run (the
 * environment variable ALLOC_FUZZ_RANDOM, if set, replaces COUNT). Exits 0
 * when every input ran without a finding (a finding aborts).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "driver.h"

#define MAX_INPUT (1u << 16)

static uint8_t input[MAX_INPUT];

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    size_t n = fread(input, 1, sizeof input, f);
    fclose(f);
    fuzz_run(&fuzz_this_target, input, n);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "cannot open directory %s\n", path);
        return 1;
    }
    char *names[4096];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 4096) {
        if (e->d_name[0] == '.') continue;
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        snprintf(names[n], len, "%s/%s", path, e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof names[0], compare_names);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        bad |= run_file(names[i]);
        free(names[i]);
    }
    if (n == 0) {
        fprintf(stderr, "no inputs in %s\n", path);
        return 1;
    }
    return bad;
}

static void run_random(unsigned long count, unsigned long long seed)
{
    unsigned long long x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (unsigned long k = 0; k < count; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t len = 1 + (size_t)(x % 3000);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            input[i] = (uint8_t)(x >> 24);
        }
        fuzz_run(&fuzz_this_target, input, len);
    }
}

int main(int argc, char **argv)
{
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--random") == 0 && i + 2 < argc) {
            /* ALLOC_FUZZ_RANDOM overrides the count (slow tools run fewer). */
            const char *env = getenv("ALLOC_FUZZ_RANDOM");
            run_random(strtoul(env ? env : argv[i + 1], NULL, 10), strtoull(argv[i + 2], NULL, 10));
            i += 2;
            continue;
        }
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "no such input: %s\n", argv[i]);
            bad = 1;
        } else if (S_ISDIR(st.st_mode)) {
            bad |= run_dir(argv[i]);
        } else {
            bad |= run_file(argv[i]);
        }
    }
    printf("fuzz %s: %llu operations in %llu inputs, %s\n", fuzz_this_target.name,
           (unsigned long long)fuzz_total_ops(), (unsigned long long)fuzz_total_inputs(), bad ? "FAILED" : "ok");
    return bad;
}
