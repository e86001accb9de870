// mlagen harness: command-line flags. `--flag value` or `--flag=value`; anything unknown exits with code 2.
#ifndef MLAGEN_HARNESS_ARGS_H
#define MLAGEN_HARNESS_ARGS_H

#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "mlagen/harness/common.h"

namespace mlagen_harness {

// The variant's widths, defined by the generated harness_main.cu: the GPU reference is compiled for them.
#if !defined(MLAGEN_HARNESS_HEAD_DIM) || !defined(MLAGEN_HARNESS_VALUE_DIM)
#error "define MLAGEN_HARNESS_HEAD_DIM and MLAGEN_HARNESS_VALUE_DIM (the variant's d and dv) before including the harness"
#endif
constexpr int kHeadDim = MLAGEN_HARNESS_HEAD_DIM;    // d: K width (the whole cached row)
constexpr int kValueDim = MLAGEN_HARNESS_VALUE_DIM;  // dv: V width (the first dv columns of the row)

struct Args {
  std::string mode = "check";  // check | bench | metadata | ceilings
  // Problem.
  int b = 8, s_q = 1, h_q = 128, h_kv = 1, sk = 4096, page_size = 64;
  int varlen = 0, causal = 1;
  std::string dtype = "bf16";
  std::string kv_dtype;         // "" = dtype, or fp8 (e4m3, one scale per cache)
  double kv_scale = 1.0 / 16;   // fp8: K/V = kv_scale x the e4m3 values, drawn as e4m3(N(0,1) / kv_scale)
  uint64_t seed = 0;
  bool seed_given = false;
  double softmax_scale = 0.0;  // 0: 1/sqrt(d)
  double q_scale = 1.0;        // q ~ N(0, q_scale^2): larger values make the softmax peakier
  std::vector<int32_t> seqlens;
  bool seqlens_given = false;
  bool b_given = false;
  std::string seqlens_file;  // metadata mode: one batch per line
  long long num_pages = 0;   // at least this many physical pages in the cache (spare ones hold NaN)
  int bt_slack = -1;         // extra block-table columns past the longest request; -1: 0 or 1 at random
  long long bt_poison = INT32_MIN;  // block-table entries past a request's live pages
  // Check.
  int cpu_ref = -1;  // -1 auto (small problems), 0 off, 1 on
  // Tolerances; 0 = the dtype's default (see default_tolerances).
  double tol_out = 0, tol_excess = 0, tol_row = 0, tol_lse = 1e-5;
  int repeat = 2;             // decode runs in check mode; results must match bit for bit
  int require_deterministic = 1;
  // Bench.
  int iters = 50, warmup = 5;
  int calls = 0;       // decode calls per CUDA graph; 0: auto
  int max_sets = 32;   // input buffer sets rotated through to defeat L2
  int verify = 1;      // bench: check one decode against the GPU reference before timing
  int ceilings = 0;    // bench: also measure the copy and matmul ceilings
  // Metadata.
  int num_sms = 0;     // 0: the device's
};

/**
 * Default tolerances of out against the float32 reference. The target is a relative L2 error of
 * 2e-3 (bf16; fp16 6e-4). Rounding out to bf16 alone costs 1.66e-3 on random data (fp16 2.1e-4: the
 * "floor", reported as out_rel_l2_floor), and a kernel must also round P to bf16 before P.V (wgmma
 * takes both operands in one type), which a numpy model puts at 1.7e-3 to 2.2e-3 for 2 to 4096 keys.
 * So a case also passes when the error the kernel adds beyond the floor, sqrt(err^2 - floor^2), is
 * within tol_excess (the same 2e-3: a flat softmax, e.g. scale 0.01, adds ~1.6e-3 of P rounding). The worst row may be 6x tol_out (a row wrong on its own is diluted).
 */
inline void default_tolerances(Args& a) {
  if (a.tol_out <= 0) a.tol_out = a.dtype == "fp16" ? 6e-4 : 2e-3;
  if (a.tol_excess <= 0) a.tol_excess = a.dtype == "fp16" ? 6e-4 : 2e-3;
  if (a.tol_row <= 0) a.tol_row = 6 * a.tol_out;
}

inline const char* usage_text() {
  return "usage: harness --mode check|bench|metadata|ceilings [flags]\n"
         "problem:  --b N --s-q N --h-q N --h-kv N --sk N --varlen 0|1 --dtype bf16|fp16 --causal 0|1\n"
         "          --kv-dtype bf16|fp16|fp8 (default: --dtype) --kv-scale F (fp8: K/V = F x e4m3, default 1/16)\n"
         "          --page-size N --seed N --softmax-scale F --q-scale F --seqlens a,b,c (overrides --sk/--varlen)\n"
         "          --num-pages N (minimum physical pages) --bt-slack N (-1 random) --bt-poison N\n"
         "check:    --cpu-ref auto|0|1 --tol-out F (bf16 2e-3, fp16 6e-4) --tol-excess F (bf16 2e-3, fp16 6e-4) --tol-row F (6x tol-out) --tol-lse F (1e-5)\n"
         "          --repeat N --require-deterministic 0|1\n"
         "bench:    --iters N --warmup N --calls N --max-sets N --verify 0|1 --ceilings 0|1\n"
         "metadata: --seqlens a,b,c | --seqlens-file PATH (one batch per line; alias --metadata-file) --num-sms N\n"
         "prints one JSON object on stdout; exit 0 ran, 2 bad arguments, 3 no Hopper GPU, 4 CUDA error\n";
}

[[noreturn]] inline void bad_args(const std::string& message) {
  std::fputs(usage_text(), stderr);
  fatal(kExitBadArgs, "bad_args", message);
}

inline long long parse_int(const std::string& flag, const std::string& v, long long lo, long long hi) {
  errno = 0;
  char* end = nullptr;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || errno != 0 || end == nullptr || *end != '\0')
    bad_args(flag + ": '" + v + "' is not an integer");
  if (x < lo || x > hi)
    bad_args(flag + ": " + v + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return x;
}

inline double parse_float(const std::string& flag, const std::string& v) {
  errno = 0;
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || errno != 0 || end == nullptr || *end != '\0' || !std::isfinite(x))
    bad_args(flag + ": '" + v + "' is not a finite number");
  return x;
}

