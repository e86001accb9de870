// mlagen harness: a tiny JSON writer. The harness prints exactly one JSON object on stdout;
// every number that is not finite is written as null (JSON has no NaN or infinity).
#ifndef MLAGEN_HARNESS_JSON_H
#define MLAGEN_HARNESS_JSON_H

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace mlagen_harness {

inline std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

inline std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

inline std::string json_int(long long v) { return std::to_string(v); }

template <typename T>
std::string json_int_array(const T* v, size_t n) {
  std::string out = "[";
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ",";
    out += std::to_string(static_cast<long long>(v[i]));
  }
  return out + "]";
}

template <typename T>
std::string json_int_array(const std::vector<T>& v) {
  return json_int_array(v.data(), v.size());
}

inline std::string json_string_array(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ",";
    out += json_quote(v[i]);
  }
  return out + "]";
}

/** Builds one object; keys appear in insertion order. */
class JsonObject {
 public:
  JsonObject& raw(const char* key, const std::string& json) {
    if (!body_.empty()) body_ += ",";
    body_ += json_quote(key) + ":" + json;
    return *this;
  }
  JsonObject& num(const char* key, double v) { return raw(key, json_number(v)); }
  JsonObject& integer(const char* key, long long v) { return raw(key, json_int(v)); }
  JsonObject& str(const char* key, const std::string& v) { return raw(key, json_quote(v)); }
  JsonObject& boolean(const char* key, bool v) { return raw(key, v ? "true" : "false"); }
  JsonObject& null(const char* key) { return raw(key, "null"); }
  JsonObject& obj(const char* key, const JsonObject& o) { return raw(key, o.text()); }
  std::string text() const { return "{" + body_ + "}"; }
  bool empty() const { return body_.empty(); }

 private:
  std::string body_;
};

}  // namespace mlagen_harness

#endif  // MLAGEN_HARNESS_JSON_H
