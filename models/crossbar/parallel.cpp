#include "models/crossbar/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cimvp::crossbar {

namespace {

class Pool {
 public:
  ~Pool() { resize(1); }

  unsigned threads() const { return threads_.load(); }

  void resize(unsigned n) {
    std::lock_guard<std::mutex> call(call_m_);  // never while a parallel_for runs
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    stop_ = false;
    for (unsigned i = 1; i < n; ++i) workers_.emplace_back([this] { worker(); });
    threads_.store(std::max(1u, n));
  }

  void run(std::size_t n, const std::function<void(std::size_t)>& fn) {
    std::unique_lock<std::mutex> call(call_m_, std::try_to_lock);
    if (!call.owns_lock() || workers_.empty() || n < 2) {  // busy, nested or nothing to share
      for (std::size_t i = 0; i < n; ++i) fn(i);
      return;
    }
    {
      std::lock_guard<std::mutex> lk(m_);
      fn_ = &fn;
      n_ = n;
      next_.store(0);
      active_ = workers_.size();
      err_ = nullptr;
      ++generation_;
    }
    cv_.notify_all();
    work(fn, n);
    std::unique_lock<std::mutex> lk(m_);
    done_cv_.wait(lk, [this] { return active_ == 0; });
    fn_ = nullptr;
    if (err_) std::rethrow_exception(err_);
  }

 private:
  void work(const std::function<void(std::size_t)>& fn, std::size_t n) {
    for (std::size_t i; (i = next_.fetch_add(1)) < n;) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lk(m_);
        if (!err_) err_ = std::current_exception();
      }
    }
  }

  void worker() {
    std::uint64_t seen = 0;
    std::unique_lock<std::mutex> lk(m_);
    for (;;) {
      cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      const auto* fn = fn_;
      const std::size_t n = n_;
      lk.unlock();
      work(*fn, n);
      lk.lock();
      if (--active_ == 0) done_cv_.notify_one();
    }
  }

  std::mutex call_m_;  // one parallel_for at a time
  std::mutex m_;
  std::condition_variable cv_, done_cv_;
  std::vector<std::thread> workers_;
  std::atomic<unsigned> threads_{1};
  const std::function<void(std::size_t)>* fn_ = nullptr;
  std::size_t n_ = 0;
  std::atomic<std::size_t> next_{0};
  std::size_t active_ = 0;
  std::uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr err_;
};

Pool& pool() {
  static Pool p;
  static std::once_flag once;
  std::call_once(once, [] { p.resize(default_worker_threads()); });
  return p;
}

}  // namespace

unsigned default_worker_threads() {
  const unsigned hc = std::thread::hardware_concurrency();
  return std::clamp(hc == 0 ? 1u : hc, 1u, kMaxDefaultWorkers);
}

void set_worker_threads(unsigned n) {
  if (n > kMaxWorkers)
    throw std::invalid_argument("worker threads (" + std::to_string(n) + ") must be in [0, " +
                                std::to_string(kMaxWorkers) + "] (0 = hardware concurrency)");
  const unsigned want = n == 0 ? default_worker_threads() : n;
  Pool& p = pool();
  if (p.threads() != want) p.resize(want);
}

unsigned worker_threads() { return pool().threads(); }

void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn) { pool().run(n, fn); }

}  // namespace cimvp::crossbar
