// A per-worker pseudo-random generator (xoshiro256**, seeded by SplitMix64):
// a few cycles per draw, no locks, no syscalls. For load balancing, weighted
// cluster choice and request ids; not for anything secret.
#pragma once

#include <cstdint>

namespace torii::upstream {

class FastRandom {
 public:
  explicit FastRandom(uint64_t seed) {
    for (uint64_t& word : s_) word = splitmix64(seed);
  }

  uint64_t next() {
    uint64_t result = rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, bound) (bound > 0); bias < bound / 2^64.
  uint64_t below(uint64_t bound) { return next() % bound; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t s_[4];
};

}  // namespace torii::upstream
