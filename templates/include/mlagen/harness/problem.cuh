// mlagen harness: one decode problem: sequence lengths, a scattered paged KV cache, poisoned
// slots, and the device buffers the library reads and writes.
//
// What a kernel must survive here (each would go unnoticed with tidy inputs):
//   - physical pages handed out by a random permutation, so neighbouring logical pages are far apart;
//   - NaN in every cache slot no request owns: tokens >= seqlen in a request's last page, and whole
//     spare pages (a kernel that lets masked keys touch its sums turns the output into NaN);
//   - block-table entries past a request's live pages hold a poison index (INT32_MIN by default);
//   - out and lse pre-filled with a NaN pattern, with guard zones on both sides: an element the
//     kernel forgot stays NaN and fails, a write out of bounds changes a guard and fails;
//   - 64-bit offsets throughout: the cache may hold 2^31 elements or more.
#ifndef MLAGEN_HARNESS_PROBLEM_CUH
#define MLAGEN_HARNESS_PROBLEM_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "mlagen/harness/args.h"
#include "mlagen/harness/common.h"
#include "mlagen/harness/rng.h"

namespace mlagen_harness {

// ---- element encodings (inputs and outputs are 16-bit; stored as raw bits) ----------------------

constexpr uint16_t kBf16Nan = 0x7FC0, kFp16Nan = 0x7E00;          // unused cache slots
constexpr uint16_t kBf16Poison = 0x7FC1, kFp16Poison = 0x7E01;    // out before the kernel runs
constexpr uint32_t kF32Poison = 0x7FC00001u;                       // lse before the kernel runs
constexpr size_t kGuardElems = 1024;  // poisoned elements before and after out and lse

constexpr uint8_t kE4m3Nan = 0x7F;                                // unused slots of an fp8 cache
inline uint16_t poison_bits(mlagen_dtype t) { return t == MLAGEN_BF16 ? kBf16Poison : kFp16Poison; }
inline const char* dtype_name(mlagen_dtype t) { return t == MLAGEN_BF16 ? "bf16" : t == MLAGEN_FP16 ? "fp16" : "fp8"; }

/** An e4m3 byte as a float (exact), on the host or the device. */
__host__ __device__ inline float e4m3_to_float(uint8_t u) {
  __nv_fp8_e4m3 x;
  x.__x = u;
  return static_cast<float>(x);
}

template <int DT>
__device__ inline uint16_t float_to_raw(float x) {
  if constexpr (DT == MLAGEN_BF16) return __bfloat16_as_ushort(__float2bfloat16_rn(x));
  else return __half_as_ushort(__float2half_rn(x));
}

template <int DT>
__device__ inline float raw_to_float(uint16_t u) {
  if constexpr (DT == MLAGEN_BF16) return __uint_as_float(static_cast<uint32_t>(u) << 16);
  else return __half2float(__ushort_as_half(u));
}

inline float host_raw_to_float(mlagen_dtype t, uint16_t u) {
  if (t == MLAGEN_BF16) {
    uint32_t bits = static_cast<uint32_t>(u) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  __half_raw r;
  r.x = u;
  return __half2float(__half(r));
}

/** Round to nearest even in the output dtype and back (the unavoidable rounding of `out`). */
inline float host_round_to(mlagen_dtype t, float x) {
  if (t == MLAGEN_BF16) return __bfloat162float(__float2bfloat16_rn(x));
  return __half2float(__float2half_rn(x));
}

// ---- device memory --------------------------------------------------------------------------------

template <typename T>
struct DeviceArray {
  T* ptr = nullptr;
  size_t count = 0;
  DeviceArray() = default;
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& o) noexcept : ptr(o.ptr), count(o.count) { o.ptr = nullptr; o.count = 0; }
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    std::swap(ptr, o.ptr);
    std::swap(count, o.count);
    return *this;
  }
  ~DeviceArray() {
    if (ptr) cudaFree(ptr);
  }
  void alloc(size_t n) {
    count = n;
    MLAGEN_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&ptr), std::max<size_t>(n, 1) * sizeof(T)));
  }
  void upload(const std::vector<T>& h) {
    if (count < h.size()) alloc(h.size());
    if (!h.empty()) MLAGEN_CUDA_CHECK(cudaMemcpy(ptr, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  std::vector<T> download(size_t n, size_t offset = 0) const {
    std::vector<T> h(n);
    if (n) MLAGEN_CUDA_CHECK(cudaMemcpy(h.data(), ptr + offset, n * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
  }
};

inline unsigned grid_for(int64_t work, int threads) {
  int64_t blocks = (work + threads - 1) / threads;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(blocks, 65536)));
}

template <typename T>
__global__ void fill_bits_kernel(T* dst, int64_t n, T bits) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[i] = bits;
}

template <typename T>
void fill_bits(T* dst, int64_t n, T bits, cudaStream_t stream) {
  if (n <= 0) return;
  fill_bits_kernel<T><<<grid_for(n, 256), 256, 0, stream>>>(dst, n, bits);
  MLAGEN_LAUNCH_CHECK("fill_bits_kernel");
}

template <int DT>
__global__ void fill_normal_kernel(uint16_t* dst, int64_t n, uint64_t key, float scale) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[i] = float_to_raw<DT>(hashed_normal(key, static_cast<uint64_t>(i)) * scale);
}

