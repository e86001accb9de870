// mlagen harness: the four modes (check, bench, metadata, ceilings) and the entry point the
// rendered harness.cu calls. Each mode prints exactly one JSON object on stdout.
#ifndef MLAGEN_HARNESS_MODES_CUH
#define MLAGEN_HARNESS_MODES_CUH

#include <cuda_runtime.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "mlagen/harness/args.h"
#include "mlagen/harness/ceilings.cuh"
#include "mlagen/harness/common.h"
#include "mlagen/harness/compare.h"
#include "mlagen/harness/device.cuh"
#include "mlagen/harness/json.h"
#include "mlagen/harness/problem.cuh"
#include "mlagen/harness/reference.cuh"
#include "mlagen/harness/timing.cuh"

namespace mlagen_harness {

constexpr int kJsonVersion = 1;

/** What the rendered harness knows about the library it was built with. */
struct Build {
  std::string variant;              // {{variantId}}
  std::vector<std::string> dtypes;  // {{dtypeList}}, e.g. "bf16,fp16"
};

inline std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> out;
  std::string tok;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      tok += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!tok.empty()) {
      out.push_back(tok);
      tok.clear();
    }
  }
  if (!tok.empty()) out.push_back(tok);
  return out;
}

inline bool dtype_built(const Build& b, mlagen_dtype t) {
  if (b.dtypes.empty()) return true;  // the list was left empty: let the library decide
  return std::find(b.dtypes.begin(), b.dtypes.end(), dtype_name(t)) != b.dtypes.end();
}

inline JsonObject header(const Build& build, const Library& lib, const DeviceInfo* dev, const std::string& mode) {
  JsonObject o;
  o.str("harness", "mlagen").integer("version", kJsonVersion).str("mode", mode).str("variant", build.variant);
  const char* lib_id = lib.variant_id ? lib.variant_id() : nullptr;
  o.str("library_variant", lib_id ? lib_id : "");
  o.raw("built_dtypes", json_string_array(build.dtypes));
  if (dev) o.obj("device", dev->json());
  return o;
}

inline std::string last_error(const Library& lib) {
  const char* m = lib.last_error ? lib.last_error() : nullptr;
  return m ? m : "";
}

inline void emit(const JsonObject& o) {
  std::fflush(stderr);
  std::printf("%s\n", o.text().c_str());
  std::fflush(stdout);
}

/** The library refused (a non-OK status): a result, not a crash. Exit 0 with pass = false. */
inline int library_refused(JsonObject& o, const Library& lib, const char* call, mlagen_status st) {
  const std::string msg = std::string(call) + " returned " + status_name(st) + ": " + last_error(lib);
  log_line("%s", msg.c_str());
  o.str("status", status_name(st)).boolean("pass", false).str("error", msg);
  o.raw("reasons", json_string_array({msg}));
  emit(o);
  return kExitRan;
}

/** Synchronizes after a library call; a CUDA error here is the library's (exit 4, JSON names the call). */
inline void sync_after(cudaStream_t stream, const std::string& what) {
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) e = cudaStreamSynchronize(stream);
  if (e != cudaSuccess)
    fatal(kExitCuda, "cuda_error", std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e) + " after " + what);
}

