// `torii run --etcd`: the objects under <prefix>objects/, kept current by an
// initial range and a watch from the revision after it (control thread only;
// every call may block up to the client's timeout, never a worker).
//
// - One watch message holds whole revisions (etcd never splits one), so the
//   objects are handed over per message: one apply (one transaction, one
//   revision) becomes one snapshot, never half of one. An apply too large
//   for one transaction is written in chunks between two writes of the
//   generation key (etcd_keys.h): while it says "writing", changes are held
//   back, and handed over together when it says "done".
// - The watch resumes from the last revision seen after a reconnect; when
//   etcd has compacted that revision away it relists everything and the
//   Store's diff of the full set finds what changed: no gap.
// - While etcd is unreachable the objects last read stay (the gateway keeps
//   serving them); reconnects try each endpoint, with jittered back-off of
//   at most kMaxBackoffMs.
// - With a cache directory, the objects are written there after they are
//   served, and read from there at start when etcd cannot be reached.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "config/loader.h"
#include "sources/etcd_client.h"

namespace torii::sources {

class EtcdSource {
 public:
  static constexpr int kMaxBackoffMs = 5000;
  static constexpr int kFirstBackoffMs = 100;
  using Log = std::function<void(bool error, const std::string& line)>;

  EtcdSource(EtcdClient& etcd, std::string cache_dir, Log log);

  // The first read: from etcd, else from the cache. True when there are
  // objects to serve (possibly none: an empty prefix is a valid config);
  // false when neither etcd nor a cache could be read (keep trying: poll()).
  bool start();

  // poll() for readability of fd() (the watch; -1 while disconnected), and
  // call poll_once() when it is readable or after timeout_ms().
  int fd() const { return etcd_.watch_fd(); }
  int timeout_ms() const;
  // Reads what the watch has, or reconnects when it is time; true when the
  // objects changed (compile and serve them).
  bool poll_once();

  std::vector<config::NamedText> texts() const;
  // Objects were handed over (start() or poll_once() returned true): the
  // control plane has something from etcd or the cache to serve.
  bool loaded() const { return delivered_; }
  // A chunked apply is being written: changes are held back until it is done.
  bool holding() const { return holding_; }
  // The revision of the objects handed over last (what the replica serves);
  // the objects held may be newer while a chunked apply is held back.
  int64_t revision() const { return delivered_revision_; }
  int64_t newest_seen() const { return newest_seen_; }  // newest object revision seen
  bool connected() const { return etcd_.watch_fd() >= 0; }
  bool from_cache() const { return from_cache_; }
  // Wall-clock time (RFC 3339) since which etcd could not be reached; empty while connected.
  const std::string& unreachable_since() const { return unreachable_since_; }

  // Writes the objects held to the cache directory (after they were served).
  void save_cache();

 private:
  bool relist();
  bool connect();
  bool apply_messages(std::vector<WatchMessage>& messages, bool& relist_needed);
  // The generation key's value: holding_ while it says "writing".
  void generation_key(const KeyValue* kv);
  // What poll_once()/start() return: changes not handed over yet, unless held back.
  bool deliver(bool changed);
  void disconnected(const std::string& why);
  bool load_cache();
  std::string cache_path() const;

  EtcdClient& etcd_;
  std::string cache_dir_;
  Log log_;
  std::map<std::string, KeyValue> objects_;  // etcd key -> value
  int64_t revision_ = 0;                     // of the objects held
  int64_t delivered_revision_ = 0;
  int64_t newest_seen_ = 0;
  bool loaded_ = false;       // objects_ holds what etcd (or the cache) has
  bool delivered_ = false;    // ... and it was handed over
  bool holding_ = false;      // a chunked apply is being written
  bool undelivered_ = false;  // changes held back
  bool from_cache_ = false;
  int64_t cached_revision_ = -1;  // revision of what the cache holds
  std::string unreachable_since_;
  int failures_ = 0;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::minstd_rand jitter_{std::random_device{}()};
};

}  // namespace torii::sources
