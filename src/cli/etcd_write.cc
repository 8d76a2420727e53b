#include "cli/etcd_write.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cli/etcd_cli.h"
#include "sources/etcd_keys.h"

namespace torii::cli {

namespace {

// etcd's default --max-txn-ops: compares and operations of one transaction,
// each; and its default --max-request-bytes is 1.5 MiB, which keys and values
// reach at about 1.1 MiB once base64-encoded in JSON: 1 MiB per transaction.
constexpr size_t kMaxTxnOps = 128;
constexpr size_t kMaxTxnBytes = 1 << 20;

// The lease of a chunked apply's "writing" mark: if `torii apply` dies half-way
// the mark goes and replicas stop holding back (they then serve what was written).
constexpr int64_t kChunkedApplyLeaseS = 60;

// After a failed compare: which objects someone else changed since they were read.
int report_conflicts(sources::EtcdClient& etcd, const std::vector<Change>& changes, const char* outcome) {
  sources::EtcdError error;
  for (const Change& c : changes) {
    sources::RangeResponse now;
    if (!etcd.range(c.etcd_key, "", 0, now, error)) return etcd_failure("apply", error);
    const int64_t revision = now.kvs.empty() ? 0 : now.kvs[0].mod_revision;
    if (revision != c.expect_revision && std::string_view(c.verb) != "unchanged") {
      std::fprintf(stderr,
                   "torii: %s was changed by someone else meanwhile (mod_revision %lld, now "
                   "%lld); %s\n",
                   c.key.str().c_str(), static_cast<long long>(c.expect_revision),
                   static_cast<long long>(revision), outcome);
    }
  }
  return kExitInvalid;
}

}  // namespace

std::vector<std::pair<size_t, size_t>> transactions(const std::vector<sources::TxnOp>& puts) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t first = 0, bytes = 0;
  for (size_t i = 0; i < puts.size(); ++i) {
    const size_t size = puts[i].key.size() * 2 + puts[i].value.size();  // the key twice: put and compare
    if (i > first && (i - first == kMaxTxnOps || bytes + size > kMaxTxnBytes)) {
      out.emplace_back(first, i);
      first = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (first < puts.size()) out.emplace_back(first, puts.size());
  return out;
}

int write_in_one_transaction(sources::EtcdClient& etcd, const std::vector<sources::TxnCompare>& compares,
                             const std::vector<sources::TxnOp>& puts, const std::vector<Change>& changes) {
  sources::TxnResponse done;
  sources::EtcdError error;
  if (!etcd.txn(compares, puts, {}, done, error)) return etcd_failure("apply", error);
  if (!done.succeeded) return report_conflicts(etcd, changes, "nothing was written");
  return 0;
}

// More than one transaction holds: the chunks are written between a
// "writing" and a "done" value of the generation key (sources/etcd_keys.h),
// so replicas switch to the new objects only once the last chunk has landed.
// A compare that fails half-way puts back what the earlier chunks changed.
int write_in_chunks(sources::EtcdClient& etcd, const std::string& prefix,
                    const std::vector<std::pair<size_t, size_t>>& chunks,
                    const std::vector<sources::TxnCompare>& compares, const std::vector<sources::TxnOp>& puts,
                    const std::vector<Change>& changes,
                    const std::map<std::string, sources::KeyValue>& existing) {
  sources::EtcdError error;
  const std::string mark = sources::generation_key_name(prefix);
  int64_t mark_revision = 0, generation = 0;
  sources::RangeResponse marks;
  if (!etcd.range(mark, "", 0, marks, error)) return etcd_failure("apply", error);
  if (!marks.kvs.empty()) {
    const sources::KeyValue& current = marks.kvs[0];
    const nlohmann::json value = nlohmann::json::parse(current.value, nullptr, false);
    if (value.is_object() && value.value("state", "") == "writing") {
      std::fprintf(stderr,
                   "torii apply: another chunked apply is being written (generation %lld); try again\n",
                   static_cast<long long>(sources::json_int(value, "generation")));
      return kExitInvalid;
    }
    mark_revision = current.mod_revision;
    generation = sources::json_int(value, "generation");
  }
  int64_t lease = 0;
  if (!etcd.lease_grant(kChunkedApplyLeaseS, lease, error)) return etcd_failure("apply", error);
  auto mark_value = [&](const char* state) {
    return nlohmann::json{
        {"generation", generation + 1}, {"state", state}, {"objects", puts.size()}, {"chunks", chunks.size()}}
        .dump();
  };
  sources::TxnResponse done;
  if (!etcd.txn({{mark, mark_revision}},
                {{sources::TxnOp::Type::Put, mark, mark_value("writing"), "", lease}}, {}, done, error))
    return etcd_failure("apply", error);
  if (!done.succeeded) {
    std::fprintf(stderr, "torii apply: another apply changed the generation key %s meanwhile; try again\n",
                 mark.c_str());
    return kExitInvalid;
  }
  size_t written = 0;
  int status = 0;
  for (const auto& [first, last] : chunks) {
    int64_t ttl = 0;
    if (!etcd.lease_keepalive(lease, ttl, error)) return etcd_failure("apply", error);
    if (!etcd.txn({compares.begin() + first, compares.begin() + last},
                  {puts.begin() + first, puts.begin() + last}, {}, done, error))
      return etcd_failure("apply", error);
    if (!done.succeeded) {
      status = report_conflicts(etcd, changes, "nothing of this apply stays written");
      break;
    }
    written = last;
  }
  if (status != 0) {
    // Put back what the chunks before changed (the replicas held it back).
    std::vector<sources::TxnOp> undo;
    for (size_t i = 0; i < written; ++i) {
      auto it = existing.find(puts[i].key);
      if (it == existing.end()) {
        undo.push_back({sources::TxnOp::Type::Delete, puts[i].key, "", "", 0});
      } else {
        undo.push_back({sources::TxnOp::Type::Put, puts[i].key, it->second.value, "", 0});
      }
    }
    for (const auto& [first, last] : transactions(undo)) {
      if (!etcd.txn({}, {undo.begin() + first, undo.begin() + last}, {}, done, error))
        return etcd_failure("apply", error);
    }
  }
  // The last write: replicas take everything at once (or nothing, after an undo).
  if (!etcd.txn({}, {{sources::TxnOp::Type::Put, mark, mark_value(status == 0 ? "done" : "undone"), "", 0}},
                {}, done, error))
    return etcd_failure("apply", error);
  etcd.lease_revoke(lease, error);
  return status;
}

}  // namespace torii::cli
