// A small process-wide fork-join worker pool for the crossbar core's MVM chunks (no SystemC).
//
// CrossbarArray::mvm splits a batch into fixed-size chunks of input vectors (the split depends
// only on the mapping, never on the number of threads) and runs them with parallel_for. Every
// chunk writes its own rows of the result and draws its read noise from its own generator
// (keyed by the array's seed, the call and the chunk index), and per-chunk sums are merged in
// chunk order, so the bytes out do not depend on the thread count or on timing.
// The calling thread always takes part; a parallel_for issued while the pool is busy (another
// thread, or from inside a task) simply runs serially on its caller.
#pragma once

#include <cstddef>
#include <functional>

namespace cimvp::crossbar {

// Threads that run MVM chunks, the caller included. 0 = default: the hardware concurrency,
// capped at kMaxDefaultWorkers. 1 = everything on the calling thread.
constexpr unsigned kMaxDefaultWorkers = 8;
constexpr unsigned kMaxWorkers = 64;
void set_worker_threads(unsigned n);  // throws std::invalid_argument for n > kMaxWorkers
unsigned worker_threads();
unsigned default_worker_threads();

// Runs fn(0) .. fn(n-1), each exactly once, on up to worker_threads() threads; returns when all
// are done. The first exception thrown by a task is rethrown here (the other tasks still run).
void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn);

}  // namespace cimvp::crossbar
