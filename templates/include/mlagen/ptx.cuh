// Fixed PTX for sm_90a, wrapped once and reviewed once: mbarriers, TMA, fences, named barriers,
// wgmma fence/commit/wait, setmaxnreg, programmatic dependent launch.
// Shape-dependent wgmma instructions are generated from templates/partials/wgmma.hbs instead.
#pragma once
#include <cstdint>
#include <type_traits>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace mlagen {

__device__ __forceinline__ uint32_t smem_u32(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// ---- mbarrier -------------------------------------------------------------------------------
__device__ __forceinline__ void mbarrier_init(uint64_t* bar, uint32_t arrivals) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(smem_u32(bar)), "r"(arrivals) : "memory");
}

/** Makes mbarrier.init visible to the async proxy (TMA) and the other threads. */
__device__ __forceinline__ void fence_barrier_init() {
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}

__device__ __forceinline__ void mbarrier_arrive(uint64_t* bar) {
  asm volatile("{\n.reg .b64 state;\nmbarrier.arrive.shared::cta.b64 state, [%0];\n}" ::"r"(smem_u32(bar)) : "memory");
}

/** Producer commit: one arrival plus the bytes the TMA loads of this phase will deliver. */
__device__ __forceinline__ void mbarrier_arrive_expect_tx(uint64_t* bar, uint32_t bytes) {
  asm volatile("{\n.reg .b64 state;\nmbarrier.arrive.expect_tx.shared::cta.b64 state, [%0], %1;\n}"
               ::"r"(smem_u32(bar)), "r"(bytes) : "memory");
}

/** Blocks until the phase with this parity has completed. */
__device__ __forceinline__ void mbarrier_wait(uint64_t* bar, uint32_t parity) {
  asm volatile(
      "{\n"
      ".reg .pred done;\n"
      "WAIT_%=:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra WAIT_%=;\n"
      "}" ::"r"(smem_u32(bar)), "r"(parity) : "memory");
}

/** Whether the phase with this parity has completed, without waiting (mbarrier.test_wait). */
__device__ __forceinline__ bool mbarrier_ready(uint64_t* bar, uint32_t parity) {
  uint32_t done;
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "mbarrier.test_wait.parity.shared::cta.b64 p, [%1], %2;\n"
      "selp.u32 %0, 1, 0, p;\n"
      "}" : "=r"(done) : "r"(smem_u32(bar)), "r"(parity) : "memory");
  return done != 0;
}

// ---- shared memory by address ------------------------------------------------------------------------
/** 16 bytes at a shared-window address: for code the compiler cannot prove works on shared memory (an out-of-line
 *  function given a pointer), which would otherwise address it generically. */