/** Fills bf16 or fp16 data with N(0, scale^2) values drawn from the stream `key`. */
inline void fill_normal(mlagen_dtype t, uint16_t* dst, int64_t n, uint64_t key, float scale, cudaStream_t stream) {
  if (n <= 0) return;
  if (t == MLAGEN_BF16) fill_normal_kernel<MLAGEN_BF16><<<grid_for(n, 256), 256, 0, stream>>>(dst, n, key, scale);
  else fill_normal_kernel<MLAGEN_FP16><<<grid_for(n, 256), 256, 0, stream>>>(dst, n, key, scale);
  MLAGEN_LAUNCH_CHECK("fill_normal_kernel");
}

/**
 * Cache rows (one per physical page and token): N(0,1) where the page's token is live, NaN elsewhere. An fp8 cache
 * (DT MLAGEN_FP8_E4M3) holds e4m3(N(0,1) / kv_scale), so that kv_scale x the cache is N(0,1) in e4m3's precision.
 */
template <int DT>
__global__ void fill_kv_kernel(uint8_t* kv, int64_t num_rows, int page_size, int row_elems,
                               const int32_t* __restrict__ page_valid, uint64_t key, float kv_scale) {
  for (int64_t r = blockIdx.x; r < num_rows; r += gridDim.x) {
    const int64_t page = r / page_size;
    const int token = static_cast<int>(r - page * page_size);
    const bool live = token < page_valid[page];
    for (int c = threadIdx.x; c < row_elems; c += blockDim.x) {
      const uint64_t index = static_cast<uint64_t>(r) * row_elems + c;
      const float x = hashed_normal(key, index);
      if constexpr (DT == MLAGEN_FP8_E4M3) {
        kv[r * row_elems + c] = live ? __nv_fp8_e4m3(x / kv_scale).__x : kE4m3Nan;
      } else {
        const uint16_t nan = DT == MLAGEN_BF16 ? kBf16Nan : kFp16Nan;
        reinterpret_cast<uint16_t*>(kv)[r * row_elems + c] = live ? float_to_raw<DT>(x) : nan;
      }
    }
  }
}

// ---- the problem, on the host ---------------------------------------------------------------------

struct Problem {
  int b = 0, s_q = 0, h_q = 0, h_kv = 1, d = kHeadDim, dv = kValueDim, page_size = 64, causal = 1;
  int sk = 0, varlen = 0;
  mlagen_dtype dtype = MLAGEN_BF16;     // q and out
  mlagen_dtype kv_dtype = MLAGEN_BF16;  // dtype, or MLAGEN_FP8_E4M3
  float kv_scale = 1.f;                 // fp8: K/V = kv_scale x the cache
  float softmax_scale = 0.f, q_scale = 1.f;
  uint64_t seed = 0;
  std::vector<int32_t> seqlens;      // [b]
  std::vector<int32_t> live_pages_of;  // [b] ceil(seqlen / page_size)
  int32_t max_pages = 1;             // block-table columns
  int32_t bt_slack = 0;              // columns past the longest request
  int32_t bt_poison = INT32_MIN;
  int64_t num_pages = 1, live_pages = 0, total_kv = 0;
  std::vector<int32_t> block_table;  // [b][max_pages]
  std::vector<int32_t> page_valid;   // [num_pages]: live tokens in each physical page, 0 for spare pages
  int64_t q_stride[3] = {0, 0, 0}, kv_stride[3] = {0, 0, 0}, out_stride[3] = {0, 0, 0};