/** Light checks of what mlagen_get_metadata wrote (the lead compares the values with the planner). */
inline std::vector<std::string> schedule_problems(const Problem& p, const Schedule& s, JsonObject& out) {
  std::vector<std::string> problems;
  std::vector<int32_t> splits = s.num_splits.download(static_cast<size_t>(p.b) + 1);
  std::vector<int32_t> meta = s.metadata.download(s.metadata.count);
  if (splits[0] != 0) problems.push_back("num_splits[0] = " + std::to_string(splits[0]) + ", expected 0");
  for (int i = 0; i < p.b; ++i)
    if (splits[i + 1] < splits[i]) {
      problems.push_back("num_splits decreases at request " + std::to_string(i));
      break;
    }
  const int64_t capacity = static_cast<int64_t>(p.b) + s.num_sm_parts;
  if (splits[p.b] > capacity)
    problems.push_back("num_splits[b] = " + std::to_string(splits[p.b]) + " exceeds the workspace's " +
                       std::to_string(capacity) + " partial rows (batch + num_sm_parts)");
  for (size_t i = 0; i < meta.size(); ++i)
    if (meta[i] == INT32_MIN) {
      problems.push_back("tile_scheduler_metadata element " + std::to_string(i) + " was not written");
      break;
    }
  out.integer("num_sms", s.num_sms).integer("num_sm_parts", s.num_sm_parts);
  out.integer("workspace_bytes", static_cast<long long>(s.workspace_bytes)).integer("total_splits", splits[p.b]);
  out.raw("problems", json_string_array(problems));
  return problems;
}

/** Kernel output and lse of one run, copied back (guards included), plus what the guards say. */
struct RunResult {
  std::vector<uint16_t> out_all;
  std::vector<float> lse_all;
  std::vector<float> out;  // body, decoded
  std::vector<float> lse;  // body
  int64_t out_guard_bad = 0, lse_guard_bad = 0;
};

inline RunResult collect(const Problem& p, const InputSet& in) {
  RunResult r;
  r.out_all = in.out_all.download(in.out_all.count);
  r.lse_all = in.lse_all.download(in.lse_all.count);
  const size_t n_out = static_cast<size_t>(p.out_elems()), n_lse = static_cast<size_t>(p.lse_elems());
  r.out.resize(n_out);
  for (size_t i = 0; i < n_out; ++i) r.out[i] = host_raw_to_float(p.dtype, r.out_all[kGuardElems + i]);
  r.lse.assign(r.lse_all.begin() + kGuardElems, r.lse_all.begin() + kGuardElems + n_lse);
  r.out_guard_bad = guard_damage<uint16_t>(r.out_all, n_out, poison_bits(p.dtype));
  std::vector<uint32_t> lse_bits(r.lse_all.size());
  std::memcpy(lse_bits.data(), r.lse_all.data(), lse_bits.size() * 4);
  r.lse_guard_bad = guard_damage<uint32_t>(lse_bits, n_lse, kF32Poison);
  return r;
}

inline bool same_bits(const RunResult& a, const RunResult& b) {
  return a.out_all == b.out_all &&
         std::memcmp(a.lse_all.data(), b.lse_all.data(), a.lse_all.size() * sizeof(float)) == 0;
}

inline mlagen_status call_decode(const Library& lib, const Problem& p, const DeviceTables& t, const Schedule& s,
                                 const InputSet& in, cudaStream_t stream) {
  mlagen_decode_params dp = decode_params(p, t, s, in, stream);
  return lib.decode(&dp);
}

/** Judges one comparison against the tolerances; appends the reasons it fails. */
inline void judge(const Comparison& c, const Args& a, const std::string& against, std::vector<std::string>& reasons) {
  auto fmt = [](double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", x);
    return std::string(buf);
  };
  if (c.out_nonfinite > 0) reasons.push_back(std::to_string(c.out_nonfinite) + " non-finite out elements (unwritten or NaN)");
  // Within tol_out, or what the kernel adds beyond the output-rounding floor is within tol_excess.
  const double excess = std::sqrt(std::max(0.0, c.out_rel_l2 * c.out_rel_l2 - c.out_rel_l2_floor * c.out_rel_l2_floor));
  if (!(c.out_rel_l2 <= a.tol_out) && !(excess <= a.tol_excess))
    reasons.push_back("out rel L2 " + fmt(c.out_rel_l2) + " > " + fmt(a.tol_out) + " and beyond the rounding floor " +
                      fmt(c.out_rel_l2_floor) + " by " + fmt(excess) + " > " + fmt(a.tol_excess) + " vs " + against);
  if (!(c.worst_row_rel_l2 <= a.tol_row))
    reasons.push_back("worst out row rel L2 " + fmt(c.worst_row_rel_l2) + " > " + fmt(a.tol_row) + " vs " + against);
  if (c.lse_inf_mismatch > 0)
    reasons.push_back(std::to_string(c.lse_inf_mismatch) + " rows that see no key do not have lse = +inf");
  if (c.lse_nonfinite > 0) reasons.push_back(std::to_string(c.lse_nonfinite) + " non-finite lse values");
  if (!(c.lse_max_rel <= a.tol_lse))
    reasons.push_back("lse rel error " + fmt(c.lse_max_rel) + " > " + fmt(a.tol_lse) + " vs " + against);
}

