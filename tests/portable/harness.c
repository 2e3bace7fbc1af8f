/*
 * harness.c: runs the portable suite (harness.h). Usage:
 *     portable_tests [-l] [SUBSTRING...]
 * -l lists the case names; SUBSTRINGs select the cases whose name contains
 * any of them. Every case runs in its own child process; the parent prints
 * one PASS/FAIL line per case and the closing count, and exits non-zero if
 * anything failed or nothing ran.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1
#endif
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* A case that takes longer than this (qemu-user included) counts as hung. */
#define CASE_SECONDS 120

static const char *current_case = "?";

void pt_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s:%d: %s: check failed: %s: %s\n", file, line, current_case, cond, msg);
    fflush(stderr);
    _exit(1);
}

static bool selected(const char *name, int argc, char **argv, int first)
{
    if (first >= argc) return true;
    for (int i = first; i < argc; i++)
        if (strstr(name, argv[i])) return true;
    return false;
}

/* Runs one case in a child; true iff it ended as expected. */
static bool run_case(const char *name, const pt_case *c, const void *param)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return false;
    }
    if (pid == 0) {
        current_case = name;
        /* Death cases are expected: no core files (qemu-user writes its own). */
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        alarm(CASE_SECONDS);
        c->fn(param);
        fflush(stdout);
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    if (c->expect_signal == 0) {
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
        if (WIFSIGNALED(status))
            fprintf(stderr, "%s: killed by signal %d (%s)\n", name, WTERMSIG(status), strsignal(WTERMSIG(status)));
        return false;
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) == c->expect_signal) return true;
    if (WIFSIGNALED(status))
        fprintf(stderr, "%s: expected signal %d, got signal %d\n", name, c->expect_signal, WTERMSIG(status));
    else
        fprintf(stderr, "%s: expected signal %d, exited with %d\n", name, c->expect_signal, WEXITSTATUS(status));
    return false;
}

int main(int argc, char **argv)
{
    bool list = argc > 1 && strcmp(argv[1], "-l") == 0;
    int first = list ? 2 : 1;
    unsigned passed = 0, failed = 0;
    char name[256];
    setvbuf(stdout, NULL, _IOLBF, 0);

    for (size_t i = 0; i < pt_os_case_count; i++) {
        const pt_case *c = &pt_os_cases[i];
        snprintf(name, sizeof name, "os/%s", c->name);
        if (!selected(name, argc, argv, first)) continue;
        if (list) {
            puts(name);
            continue;
        }
        bool ok = run_case(name, c, NULL);
        printf("%s %s\n", ok ? "PASS" : "FAIL", name);
        ok ? passed++ : failed++;
    }
    for (size_t r = 0; r < pt_row_count(); r++) {
        for (size_t i = 0; i < pt_conformance_case_count; i++) {
            const pt_case *c = &pt_conformance_cases[i];
            snprintf(name, sizeof name, "conformance/%s/%s", c->name, pt_row_name(r));
            if (!selected(name, argc, argv, first)) continue;
            if (list) {
                puts(name);
                continue;
            }
            bool ok = run_case(name, c, pt_row(r));
            printf("%s %s\n", ok ? "PASS" : "FAIL", name);
            ok ? passed++ : failed++;
        }
    }
    if (list) return 0;
    printf("portable: %u passed, %u failed\n", passed, failed);
    if (passed + failed == 0) {
        fprintf(stderr, "portable: no case matched\n");
        return 1;
    }
    return failed ? 1 : 0;
}