  int64_t rows() const { return static_cast<int64_t>(b) * s_q * h_q; }
  int64_t q_elems() const { return rows() * d; }
  int64_t kv_elems() const { return num_pages * page_size * static_cast<int64_t>(h_kv) * d; }
  int kv_elem_bytes() const { return kv_dtype == MLAGEN_FP8_E4M3 ? 1 : 2; }
  int64_t kv_bytes() const { return kv_elems() * kv_elem_bytes(); }
  int64_t out_elems() const { return rows() * dv; }
  int64_t lse_elems() const { return rows(); }
  /** Keys row `s` of request `bi` sees (bottom-right aligned causal mask). */
  int keys_seen(int bi, int s) const {
    int64_t n = seqlens[bi];
    if (causal) n = std::min<int64_t>(n, static_cast<int64_t>(seqlens[bi]) - s_q + s + 1);
    return static_cast<int>(std::max<int64_t>(0, n));
  }
  /** FLOPs and bytes by the anchor's formulas (total_kv counts every cached token once; an fp8 cache 1 byte each). */
  double flops() const { return 2.0 * s_q * h_q * static_cast<double>(d + dv) * static_cast<double>(total_kv); }
  double bytes() const {
    return static_cast<double>(kv_elem_bytes()) * static_cast<double>(total_kv) * d + 2.0 * static_cast<double>(b) * s_q * h_q * (d + dv);
  }
};

inline mlagen_dtype parse_dtype(const std::string& s) { return s == "fp16" ? MLAGEN_FP16 : MLAGEN_BF16; }

inline std::vector<int32_t> draw_seqlens(const Args& a, HostRng& rng) {
  if (a.seqlens_given) return a.seqlens;
  std::vector<int32_t> lens(static_cast<size_t>(a.b), a.sk);
  if (a.varlen) {
    // The anchor's rule (FlashMLA's test): N(sk, sk/2), clipped below at s_q, truncated to an integer.
    for (auto& l : lens) {
      double v = std::max(rng.normal(a.sk, a.sk / 2.0), static_cast<double>(a.s_q));
      l = static_cast<int32_t>(std::min(v, static_cast<double>(INT32_MAX / 2)));
    }
  }
  return lens;
}