/**
 * Starts the JSON of a check or bench run of problem p. False (with the JSON emitted) when the case's
 * dtype is not one this library was built for: the runner counts that as a skip.
 */
inline bool open_case(const Build& build, const Library& lib, const DeviceInfo& dev, const char* mode, const Problem& p,
                      JsonObject& o) {
  context().case_info = case_json(p);
  o = header(build, lib, &dev, mode);
  o.obj("case", context().case_info);
  if (dtype_built(build, p.dtype)) return true;
  o.str("status", "dtype_not_built").boolean("pass", false);
  o.str("error", std::string("this library was built for ") + json_string_array(build.dtypes) + ", not " + dtype_name(p.dtype));
  emit(o);
  return false;
}

// ---- check -------------------------------------------------------------------------------------

inline int run_check(const Args& a, const Build& build, const Library& lib, const DeviceInfo& dev,
                     cudaStream_t stream) {
  Problem p = make_problem(a);
  JsonObject o;
  if (!open_case(build, lib, dev, "check", p, o)) return kExitRan;
  std::vector<std::string> reasons;
  const char* lib_id = lib.variant_id();
  if (!lib_id || build.variant != lib_id)
    reasons.push_back("harness built for " + build.variant + " but linked with " + (lib_id ? lib_id : "(null)"));

  log_line("check %s: b=%d s_q=%d h_q=%d total_kv=%lld dtype=%s causal=%d seed=%llu", build.variant.c_str(), p.b, p.s_q,
      p.h_q, static_cast<long long>(p.total_kv), dtype_name(p.dtype), p.causal, static_cast<unsigned long long>(p.seed));
  DeviceTables t = upload_tables(p);
  InputSet in = make_input_set(p, t, 0, stream);
  Schedule sched;
  mlagen_status st = make_schedule(lib, p, t, dev.sms, sched, stream);
  if (st != MLAGEN_OK) return library_refused(o, lib, "mlagen_get_metadata", st);
  sync_after(stream, "mlagen_get_metadata");
  JsonObject sched_json;
  for (const std::string& s : schedule_problems(p, sched, sched_json)) reasons.push_back("schedule: " + s);

  GpuReference ref;
  run_gpu_reference(p, t, in, ref, stream);
  if (ref.nan_seen) reasons.push_back("harness bug: the reference read NaN from a live cache slot");
  const std::vector<float> out_ref = ref.out.download(ref.out.count);
  const std::vector<float> lse_ref = ref.lse.download(ref.lse.count);

  JsonObject check;
  RunResult first;
  Comparison cmp;
  bool bitwise_equal = true;
  double decode_ms = 0;
  for (int rep = 0; rep < a.repeat; ++rep) {
    poison_outputs(p, in, stream);
    poison_workspace(sched, stream);
    MLAGEN_CUDA_CHECK(cudaStreamSynchronize(stream));
    auto t0 = std::chrono::steady_clock::now();
    st = call_decode(lib, p, t, sched, in, stream);
    if (st != MLAGEN_OK) return library_refused(o, lib, "mlagen_decode", st);
    sync_after(stream, "mlagen_decode (run " + std::to_string(rep + 1) + ")");
    if (rep == 0) decode_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    RunResult r = collect(p, in);
    if (rep == 0) {
      first = std::move(r);
      cmp = compare(p, first.out, out_ref, first.lse, lse_ref, true);
    } else if (!same_bits(first, r)) {
      bitwise_equal = false;
      Comparison again = compare(p, r.out, out_ref, r.lse, lse_ref, false);
      judge(again, a, "the GPU reference (run " + std::to_string(rep + 1) + ")", reasons);
    }
  }
  judge(cmp, a, "the GPU reference", reasons);
  if (first.out_guard_bad) reasons.push_back(std::to_string(first.out_guard_bad) + " out guard elements overwritten (write out of bounds)");
  if (first.lse_guard_bad) reasons.push_back(std::to_string(first.lse_guard_bad) + " lse guard elements overwritten (write out of bounds)");
  if (!bitwise_equal && a.require_deterministic)
    reasons.push_back("results differ between identical runs (a race?)");

  check = cmp.json(p);
  check.num("tol_out", a.tol_out).num("tol_excess", a.tol_excess).num("tol_row", a.tol_row).num("tol_lse", a.tol_lse);
  check.integer("out_guard_bad", first.out_guard_bad).integer("lse_guard_bad", first.lse_guard_bad);
  check.integer("repeats", a.repeat).boolean("repeat_bitwise_equal", bitwise_equal);
  check.num("gpu_ref_ms", ref.ms).num("decode_wall_ms", decode_ms);

  // CPU float64 reference: validates the GPU reference, and the kernel once more.
  const double work = cpu_ref_work(p);
  const bool cpu = a.cpu_ref == 1 || (a.cpu_ref < 0 && work <= kCpuRefAutoLimit);
  if (cpu) {
    auto t0 = std::chrono::steady_clock::now();
    HostInputs host = download_inputs(p, in);
    std::vector<double> out64, lse64;
    run_cpu_reference(p, host, out64, lse64);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    Comparison ref_vs_cpu = compare(p, out_ref, out64, lse_ref, lse64, false);
    Comparison kernel_vs_cpu = compare(p, first.out, out64, first.lse, lse64, true);
    JsonObject c;
    c.boolean("ran", true).num("ms", ms).num("work_rows_x_keys", work);
    c.num("gpu_ref_out_rel_l2", ref_vs_cpu.out_rel_l2).num("gpu_ref_out_max_abs", ref_vs_cpu.out_max_abs);
    c.num("gpu_ref_lse_max_rel", ref_vs_cpu.lse_max_rel);
    c.num("out_rel_l2", kernel_vs_cpu.out_rel_l2).num("out_max_abs", kernel_vs_cpu.out_max_abs);
    c.num("lse_max_rel", kernel_vs_cpu.lse_max_rel);
    check.obj("cpu_ref", c);
    // float32 against float64 lands near 1e-7; 1e-5 leaves room and still catches a wrong reference.
    if (!(ref_vs_cpu.out_rel_l2 <= 1e-5) || !(ref_vs_cpu.lse_max_rel <= 1e-5) || ref_vs_cpu.out_nonfinite ||
        ref_vs_cpu.lse_inf_mismatch || ref_vs_cpu.lse_nonfinite)
      reasons.push_back("harness bug: the GPU reference disagrees with the CPU float64 reference");
    judge(kernel_vs_cpu, a, "the CPU float64 reference", reasons);
  } else {
    JsonObject c;
    c.boolean("ran", false).num("work_rows_x_keys", work).num("auto_limit", kCpuRefAutoLimit);
    check.obj("cpu_ref", c);
  }
  check.obj("schedule", sched_json);

  // Reasons repeat when both references see the same fault; keep the first of each.
  std::vector<std::string> unique;
  for (const std::string& r : reasons)
    if (std::find(unique.begin(), unique.end(), r) == unique.end()) unique.push_back(r);
  o.str("status", "ok").boolean("pass", unique.empty()).raw("reasons", json_string_array(unique));
  o.obj("check", check);
  emit(o);
  return kExitRan;
}

