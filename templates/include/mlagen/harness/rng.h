// mlagen harness: reproducible random numbers. A counter-based hash (splitmix64) gives the same
// value for the same (seed, stream, index) on the host and on the device, so inputs can be drawn
// on the GPU in parallel (the KV cache may hold billions of elements) and re-drawn anywhere.
#ifndef MLAGEN_HARNESS_RNG_H
#define MLAGEN_HARNESS_RNG_H

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

namespace mlagen_harness {

__host__ __device__ inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/** Key of one random stream: inputs drawn from different streams are independent. */
__host__ __device__ inline uint64_t stream_key(uint64_t seed, uint64_t stream) {
  return splitmix64(seed ^ splitmix64(stream + 0x632BE59BD9B4E019ull));
}

/** A standard normal value for element `index` of the stream `key` (Box-Muller on 24-bit uniforms). */
__host__ __device__ inline float hashed_normal(uint64_t key, uint64_t index) {
  uint64_t h = splitmix64(key + index * 0xD1B54A32D192ED03ull);
  float u1 = (static_cast<float>(h >> 40) + 1.0f) * (1.0f / 16777216.0f);  // (0, 1]
  float u2 = static_cast<float>((h >> 16) & 0xFFFFFFu) * (1.0f / 16777216.0f);  // [0, 1)
  return sqrtf(-2.0f * logf(u1)) * cosf(6.283185307179586f * u2);
}

/** Sequential host generator (sequence lengths, page permutation, slack). */
struct HostRng {
  uint64_t state;
  explicit HostRng(uint64_t seed) : state(splitmix64(seed ^ 0xA0761D6478BD642Full)) {}
  uint64_t next() {
    state += 0x9E3779B97F4A7C15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /** Uniform in [0, n) without modulo bias worth mentioning for n << 2^64. */
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  double normal(double mean, double stddev) {
    double u1 = 1.0 - uniform();  // (0, 1]
    double u2 = uniform();
    return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
};

}  // namespace mlagen_harness

#endif  // MLAGEN_HARNESS_RNG_H
