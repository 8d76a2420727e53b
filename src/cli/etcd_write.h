// Writing objects to etcd for `torii apply` and `torii delete`: one
// transaction when it fits etcd's limits, else chunks between a "writing" and
// a "done" value of the generation key (sources/etcd_keys.h), so that
// replicas serve all of it or none (docs/scale_out.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "config/object_key.h"
#include "sources/etcd_client.h"

namespace torii::cli {

// One key an apply or a delete writes: the object, its document as written.
struct Change {
  config::ObjectKey key;
  std::string etcd_key;
  std::string value;
  const char* verb = "unchanged";
  int64_t expect_revision = 0;  // the compare: 0 = must not exist
};

// [first, last) of `ops` per transaction, within etcd's default limits.
std::vector<std::pair<size_t, size_t>> transactions(const std::vector<sources::TxnOp>& ops);

// Exit codes of cli/etcd_cli.h; conflicts are named on stderr.
int write_in_one_transaction(sources::EtcdClient& etcd, const std::vector<sources::TxnCompare>& compares,
                             const std::vector<sources::TxnOp>& puts, const std::vector<Change>& changes);
int write_in_chunks(sources::EtcdClient& etcd, const std::string& prefix,
                    const std::vector<std::pair<size_t, size_t>>& chunks,
                    const std::vector<sources::TxnCompare>& compares, const std::vector<sources::TxnOp>& puts,
                    const std::vector<Change>& changes,
                    const std::map<std::string, sources::KeyValue>& existing);

}  // namespace torii::cli
