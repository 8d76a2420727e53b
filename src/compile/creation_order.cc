#include "compile/creation_order.h"

#include <tuple>

namespace torii::compile {

namespace {

// Parses exactly `digits` decimal digits at `pos`.
bool read_number(std::string_view text, size_t& pos, int digits, int64_t& out) {
  if (pos + static_cast<size_t>(digits) > text.size()) return false;
  out = 0;
  for (int i = 0; i < digits; ++i) {
    char c = text[pos++];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

bool expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size()) return false;
  char got = text[pos];
  if (got >= 'a' && got <= 'z') got = static_cast<char>(got - 'a' + 'A');
  if (got != c) return false;
  ++pos;
  return true;
}

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic
// Gregorian date.
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// (has no timestamp, time): objects with a timestamp sort first, by time;
// the others by load order.
std::pair<bool, int64_t> creation_key(const config::ObjectMeta& meta) {
  if (!meta.creation_timestamp.empty()) {
    if (auto t = parse_rfc3339(meta.creation_timestamp)) return {false, *t};
  }
  return {true, meta.load_order};
}

}  // namespace

std::optional<int64_t> parse_rfc3339(std::string_view text) {
  size_t pos = 0;
  int64_t year, month, day, hour, minute, second;
  if (!read_number(text, pos, 4, year) || !expect(text, pos, '-') || !read_number(text, pos, 2, month) ||
      !expect(text, pos, '-') || !read_number(text, pos, 2, day) || !expect(text, pos, 'T') ||
      !read_number(text, pos, 2, hour) || !expect(text, pos, ':') || !read_number(text, pos, 2, minute) ||
      !expect(text, pos, ':') || !read_number(text, pos, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 9) nanos = nanos * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 9; ++i) nanos *= 10;
  }
  int64_t offset_seconds = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int64_t sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int64_t oh, om;
    if (!read_number(text, pos, 2, oh) || !expect(text, pos, ':') || !read_number(text, pos, 2, om)) {
      return std::nullopt;
    }
    offset_seconds = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  int64_t seconds =
      days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return seconds * 1'000'000'000 + nanos;
}

bool created_before(const config::ObjectMeta& a, const config::ObjectMeta& b) {
  auto ka = creation_key(a);
  auto kb = creation_key(b);
  return std::tie(ka, a.name, a.namespace_) < std::tie(kb, b.name, b.namespace_);
}

}  // namespace torii::compile
