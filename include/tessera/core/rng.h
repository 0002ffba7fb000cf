// Seeded random numbers whose results do not depend on the thread count.
//
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) is
// counter-based: element i of a stream is a pure function of (seed, stream, i), so any
// split of the work across threads draws the same numbers.
//
//   Rng rng(42);
//   rng.fill_uniform(t, -0.1, 0.1);          // t: f32 tensor, same values on 1 or 16 threads
//   rng.fill_normal(w, 0.0, 0.05);
//   uint64_t k = rng.next_u64();              // sequential draws (shuffles)
#pragma once

#include <array>
#include <cstdint>

namespace tessera {

class Tensor;

// The raw generator: 4 x 32 random bits for one (key, counter) pair.
std::array<uint32_t, 4> philox4x32(uint64_t key, uint64_t counter_hi, uint64_t counter_lo);

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : seed_(seed) {}

  uint64_t seed() const { return seed_; }

  // Pure functions of (seed, stream, index).
  uint32_t bits(uint64_t stream, uint64_t index) const;
  double uniform(uint64_t stream, uint64_t index) const;  // [0, 1)
  double normal(uint64_t stream, uint64_t index) const;   // N(0, 1), Box-Muller

  // Sequential draws from stream 0; the position advances with each call.
  uint64_t next_u64();
  double next_uniform();                   // [0, 1)
  uint64_t next_below(uint64_t bound);     // uniform in [0, bound), unbiased

  // Fill a whole contiguous tensor (any dtype) from a fresh stream; each call advances
  // the stream counter so successive fills differ.
  void fill_uniform(Tensor& t, double lo, double hi);
  void fill_normal(Tensor& t, double mean, double stddev);
  void fill_truncated_normal(Tensor& t, double mean, double stddev);  // within 2 stddev

 private:
  uint64_t seed_;
  uint64_t position_ = 0;      // for next_*
  uint64_t next_stream_ = 1;   // for fill_*
};

}  // namespace tessera
