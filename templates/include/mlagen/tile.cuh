// Device-side helpers for shared-memory tiles: the swizzle (same function as dsl/layout/swizzle.ts)
// and packing of fp32 pairs into 16-bit pairs.
#pragma once
#include <cstdint>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace mlagen {

/** bits [4, 4+B) ^= bits [7, 7+B): CuTe's Swizzle<B,4,3>, matching TMA's SWIZZLE_{32,64,128}B. */
template <int B>
__device__ __forceinline__ uint32_t swizzle(uint32_t byte_offset) {
  constexpr uint32_t mask = ((1u << B) - 1u) << 7;
  return byte_offset ^ ((byte_offset & mask) >> 3);
}

template <typename T>
__device__ __forceinline__ uint32_t pack2(float lo, float hi);

template <>
__device__ __forceinline__ uint32_t pack2<__nv_bfloat16>(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}

template <>
__device__ __forceinline__ uint32_t pack2<__half>(float lo, float hi) {
  __half2 v = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}

}  // namespace mlagen
