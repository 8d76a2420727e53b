#include "proxy/grpc_web.h"

#include <openssl/evp.h>

namespace torii::proxy {

namespace {
constexpr std::string_view kGrpcWeb = "application/grpc-web";
constexpr std::string_view kGrpcWebText = "application/grpc-web-text";
constexpr unsigned char kTrailerFlag = 0x80;

// base64 of whole 3-byte groups (OpenSSL's encoder, no newlines).
void base64_encode(std::string_view in, std::string& out) {
  const size_t at = out.size();
  out.resize(at + 4 * ((in.size() + 2) / 3) + 1);
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at),
                      reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(at + static_cast<size_t>(n));
}
}  // namespace

GrpcWeb::Mode GrpcWeb::detect(const http::HeaderMap& request_headers) {
  const std::string_view* type = request_headers.get("content-type");
  if (type == nullptr) return Mode::None;
  auto is = [&](std::string_view base) {
    if (!type->starts_with(base)) return false;
    const std::string_view rest = type->substr(base.size());
    return rest.empty() || rest.front() == '+' || rest.front() == ';';
  };
  if (is(kGrpcWebText)) return Mode::Text;
  if (is(kGrpcWeb)) return Mode::Binary;
  return Mode::None;
}

void GrpcWeb::translate_request_headers(http::HeaderMap& headers) const {
  headers.set("content-type", "application/grpc");
  headers.set("te", "trailers");
  if (text()) headers.remove("content-length");  // decoding changes the length
}

bool GrpcWeb::decode_request_body(std::string_view data, std::string& out) {
  if (!text()) {
    out.append(data);
    return true;
  }
  pending_in_.append(data);
  const size_t whole = pending_in_.size() / 4 * 4;
  if (whole == 0) return true;
  // EVP_DecodeBlock keeps the padding's zero bytes: take them back off.
  // Clients may send padded groups mid-stream (one per message).
  for (size_t group = 0; group < whole; group += 4) {
    const char* in = pending_in_.data() + group;
    unsigned char decoded[3];
    if (EVP_DecodeBlock(decoded, reinterpret_cast<const unsigned char*>(in), 4) != 3) return false;
    size_t n = 3;
    if (in[3] == '=') n = in[2] == '=' ? 1 : 2;
    out.append(reinterpret_cast<const char*>(decoded), n);
  }
  pending_in_.erase(0, whole);
  return true;
}

void GrpcWeb::translate_response_headers(http::HeaderMap& headers) const {
  const std::string_view* type = headers.get("content-type");
  // Only a gRPC answer is translated (a plain HTTP error passes as it is).
  if (type == nullptr || !type->starts_with("application/grpc")) return;
  headers.set("content-type", text() ? "application/grpc-web-text+proto" : "application/grpc-web+proto");
  if (text()) headers.remove("content-length");
}

void GrpcWeb::encode_response_body(std::string_view data, std::string& out) {
  if (text()) {
    append_text(data, out);
  } else {
    out.append(data);
  }
}

void GrpcWeb::encode_trailers(const http::HeaderMap& trailers, std::string& out) {
  std::string block;
  for (const http::HeaderMap::Entry& e : trailers.entries()) {
    block.append(e.name);
    block.push_back(':');
    block.append(e.value);
    block.append("\r\n");
  }
  std::string frame;
  frame.push_back(static_cast<char>(kTrailerFlag));
  const auto n = static_cast<uint32_t>(block.size());
  frame.push_back(static_cast<char>(n >> 24));
  frame.push_back(static_cast<char>(n >> 16));
  frame.push_back(static_cast<char>(n >> 8));
  frame.push_back(static_cast<char>(n));
  frame.append(block);
  encode_response_body(frame, out);
  finish(out);
}

void GrpcWeb::finish(std::string& out) {
  if (!text() || pending_out_.empty()) return;
  base64_encode(pending_out_, out);
  pending_out_.clear();
}

void GrpcWeb::append_text(std::string_view data, std::string& out) {
  pending_out_.append(data);
  const size_t whole = pending_out_.size() / 3 * 3;
  if (whole == 0) return;
  base64_encode(std::string_view(pending_out_).substr(0, whole), out);
  pending_out_.erase(0, whole);
}

}  // namespace torii::proxy
