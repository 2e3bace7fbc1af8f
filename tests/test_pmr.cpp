/*
 * test_pmr.cpp: alloc/pmr.hpp, std::pmr containers over alloc strategies.
 *
 * A vector, a string and a map, each through an alloc_memory_resource over an
 * arena and over a TLSF free list (and the map's nodes over a pool): the
 * strategy's own counters must show the containers' memory going through it
 * (and, for the free list and the pool, all of it coming back); is_equal must
 * tell handles apart; an exhausted strategy must surface as std::bad_alloc.
 */
#include <criterion/criterion.h>

#include <map>
#include <memory_resource>
#include <new>
#include <string>
#include <vector>

#include "alloc/arena.h"
#include "alloc/failing.h"
#include "alloc/freelist.h"
#include "alloc/page.h"
#include "alloc/pool.h"
#include "alloc/pmr.hpp"

/* Fills a vector, a string and a map from res and checks what they hold. */
static void use_containers(std::pmr::memory_resource *res)
{
    std::pmr::vector<int> v(res);
    for (int i = 0; i < 10000; i++) v.push_back(i);
    long long sum = 0;
    for (int x : v) sum += x;
    cr_assert_eq(sum, 10000LL * 9999 / 2);

    std::pmr::string s(res);
    for (int i = 0; i < 200; i++) s += "a longer piece of text than any small-string buffer ";
    cr_assert_eq(s.size(), 200u * 52u);

    std::pmr::map<int, std::pmr::string> m(res);
    for (int i = 0; i < 500; i++) m.emplace(i, std::pmr::string(200, static_cast<char>('a' + i % 26), res));
    cr_assert_eq(m.size(), 500u);
    cr_assert_eq(m.at(27)[199], 'b');
    cr_assert(m.get_allocator().resource()->is_equal(*res));
}

Test(pmr, arena)
{
    alloc_arena arena;
    cr_assert_eq(alloc_arena_init(&arena, nullptr), 0);
    alloc_memory_resource res(alloc_arena_allocator(&arena));
    use_containers(&res);
    alloc_stats st;
    alloc_arena_stats(&arena, &st);
    cr_assert_gt(st.alloc_count, 500u, "the containers allocated from the arena (%llu)",
                 static_cast<unsigned long long>(st.alloc_count));
    cr_assert_gt(st.peak_bytes_in_use, 10000 * sizeof(int));
    alloc_arena_deinit(&arena);
}

Test(pmr, freelist)
{
    alloc_freelist heap;
    cr_assert_eq(alloc_freelist_init(&heap, nullptr), 0);
    alloc_memory_resource res(alloc_freelist_allocator(&heap));
    use_containers(&res);
    alloc_stats st;
    alloc_freelist_stats(&heap, &st);
    cr_assert_gt(st.alloc_count, 500u);
    cr_assert_eq(st.alloc_count, st.free_count, "every block came back (len and align passed through)");
    cr_assert_eq(st.bytes_in_use, 0u);
    cr_assert(alloc_freelist_check(&heap));
    alloc_freelist_deinit(&heap);
}

Test(pmr, pool_for_map_nodes)
{
    alloc_pool pool;
    alloc_pool_config cfg = {};
    cfg.obj_size = 128; /* a map node of <int, int> fits */
    cr_assert_eq(alloc_pool_init(&pool, &cfg), 0);
    alloc_memory_resource res(alloc_pool_allocator(&pool));
    {
        std::pmr::map<int, int> m(&res);
        for (int i = 0; i < 1000; i++) m[i] = i * i;
        cr_assert_eq(m[31], 961);
        alloc_stats st;
        alloc_pool_stats(&pool, &st);
        cr_assert_eq(st.alloc_count, 1000u, "one pool slot per node");
    }
    alloc_stats st;
    alloc_pool_stats(&pool, &st);
    cr_assert_eq(st.free_count, 1000u);
    cr_assert_eq(st.bytes_in_use, 0u);
    alloc_pool_deinit(&pool);
}

Test(pmr, is_equal_compares_handles)
{
    alloc_arena a1, a2;
    cr_assert_eq(alloc_arena_init(&a1, nullptr), 0);
    cr_assert_eq(alloc_arena_init(&a2, nullptr), 0);
    alloc_memory_resource r1(alloc_arena_allocator(&a1)), r1b(alloc_arena_allocator(&a1));
    alloc_memory_resource r2(alloc_arena_allocator(&a2));
    cr_assert(r1.is_equal(r1b), "two resources over the same arena are interchangeable");
    cr_assert_not(r1.is_equal(r2), "different arenas");
    cr_assert_not(r1.is_equal(*std::pmr::new_delete_resource()), "not an alloc resource");
    cr_assert_eq(r1.handle().ctx, static_cast<void *>(&a1));
    alloc_arena_deinit(&a1);
    alloc_arena_deinit(&a2);
}

Test(pmr, exhaustion_throws_bad_alloc)
{
    alloc_failing f;
    alloc_failing_options opt = alloc_failing_default_options();
    opt.fail_at = 3;
    opt.sticky = true;
    alloc_failing_init(&f, alloc_page_allocator(), &opt);
    alloc_memory_resource res(alloc_failing_allocator(&f));
    std::pmr::vector<std::pmr::string> v(&res);
    bool threw = false;
    try {
        for (int i = 0; i < 100; i++) v.emplace_back(100, 'x');
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    cr_assert(threw, "the fourth allocation fails and must throw");
    cr_assert_lt(v.size(), 100u);
    v.clear();
    v.shrink_to_fit();
    alloc_stats st;
    alloc_failing_stats(&f, &st);
    cr_assert_eq(st.bytes_in_use, 0u, "nothing leaked across the throw");
    alloc_failing_deinit(&f);
}
