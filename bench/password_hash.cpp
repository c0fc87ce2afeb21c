// How long one argon2id hash and one verification take with the gateway's settings, and so how
// many account creations, resets and logins per second the CPU pool can serve.
// Run: build/release/bench/bench_password_hash [iterations]

#include "gateway/sodium_crypto.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 20;
  cp2::gateway::init_sodium();
  cp2::gateway::argon2id_hasher hasher;
  std::vector<double> hash_ms, verify_ms;
  for (int i = 0; i < n; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto h = hasher.hash("Ab3dEf7hJk");
    auto t1 = std::chrono::steady_clock::now();
    bool ok = hasher.verify(h, "Ab3dEf7hJk");
    auto t2 = std::chrono::steady_clock::now();
    if (!ok) return 1;
    hash_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    verify_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  std::sort(hash_ms.begin(), hash_ms.end());
  std::sort(verify_ms.begin(), verify_ms.end());
  std::printf("argon2id (the gateway's limits: 19 MiB, 2 passes), %d runs\n", n);
  std::printf("hash:   median %.1f ms, max %.1f ms\n", hash_ms[n / 2], hash_ms.back());
  std::printf("verify: median %.1f ms, max %.1f ms\n", verify_ms[n / 2], verify_ms.back());
  std::printf("a 2-thread CPU pool serves about %.0f hashes/s\n", 2 * 1000.0 / hash_ms[n / 2]);
  return 0;
}
