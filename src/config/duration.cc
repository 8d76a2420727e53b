#include "config/duration.h"

#include <cctype>
#include <limits>

namespace torii::config {
namespace {

constexpr int64_t kMaxNanos = std::numeric_limits<int64_t>::max();

std::optional<int64_t> unit_nanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1000;  // also U+00B5, U+03BC
  if (unit == "ms") return 1000 * 1000;
  if (unit == "s") return int64_t{1000} * 1000 * 1000;
  if (unit == "m") return int64_t{60} * 1000 * 1000 * 1000;
  if (unit == "h") return int64_t{3600} * 1000 * 1000 * 1000;
  return std::nullopt;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::optional<int64_t> fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return std::nullopt;
}

}  // namespace

// Mirrors Go's time.ParseDuration: [-+]? (number unit)+ with number = digits
// [. digits], or the bare "0".
std::optional<int64_t> parse_duration_ns(std::string_view text, std::string* error) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return fail(error, "invalid duration " + quoted);

  int64_t total = 0;
  while (!s.empty()) {
    if (!is_digit(s[0]) && s[0] != '.') return fail(error, "invalid duration " + quoted);
    // Integer part.
    int64_t whole = 0;
    size_t i = 0;
    bool overflow = false;
    for (; i < s.size() && is_digit(s[i]); ++i) {
      const int d = s[i] - '0';
      if (whole > (kMaxNanos - d) / 10) overflow = true;
      if (!overflow) whole = whole * 10 + d;
    }
    const bool had_whole = i > 0;
    // Fraction: keep as many digits as fit, like Go does.
    int64_t fraction = 0;
    double scale = 1;
    bool had_fraction = false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      for (; i < s.size() && is_digit(s[i]); ++i) {
        had_fraction = true;
        if (fraction <= (kMaxNanos - 9) / 10) {
          fraction = fraction * 10 + (s[i] - '0');
          scale *= 10;
        }
      }
    }
    if (!had_whole && !had_fraction) return fail(error, "invalid duration " + quoted);
    if (overflow) return fail(error, "invalid duration " + quoted);
    // Unit: everything up to the next number.
    size_t j = i;
    while (j < s.size() && s[j] != '.' && !is_digit(s[j])) ++j;
    if (j == i) return fail(error, "missing unit in duration " + quoted);
    const auto unit = unit_nanos(s.substr(i, j - i));
    if (!unit)
      return fail(error, "unknown unit \"" + std::string(s.substr(i, j - i)) + "\" in duration " + quoted);
    if (whole > kMaxNanos / *unit) return fail(error, "invalid duration " + quoted);
    int64_t value = whole * *unit;
    if (fraction > 0) {
      const double extra = static_cast<double>(fraction) * (static_cast<double>(*unit) / scale);
      if (extra >= static_cast<double>(kMaxNanos - value)) return fail(error, "invalid duration " + quoted);
      value += static_cast<int64_t>(extra);
    }
    if (value > kMaxNanos - total) return fail(error, "invalid duration " + quoted);
    total += value;
    s.remove_prefix(j);
  }
  return negative ? -total : total;
}

}  // namespace torii::config
