#include "sources/etcd_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sources/etcd_keys.h"
#include "sources/etcd_objects.h"

namespace torii::sources {

namespace {

std::string utc_now() {
  char buffer[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

}  // namespace

EtcdSource::EtcdSource(EtcdClient& etcd, std::string cache_dir, Log log)
    : etcd_(etcd), cache_dir_(std::move(cache_dir)), log_(std::move(log)) {}

std::string EtcdSource::cache_path() const { return cache_dir_ + "/etcd-objects.json"; }

bool EtcdSource::deliver(bool changed) {
  undelivered_ = undelivered_ || changed;
  if (holding_ || !undelivered_ || !loaded_) return false;
  undelivered_ = false;
  delivered_ = true;
  delivered_revision_ = revision_;
  return true;
}

void EtcdSource::generation_key(const KeyValue* kv) {
  const bool was = holding_;
  holding_ =
      kv != nullptr && nlohmann::json::parse(kv->value, nullptr, false).value("state", "") == "writing";
  if (holding_ && !was)
    log_(false, "etcd: a chunked apply is being written; its objects are served once it is done");
}

bool EtcdSource::start() {
  connect();
  if (loaded_ && deliver(true)) return true;
  if (loaded_ && holding_) return false;  // not half of a chunked apply: wait for its end
  if (!cache_dir_.empty() && load_cache()) return deliver(true);
  return false;
}

int EtcdSource::timeout_ms() const {
  if (connected()) return -1;
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - std::chrono::steady_clock::now())
          .count();
  return left < 0 ? 0 : static_cast<int>(left);
}

void EtcdSource::disconnected(const std::string& why) {
  etcd_.stop_watch();
  if (unreachable_since_.empty()) {
    unreachable_since_ = utc_now();
    log_(true, "etcd: " + why +
                   (loaded_ ? "; serving the last config read (revision " + std::to_string(revision_) + ")"
                            : std::string()) +
                   "; reconnecting");
  }
  // Jittered exponential back-off: half to all of min(5 s, 100 ms * 1.5^n).
  // The gentle growth keeps retries under a second apart through a leader
  // election (~1-2 s), so replicas converge within 3 s of the next write.
  const int base = static_cast<int>(
      std::min<double>(kMaxBackoffMs, kFirstBackoffMs * std::pow(1.5, std::min(failures_, 20))));
  ++failures_;
  std::uniform_int_distribution<int> pick(base / 2, base);
  next_attempt_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(pick(jitter_));
}

bool EtcdSource::relist() {
  RangeResponse all;
  EtcdError error;
  if (!etcd_.range_prefix(objects_prefix(etcd_.options().prefix), all, error)) {
    disconnected(error.message);
    return false;
  }
  objects_.clear();
  const KeyValue* generation = nullptr;
  for (KeyValue& kv : all.kvs) {
    newest_seen_ = std::max(newest_seen_, kv.mod_revision);
    if (kv.key == generation_key_name(etcd_.options().prefix)) generation = &kv;
    objects_.emplace(kv.key, kv);
  }
  generation_key(generation);
  revision_ = all.revision;
  loaded_ = true;
  from_cache_ = false;
  return true;
}

bool EtcdSource::connect() {
  // A watch from the revision after the last one held; relist first when
  // nothing was read from etcd yet (a cache's revision may be compacted).
  bool changed = false;
  if (!loaded_ || from_cache_) {
    if (!relist()) return false;
    changed = true;
  }
  const std::string prefix = objects_prefix(etcd_.options().prefix);
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::vector<WatchMessage> first;
    EtcdError error;
    if (!etcd_.start_watch(prefix, prefix_range_end(prefix), revision_ + 1, first, error)) {
      disconnected(error.message);
      return changed;
    }
    bool relist_needed = false;
    changed = apply_messages(first, relist_needed) || changed;
    if (!connected()) return changed;  // canceled at once (no leader)
    if (!relist_needed) break;
    etcd_.stop_watch();
    if (!relist()) return changed;
    changed = true;
  }
  if (!unreachable_since_.empty()) {
    log_(false, "etcd: connected to " + etcd_.endpoint() + " again (unreachable since " + unreachable_since_ +
                    "), at revision " + std::to_string(revision_));
  }
  unreachable_since_.clear();
  failures_ = 0;
  return changed;
}

bool EtcdSource::apply_messages(std::vector<WatchMessage>& messages, bool& relist_needed) {
  bool changed = false;
  for (WatchMessage& m : messages) {
    if (m.compact_revision > 0) {
      log_(false, "etcd: revision " + std::to_string(revision_ + 1) + " was compacted (now " +
                      std::to_string(m.compact_revision) + "): reading every object again");
      relist_needed = true;
      return changed;
    }
    if (!m.error.empty() || m.canceled) {
      relist_needed = false;
      disconnected("watch canceled: " + (m.error.empty() ? m.cancel_reason : m.error));
      return changed;
    }
    for (WatchEvent& e : m.events) {
      if (e.kv.key == generation_key_name(etcd_.options().prefix))
        generation_key(e.deleted ? nullptr : &e.kv);
      revision_ = std::max(revision_, e.kv.mod_revision);
      newest_seen_ = std::max(newest_seen_, e.kv.mod_revision);
      if (e.deleted) {
        changed = objects_.erase(e.kv.key) > 0 || changed;
      } else {
        std::string key = e.kv.key;
        objects_[key] = std::move(e.kv);
        changed = true;
      }
    }
  }
  return changed;
}

bool EtcdSource::poll_once() {
  if (!connected()) {
    if (std::chrono::steady_clock::now() < next_attempt_) return false;
    return deliver(connect());
  }
  std::vector<WatchMessage> messages;
  std::string error;
  const bool open = etcd_.read_watch(messages, error);
  bool relist_needed = false;
  bool changed = apply_messages(messages, relist_needed);
  if (relist_needed) {
    etcd_.stop_watch();
    if (relist()) changed = connect() || true;
    return deliver(changed);
  }
  if (!open && connected()) disconnected(error);
  return deliver(changed);
}

std::vector<config::NamedText> EtcdSource::texts() const {
  std::vector<KeyValue> kvs;
  kvs.reserve(objects_.size());
  for (const auto& [key, kv] : objects_) kvs.push_back(kv);
  return named_texts(kvs, etcd_.options().prefix);
}

void EtcdSource::save_cache() {
  if (cache_dir_.empty() || from_cache_ || !loaded_ || holding_ || cached_revision_ == revision_) return;
  nlohmann::json objects = nlohmann::json::object();
  for (const auto& [key, kv] : objects_)
    objects[key] = {{"value", kv.value}, {"mod_revision", kv.mod_revision}};
  const nlohmann::json cache = {{"prefix", etcd_.options().prefix},
                                {"revision", revision_},
                                {"newestSeen", newest_seen_},
                                {"objects", objects}};
  std::error_code ec;
  std::filesystem::create_directories(cache_dir_, ec);
  // Written beside, then renamed: a reader (a replica starting) never sees half of it.
  const std::string path = cache_path();
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << cache.dump();
    if (!out.flush()) {
      log_(true, "--etcd-cache: cannot write " + temporary);
      return;
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    log_(true, "--etcd-cache: cannot rename " + temporary + " to " + path);
    return;
  }
  cached_revision_ = revision_;
}

bool EtcdSource::load_cache() {
  std::ifstream in(cache_path(), std::ios::binary);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json cache = nlohmann::json::parse(text.str(), nullptr, false);
  if (!cache.is_object() || cache.value("prefix", "") != etcd_.options().prefix ||
      !cache.contains("objects")) {
    log_(true, "--etcd-cache: " + cache_path() + " is not a cache of prefix " + etcd_.options().prefix);
    return false;
  }
  objects_.clear();
  for (const auto& [key, entry] : cache["objects"].items()) {
    KeyValue kv;
    kv.key = key;
    kv.value = entry.value("value", "");
    kv.mod_revision = json_int(entry, "mod_revision");
    objects_.emplace(key, std::move(kv));
  }
  revision_ = json_int(cache, "revision");
  newest_seen_ = json_int(cache, "newestSeen");
  loaded_ = true;
  from_cache_ = true;
  cached_revision_ = revision_;
  log_(true, "etcd unreachable: serving from cache " + cache_path() + " (revision " +
                 std::to_string(revision_) + ", " + std::to_string(objects_.size()) + " object(s))");
  return true;
}

}  // namespace torii::sources