/** "a,b,c" (commas and/or blanks) -> lengths; every length in [0, INT32_MAX]. */
inline std::vector<int32_t> parse_seqlens(const std::string& flag, const std::string& text) {
  std::vector<int32_t> out;
  std::string tok;
  auto flush = [&]() {
    if (!tok.empty()) out.push_back(static_cast<int32_t>(parse_int(flag, tok, 0, INT32_MAX)));
    tok.clear();
  };
  for (char c : text) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n') flush();
    else tok += c;
  }
  flush();
  return out;
}

/** One batch of sequence lengths per non-empty line ('#' starts a comment). */
inline std::vector<std::vector<int32_t>> read_seqlens_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) bad_args("--seqlens-file: cannot read '" + path + "'");
  std::vector<std::vector<int32_t>> batches;
  std::string line;
  while (std::getline(in, line)) {
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::vector<int32_t> v = parse_seqlens("--seqlens-file", line);
    if (!v.empty()) batches.push_back(std::move(v));
  }
  if (batches.empty()) bad_args("--seqlens-file: '" + path + "' holds no batch");
  return batches;
}

inline Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    std::string value;
    bool has_value = false;
    if (flag == "--help" || flag == "-h") {
      std::fputs(usage_text(), stdout);
      std::exit(0);
    }
    if (flag.rfind("--", 0) != 0) bad_args("unexpected argument '" + flag + "'");
    size_t eq = flag.find('=');
    if (eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_value = true;
    } else if (i + 1 < argc) {
      value = argv[++i];
      has_value = true;
    }
    if (!has_value) bad_args(flag + " needs a value");
    auto I = [&](long long lo, long long hi) { return parse_int(flag, value, lo, hi); };
    if (flag == "--mode") {
      if (value != "check" && value != "bench" && value != "metadata" && value != "ceilings")
        bad_args("--mode: '" + value + "' is not one of check, bench, metadata, ceilings");
      a.mode = value;
    } else if (flag == "--b") { a.b = static_cast<int>(I(1, 1 << 20)); a.b_given = true; }
    else if (flag == "--s-q") a.s_q = static_cast<int>(I(1, 1024));
    else if (flag == "--h-q") a.h_q = static_cast<int>(I(1, 4096));
    else if (flag == "--h-kv") a.h_kv = static_cast<int>(I(1, 4096));
    else if (flag == "--sk") a.sk = static_cast<int>(I(0, INT32_MAX));
    else if (flag == "--varlen") a.varlen = static_cast<int>(I(0, 1));
    else if (flag == "--causal") a.causal = static_cast<int>(I(0, 1));
    else if (flag == "--page-size") a.page_size = static_cast<int>(I(1, 1 << 20));
    else if (flag == "--dtype") {
      if (value != "bf16" && value != "fp16") bad_args("--dtype: '" + value + "' is not bf16 or fp16");
      a.dtype = value;
    } else if (flag == "--kv-dtype") {
      if (value != "bf16" && value != "fp16" && value != "fp8") bad_args("--kv-dtype: '" + value + "' is not bf16, fp16 or fp8");
      a.kv_dtype = value;
    } else if (flag == "--kv-scale") {
      a.kv_scale = parse_float(flag, value);
      if (!(a.kv_scale > 0) || !std::isfinite(a.kv_scale)) bad_args("--kv-scale must be finite and > 0");
    } else if (flag == "--seed") {
      a.seed = static_cast<uint64_t>(I(0, LLONG_MAX));
      a.seed_given = true;
    } else if (flag == "--softmax-scale") {
      a.softmax_scale = parse_float(flag, value);
      if (!(a.softmax_scale > 0)) bad_args("--softmax-scale must be > 0");
    } else if (flag == "--q-scale") {
      a.q_scale = parse_float(flag, value);
      if (!(a.q_scale > 0)) bad_args("--q-scale must be > 0");
    } else if (flag == "--seqlens") {
      a.seqlens = parse_seqlens(flag, value);
      if (a.seqlens.empty()) bad_args("--seqlens: no length given");
      a.seqlens_given = true;
    } else if (flag == "--seqlens-file" || flag == "--metadata-file") a.seqlens_file = value;
    else if (flag == "--num-pages") a.num_pages = I(0, LLONG_MAX / 4);
    else if (flag == "--bt-slack") a.bt_slack = static_cast<int>(I(-1, 1 << 20));
    else if (flag == "--bt-poison") a.bt_poison = I(INT32_MIN, INT32_MAX);
    else if (flag == "--cpu-ref") a.cpu_ref = value == "auto" ? -1 : static_cast<int>(I(0, 1));
    else if (flag == "--tol-out") a.tol_out = parse_float(flag, value);
    else if (flag == "--tol-excess") a.tol_excess = parse_float(flag, value);
    else if (flag == "--tol-lse") a.tol_lse = parse_float(flag, value);
    else if (flag == "--tol-row") a.tol_row = parse_float(flag, value);
    else if (flag == "--repeat") a.repeat = static_cast<int>(I(1, 100));
    else if (flag == "--require-deterministic") a.require_deterministic = static_cast<int>(I(0, 1));
    else if (flag == "--iters") a.iters = static_cast<int>(I(1, 100000));
    else if (flag == "--warmup") a.warmup = static_cast<int>(I(0, 100000));
    else if (flag == "--calls") a.calls = static_cast<int>(I(0, 4096));
    else if (flag == "--max-sets") a.max_sets = static_cast<int>(I(1, 1024));
    else if (flag == "--verify") a.verify = static_cast<int>(I(0, 1));
    else if (flag == "--ceilings") a.ceilings = static_cast<int>(I(0, 1));
    else if (flag == "--num-sms") a.num_sms = static_cast<int>(I(0, 1 << 16));
    else bad_args("unknown flag " + flag);
  }
  if (a.kv_dtype.empty()) a.kv_dtype = a.dtype;
  if (a.kv_dtype != a.dtype && a.kv_dtype != "fp8")
    bad_args("--kv-dtype " + a.kv_dtype + " must equal --dtype " + a.dtype + " or be fp8");
  if (a.h_q % a.h_kv != 0)
    bad_args("--h-q " + std::to_string(a.h_q) + " is not a multiple of --h-kv " + std::to_string(a.h_kv));
  if (a.seqlens_given) {
    if (a.b_given && static_cast<size_t>(a.b) != a.seqlens.size())
      bad_args("--b " + std::to_string(a.b) + " disagrees with the " + std::to_string(a.seqlens.size()) +
               " lengths of --seqlens");
    a.b = static_cast<int>(a.seqlens.size());
  }
  if (a.mode == "metadata" && !a.seqlens_given && a.seqlens_file.empty() && !a.b_given)
    bad_args("--mode metadata needs --seqlens, --seqlens-file, or --b/--sk/--varlen");
  if (!a.seed_given) {
    // Fresh inputs on every run unless a seed is given; the JSON reports the seed used.
    uint64_t t = static_cast<uint64_t>(std::chrono::high_resolution_clock::now().time_since_epoch().count());
    std::random_device rd;
    a.seed = (t ^ (static_cast<uint64_t>(rd()) << 32) ^ rd()) & static_cast<uint64_t>(LLONG_MAX);
  }
  if (a.softmax_scale == 0.0) a.softmax_scale = 1.0 / std::sqrt(static_cast<double>(kHeadDim));
  default_tolerances(a);
  return a;
}

}  // namespace mlagen_harness

#endif  // MLAGEN_HARNESS_ARGS_H