__device__ __forceinline__ uint4 ld_shared_u4(uint32_t addr) {
  uint4 v;
  asm volatile("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "r"(addr) : "memory");
  return v;
}
__device__ __forceinline__ void st_shared_u4(uint32_t addr, const uint4& v) {
  asm volatile("st.shared.v4.u32 [%0], {%1, %2, %3, %4};" ::"r"(addr), "r"(v.x), "r"(v.y), "r"(v.z), "r"(v.w) : "memory");
}

// ---- fences and named barriers ----------------------------------------------------------------
/** Orders this thread's generic-proxy shared-memory writes before later async-proxy reads (wgmma, TMA). */
__device__ __forceinline__ void fence_proxy_async_shared() {
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}

// ---- stmatrix: register fragments to shared memory --------------------------------------------------
/** Stores four 8x8 b16 matrices (a warp-wide x4): lane l gives the 16-byte row address of row l % 8 of matrix
 *  l / 8, and holds in r[m] its two elements (row l / 4, columns 2 (l % 4), +1) of matrix m, the lower column in
 *  the low half: the layout of a wgmma accumulator's 8x8 blocks once packed to 16 bits. */
__device__ __forceinline__ void stmatrix_x4(void* row_addr, const uint32_t (&r)[4]) {
  asm volatile("stmatrix.sync.aligned.m8n8.x4.shared.b16 [%0], {%1, %2, %3, %4};" ::"r"(smem_u32(row_addr)), "r"(r[0]), "r"(r[1]),
               "r"(r[2]), "r"(r[3])
               : "memory");
}

// ---- cp.async (LDGSTS): 16-byte copies global -> shared without staging in registers -------------
/** Copies 16 bytes, or writes 16 zero bytes when src_bytes is 0 (src is then not read). */
__device__ __forceinline__ void cp_async_16(void* smem_dst, const void* gmem_src, uint32_t src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(smem_u32(smem_dst)), "l"(gmem_src), "r"(src_bytes)
               : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
/** Waits for every cp.async this thread issued. */
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_group 0;" ::: "memory"); }
/**
 * Arrives on bar once every cp.async this thread issued so far has landed (the thread runs on). .noinc: the
 * arrival is one of the barrier's expected count, so initialise it with one per arriving thread.
 */
__device__ __forceinline__ void cp_async_mbarrier_arrive_noinc(uint64_t* bar) {
  asm volatile("cp.async.mbarrier.arrive.noinc.shared::cta.b64 [%0];" ::"r"(smem_u32(bar)) : "memory");
}

// Named barriers in their non-.aligned form (barrier.sync / barrier.arrive): the seesaw's consumers
// meet one barrier from different code, one arriving where the other waits, and the .aligned form
// (bar.sync) promises more convergence than that; compute-sanitizer's synccheck reported "divergent
// thread(s) in block" on every seesaw hand-off with it and is clean without it, at the same speed
// (docs/perf/kernel-versions.md, session 3). Each wrapper still reconverges the warp first. Inlined:
// the out-of-line version (one instruction for every call site, kept for synccheck's sake while the
// barriers were .aligned) was 2 % slower on the 256-row case and no cleaner.
__device__ __forceinline__ void named_barrier_sync(uint32_t id, uint32_t threads) {
  __syncwarp();
  asm volatile("barrier.sync %0, %1;" ::"r"(id), "r"(threads) : "memory");
}

/** Arrives on a named barrier without waiting: the writer's half of a one-way hand-off. */
__device__ __forceinline__ void named_barrier_arrive(uint32_t id, uint32_t threads) {
  __syncwarp();
  asm volatile("barrier.arrive %0, %1;" ::"r"(id), "r"(threads) : "memory");
}

// ---- TMA ----------------------------------------------------------------------------------------
__device__ __forceinline__ void prefetch_tensormap(const void* tmap) {
  asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(tmap)) : "memory");
}

/** An L2 policy for data read once: evict it first. */
__device__ __forceinline__ uint64_t l2_policy_evict_first() {
  uint64_t policy;
  asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(policy));
  return policy;
}

__device__ __forceinline__ uint64_t l2_policy_evict_last() {
  uint64_t policy;
  asm volatile("createpolicy.fractional.L2::evict_last.b64 %0, 1.0;" : "=l"(policy));
  return policy;
}
/** The default L2 policy, spelled out (a cache hint must name one). */
__device__ __forceinline__ uint64_t l2_policy_evict_normal() {
  uint64_t policy;
  asm volatile("createpolicy.fractional.L2::evict_normal.b64 %0, 1.0;" : "=l"(policy));
  return policy;
}
/** Policies by the DSL's KV_L2_HINT numbering. */
enum L2Hint : int { kL2EvictFirst = 1, kL2EvictLast = 2, kL2EvictNormal = 3 };
__device__ __forceinline__ uint64_t l2_policy(int hint) {
  return hint == kL2EvictFirst ? l2_policy_evict_first() : hint == kL2EvictLast ? l2_policy_evict_last() : l2_policy_evict_normal();
}

/** 3-D tiled TMA load into shared memory, completing on `bar` with the box's bytes. */
__device__ __forceinline__ void tma_load_3d(const void* tmap, uint64_t* bar, void* dst, int32_t c0, int32_t c1,
                                            int32_t c2, uint64_t policy) {
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.L2::cache_hint"
      " [%0], [%1, {%3, %4, %5}], [%2], %6;" ::"r"(smem_u32(dst)),
      "l"(reinterpret_cast<uint64_t>(tmap)), "r"(smem_u32(bar)), "r"(c0), "r"(c1), "r"(c2), "l"(policy)
      : "memory");
}

// ---- wgmma bookkeeping ------------------------------------------------------------------------
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(N) : "memory");
}

/** Pins an accumulator register in place around wgmma so the compiler cannot move its uses across the wait. */
__device__ __forceinline__ void fence_operand(float& r) { asm volatile("" : "+f"(r)::"memory"); }
__device__ __forceinline__ void fence_operand(uint32_t& r) { asm volatile("" : "+r"(r)::"memory"); }

