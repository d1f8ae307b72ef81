// The explicit-vector vocabulary of twinflow's numeric hot loops (the
// embedder's projection, the vector index's dot products).
//
// x86-64 machines run an AVX2 build of a TWINFLOW_AVX2_CLONE function, chosen
// when the program loads; others the portable one. AVX2 without FMA: the same
// additions and multiplications in the same order, so both builds give
// identical bits, and results do not depend on the machine.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define TWINFLOW_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define TWINFLOW_AVX2_CLONE
#endif

namespace twinflow {

// Eight floats in one register; GCC and clang vector extensions, because -O2
// does not vectorise these loops by itself.
using Float8 = float __attribute__((vector_size(32)));

}  // namespace twinflow
