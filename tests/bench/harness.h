// Benchmark harness: runs a callable from N threads for a fixed time, and
// prints the one-line report every benchmark uses:
//   bench <name> ours=<ops/s> baseline=<ops/s> ratio=<ours/baseline> key=value...
// Ours and baseline always run in the same process, interleaved over several
// rounds (medians taken), because absolute numbers drift on a noisy machine.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace casenode::bench {

struct Result {
  double ops_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
  double cpu_us = 0;  // this process's CPU time (all threads) per operation; RunConcurrent only
  size_t n = 0;
};

// CPU time used by this process, all threads, in microseconds. Unlike
// throughput it does not move with other load on the machine.
inline double ProcessCpuUs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// Runs `op` (returns false on failure, which aborts) from `threads` threads for `duration`.
inline Result RunConcurrent(int threads, std::chrono::milliseconds duration, const std::function<bool()>& op) {
  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  std::vector<std::vector<float>> latencies(static_cast<size_t>(threads));
  std::vector<std::thread> workers;
  const double cpu_start = ProcessCpuUs();
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto& lat = latencies[static_cast<size_t>(t)];
      lat.reserve(1 << 16);
      while (!stop.load(std::memory_order_relaxed)) {
        const auto a = std::chrono::steady_clock::now();
        if (!op()) {
          failed = true;
          return;
        }
        lat.push_back(std::chrono::duration<float, std::micro>(std::chrono::steady_clock::now() - a).count());
      }
    });
  }
  std::this_thread::sleep_for(duration);
  stop = true;
  for (auto& w : workers) w.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu_us = ProcessCpuUs() - cpu_start;
  if (failed) {
    std::fprintf(stderr, "bench: operation failed\n");
    std::exit(1);
  }
  std::vector<float> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Result r;
  r.n = all.size();
  r.ops_per_s = static_cast<double>(all.size()) / secs;
  r.cpu_us = all.empty() ? 0 : cpu_us / static_cast<double>(all.size());
  if (!all.empty()) {
    r.p50_us = all[all.size() / 2];
    r.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return r;
}

// Ours against its baseline: the median-throughput run of each, and the
// median of the per-round ratios (each round runs both back to back, so a
// drift in machine load moves both sides of one ratio alike).
struct Comparison {
  Result ours;
  Result baseline;
  double ratio = 0;
};

// Interleaves `rounds` runs of baseline and ours.
inline Comparison Compare(int rounds, const std::function<Result()>& ours, const std::function<Result()>& baseline) {
  std::vector<Result> o, b;
  std::vector<double> ratios;
  for (int i = 0; i < rounds; ++i) {
    b.push_back(baseline());
    o.push_back(ours());
    ratios.push_back(o.back().ops_per_s / b.back().ops_per_s);
  }
  auto median = [](std::vector<Result>& v) {
    std::sort(v.begin(), v.end(), [](const Result& x, const Result& y) { return x.ops_per_s < y.ops_per_s; });
    return v[v.size() / 2];
  };
  std::sort(ratios.begin(), ratios.end());
  return {median(o), median(b), ratios[ratios.size() / 2]};
}

inline void Report(const std::string& name, const Result& ours, const Result& baseline, double ratio,
                   const std::string& extra = "") {
  std::printf("bench %s ours=%.0f baseline=%.0f ratio=%.3f", name.c_str(), ours.ops_per_s, baseline.ops_per_s, ratio);
  if (ours.p50_us > 0) {  // latencies are measured by RunConcurrent only
    std::printf(" p50_us=%.1f p99_us=%.1f baseline_p50_us=%.1f baseline_p99_us=%.1f", ours.p50_us, ours.p99_us,
                baseline.p50_us, baseline.p99_us);
  }
  if (ours.cpu_us > 0) std::printf(" cpu_us=%.1f baseline_cpu_us=%.1f", ours.cpu_us, baseline.cpu_us);
  std::printf(" n=%zu%s%s\n", ours.n, extra.empty() ? "" : " ", extra.c_str());
  std::fflush(stdout);
}

inline void Report(const std::string& name, const Result& ours, const Result& baseline, const std::string& extra = "") {
  Report(name, ours, baseline, ours.ops_per_s / baseline.ops_per_s, extra);
}

inline void Report(const std::string& name, const Comparison& c, const std::string& extra = "") {
  Report(name, c.ours, c.baseline, c.ratio, extra);
}

}  // namespace casenode::bench
