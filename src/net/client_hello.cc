#include "net/client_hello.h"

#include <cstdint>

namespace torii::net {

namespace {

constexpr uint8_t kHandshakeRecord = 22;
constexpr uint8_t kClientHello = 1;
constexpr uint16_t kServerNameExtension = 0;
constexpr uint8_t kHostName = 0;
constexpr size_t kRecordHeader = 5;
constexpr size_t kHandshakeHeader = 4;
// TLSPlaintext.length is at most 2^14.
constexpr size_t kMaxRecordPayload = 16384;

// Bounds-checked big-endian reader over one buffer.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool u8(uint32_t& out) { return take(1, out); }
  bool u16(uint32_t& out) { return take(2, out); }
  bool u24(uint32_t& out) { return take(3, out); }
  bool bytes(size_t n, std::string_view& out) {
    if (data_.size() - pos_ < n) return false;
    out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool skip(size_t n) {
    std::string_view ignored;
    return bytes(n, ignored);
  }
  bool empty() const { return pos_ == data_.size(); }

 private:
  bool take(size_t n, uint32_t& out) {
    if (data_.size() - pos_ < n) return false;
    out = 0;
    for (size_t i = 0; i < n; ++i) out = (out << 8) | static_cast<uint8_t>(data_[pos_ + i]);
    pos_ += n;
    return true;
  }
  std::string_view data_;
  size_t pos_ = 0;
};

// Skips a vector with a `len_bytes`-byte length prefix.
bool skip_vector(Reader& r, int len_bytes) {
  uint32_t n = 0;
  if (!(len_bytes == 1 ? r.u8(n) : r.u16(n))) return false;
  return r.skip(n);
}

// The host_name of a server_name extension body ("" if none).
std::string read_server_name(std::string_view body) {
  Reader r(body);
  uint32_t list_len = 0;
  std::string_view list;
  if (!r.u16(list_len) || !r.bytes(list_len, list)) return {};
  Reader entries(list);
  while (!entries.empty()) {
    uint32_t type = 0;
    uint32_t len = 0;
    std::string_view name;
    if (!entries.u8(type) || !entries.u16(len) || !entries.bytes(len, name)) return {};
    if (type != kHostName) continue;
    std::string out(name);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
  }
  return {};
}

// A complete ClientHello body (after the 4-byte handshake header).
ClientHelloInfo parse_body(std::string_view body) {
  ClientHelloInfo info;
  info.status = ClientHelloInfo::Status::kDone;
  Reader r(body);
  uint32_t version = 0;
  // version, random, session_id, cipher_suites, compression_methods
  if (!r.u16(version) || !r.skip(32) || !skip_vector(r, 1) || !skip_vector(r, 2) || !skip_vector(r, 1)) {
    info.status = ClientHelloInfo::Status::kNotTls;
    return info;
  }
  if (r.empty()) return info;  // no extensions at all
  uint32_t ext_len = 0;
  std::string_view extensions;
  if (!r.u16(ext_len) || !r.bytes(ext_len, extensions)) {
    info.status = ClientHelloInfo::Status::kNotTls;
    return info;
  }
  Reader e(extensions);
  while (!e.empty()) {
    uint32_t type = 0;
    uint32_t len = 0;
    std::string_view data;
    if (!e.u16(type) || !e.u16(len) || !e.bytes(len, data)) {
      info.status = ClientHelloInfo::Status::kNotTls;
      return info;
    }
    if (type == kServerNameExtension) {
      info.server_name = read_server_name(data);
      return info;
    }
  }
  return info;
}

}  // namespace

ClientHelloInfo parse_client_hello(std::string_view bytes, size_t max_bytes) {
  ClientHelloInfo info;
  // The handshake message is the concatenated payload of consecutive
  // handshake records; it is only copied when it spans more than one.
  std::string_view first_payload;
  std::string joined;
  size_t records = 0;
  size_t pos = 0;
  for (;;) {
    if (bytes.size() - pos < kRecordHeader) {
      // Decide "not TLS" as early as the first byte allows.
      if (pos < bytes.size() && static_cast<uint8_t>(bytes[pos]) != kHandshakeRecord)
        info.status = ClientHelloInfo::Status::kNotTls;
      return info;  // kNeedMore
    }
    const auto type = static_cast<uint8_t>(bytes[pos]);
    const auto major = static_cast<uint8_t>(bytes[pos + 1]);
    const size_t length = (static_cast<size_t>(static_cast<uint8_t>(bytes[pos + 3])) << 8) |
                          static_cast<uint8_t>(bytes[pos + 4]);
    if (type != kHandshakeRecord || major != 3 || length == 0 || length > kMaxRecordPayload) {
      info.status = ClientHelloInfo::Status::kNotTls;
      return info;
    }
    if (bytes.size() - pos - kRecordHeader < length) return info;  // kNeedMore
    const std::string_view payload = bytes.substr(pos + kRecordHeader, length);
    pos += kRecordHeader + length;
    if (records == 0) {
      first_payload = payload;
    } else {
      if (records == 1) joined.assign(first_payload);
      joined.append(payload);
    }
    ++records;
    const std::string_view message = records == 1 ? first_payload : std::string_view(joined);
    if (message.size() < kHandshakeHeader) continue;
    if (static_cast<uint8_t>(message[0]) != kClientHello) {
      info.status = ClientHelloInfo::Status::kNotTls;
      return info;
    }
    const size_t body_len = (static_cast<size_t>(static_cast<uint8_t>(message[1])) << 16) |
                            (static_cast<size_t>(static_cast<uint8_t>(message[2])) << 8) |
                            static_cast<uint8_t>(message[3]);
    if (body_len + kHandshakeHeader > max_bytes) {
      info.status = ClientHelloInfo::Status::kTooLarge;
      return info;
    }
    if (message.size() >= kHandshakeHeader + body_len)
      return parse_body(message.substr(kHandshakeHeader, body_len));
  }
}

}  // namespace torii::net