// ---- bench -------------------------------------------------------------------------------------

inline int run_bench(const Args& a, const Build& build, const Library& lib, const DeviceInfo& dev,
                     cudaStream_t stream) {
  Problem p = make_problem(a);
  JsonObject o;
  if (!open_case(build, lib, dev, "bench", p, o)) return kExitRan;
  std::vector<std::string> reasons;
  log_line("bench %s: b=%d s_q=%d h_q=%d total_kv=%lld dtype=%s seed=%llu", build.variant.c_str(), p.b, p.s_q, p.h_q,
      static_cast<long long>(p.total_kv), dtype_name(p.dtype), static_cast<unsigned long long>(p.seed));
  DeviceTables t = upload_tables(p);
  std::vector<InputSet> sets;
  sets.push_back(make_input_set(p, t, 0, stream));
  Schedule sched;
  mlagen_status st = make_schedule(lib, p, t, dev.sms, sched, stream);
  if (st != MLAGEN_OK) return library_refused(o, lib, "mlagen_get_metadata", st);
  sync_after(stream, "mlagen_get_metadata");
  poison_workspace(sched, stream);

  // Verify the configuration being timed (never time a wrong kernel).
  if (a.verify) {
    GpuReference ref;
    run_gpu_reference(p, t, sets[0], ref, stream);
    st = call_decode(lib, p, t, sched, sets[0], stream);
    if (st != MLAGEN_OK) return library_refused(o, lib, "mlagen_decode", st);
    sync_after(stream, "mlagen_decode (verification run)");
    RunResult r = collect(p, sets[0]);
    Comparison cmp = compare(p, r.out, ref.out.download(ref.out.count), r.lse, ref.lse.download(ref.lse.count), true);
    judge(cmp, a, "the GPU reference", reasons);
    if (r.out_guard_bad || r.lse_guard_bad) reasons.push_back("guard elements overwritten (write out of bounds)");
    JsonObject c = cmp.json(p);
    c.num("tol_out", a.tol_out).num("tol_excess", a.tol_excess).num("tol_row", a.tol_row).num("tol_lse", a.tol_lse);
    o.obj("check", c);
  }

  // Input sets: enough that k consecutive calls never find their inputs in L2.
  const size_t l2 = dev.l2_bytes ? dev.l2_bytes : (size_t{50} << 20);
  const size_t touched = std::max<size_t>(touched_bytes(p), 1);
  int n_sets = touched >= 2 * l2 ? 1 : static_cast<int>(std::min<size_t>(a.max_sets, (2 * l2 + touched - 1) / touched + 1));
  size_t free_b = 0, total_b = 0;
  MLAGEN_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  const size_t set_bytes = input_set_bytes(p);
  const int affordable = static_cast<int>(std::min<size_t>(1024, 1 + (free_b / 2) / std::max<size_t>(set_bytes, 1)));
  n_sets = std::max(1, std::min(n_sets, affordable));
  for (int i = 1; i < n_sets; ++i) sets.push_back(make_input_set(p, t, i, stream));
  MLAGEN_CUDA_CHECK(cudaStreamSynchronize(stream));

  auto enqueue = [&](int i) { return call_decode(lib, p, t, sched, sets[static_cast<size_t>(i) % sets.size()], stream); };
  // Warm-up outside any graph (module load, attribute setting), and a first estimate of one call.
  for (int i = 0; i < 3; ++i) {
    st = enqueue(i);
    if (st != MLAGEN_OK) return library_refused(o, lib, "mlagen_decode", st);
  }
  sync_after(stream, "mlagen_decode (warm-up)");
  const double estimate_us = median_us(stream, 3, [&]() { (void)enqueue(0); });
  sync_after(stream, "mlagen_decode (estimate)");

  int calls = a.calls;
  if (calls <= 0) calls = static_cast<int>(std::min(64.0, std::max(4.0, std::ceil(1000.0 / std::max(estimate_us, 1.0)))));
  calls = std::max(calls, n_sets);
  calls = (calls + n_sets - 1) / n_sets * n_sets;

  L2Flusher flusher;
  flusher.init(l2);
  GraphCapture many = capture_graph(stream, calls, enqueue);
  GraphCapture one = capture_graph(stream, 1, enqueue);
  if (many.status != MLAGEN_OK) return library_refused(o, lib, "mlagen_decode (captured)", many.status);
  auto launch_many = [&]() {
    if (many.exec) MLAGEN_CUDA_CHECK(cudaGraphLaunch(many.exec, stream));
    else for (int i = 0; i < calls; ++i) (void)enqueue(i);
  };
  auto launch_one = [&]() {
    if (one.exec) MLAGEN_CUDA_CHECK(cudaGraphLaunch(one.exec, stream));
    else (void)enqueue(0);
  };
  std::vector<double> us_many = time_replays(stream, flusher, a.warmup, a.iters, calls, launch_many);
  sync_after(stream, "mlagen_decode (timed graph)");
  std::vector<double> us_one = time_replays(stream, flusher, a.warmup, a.iters, 1, launch_one);
  sync_after(stream, "mlagen_decode (timed single call)");
  const Stats sm = summarize(us_many), s1 = summarize(us_one);

  const mlagen_sched_params sp = sched_params(p, t, sched, stream);
  const double metadata_us = median_us(stream, 20, [&]() { (void)lib.get_metadata(&sp); });
  sync_after(stream, "mlagen_get_metadata (timed)");
  if (many.exec) MLAGEN_CUDA_CHECK(cudaGraphExecDestroy(many.exec));
  if (one.exec) MLAGEN_CUDA_CHECK(cudaGraphExecDestroy(one.exec));

  JsonObject b;
  b.num("us", sm.median).num("us_min", sm.min).num("us_p90", sm.p90).num("us_mean", sm.mean);
  b.num("us_single", s1.median).num("us_single_min", s1.min).num("us_single_p90", s1.p90);
  b.num("tflops", p.flops() / (sm.median * 1e-6) / 1e12).num("gbps", p.bytes() / (sm.median * 1e-6) / 1e9);
  b.num("tflops_single", p.flops() / (s1.median * 1e-6) / 1e12).num("gbps_single", p.bytes() / (s1.median * 1e-6) / 1e9);
  b.num("flops", p.flops()).num("bytes", p.bytes()).integer("total_kv", p.total_kv);
  b.num("metadata_us", metadata_us).num("estimate_us", estimate_us);
  b.integer("calls_per_graph", calls).integer("buffer_sets", n_sets).integer("replays", a.iters).integer("warmup", a.warmup);
  b.integer("bytes_per_set", static_cast<long long>(touched)).integer("l2_bytes", static_cast<long long>(l2));
  b.integer("flush_bytes", static_cast<long long>(flusher.bytes()));
  b.boolean("graph", many.exec != nullptr);
  if (!many.error.empty()) b.str("graph_error", many.error);
  b.integer("num_sm_parts", sched.num_sm_parts).integer("workspace_bytes", static_cast<long long>(sched.workspace_bytes));
  o.obj("bench", b);
  if (a.ceilings) o.obj("ceilings", measure_ceilings(stream).json());
  o.str("status", "ok");
  if (a.verify) o.boolean("pass", reasons.empty());
  else o.null("pass");
  o.raw("reasons", json_string_array(reasons));
  emit(o);
  return kExitRan;
}

