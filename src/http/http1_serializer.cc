#include "http/http1_serializer.h"

#include <charconv>
#include <string>

#include "http/status_reason.h"

namespace torii::http {

namespace {

// Builds the head in a reused per-thread string, then appends it with one
// copy: cheaper than many small Buffer::append calls.
std::string& scratch() {
  thread_local std::string s;
  s.clear();
  return s;
}

void append_headers(std::string& s, const HeaderMap& headers) {
  for (const HeaderMap::Entry& e : headers.entries()) {
    s.append(e.name);
    s.append(": ", 2);
    s.append(e.value);
    s.append("\r\n", 2);
  }
  s.append("\r\n", 2);
}

}  // namespace

void write_request_head(net::Buffer& out, std::string_view method, std::string_view target,
                        const HeaderMap& headers) {
  std::string& s = scratch();
  s.append(method);
  s.push_back(' ');
  s.append(target);
  s.append(" HTTP/1.1\r\n", 11);
  append_headers(s, headers);
  out.append(s);
}

void write_response_head(net::Buffer& out, int status, const HeaderMap& headers, int version_minor) {
  std::string& s = scratch();
  s.append(version_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ", 9);
  char digits[8];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), status);
  (void)ec;
  s.append(digits, static_cast<size_t>(end - digits));
  s.push_back(' ');
  s.append(status_reason(status));
  s.append("\r\n", 2);
  append_headers(s, headers);
  out.append(s);
}

void write_chunk(net::Buffer& out, std::string_view data) {
  if (data.empty()) return;
  char head[24];
  auto [end, ec] = std::to_chars(head, head + 16, data.size(), 16);
  (void)ec;
  *end++ = '\r';
  *end++ = '\n';
  out.append(head, static_cast<size_t>(end - head));
  out.append(data);
  out.append("\r\n", 2);
}

void write_last_chunk(net::Buffer& out) { out.append("0\r\n\r\n", 5); }

}  // namespace torii::http