/** Pins every register of a fragment: call before wgmma_fence (so writes to it stay before the fence)
 *  and after wgmma_wait (so reads of it stay after the wait). */
template <typename T, int N>
__device__ __forceinline__ void fence_fragment(T (&regs)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) fence_operand(regs[i]);
}
template <typename T, int N, int M>
__device__ __forceinline__ void fence_fragment(T (&regs)[N][M]) {
#pragma unroll
  for (int i = 0; i < N; ++i) fence_fragment(regs[i]);
}

/** Descriptor of a shared-memory operand: constant fields from the plan, start address (>> 4) added here. */
__device__ __forceinline__ uint64_t smem_desc(const void* base, uint64_t fields) {
  return fields | static_cast<uint64_t>((smem_u32(base) >> 4) & 0x3FFF);
}

/** The same descriptor `byte_offset` further on: a plain add, since shared addresses stay below 2^18
 *  (the 14-bit start field never carries). Cheap to rematerialise, so k-loops need no register per step. */
__device__ __forceinline__ uint64_t desc_advance(uint64_t desc, uint32_t byte_offset) { return desc + (byte_offset >> 4); }

// ---- register budgets ---------------------------------------------------------------------------
template <int R>
__device__ __forceinline__ void setmaxnreg_inc() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(R));
}
template <int R>
__device__ __forceinline__ void setmaxnreg_dec() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(R));
}

// ---- programmatic dependent launch --------------------------------------------------------------
/** Lets the next kernel in the stream (the combine) start its prologue. */
__device__ __forceinline__ void pdl_launch_dependents() { asm volatile("griddepcontrol.launch_dependents;" ::: "memory"); }
/** Waits until the kernel this one depends on has finished and its writes are visible. */
__device__ __forceinline__ void pdl_wait_primary() { asm volatile("griddepcontrol.wait;" ::: "memory"); }

// ---- math ------------------------------------------------------------------------------------------
__device__ __forceinline__ float exp2_approx(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// ---- e4m3 to 16 bits ------------------------------------------------------------------------------
/**
 * Four e4m3 values (a 32-bit word, the low byte first) as two packed pairs of T (__half or __nv_bfloat16), the low
 * pair in lo. Exact. To halves: the hardware conversion, one instruction a pair (NaN stays NaN). To bf16 there is none
 * (the cvt route, e4m3 -> half -> float -> bf16, is three conversions a pair, and conversions issue at a quarter of
 * the integer rate): integer moves put e4m3's sign on bf16's and its other 7 bits at the bottom of bf16's exponent
 * and the top of its mantissa, and one multiply by 2^(127 - 7) restores the value, subnormals included. e4m3's NaN
 * (S.1111.111) comes out as +-480, a value no e4m3 holds; FP8 caches are quantized with saturation and hold none.
 */
template <typename T>
__device__ __forceinline__ void widen_e4m3x4(uint32_t w, uint32_t& lo, uint32_t& hi) {
  if constexpr (std::is_same_v<T, __half>) {
    asm("{\n.reg .b16 l, h;\nmov.b32 {l, h}, %2;\ncvt.rn.f16x2.e4m3x2 %0, l;\ncvt.rn.f16x2.e4m3x2 %1, h;\n}"
        : "=r"(lo), "=r"(hi) : "r"(w));
  } else {
    static_assert(std::is_same_v<T, __nv_bfloat16>, "e4m3 widens to __half or __nv_bfloat16");
    const uint32_t mag = w & 0x7F7F7F7Fu, sign = w & 0x80808080u;
    // Bytes to 16-bit lanes: magnitudes in the low byte, shifted to bf16's exponent; signs to each lane's top bit.
    const uint32_t lo_bits = (__byte_perm(mag, 0u, 0x4140) << 4) | __byte_perm(sign, 0u, 0x1404);
    const uint32_t hi_bits = (__byte_perm(mag, 0u, 0x4342) << 4) | __byte_perm(sign, 0u, 0x3424);
    asm("mul.rn.bf16x2 %0, %1, %2;" : "=r"(lo) : "r"(lo_bits), "r"(0x7B807B80u));  // x 2^120 = 2^(127 - 7)
    asm("mul.rn.bf16x2 %0, %1, %2;" : "=r"(hi) : "r"(hi_bits), "r"(0x7B807B80u));
  }
}

}  // namespace mlagen
