/*
 * test_core_errors.c: one error convention across the library.
 *
 * alloc.h promises that every fallible call that is not an allocation returns
 * 0 or a negative errno value, so `if (err < 0)` catches every failure. Until
 * this test existed, the bump, arena and stack inits returned +EINVAL while
 * every other init returned -EINVAL, and a `< 0` check missed the first group.
 * Here each init is called with a bad configuration, and each other call that
 * returns an int is driven into a failure, and the exact negative code is
 * asserted. A call that should fail but succeeds fails the test as well.
 *
 * Debug builds report some of these (a stale savepoint) as misuse: a
 * returning misuse handler counts the reports instead of aborting.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "alloc/diag.h"
#include "alloc/failing.h"
#include "alloc/os.h"
#include "alloc/page.h"
#ifdef ALLOC_TEST_HAVE_ARENA
#include "alloc/arena.h"
#endif
#ifdef ALLOC_TEST_HAVE_BUMP
#include "alloc/bump.h"
#endif
#ifdef ALLOC_TEST_HAVE_STACK
#include "alloc/stack.h"
#endif
#ifdef ALLOC_TEST_HAVE_POOL
#include "alloc/pool.h"
#endif
#ifdef ALLOC_TEST_HAVE_SLAB
#include "alloc/slab.h"
#endif
#ifdef ALLOC_TEST_HAVE_FREELIST
#include "alloc/freelist.h"
#endif
#ifdef ALLOC_TEST_HAVE_DEBUG
#include "alloc/debug.h"
#endif
#ifdef ALLOC_TEST_HAVE_LOCKED
#include "alloc/locked.h"
#endif
#ifdef ALLOC_TEST_HAVE_CONTAINERS
#include "alloc/containers.h"
#endif

static unsigned misuse_reports;

static void count_misuse(const char *message, void *user)
{
    (void)message, (void)user;
    misuse_reports++;
}

static void quiet_misuse(void)
{
    misuse_reports = 0;
    alloc_set_misuse_handler(count_misuse, NULL);
}

TestSuite(errors, .init = quiet_misuse);

/* A handle whose every allocation fails: drives the -ENOMEM paths. */
static alloc_failing always_fail;

static allocator failing_handle(void)
{
    alloc_failing_options opt = alloc_failing_default_options();
    opt.fail_at = 0;
    opt.sticky = true;
    alloc_failing_init(&always_fail, alloc_page_allocator(), &opt);
    return alloc_failing_allocator(&always_fail);
}

Test(errors, os_calls_are_negative)
{
    void *out = NULL;
    cr_assert_eq(alloc_os_map(4096, 3, &out), -EINVAL, "alignment 3 is not a power of two");
    cr_assert_null(out, "*out untouched on failure");
    cr_assert_eq(alloc_os_unmap((void *)(uintptr_t)1, 4096), -EINVAL, "unaligned address");
}

#ifdef ALLOC_TEST_HAVE_BUMP
Test(errors, bump)
{
    static char buf[256];
    alloc_bump b;
    cr_assert_eq(alloc_bump_init(NULL, buf, sizeof buf), -EINVAL);
    cr_assert_eq(alloc_bump_init(&b, NULL, 16), -EINVAL);
    cr_assert_eq(alloc_bump_init(&b, buf, sizeof buf), 0);
    alloc_bump_mark late;
    cr_assert_not_null(alloc_bump_alloc(&b, 64, 8));
    late = alloc_bump_save(&b);
    alloc_bump_reset(&b);
    cr_assert_eq(alloc_bump_rollback(&b, late), -EINVAL, "a mark above the top after a reset");
}
#endif

#ifdef ALLOC_TEST_HAVE_ARENA
Test(errors, arena)
{
    alloc_arena a;
    cr_assert_eq(alloc_arena_init(NULL, NULL), -EINVAL);
    cr_assert_eq(alloc_arena_init(&a, &(alloc_arena_options){.growth_percent = 50}), -EINVAL);
    cr_assert_eq(alloc_arena_init(&a, &(alloc_arena_options){.first_chunk = 16}), -EINVAL);
    cr_assert_eq(alloc_arena_init(&a, NULL), 0);
    cr_assert_eq(alloc_arena_reset(&a, (alloc_arena_reset_mode)7, 0), -EINVAL);
    cr_assert_not_null(alloc_bytes(alloc_arena_allocator(&a), 64, 8));
    alloc_arena_mark before_reset = alloc_arena_save(&a);
    cr_assert_eq(alloc_arena_reset(&a, ALLOC_ARENA_FREE_ALL, 0), 0);
    cr_assert_eq(alloc_arena_rollback(&a, before_reset), -EINVAL, "a mark from before a reset");
    alloc_arena_deinit(&a);
}
#endif

