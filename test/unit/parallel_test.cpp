// parallel_for: every index exactly once, thread numbers in range, and the
// degenerate sizes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "../../src/core/parallel.h"

namespace {

TEST(ParallelForTest, VisitsEveryIndexOnce)
{
    for (std::size_t n : {0u, 1u, 63u, 64u, 65u, 10000u}) {
        for (unsigned threads : {1u, 2u, 3u, 8u}) {
            std::vector<std::atomic<int>> seen(n);
            std::atomic<bool> bad_thread{false};
            vecdb::parallel_for(
                n, threads,
                [&](std::size_t i, unsigned t) {
                    seen[i].fetch_add(1);
                    if (t >= threads)
                        bad_thread = true;
                },
                16);
            for (std::size_t i = 0; i < n; i++)
                ASSERT_EQ(seen[i].load(), 1) << "n " << n << " threads " << threads << " index " << i;
            EXPECT_FALSE(bad_thread.load());
        }
    }
}

TEST(ParallelForTest, UsesSeveralThreadsWhenThereIsWork)
{
    std::vector<std::atomic<int>> per_thread(4);
    // 400 items of 200 us: the calling thread alone would need 80 ms, far
    // longer than starting a thread takes.
    vecdb::parallel_for(
        400, 4,
        [&](std::size_t, unsigned t) {
            per_thread[t].fetch_add(1);
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        },
        1);
    int used = 0;
    for (auto &c : per_thread)
        used += c.load() > 0;
    EXPECT_GE(used, 2);
}

}  // namespace
