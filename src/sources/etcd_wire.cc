#include "sources/etcd_wire.h"

#include <array>
#include <cstdlib>

namespace torii::sources {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

nlohmann::json op_json(const TxnOp& op) {
  switch (op.type) {
    case TxnOp::Type::Put: {
      nlohmann::json put = {{"key", base64_encode(op.key)}, {"value", base64_encode(op.value)}};
      if (op.lease != 0) put["lease"] = std::to_string(op.lease);
      return {{"request_put", put}};
    }
    case TxnOp::Type::Delete: {
      nlohmann::json del = {{"key", base64_encode(op.key)}};
      if (!op.range_end.empty()) del["range_end"] = base64_encode(op.range_end);
      return {{"request_delete_range", del}};
    }
    case TxnOp::Type::Range: {
      nlohmann::json range = {{"key", base64_encode(op.key)}};
      if (!op.range_end.empty()) range["range_end"] = base64_encode(op.range_end);
      return {{"request_range", range}};
    }
  }
  return {};
}

bool decoded(const nlohmann::json& object, const char* field, std::string& out) {
  out.clear();
  auto it = object.find(field);
  if (it == object.end()) return true;
  return it->is_string() && base64_decode(it->get_ref<const std::string&>(), out);
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16 | static_cast<uint8_t>(bytes[i + 1]) << 8 |
                       static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16 | static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += '=';
  }
  return out;
}

bool base64_decode(std::string_view text, std::string& out) {
  out.clear();
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return false;
  out.reserve(text.size() * 3 / 4);
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    const int v = sextet(c);
    if (v < 0) return false;
    bits = bits << 6 | static_cast<uint32_t>(v);
    if (++count == 4) {
      out += static_cast<char>(bits >> 16 & 0xff);
      out += static_cast<char>(bits >> 8 & 0xff);
      out += static_cast<char>(bits & 0xff);
      bits = 0;
      count = 0;
    }
  }
  if (count == 2) {
    out += static_cast<char>(bits >> 4 & 0xff);
  } else if (count == 3) {
    out += static_cast<char>(bits >> 10 & 0xff);
    out += static_cast<char>(bits >> 2 & 0xff);
  }
  return true;
}

std::string prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<uint8_t>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

int64_t json_int(const nlohmann::json& object, const char* field) {
  if (!object.is_object()) return 0;
  auto it = object.find(field);
  if (it == object.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) return std::strtoll(it->get_ref<const std::string&>().c_str(), nullptr, 10);
  return 0;
}

KeyValue parse_key_value(const nlohmann::json& kv) {
  KeyValue out;
  if (!kv.is_object()) return out;
  decoded(kv, "key", out.key);
  decoded(kv, "value", out.value);
  out.create_revision = json_int(kv, "create_revision");
  out.mod_revision = json_int(kv, "mod_revision");
  out.version = json_int(kv, "version");
  out.lease = json_int(kv, "lease");
  return out;
}

nlohmann::json range_request(std::string_view key, std::string_view range_end, int64_t revision) {
  nlohmann::json request = {{"key", base64_encode(key)}};
  if (!range_end.empty()) request["range_end"] = base64_encode(range_end);
  if (revision > 0) request["revision"] = std::to_string(revision);
  return request;
}

bool parse_range_response(const nlohmann::json& body, RangeResponse& out) {
  if (!body.is_object() || !body.contains("header")) return false;
  out.revision = json_int(body["header"], "revision");
  out.kvs.clear();
  if (auto it = body.find("kvs"); it != body.end() && it->is_array()) {
    out.kvs.reserve(it->size());
    for (const auto& kv : *it) out.kvs.push_back(parse_key_value(kv));
  }
  return true;
}

nlohmann::json txn_request(const std::vector<TxnCompare>& compares, const std::vector<TxnOp>& success,
                           const std::vector<TxnOp>& failure) {
  nlohmann::json request = nlohmann::json::object();
  nlohmann::json& compare = request["compare"] = nlohmann::json::array();
  for (const TxnCompare& c : compares) {
    compare.push_back({{"key", base64_encode(c.key)},
                       {"target", "MOD"},
                       {"result", "EQUAL"},
                       {"mod_revision", std::to_string(c.mod_revision)}});
  }
  nlohmann::json& ok = request["success"] = nlohmann::json::array();
  for (const TxnOp& op : success) ok.push_back(op_json(op));
  if (!failure.empty()) {
    nlohmann::json& not_ok = request["failure"] = nlohmann::json::array();
    for (const TxnOp& op : failure) not_ok.push_back(op_json(op));
  }
  return request;
}

bool parse_txn_response(const nlohmann::json& body, TxnResponse& out) {
  if (!body.is_object() || !body.contains("header")) return false;
  out.revision = json_int(body["header"], "revision");
  auto it = body.find("succeeded");
  out.succeeded = it != body.end() && it->is_boolean() && it->get<bool>();
  return true;
}

nlohmann::json watch_create_request(std::string_view key, std::string_view range_end,
                                    int64_t start_revision) {
  nlohmann::json create = {{"key", base64_encode(key)}};
  if (!range_end.empty()) create["range_end"] = base64_encode(range_end);
  if (start_revision > 0) create["start_revision"] = std::to_string(start_revision);
  return {{"create_request", create}};
}

bool parse_watch_message(const nlohmann::json& message, WatchMessage& out) {
  out = WatchMessage{};
  if (!message.is_object()) return false;
  if (auto error = message.find("error"); error != message.end()) {
    out.error = error_message(message);
    return true;
  }
  auto result = message.find("result");
  if (result == message.end() || !result->is_object()) return false;
  const nlohmann::json& r = *result;
  out.revision = r.contains("header") ? json_int(r["header"], "revision") : 0;
  out.created = r.value("created", false);
  out.canceled = r.value("canceled", false);
  out.compact_revision = json_int(r, "compact_revision");
  if (auto reason = r.find("cancel_reason"); reason != r.end() && reason->is_string())
    out.cancel_reason = *reason;
  if (auto events = r.find("events"); events != r.end() && events->is_array()) {
    for (const auto& e : *events) {
      WatchEvent event;
      auto type = e.find("type");
      event.deleted = type != e.end() && type->is_string() && *type == "DELETE";
      if (auto kv = e.find("kv"); kv != e.end()) event.kv = parse_key_value(*kv);
      out.events.push_back(std::move(event));
    }
  }
  return true;
}

std::vector<std::string> take_json_objects(std::string& buffer) {
  std::vector<std::string> out;
  size_t start = 0, i = 0;
  int depth = 0;
  bool in_string = false, escaped = false;
  for (; i < buffer.size(); ++i) {
    const char c = buffer[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      if (depth++ == 0) start = i;
    } else if (c == '}' && depth > 0 && --depth == 0) {
      out.push_back(buffer.substr(start, i + 1 - start));
      buffer.erase(0, i + 1);
      i = static_cast<size_t>(-1);  // the loop's ++i: from 0 again
    }
  }
  if (depth == 0) buffer.clear();  // whitespace between messages
  return out;
}

std::string error_message(const nlohmann::json& body) {
  if (!body.is_object()) return "unexpected answer";
  auto error = body.find("error");
  if (error != body.end() && error->is_object()) {
    // A stream's error: {"error": {"grpc_code": 14, "http_code": 503, "message": "..."}}.
    if (auto m = error->find("message"); m != error->end() && m->is_string()) return *m;
  }
  if (auto m = body.find("message"); m != body.end() && m->is_string()) return *m;
  if (error != body.end() && error->is_string()) return *error;
  return "unexpected answer: " + body.dump().substr(0, 200);
}

}  // namespace torii::sources
