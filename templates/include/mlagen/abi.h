// mlagen C ABI: the types every generated library exports. Hand-written, shared by all variants.
// A generated `mlagen.h` includes this file and declares the entry points of one library.
//
// Conventions (FlashMLA-compatible):
//   q          [batch, s_q, h_q, d]        dtype q_dtype, last dim contiguous, strides in elements
//   kv_cache   [num_pages, page_size, h_kv, d]  K = all d columns, V = the first dv columns of the same row;
//              in q_dtype, or fp8 e4m3 with one scale per cache (kv_scale)
//   block_table int32 [batch, max_pages_per_seq], row stride in elements
//   seqlens    int32 [batch] on the device
//   out        [batch, s_q, h_q, dv]       in out_dtype (== q_dtype)
//   lse        float32 [batch, h_q, s_q]   contiguous, natural log; +inf for a row that sees no key
//   tile_scheduler_metadata int32 [num_sm_parts, 8]; num_splits int32 [batch + 1]
//   workspace: mlagen_workspace_bytes() bytes of device memory for split partials.
#ifndef MLAGEN_ABI_H
#define MLAGEN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mlagen_status {
  MLAGEN_OK = 0,
  MLAGEN_ERR_INVALID_ARGUMENT = 1, /* a shape, stride, dtype or pointer the caller passed is wrong */
  MLAGEN_ERR_UNSUPPORTED = 2,      /* valid in general, but not what this library was generated for */
  MLAGEN_ERR_CUDA = 3,             /* a CUDA call failed; the message holds cudaGetErrorString */
} mlagen_status;

typedef enum mlagen_dtype {
  MLAGEN_BF16 = 0,
  MLAGEN_FP16 = 1,
  MLAGEN_FP32 = 2,
  MLAGEN_FP8_E4M3 = 3,
} mlagen_dtype;

/* Slots of one tile_scheduler_metadata row (FlashMLA's layout). */
enum {
  MLAGEN_SCHED_BEGIN_IDX = 0,     /* first request of this SM part */
  MLAGEN_SCHED_BEGIN_SEQLEN = 1,  /* first token of the first request (a multiple of the KV block) */
  MLAGEN_SCHED_END_IDX = 2,       /* last request (inclusive) */
  MLAGEN_SCHED_END_SEQLEN = 3,    /* one past the last token of the last request */
  MLAGEN_SCHED_BEGIN_SPLIT = 4,   /* split index of the first request's piece */
  MLAGEN_SCHED_METADATA_SIZE = 8,
};

typedef struct mlagen_sched_params {
  const int32_t* seqlens;           /* [batch], device */
  int32_t batch;
  int32_t s_q, h_q, h_kv;
  int32_t num_sm_parts;             /* rows of tile_scheduler_metadata; see mlagen_num_sm_parts */
  int32_t* tile_scheduler_metadata; /* [num_sm_parts, 8], device, written */
  int32_t* num_splits;              /* [batch + 1], device, written (exclusive prefix sum of splits) */
  void* stream;                     /* cudaStream_t */
} mlagen_sched_params;

typedef struct mlagen_decode_params {
  const void* q;            mlagen_dtype q_dtype;  int64_t q_stride[3];   /* batch, seq, head */
  const void* kv_cache;     mlagen_dtype kv_dtype; int64_t kv_stride[3];  /* page, token, head */
  int64_t num_pages;        int32_t page_size;
  const int32_t* block_table; int64_t block_table_stride; int32_t max_pages_per_seq;
  const int32_t* seqlens;       /* [batch], device */
  const int32_t* seqlens_host;  /* optional host copy: enables the host-side capacity check */
  const int32_t* tile_scheduler_metadata; int32_t num_sm_parts;
  const int32_t* num_splits;    int32_t num_splits_len;                  /* must be batch + 1 */
  void* out;                mlagen_dtype out_dtype; int64_t out_stride[3]; /* batch, seq, head */
  float* lse;                   /* [batch, h_q, s_q], contiguous */
  void* workspace;          size_t workspace_bytes;
  int32_t batch, s_q, h_q, h_kv, d, dv;
  float softmax_scale;          /* finite and > 0: the kernels scale the row maximum of the raw scores */
  float kv_scale;               /* kv_dtype MLAGEN_FP8_E4M3: K and V are kv_scale x the cached e4m3 values, finite and > 0;
                                   a 16-bit cache holds its values: 0 (unset) or 1 */
  int32_t causal;
  void* stream;                 /* cudaStream_t */
} mlagen_decode_params;

#ifdef __cplusplus
}
#endif
#endif /* MLAGEN_ABI_H */