// ---- metadata ----------------------------------------------------------------------------------

inline int run_metadata(const Args& a, const Build& build, const Library& lib, const DeviceInfo& dev,
                        cudaStream_t stream) {
  std::vector<std::vector<int32_t>> batches;
  if (!a.seqlens_file.empty()) batches = read_seqlens_file(a.seqlens_file);
  else batches.push_back(make_problem(a).seqlens);
  const int num_sms = a.num_sms > 0 ? a.num_sms : dev.sms;
  JsonObject o = header(build, lib, &dev, "metadata");
  o.integer("num_sms", num_sms).integer("s_q", a.s_q).integer("h_q", a.h_q).integer("h_kv", a.h_kv);
  std::string list = "[";
  bool all_ok = true;
  for (size_t bi = 0; bi < batches.size(); ++bi) {
    const std::vector<int32_t>& lens = batches[bi];
    Problem p;
    p.b = static_cast<int>(lens.size());
    p.s_q = a.s_q;
    p.h_q = a.h_q;
    p.h_kv = a.h_kv;
    p.seqlens = lens;
    DeviceTables t;
    t.seqlens.alloc(lens.size());
    t.seqlens.upload(lens);
    Schedule s;
    JsonObject one;
    one.raw("seqlens", json_int_array(lens));
    mlagen_status st = make_schedule(lib, p, t, num_sms, s, stream);
    if (st == MLAGEN_OK) sync_after(stream, "mlagen_get_metadata");
    one.str("status", status_name(st)).integer("num_sm_parts", s.num_sm_parts);
    one.integer("workspace_bytes", static_cast<long long>(s.workspace_bytes));
    if (st == MLAGEN_OK) {
      std::vector<int32_t> meta = s.metadata.download(s.metadata.count);
      std::string rows = "[";
      for (int r = 0; r < s.num_sm_parts; ++r) {
        if (r) rows += ",";
        rows += json_int_array(meta.data() + static_cast<size_t>(r) * MLAGEN_SCHED_METADATA_SIZE, MLAGEN_SCHED_METADATA_SIZE);
      }
      one.raw("tile_scheduler_metadata", rows + "]");
      one.raw("num_splits", json_int_array(s.num_splits.download(lens.size() + 1)));
    } else {
      all_ok = false;
      one.str("error", last_error(lib));
    }
    list += (bi ? "," : "") + one.text();
  }
  o.raw("batches", list + "]");
  o.str("status", "ok").boolean("pass", all_ok);
  emit(o);
  return kExitRan;
}