inline Problem make_problem(const Args& a) {
  Problem p;
  p.b = a.b; p.s_q = a.s_q; p.h_q = a.h_q; p.h_kv = a.h_kv; p.page_size = a.page_size; p.causal = a.causal;
  p.sk = a.sk; p.varlen = a.seqlens_given ? 0 : a.varlen;
  p.dtype = parse_dtype(a.dtype);
  p.kv_dtype = a.kv_dtype == "fp8" ? MLAGEN_FP8_E4M3 : p.dtype;
  p.kv_scale = p.kv_dtype == MLAGEN_FP8_E4M3 ? static_cast<float>(a.kv_scale) : 1.f;
  p.softmax_scale = static_cast<float>(a.softmax_scale);
  p.q_scale = static_cast<float>(a.q_scale);
  p.seed = a.seed;
  p.bt_poison = static_cast<int32_t>(a.bt_poison);
  HostRng rng(a.seed);
  p.seqlens = draw_seqlens(a, rng);
  p.b = static_cast<int>(p.seqlens.size());

  p.live_pages_of.resize(p.seqlens.size());
  int32_t longest = 1;
  for (size_t i = 0; i < p.seqlens.size(); ++i) {
    int64_t pages = (static_cast<int64_t>(p.seqlens[i]) + p.page_size - 1) / p.page_size;
    p.live_pages_of[i] = static_cast<int32_t>(pages);
    p.live_pages += pages;
    p.total_kv += p.seqlens[i];
    longest = std::max<int32_t>(longest, static_cast<int32_t>(pages));
  }
  // Spare pages (all NaN) among the live ones, plus whatever --num-pages asks for.
  int64_t spare = std::max<int64_t>(2, p.live_pages / 16);
  p.num_pages = std::max<int64_t>(p.live_pages + spare, a.num_pages);
  if (p.num_pages > INT32_MAX) bad_args("the cache would need more than INT32_MAX pages");
  p.bt_slack = a.bt_slack >= 0 ? a.bt_slack : static_cast<int32_t>(rng.below(2));
  p.max_pages = longest + p.bt_slack;

  // A random permutation of the physical pages; the first live_pages of it are handed out in order.
  std::vector<int32_t> perm(static_cast<size_t>(p.num_pages));
  std::iota(perm.begin(), perm.end(), 0);
  for (int64_t i = 0; i < p.live_pages; ++i) {
    int64_t j = i + static_cast<int64_t>(rng.below(static_cast<uint64_t>(p.num_pages - i)));
    std::swap(perm[i], perm[j]);
  }
  p.block_table.assign(static_cast<size_t>(p.b) * p.max_pages, p.bt_poison);
  p.page_valid.assign(static_cast<size_t>(p.num_pages), 0);
  int64_t next = 0;
  for (int bi = 0; bi < p.b; ++bi) {
    for (int32_t i = 0; i < p.live_pages_of[bi]; ++i) {
      int32_t phys = perm[next++];
      p.block_table[static_cast<size_t>(bi) * p.max_pages + i] = phys;
      int64_t valid = std::min<int64_t>(p.page_size, static_cast<int64_t>(p.seqlens[bi]) - int64_t{i} * p.page_size);
      p.page_valid[phys] = static_cast<int32_t>(valid);
    }
  }

  p.q_stride[0] = static_cast<int64_t>(p.s_q) * p.h_q * p.d;
  p.q_stride[1] = static_cast<int64_t>(p.h_q) * p.d;
  p.q_stride[2] = p.d;
  p.kv_stride[0] = static_cast<int64_t>(p.page_size) * p.h_kv * p.d;
  p.kv_stride[1] = static_cast<int64_t>(p.h_kv) * p.d;
  p.kv_stride[2] = p.d;
  p.out_stride[0] = static_cast<int64_t>(p.s_q) * p.h_q * p.dv;
  p.out_stride[1] = static_cast<int64_t>(p.h_q) * p.dv;
  p.out_stride[2] = p.dv;
  return p;
}

/** The case as the JSON reports it (enough to reproduce the run). */
inline JsonObject case_json(const Problem& p) {
  int32_t mn = INT32_MAX, mx = 0;
  int64_t zeros = 0;
  for (int32_t l : p.seqlens) {
    mn = std::min(mn, l);
    mx = std::max(mx, l);
    zeros += l == 0;
  }
  if (p.seqlens.empty()) mn = 0;
  JsonObject o;
  o.integer("b", p.b).integer("s_q", p.s_q).integer("h_q", p.h_q).integer("h_kv", p.h_kv);
  o.integer("sk", p.sk).integer("varlen", p.varlen).str("dtype", dtype_name(p.dtype)).integer("causal", p.causal);
  o.str("kv_dtype", dtype_name(p.kv_dtype)).num("kv_scale", p.kv_scale);
  o.integer("page_size", p.page_size).integer("d", p.d).integer("dv", p.dv);
  o.num("softmax_scale", p.softmax_scale).num("q_scale", p.q_scale);
  o.str("seed", std::to_string(p.seed));  // a string: seeds exceed 2^53
  o.integer("total_kv", p.total_kv).integer("seqlen_min", mn).integer("seqlen_max", mx).integer("zero_seqlens", zeros);
  o.integer("num_pages", p.num_pages).integer("live_pages", p.live_pages).integer("max_pages", p.max_pages);
  o.integer("bt_slack", p.bt_slack).integer("bt_poison", p.bt_poison).integer("kv_elems", p.kv_elems());
  o.raw("seqlens", json_int_array(p.seqlens));
  return o;
}

// ---- the problem, on the device -------------------------------------------------------------------

/** Read-only tables shared by every input set. */
struct DeviceTables {
  DeviceArray<int32_t> block_table, seqlens, page_valid;
};

/** One set of inputs and outputs. Bench rotates among several to keep L2 cold. */
struct InputSet {
  DeviceArray<uint16_t> q;
  DeviceArray<uint8_t> kv;        // kv_bytes(): 16-bit or e4m3 elements
  DeviceArray<uint16_t> out_all;  // kGuardElems + out + kGuardElems
  DeviceArray<float> lse_all;     // kGuardElems + lse + kGuardElems
  uint16_t* out() const { return out_all.ptr + kGuardElems; }
  float* lse() const { return lse_all.ptr + kGuardElems; }
};

