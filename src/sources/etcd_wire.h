// The JSON of etcd's v3 gRPC gateway (etcd 3.4: POST /v3/kv/range, /v3/kv/txn,
// /v3/watch, /v3/lease/*, /v3/auth/authenticate), without any I/O: request
// bodies out, parsed answers in. Keys and values travel base64-encoded;
// int64 fields come as JSON strings ("revision": "12"), and fields equal to
// their default are left out (a PUT event has no "type", revision 0 none).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace torii::sources {

std::string base64_encode(std::string_view bytes);
// False on a character outside the standard alphabet (padding optional).
bool base64_decode(std::string_view text, std::string& out);

// The range_end that makes a range or a watch cover every key starting with
// `prefix` (etcd's clientv3.GetPrefixRangeEnd): the prefix with its last
// byte below 0xff incremented and what follows dropped.
std::string prefix_range_end(std::string_view prefix);

// An int64 field as the gateway writes it (a string), or as a number; 0 when absent.
int64_t json_int(const nlohmann::json& object, const char* field);

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};
KeyValue parse_key_value(const nlohmann::json& kv);

struct RangeResponse {
  int64_t revision = 0;  // the store's revision the answer was read at
  std::vector<KeyValue> kvs;
};
nlohmann::json range_request(std::string_view key, std::string_view range_end, int64_t revision);
bool parse_range_response(const nlohmann::json& body, RangeResponse& out);

// One operation of a transaction (and what a put/delete on its own sends).
struct TxnOp {
  enum class Type { Put, Delete, Range } type = Type::Put;
  std::string key;
  std::string value;      // Put
  std::string range_end;  // Delete, Range: empty for one key
  int64_t lease = 0;      // Put
};
// "The key's mod_revision is `mod_revision`"; 0 means the key does not exist.
struct TxnCompare {
  std::string key;
  int64_t mod_revision = 0;
};
struct TxnResponse {
  bool succeeded = false;
  int64_t revision = 0;
};
nlohmann::json txn_request(const std::vector<TxnCompare>& compares, const std::vector<TxnOp>& success,
                           const std::vector<TxnOp>& failure = {});
bool parse_txn_response(const nlohmann::json& body, TxnResponse& out);

// One message of the /v3/watch stream.
struct WatchEvent {
  bool deleted = false;  // DELETE; else PUT
  KeyValue kv;           // for a DELETE: key and mod_revision only
};
struct WatchMessage {
  bool created = false;
  bool canceled = false;
  int64_t compact_revision = 0;  // > 0: the start revision was compacted away
  int64_t revision = 0;          // of the header
  std::string cancel_reason;
  std::vector<WatchEvent> events;
  std::string error;  // the gateway's {"error": ...} for a failed stream
};
// Takes the complete JSON objects off the front of `buffer` (the watch
// stream's messages, newline-delimited by the gateway, split here by brace
// depth outside strings, so a message cut across reads waits for its end).
std::vector<std::string> take_json_objects(std::string& buffer);

nlohmann::json watch_create_request(std::string_view key, std::string_view range_end, int64_t start_revision);
bool parse_watch_message(const nlohmann::json& message, WatchMessage& out);

// etcd's error body ({"error": "...", "message": "...", "code": N}) as one line.
std::string error_message(const nlohmann::json& body);

}  // namespace torii::sources