// ---- ceilings ----------------------------------------------------------------------------------

inline int run_ceilings(const Build& build, const Library& lib, const DeviceInfo& dev, cudaStream_t stream) {
  JsonObject o = header(build, lib, &dev, "ceilings");
  o.obj("ceilings", measure_ceilings(stream).json());
  o.str("status", "ok").boolean("pass", true);
  emit(o);
  return kExitRan;
}

// ---- entry point -------------------------------------------------------------------------------

inline int harness_main(int argc, char** argv, const Library& lib, const char* variant_id, const char* dtype_list) {
  Build build;
  build.variant = variant_id;
  build.dtypes = split_names(dtype_list);
  context().variant = build.variant;
  context().mode = "check";  // the default mode
  for (int i = 1; i < argc; ++i) {  // so that a bad-arguments JSON already names the mode
    if (std::strcmp(argv[i], "--mode") == 0 && i + 1 < argc) context().mode = argv[i + 1];
    else if (std::strncmp(argv[i], "--mode=", 7) == 0) context().mode = argv[i] + 7;
  }
  Args a = parse_args(argc, argv);
  context().mode = a.mode;
  DeviceInfo dev = require_hopper();
  cudaStream_t stream;
  MLAGEN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  int rc = kExitRan;
  if (a.mode == "check") rc = run_check(a, build, lib, dev, stream);
  else if (a.mode == "bench") rc = run_bench(a, build, lib, dev, stream);
  else if (a.mode == "metadata") rc = run_metadata(a, build, lib, dev, stream);
  else rc = run_ceilings(build, lib, dev, stream);
  MLAGEN_CUDA_CHECK(cudaStreamSynchronize(stream));
  MLAGEN_CUDA_CHECK(cudaStreamDestroy(stream));
  return rc;
}

}  // namespace mlagen_harness

#endif  // MLAGEN_HARNESS_MODES_CUH