inline DeviceTables upload_tables(const Problem& p) {
  DeviceTables t;
  t.block_table.alloc(p.block_table.size());
  t.block_table.upload(p.block_table);
  t.seqlens.alloc(p.seqlens.size());
  t.seqlens.upload(p.seqlens);
  t.page_valid.alloc(p.page_valid.size());
  t.page_valid.upload(p.page_valid);
  return t;
}

/** Bytes one InputSet occupies on the device. */
inline size_t input_set_bytes(const Problem& p) {
  return static_cast<size_t>(p.kv_bytes()) + (static_cast<size_t>(p.q_elems()) + p.out_elems() + 2 * kGuardElems) * 2 +
         (static_cast<size_t>(p.lse_elems()) + 2 * kGuardElems) * 4;
}

/** Bytes a decode must touch at least once (live cache rows, q, out, lse): what L2 must not hold. */
inline size_t touched_bytes(const Problem& p) {
  return static_cast<size_t>(p.total_kv) * p.h_kv * p.d * p.kv_elem_bytes() + static_cast<size_t>(p.q_elems()) * 2 +
         static_cast<size_t>(p.out_elems()) * 2 + static_cast<size_t>(p.lse_elems()) * 4;
}

/** Writes the poison pattern over out and lse, guard zones included. */
inline void poison_outputs(const Problem& p, InputSet& s, cudaStream_t stream) {
  fill_bits<uint16_t>(s.out_all.ptr, static_cast<int64_t>(s.out_all.count), poison_bits(p.dtype), stream);
  fill_bits<uint32_t>(reinterpret_cast<uint32_t*>(s.lse_all.ptr), static_cast<int64_t>(s.lse_all.count),
                      kF32Poison, stream);
}

inline InputSet make_input_set(const Problem& p, const DeviceTables& t, int set_index, cudaStream_t stream) {
  InputSet s;
  s.q.alloc(static_cast<size_t>(p.q_elems()));
  s.kv.alloc(static_cast<size_t>(p.kv_bytes()));
  s.out_all.alloc(static_cast<size_t>(p.out_elems()) + 2 * kGuardElems);
  s.lse_all.alloc(static_cast<size_t>(p.lse_elems()) + 2 * kGuardElems);
  const uint64_t q_key = stream_key(p.seed, 2 * static_cast<uint64_t>(set_index) + 1);
  const uint64_t kv_key = stream_key(p.seed, 2 * static_cast<uint64_t>(set_index) + 2);
  fill_normal(p.dtype, s.q.ptr, p.q_elems(), q_key, p.q_scale, stream);
  const int64_t rows = p.num_pages * p.page_size;
  const int row_elems = p.h_kv * p.d;
  const unsigned grid = static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(rows, 1 << 20)));
  if (p.kv_dtype == MLAGEN_FP8_E4M3)
    fill_kv_kernel<MLAGEN_FP8_E4M3><<<grid, 192, 0, stream>>>(s.kv.ptr, rows, p.page_size, row_elems, t.page_valid.ptr, kv_key, p.kv_scale);
  else if (p.kv_dtype == MLAGEN_BF16)
    fill_kv_kernel<MLAGEN_BF16><<<grid, 192, 0, stream>>>(s.kv.ptr, rows, p.page_size, row_elems, t.page_valid.ptr, kv_key, 1.f);
  else
    fill_kv_kernel<MLAGEN_FP16><<<grid, 192, 0, stream>>>(s.kv.ptr, rows, p.page_size, row_elems, t.page_valid.ptr, kv_key, 1.f);
  MLAGEN_LAUNCH_CHECK("fill_kv_kernel");
  poison_outputs(p, s, stream);
  return s;
}

// ---- the split-KV schedule and workspace the library asks for -------------------------------------

struct Schedule {
  int32_t num_sms = 0, num_sm_parts = 0;
  DeviceArray<int32_t> metadata;    // [num_sm_parts][8]
  DeviceArray<int32_t> num_splits;  // [b + 1]
  DeviceArray<uint8_t> workspace;
  size_t workspace_bytes = 0;
};

