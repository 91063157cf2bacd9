/*
 * parallel.h -- parallel_for: a loop split over a few std::threads, for work
 * a PostgreSQL backend runs inside core code (e.g. encoding an index build's
 * vectors).
 *
 * The calling thread takes part; the others block every signal, because a
 * host's handlers (PostgreSQL's) expect to interrupt the thread they belong
 * to.  fn must not throw and must not call into the host.  If a thread
 * cannot be started the others share its part.
 */
#pragma once

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstddef>
#include <system_error>
#include <thread>
#include <vector>

namespace vecdb {

/// Calls fn(i, t) for every i in [0, n), t being the index (< threads) of
/// the thread that runs it, on up to `threads` threads; returns when all
/// are done.  Items go out in chunks of `chunk` from a shared counter.
template <typename Fn>
void parallel_for(std::size_t n, unsigned threads, Fn fn, std::size_t chunk = 64)
{
    std::atomic<std::size_t> next{0};
    auto run = [&](unsigned t) {
        for (;;) {
            const std::size_t begin = next.fetch_add(chunk, std::memory_order_relaxed);
            if (begin >= n)
                break;
            for (std::size_t i = begin; i < std::min(n, begin + chunk); i++)
                fn(i, t);
        }
    };
    const unsigned wanted = std::max(1u, std::min<unsigned>(threads, unsigned((n + chunk - 1) / chunk)));
    // Reserved first: once a thread runs, nothing here may throw, or the
    // vector would be destroyed holding a joinable thread (std::terminate).
    std::vector<std::thread> workers;
    workers.reserve(wanted);
    for (unsigned t = 1; t < wanted; t++) {
        try {
            workers.emplace_back([&run, t] {
                sigset_t all;
                sigfillset(&all);
                pthread_sigmask(SIG_BLOCK, &all, nullptr);
                run(t);
            });
        } catch (const std::system_error &) {
            break;
        }
    }
    run(0);
    for (std::thread &w : workers)
        w.join();
}

}  // namespace vecdb
