// mlagen harness: how a result is judged against a reference.
//   out: relative L2 error ||out - ref|| / ||ref|| over the whole tensor, and the max absolute error,
//        both over the finite elements; any non-finite element fails on its own (out_nonfinite):
//        an unwritten element still holds the NaN poison.
//   lse: max over rows of |lse - ref| / max(1, |ref|) (relative, absolute near 0: a row with one key
//        has lse = its score, which can be 0); a row that sees no key must be exactly +inf
//        (lse_inf_mismatch), and any other non-finite lse fails (lse_nonfinite).
//   floor: the relative L2 error of the reference itself rounded to the output dtype: what a perfect
//        kernel would still score (about 1.7e-3 for bf16, 2.1e-4 for fp16).
#ifndef MLAGEN_HARNESS_COMPARE_H
#define MLAGEN_HARNESS_COMPARE_H

#include <cmath>
#include <cstdint>
#include <vector>

#include "mlagen/harness/json.h"
#include "mlagen/harness/problem.cuh"

namespace mlagen_harness {

struct Comparison {
  double out_rel_l2 = 0, out_max_abs = 0, out_rel_l2_floor = 0;
  int64_t out_nonfinite = 0, first_nonfinite = -1;
  int64_t worst_row = -1;
  double worst_row_rel_l2 = 0;
  double lse_max_rel = 0, lse_max_abs = 0;
  int64_t lse_nonfinite = 0;     // NaN or inf where the reference is finite
  int64_t lse_inf_mismatch = 0;  // the reference is +inf (no key) and the result is not
  int64_t worst_lse = -1;

  JsonObject json(const Problem& p) const {
    JsonObject o;
    o.num("out_rel_l2", out_rel_l2).num("out_max_abs", out_max_abs).num("out_rel_l2_floor", out_rel_l2_floor);
    o.integer("out_nonfinite", out_nonfinite);
    if (first_nonfinite >= 0) o.obj("first_nonfinite", where_out(p, first_nonfinite));
    if (worst_row >= 0) {
      JsonObject w = where_row(p, worst_row);
      w.num("rel_l2", worst_row_rel_l2);
      o.obj("worst_row", w);
    }
    o.num("lse_max_rel", lse_max_rel).num("lse_max_abs", lse_max_abs);
    o.integer("lse_nonfinite", lse_nonfinite).integer("lse_inf_mismatch", lse_inf_mismatch);
    if (worst_lse >= 0) o.obj("worst_lse", where_lse(p, worst_lse));
    return o;
  }

  static JsonObject where_row(const Problem& p, int64_t row) {
    JsonObject w;
    const int bi = static_cast<int>(row / (static_cast<int64_t>(p.h_q) * p.s_q));
    const int s = static_cast<int>((row / p.h_q) % p.s_q);
    w.integer("b", bi).integer("s", s).integer("h", row % p.h_q);
    w.integer("seqlen", p.seqlens[bi]).integer("keys_seen", p.keys_seen(bi, s));
    return w;
  }
  static JsonObject where_out(const Problem& p, int64_t index) {
    JsonObject w = where_row(p, index / p.dv);
    w.integer("col", index % p.dv);
    return w;
  }
  static JsonObject where_lse(const Problem& p, int64_t index) {  // index into [b][h_q][s_q]
    const int s = static_cast<int>(index % p.s_q);
    const int h = static_cast<int>((index / p.s_q) % p.h_q);
    const int bi = static_cast<int>(index / (static_cast<int64_t>(p.s_q) * p.h_q));
    return where_row(p, (static_cast<int64_t>(bi) * p.s_q + s) * p.h_q + h);
  }
};

/** `out` is the kernel's output decoded to float, `lse` its lse; R is float (GPU ref) or double (CPU ref). */
template <typename R>
Comparison compare(const Problem& p, const std::vector<float>& out, const std::vector<R>& out_ref,
                   const std::vector<float>& lse, const std::vector<R>& lse_ref, bool with_floor) {
  Comparison c;
  double err2 = 0, ref2 = 0, floor2 = 0;
  const int64_t rows = p.rows();
  for (int64_t row = 0; row < rows; ++row) {
    double row_err2 = 0, row_ref2 = 0;
    for (int64_t col = 0; col < p.dv; ++col) {
      const int64_t i = row * p.dv + col;
      const double o = out[i], r = static_cast<double>(out_ref[i]);
      if (!std::isfinite(o)) {
        if (c.first_nonfinite < 0) c.first_nonfinite = i;
        ++c.out_nonfinite;
        continue;
      }
      const double e = o - r;
      row_err2 += e * e;
      row_ref2 += r * r;
      c.out_max_abs = std::max(c.out_max_abs, std::fabs(e));
      if (with_floor) {
        const double f = static_cast<double>(host_round_to(p.dtype, static_cast<float>(r))) - r;
        floor2 += f * f;
      }
    }
    err2 += row_err2;
    ref2 += row_ref2;
    const double row_rel = row_ref2 > 0 ? std::sqrt(row_err2 / row_ref2) : std::sqrt(row_err2);
    if (c.worst_row < 0 || row_rel > c.worst_row_rel_l2) {
      c.worst_row = row;
      c.worst_row_rel_l2 = row_rel;
    }
  }
  c.out_rel_l2 = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  c.out_rel_l2_floor = ref2 > 0 ? std::sqrt(floor2 / ref2) : 0.0;

  for (int64_t i = 0; i < p.lse_elems(); ++i) {
    const double k = lse[i], r = static_cast<double>(lse_ref[i]);
    if (std::isinf(r) && r > 0) {
      if (!(std::isinf(k) && k > 0)) {
        ++c.lse_inf_mismatch;
        if (c.worst_lse < 0) c.worst_lse = i;
      }
      continue;
    }
    if (!std::isfinite(k)) {
      ++c.lse_nonfinite;
      if (c.worst_lse < 0) c.worst_lse = i;
      continue;
    }
    const double abs_err = std::fabs(k - r);
    const double rel = abs_err / std::max(1.0, std::fabs(r));
    c.lse_max_abs = std::max(c.lse_max_abs, abs_err);
    if (rel > c.lse_max_rel) {
      c.lse_max_rel = rel;
      if (c.lse_nonfinite == 0 && c.lse_inf_mismatch == 0) c.worst_lse = i;
    }
  }
  return c;
}

/** Guard elements that no longer hold the poison pattern (a write out of bounds). */
template <typename T>
int64_t guard_damage(const std::vector<T>& all, size_t body, T poison) {
  int64_t bad = 0;
  for (size_t i = 0; i < kGuardElems; ++i) bad += all[i] != poison;
  for (size_t i = kGuardElems + body; i < all.size(); ++i) bad += all[i] != poison;
  return bad;
}

}  // namespace mlagen_harness

#endif  // MLAGEN_HARNESS_COMPARE_H