#ifdef ALLOC_TEST_HAVE_STACK
Test(errors, stack)
{
    static char buf[512];
    alloc_stack s;
    cr_assert_eq(alloc_stack_init_buffer(NULL, buf, sizeof buf), -EINVAL);
    cr_assert_eq(alloc_stack_init_buffer(&s, NULL, 64), -EINVAL);
    cr_assert_eq(alloc_stack_init(NULL, NULL), -EINVAL);
    cr_assert_eq(alloc_stack_init(&s, &(alloc_stack_options){.first_chunk = 100}), -EINVAL);
    cr_assert_eq(alloc_stack_init_buffer(&s, buf, sizeof buf), 0);
    cr_assert_not_null(alloc_stack_alloc(&s, 32, 8, 0));
    alloc_stack_mark m = alloc_stack_save(&s);
    cr_assert_not_null(alloc_stack_alloc(&s, 32, 8, 0));
    alloc_stack_mark inner = alloc_stack_save(&s);
    cr_assert_eq(alloc_stack_rollback(&s, m), 0);
    cr_assert_eq(alloc_stack_rollback(&s, inner), -EINVAL, "the inner mark's block is gone");
    alloc_stack_deinit(&s);
}
#endif

#ifdef ALLOC_TEST_HAVE_POOL
Test(errors, pool)
{
    alloc_pool p;
    alloc_pool_mt mt;
    static char buf[16];
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = 0}), -EINVAL);
    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = 8, .obj_align = 3}), -EINVAL);
    cr_assert_eq(alloc_pool_init_buffer(&p, NULL, 4096, 8, 8), -EINVAL);
    cr_assert_eq(alloc_pool_init_buffer(&p, buf, sizeof buf, 64, 8), -ENOMEM, "no room for one object");
    cr_assert_eq(alloc_pool_mt_init(&mt, &(alloc_pool_config){.obj_size = 0}), -EINVAL);

    cr_assert_eq(alloc_pool_init(&p, &(alloc_pool_config){.obj_size = 32, .backing = failing_handle()}), 0);
    cr_assert_eq(alloc_pool_preheat(&p, 10), -ENOMEM, "the backing allocator refuses");
    alloc_pool_deinit(&p);
    cr_assert_eq(alloc_pool_mt_init(&mt, &(alloc_pool_config){.obj_size = 32, .backing = failing_handle()}), 0);
    cr_assert_eq(alloc_pool_mt_preheat(&mt, 10), -ENOMEM, "the backing allocator refuses");
    alloc_pool_mt_deinit(&mt);
}
#endif

#ifdef ALLOC_TEST_HAVE_SLAB
Test(errors, slab)
{
    alloc_slab s;
    cr_assert_eq(alloc_slab_init(&s, &(alloc_slab_config){.limit = 8}), -EINVAL);
    cr_assert_eq(alloc_slab_init(&s, &(alloc_slab_config){.limit = SIZE_MAX}), -EINVAL);
}
#endif

#ifdef ALLOC_TEST_HAVE_FREELIST
Test(errors, freelist)
{
    alloc_freelist h;
    static char small[8];
    cr_assert_eq(alloc_freelist_init(&h, &(alloc_freelist_config){.policy = (alloc_freelist_policy)99}), -EINVAL);
    cr_assert_eq(alloc_freelist_init(&h, &(alloc_freelist_config){.no_grow = true}), -EINVAL,
                 "no_grow without a buffer");
    cr_assert_eq(alloc_freelist_init(&h, NULL), 0);
    cr_assert_eq(alloc_freelist_add_buffer(&h, small, sizeof small), -EINVAL, "below the minimum buffer");
    alloc_freelist_deinit(&h);
}
#endif

#ifdef ALLOC_TEST_HAVE_DEBUG
Test(errors, debug)
{
    alloc_debug d;
    cr_assert_eq(alloc_debug_init(&d, (allocator){0}, NULL), -EINVAL, "inner without a vtable");
    cr_assert_eq(alloc_debug_init(&d, failing_handle(), &(alloc_debug_options){.meta = failing_handle()}),
                 -ENOMEM, "the metadata allocator refuses the table");
}
#endif

#ifdef ALLOC_TEST_HAVE_LOCKED
Test(errors, locked)
{
    alloc_locked l;
    cr_assert_eq(alloc_locked_init(&l, (allocator){0}, ALLOC_LOCK_MUTEX), -EINVAL);
    cr_assert_eq(alloc_locked_init(&l, alloc_page_allocator(), (alloc_lock_kind)9), -EINVAL);
}
#endif

#ifdef ALLOC_TEST_HAVE_CONTAINERS
ALLOC_VEC_DEFINE(err_vec, int)

Test(errors, containers)
{
    allocator none = failing_handle();
    err_vec v;
    err_vec_init(&v, none);
    cr_assert_eq(err_vec_push(&v, 1), -ENOMEM);
    cr_assert_eq(err_vec_insert(&v, 5, 1), -ERANGE);
    cr_assert_eq(err_vec_remove(&v, 0, NULL), -ERANGE);
    cr_assert_eq(alloc_vec_raw_reserve(&v.raw, sizeof(int), sizeof(int), SIZE_MAX / 2, 0), -EOVERFLOW,
                 "an element count whose byte size overflows");
    err_vec_deinit(&v);

    alloc_str s;
    alloc_str_init(&s, none);
    cr_assert_eq(alloc_str_append_cstr(&s, "x"), -ENOMEM);
    cr_assert_eq(alloc_str_reserve(&s, 100), -ENOMEM);
    alloc_str_deinit(&s);

    alloc_map m;
    alloc_map_init(&m, none);
    cr_assert_eq(alloc_map_put(&m, "k", 1, 1), -ENOMEM);
    alloc_map_deinit(&m);
}
#endif