/** The metadata call's arguments for problem p and the schedule buffers of s. */
inline mlagen_sched_params sched_params(const Problem& p, const DeviceTables& t, const Schedule& s, cudaStream_t stream) {
  mlagen_sched_params sp{};
  sp.seqlens = t.seqlens.ptr;
  sp.batch = p.b;
  sp.s_q = p.s_q;
  sp.h_q = p.h_q;
  sp.h_kv = p.h_kv;
  sp.num_sm_parts = s.num_sm_parts;
  sp.tile_scheduler_metadata = s.metadata.ptr;
  sp.num_splits = s.num_splits.ptr;
  sp.stream = stream;
  return sp;
}

inline mlagen_status make_schedule(const Library& lib, const Problem& p, const DeviceTables& t, int num_sms,
                                   Schedule& s, cudaStream_t stream) {
  s.num_sms = num_sms;
  s.num_sm_parts = lib.num_sm_parts(num_sms, p.s_q, p.h_q, p.h_kv);
  if (s.num_sm_parts < 1) return MLAGEN_ERR_INVALID_ARGUMENT;
  s.metadata.alloc(static_cast<size_t>(s.num_sm_parts) * MLAGEN_SCHED_METADATA_SIZE);
  s.num_splits.alloc(static_cast<size_t>(p.b) + 1);
  fill_bits<int32_t>(s.metadata.ptr, static_cast<int64_t>(s.metadata.count), INT32_MIN, stream);
  fill_bits<int32_t>(s.num_splits.ptr, static_cast<int64_t>(s.num_splits.count), INT32_MIN, stream);
  // The size only: metadata mode never decodes; check and bench allocate it with poison_workspace.
  s.workspace_bytes = lib.workspace_bytes(p.b, p.s_q, p.h_q, p.h_kv, s.num_sm_parts);
  const mlagen_sched_params sp = sched_params(p, t, s, stream);
  return lib.get_metadata(&sp);  // the caller's sync_after reports launch errors
}

/** Allocates the split-KV workspace on first use and fills it with NaN: a partial the kernel forgets shows. */
inline void poison_workspace(Schedule& s, cudaStream_t stream) {
  if (!s.workspace.ptr) s.workspace.alloc(s.workspace_bytes);
  if (s.workspace_bytes) MLAGEN_CUDA_CHECK(cudaMemsetAsync(s.workspace.ptr, 0xFF, s.workspace_bytes, stream));
}

inline mlagen_decode_params decode_params(const Problem& p, const DeviceTables& t, const Schedule& s,
                                          const InputSet& in, cudaStream_t stream) {
  mlagen_decode_params dp{};
  dp.q = in.q.ptr;
  dp.q_dtype = p.dtype;
  for (int i = 0; i < 3; ++i) {
    dp.q_stride[i] = p.q_stride[i];
    dp.kv_stride[i] = p.kv_stride[i];
    dp.out_stride[i] = p.out_stride[i];
  }
  dp.kv_cache = in.kv.ptr;
  dp.kv_dtype = p.kv_dtype;
  dp.kv_scale = p.kv_dtype == MLAGEN_FP8_E4M3 ? p.kv_scale : 0.f;  // 0: a 16-bit cache leaves it unset
  dp.num_pages = p.num_pages;
  dp.page_size = p.page_size;
  dp.block_table = t.block_table.ptr;
  dp.block_table_stride = p.max_pages;
  dp.max_pages_per_seq = p.max_pages;
  dp.seqlens = t.seqlens.ptr;
  dp.seqlens_host = p.seqlens.data();
  dp.tile_scheduler_metadata = s.metadata.ptr;
  dp.num_sm_parts = s.num_sm_parts;
  dp.num_splits = s.num_splits.ptr;
  dp.num_splits_len = p.b + 1;
  dp.out = in.out();
  dp.out_dtype = p.dtype;
  dp.lse = in.lse();
  dp.workspace = s.workspace.ptr;
  dp.workspace_bytes = s.workspace_bytes;
  dp.batch = p.b;
  dp.s_q = p.s_q;
  dp.h_q = p.h_q;
  dp.h_kv = p.h_kv;
  dp.d = p.d;
  dp.dv = p.dv;
  dp.softmax_scale = p.softmax_scale;
  dp.causal = p.causal;
  dp.stream = stream;
  return dp;
}

}  // namespace mlagen_harness

#endif  // MLAGEN_HARNESS_PROBLEM_CUH
