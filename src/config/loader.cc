// Files -> documents -> objects: the envelope (apiVersion, kind, metadata),
// dispatch to the per-kind readers (parsers.h), validation (validate.h), and
// the bookkeeping the Store needs (keys, hashes, load order, duplicates).
#include "config/loader.h"

// Header-only use of libxxhash (Debian libxxhash-dev), as upstream/hash.h.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <sys/stat.h>
#include <time.h>

#include "config/content_hash.h"
#include "config/documents.h"
#include "config/parsers.h"
#include "config/typed_object.h"
#include "config/validate.h"
#include "config/yaml_fields.h"

namespace torii::config {
namespace {

// Sorts `order` (indexes into `keys`) by key, equal keys by index. The
// (kind, namespace) pairs are few: ranked once, they turn most comparisons
// into one of two numbers and one of names, on items side by side in memory
// rather than three string comparisons through an index (a start with
// 25,000 objects: 209M -> ~50M instructions, on the thread that waits for
// all the parsing threads; issue 17).
void sort_by_key(const std::vector<ObjectKeyView>& keys, std::vector<uint32_t>& order) {
  struct Item {
    uint32_t group;  // the (kind, namespace) pair, then its rank
    uint32_t index;
    std::string_view name;
  };
  using Pair = std::pair<std::string_view, std::string_view>;
  struct PairHash {
    size_t operator()(const Pair& p) const {
      return std::hash<std::string_view>()(p.first) * 31 + std::hash<std::string_view>()(p.second);
    }
  };
  std::vector<Pair> groups;
  std::unordered_map<Pair, uint32_t, PairHash> group_of;
  std::vector<Item> items;
  items.reserve(order.size());
  uint32_t last = 0;
  for (uint32_t i : order) {
    const ObjectKeyView& key = keys[i];
    const Pair pair(key.kind, key.namespace_);
    // Objects of one file mostly share the pair of the one before.
    if (groups.empty() || groups[last] != pair) {
      const auto [it, added] = group_of.try_emplace(pair, static_cast<uint32_t>(groups.size()));
      if (added) groups.push_back(pair);
      last = it->second;
    }
    items.push_back(Item{last, i, key.name});
  }
  std::vector<uint32_t> by_pair(groups.size());
  for (uint32_t g = 0; g < by_pair.size(); ++g) by_pair[g] = g;
  std::sort(by_pair.begin(), by_pair.end(), [&](uint32_t a, uint32_t b) { return groups[a] < groups[b]; });
  std::vector<uint32_t> rank(groups.size());
  for (uint32_t r = 0; r < by_pair.size(); ++r) rank[by_pair[r]] = r;
  for (Item& item : items) item.group = rank[item.group];
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    if (a.group != b.group) return a.group < b.group;
    if (const int c = a.name.compare(b.name); c != 0) return c < 0;
    return a.index < b.index;
  });
  for (size_t k = 0; k < items.size(); ++k) order[k] = items[k].index;
}

namespace fs = std::filesystem;

constexpr std::string_view kIstioGroup = "networking.istio.io";

enum class Kind {
  Gateway,
  VirtualService,
  DestinationRule,
  ServiceEntry,
  WorkloadEntry,
  Service,
  Pod,
  Endpoints,
  EndpointSlice,
  Namespace,
  Secret,
  Telemetry,
  EnvoyFilter,
  RequestAuthentication,
  AuthorizationPolicy,
  GatewayClass,
  K8sGateway,  // gateway.networking.k8s.io Gateway
  HTTPRoute,
  GRPCRoute,
  TLSRoute,
  TCPRoute,
  ReferenceGrant,
  List,
  Unsupported
};

// Kinds Torii reads, by the apiVersions it reads them from.
Kind resolve_kind(const std::string& api_version, const std::string& kind) {
  const size_t slash = api_version.find('/');
  const std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
  const std::string version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
  if (group == kIstioGroup && (version == "v1alpha3" || version == "v1beta1" || version == "v1")) {
    if (kind == "Gateway") return Kind::Gateway;
    if (kind == "VirtualService") return Kind::VirtualService;
    if (kind == "DestinationRule") return Kind::DestinationRule;
    if (kind == "ServiceEntry") return Kind::ServiceEntry;
    if (kind == "WorkloadEntry") return Kind::WorkloadEntry;
  }
  if (group.empty() && version == "v1") {
    if (kind == "Service") return Kind::Service;
    if (kind == "Pod") return Kind::Pod;
    if (kind == "Endpoints") return Kind::Endpoints;
    if (kind == "Namespace") return Kind::Namespace;
    if (kind == "Secret") return Kind::Secret;
  }
  if (group == "discovery.k8s.io" && version == "v1" && kind == "EndpointSlice") return Kind::EndpointSlice;
  if (group == "telemetry.istio.io" && (version == "v1" || version == "v1alpha1") && kind == "Telemetry")
    return Kind::Telemetry;
  if (group == "networking.istio.io" && (version == "v1alpha3" || version == "v1") && kind == "EnvoyFilter")
    return Kind::EnvoyFilter;
  if (group == "security.istio.io" && (version == "v1" || version == "v1beta1") &&
      kind == "RequestAuthentication")
    return Kind::RequestAuthentication;
  if (group == "security.istio.io" && (version == "v1" || version == "v1beta1") &&
      kind == "AuthorizationPolicy")
    return Kind::AuthorizationPolicy;
  if (group == "gateway.networking.k8s.io") {
    const bool v1 = version == "v1" || version == "v1beta1";
    if (v1 && kind == "GatewayClass") return Kind::GatewayClass;
    if (v1 && kind == "Gateway") return Kind::K8sGateway;
    if (v1 && kind == "HTTPRoute") return Kind::HTTPRoute;
    if (version == "v1" && kind == "GRPCRoute") return Kind::GRPCRoute;
    const bool alpha = version == "v1alpha2" || version == "v1alpha3" || version == "v1";
    if (alpha && kind == "TLSRoute") return Kind::TLSRoute;
    if (version == "v1alpha2" && kind == "TCPRoute") return Kind::TCPRoute;
    if (v1 && kind == "ReferenceGrant") return Kind::ReferenceGrant;
  }
  // `kubectl get -o yaml` wraps several objects in a List (or <Kind>List).
  if (kind == "List" || (kind.size() > 4 && kind.ends_with("List"))) return Kind::List;
  return Kind::Unsupported;
}

bool is_modelled_kind_name(const std::string& kind) {
  static const std::set<std::string> kNames = {"Gateway",
                                               "VirtualService",
                                               "DestinationRule",
                                               "ServiceEntry",
                                               "WorkloadEntry",
                                               "Service",
                                               "Pod",
                                               "Endpoints",
                                               "EndpointSlice",
                                               "Namespace",
                                               "Secret",
                                               "Telemetry",
                                               "EnvoyFilter",
                                               "RequestAuthentication",
                                               "AuthorizationPolicy",
                                               "GatewayClass",
                                               "HTTPRoute",
                                               "GRPCRoute",
                                               "TLSRoute",
                                               "TCPRoute",
                                               "ReferenceGrant"};
  return kNames.contains(kind);
}

std::string format_source(const SourceRef& source) {
  return source.line > 0 ? source.file + ":" + std::to_string(source.line) : source.file;
}

// The whole of `path` into `text`; false when it cannot be opened or read.
bool read_whole_file(const std::string& path, std::string& text) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return false;
  std::ostringstream out;
  out << in.rdbuf();
  text = std::move(out).str();
  return !in.bad();
}

Diagnostic file_error(const std::string& file, int line, std::string message) {
  Diagnostic d;
  d.severity = Diagnostic::Severity::Error;
  d.source = SourceRef{file, line};
  d.message = std::move(message);
  return d;
}

// 1-based line in `text` of a parse error (`line` 0-based, -1 if unknown).
// The parser may notice a problem only at the end of the input; pointing past
// the last written line would confuse, so the line is capped there.
int error_line(const std::string& text, int mark_line) {
  int last = 0;  // 0-based index of the last line with content
  int line = 0;
  bool content = false;
  for (char c : text) {
    if (c == '\n') {
      if (content) last = line;
      ++line;
      content = false;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      content = true;
    }
  }
  if (content) last = line;
  if (mark_line < 0) return last + 1;
  return std::min(mark_line, last) + 1;
}

// The kinds validate.h has rules for; the others (Pod, slices, Namespace) are
// taken as Kubernetes stored them.
Diagnostics validate_object(const TypedObject& object, const FieldLines& lines) {
  return std::visit(
      [&](const auto& o) -> Diagnostics {
        if constexpr (requires { validate(o, lines); }) {
          return validate(o, lines);
        } else {
          return {};
        }
      },
      object);
}

}  // namespace

// What stat() says of a file: when all of it is the same, the file is.
struct FileSignature {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = -1;
  int64_t modified_ns = 0;
  int64_t changed_ns = 0;
  bool operator==(const FileSignature&) const = default;
};

// Changes this close before a read may share a timestamp tick with a later one.
constexpr int64_t kRacyWindowNs = 100'000'000;

int64_t nanoseconds(const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

bool stat_file(const std::string& path, FileSignature& out) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  out = FileSignature{st.st_dev, st.st_ino, st.st_size, nanoseconds(st.st_mtim), nanoseconds(st.st_ctim)};
  return true;
}

int64_t wall_clock_ns() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return nanoseconds(now);
}

// What the cache keeps of a text in place of the text: its 128-bit XXH3
// hash (libxxhash, as upstream/hash.h uses it) and its length, so a changed
// text is taken for the previous one only if both agree by accident. Keeping
// the texts themselves cost twice the files' size (10 MiB for the 25,000
// objects of the bench config).
struct TextDigest {
  uint64_t first = 0;   // the hash's low half
  uint64_t second = 0;  // its high half
  size_t size = 0;
  int first_line = 0;  // of a document: where it starts (its diagnostics name lines)
  bool operator==(const TextDigest&) const = default;
};

TextDigest digest_of(std::string_view text, int first_line = 0) {
  const XXH128_hash_t hash = XXH3_128bits(text.data(), text.size());
  return TextDigest{hash.low64, hash.high64, text.size(), first_line};
}

struct TextDigestHash {
  size_t operator()(const TextDigest& d) const {
    return static_cast<size_t>(d.first) ^ static_cast<size_t>(d.first_line);
  }
};

struct LoadCache::File {
  TextDigest text;  // of the text as read (the text itself is not kept)
  // The file's stat() just before it was read, and whether it can stand for
  // the text: only when the file had not changed for a while before the read
  // (a change within the same timestamp tick would leave stat() unchanged;
  // git's "racily clean" rule). Texts (NamedText) have none.
  FileSignature signature;
  bool signature_trusted = false;
  // What each document of split_documents(text) gave, in order (up to the
  // first one that stopped the file's reading).
  std::vector<std::shared_ptr<const Document>> documents;
  std::vector<TextDigest> document_texts;  // parallel to `documents`: digest_of(text, first_line)
};

// One object as parsed: its LoadedObject is made again from it when the
// load is finished (its load order is where the document is now). Kept this
// small because the cache holds every object between reloads: the whole
// LoadedObject with its strings was ~300 bytes an object.
struct LoadCache::Object {
  SharedObject typed;         // never null (even when invalid)
  uint64_t content_hash = 0;  // content_hash() of its document
  Diagnostics errors;         // LoadedObject::errors
  // Where the load that takes it last (LoadCache::loads_) has it, for the
  // next load's key order; written by that load only.
  mutable uint32_t load = 0;
  mutable uint32_t position = 0;
  bool valid = true;
};

struct LoadCache::Document {
  using Object = LoadCache::Object;
  bool ok = true;             // false: the rest of its file was not read
  bool unidentified = false;  // held an object without kind or name
  std::vector<Object> objects;
  Diagnostics diagnostics;
  std::vector<std::string> skipped;  // skip() notices, one per object skipped
  int64_t parse_us = 0;              // what parsing it took (for the reload log line)
  int64_t validate_us = 0;
};

LoadCache::LoadCache() = default;
LoadCache::~LoadCache() = default;
LoadCache::LoadCache(LoadCache&&) noexcept = default;
LoadCache& LoadCache::operator=(LoadCache&&) noexcept = default;

class Loader {
 public:
  Loader(const LoadOptions& options, LoadCache* cache) : options_(options), cache_(cache) {
    if (cache_) {
      previous_ = std::move(cache_->files_);
      cache_->files_.clear();
      cache_->stats_ = {};
      load_ = ++cache_->loads_;
      // Taken out, as previous_ that keeps its objects alive: a load that
      // does not finish leaves none behind for the next one to trust.
      previous_order_ = std::move(cache_->key_order_);
      previous_order_distinct_ = cache_->key_order_distinct_;
      cache_->key_order_.clear();
      cache_->key_order_distinct_ = false;
    }
  }

  // Reads `files` in order: every document not in the cache is parsed (on
  // several threads when there are many), then all are taken in file order.
  void load_files(const std::vector<std::string>& files, const std::vector<NamedText>& texts = {});
  void load_text(const std::string& text, const std::string& file);
  void unreadable(const std::string& path) { unreadable_.push_back(path); }
  void add(Diagnostic d) { diagnostics_.push_back(std::move(d)); }
  LoadResult finish() &&;
  // Indexes of taken_ in key order (equal keys in load order), `keys` parallel
  // to taken_; and where in it two neighbours may have one key.
  struct KeyOrder {
    std::vector<uint32_t> order;
    bool all_neighbours = false;       // any two
    std::vector<uint32_t> neighbours;  // else: k where order[k] and order[k + 1] may (ascending)
  };
  KeyOrder key_order(const std::vector<ObjectKeyView>& keys);

 private:
  using Parsed = LoadCache::Object;

  // One document of a file being loaded, and what parsing it gave.
  struct Pending {
    DocumentText doc;   // empty when the whole file was taken from the cache
    TextDigest digest;  // of `doc`
    std::shared_ptr<const LoadCache::Document> result;
    bool fresh = false;  // parsed in this load, not taken from the cache
  };
  // One file: its documents, or that it could not be read.
  struct File {
    std::string path;
    std::string default_namespace;  // NamedText's own; empty: the options'
    bool read = false;
    std::string text;
    TextDigest digest;        // of `text`
    FileSignature signature;  // of a file read from disk
    bool has_signature = false;
    int64_t read_at_ns = 0;
    std::vector<Pending> documents;
    // The cache's entry, when the file is the same as in the previous load.
    std::shared_ptr<const LoadCache::File> unchanged;
  };
  std::string cache_key(const File& file) const;
  // The previous load's entry for `file` (null: none).
  std::shared_ptr<const LoadCache::File> previous_file(const File& file) const;
  // Takes every document of an unchanged file from the cache.
  static void take_whole(File& file, std::shared_ptr<const LoadCache::File> entry);

  // Takes the file's documents from the cache when its text is unchanged,
  // else splits it and looks each document up.
  void collect(File& file);
  void parse_pending(std::vector<File>& files) const;
  // Parses one document on its own (any thread): what it gives, as the cache keeps it.
  static std::shared_ptr<const LoadCache::Document> parse_alone(const LoadOptions& options,
                                                                const DocumentText& doc,
                                                                const std::string& file);
  // Takes the files' documents in order, as if each had just been parsed.
  void replay(std::vector<File>& files);
  // Records `entry` in the cache for the next load.
  void keep(const File& file, std::shared_ptr<const LoadCache::File> entry);
  // False when the rest of the file cannot be trusted.
  bool parse_document(const DocumentText& doc, const std::string& file);
  // Replays what parsing a document gave (now or in the previous load).
  bool reuse_document(const std::shared_ptr<const LoadCache::Document>& document, const std::string& file);
  // The same, the document being held (by a file entry) until finish().
  bool take_document(const LoadCache::Document& document, const std::string& file);
  void load_object(const YamlNode& node, const std::string& file, int line_offset);
  void read_envelope(DocumentReader& reader, const YamlNode& node, int line_offset);
  void skip(const std::string& api_version, const std::string& kind);
  void skip_what(const std::string& what);  // counts one skipped object under its notice
  // Reads one object of a modelled kind; Diagnostics go to `reader`.
  std::optional<TypedObject> read_object(Kind kind, const Field& root, ObjectMeta meta);

  const LoadOptions& options_;
  LoadCache* cache_;
  std::unordered_map<std::string, std::shared_ptr<const LoadCache::File>> previous_;
  std::vector<const LoadCache::Object*> previous_order_;  // LoadCache::key_order_ of the previous load
  bool previous_order_distinct_ = false;
  std::vector<std::string> document_skips_;  // skip() calls of the document being parsed
  int64_t validate_us_ = 0;                  // of the documents this Loader parsed
  int64_t next_order_ = 0;
  std::vector<Parsed> parsed_;  // what parse_document() read (parse_alone)
  // The objects of the load, in order, as the documents replayed hold them
  // (not copied until finish()), and the documents that hold them.
  struct Taken {
    const Parsed* parsed;
    int64_t load_order;
  };
  std::vector<Taken> taken_;
  uint32_t load_ = 0;       // LoadCache::loads_ of this load; 0: no cache
  bool marks_hold_ = true;  // every object's mark (load, position) is its only place in taken_
  std::vector<std::shared_ptr<const LoadCache::Document>> held_;
  std::vector<std::shared_ptr<const LoadCache::File>> held_files_;  // whole files taken from the cache
  Diagnostics diagnostics_;
  std::vector<std::string> unreadable_;
  std::vector<std::pair<std::string, int>> skipped_;  // notice text key -> count, first-seen order
  bool unidentified_ = false;  // the current document held an object without kind or name
};

void Loader::load_files(const std::vector<std::string>& paths, const std::vector<NamedText>& texts) {
  std::vector<File> files(paths.size() + texts.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    File& file = files[i];
    file.path = paths[i];
    if (cache_ && stat_file(file.path, file.signature)) {
      file.has_signature = true;
      std::shared_ptr<const LoadCache::File> before = previous_file(file);
      if (before && before->signature_trusted && before->signature == file.signature) {
        // Not even read: stat() says it is the file read last time.
        ++cache_->stats_.files_read;
        ++cache_->stats_.files_not_read;
        file.read = true;
        take_whole(file, std::move(before));
        continue;
      }
    }
    file.read_at_ns = wall_clock_ns();
    file.read = read_whole_file(file.path, file.text);
    if (file.read) collect(file);
  }
  for (size_t i = 0; i < texts.size(); ++i) {
    File& file = files[paths.size() + i];
    file.path = texts[i].name;
    file.default_namespace = texts[i].default_namespace;
    file.read = true;
    file.text = texts[i].text;
    collect(file);
  }
  parse_pending(files);
  replay(files);
}

void Loader::load_text(const std::string& text, const std::string& path) {
  std::vector<File> files(1);
  files[0].path = path;
  files[0].read = true;
  files[0].text = text;
  collect(files[0]);
  parse_pending(files);
  replay(files);
}

std::string Loader::cache_key(const File& file) const {
  // The default namespace is part of what a document parses to (objects
  // without metadata.namespace get it).
  std::string key = file.default_namespace.empty() ? options_.default_namespace : file.default_namespace;
  key += '\0';
  key += file.path;
  return key;
}

std::shared_ptr<const LoadCache::File> Loader::previous_file(const File& file) const {
  auto it = previous_.find(cache_key(file));
  return it != previous_.end() ? it->second : nullptr;
}

void Loader::take_whole(File& file, std::shared_ptr<const LoadCache::File> entry) {
  // Replayed from the entry (replay): no Pending per document.
  file.text.clear();
  file.unchanged = std::move(entry);
}

void Loader::collect(File& file) {
  std::shared_ptr<const LoadCache::File> before;
  if (cache_) {
    ++cache_->stats_.files_read;
    before = previous_file(file);
    file.digest = digest_of(file.text);
    if (before && before->text == file.digest) {
      // Unchanged: its documents as they were, without splitting it again.
      if (!file.has_signature || (before->signature_trusted && before->signature == file.signature)) {
        take_whole(file, std::move(before));
        return;
      }
      // Same text, but a new or not yet trusted stat(): the entry is made
      // again below (every document reused) to record this one.
    } else {
      ++cache_->stats_.files_changed;
    }
  }
  // A document of the previous version at the same line with the same text
  // parses to the same thing.
  std::unordered_map<TextDigest, const std::shared_ptr<const LoadCache::Document>*, TextDigestHash> reusable;
  if (before) {
    for (size_t i = 0; i < before->documents.size(); ++i)
      reusable.emplace(before->document_texts[i], &before->documents[i]);
  }
  for (DocumentText& doc : split_documents(file.text)) {
    Pending& p = file.documents.emplace_back();
    p.doc = std::move(doc);
    if (!cache_) continue;
    p.digest = digest_of(p.doc.text, p.doc.first_line);
    if (reusable.empty()) continue;
    if (auto it = reusable.find(p.digest); it != reusable.end()) p.result = *it->second;
  }
}

void Loader::parse_pending(std::vector<File>& files) const {
  std::vector<std::pair<Pending*, const File*>> work;
  for (File& file : files) {
    for (Pending& p : file.documents) {
      if (!p.result) work.emplace_back(&p, &file);
    }
  }
  // Documents are independent until they are taken in order (replay), so
  // they are parsed on up to 4 threads; below a few hundred, a thread costs
  // more than it saves. 25,003 objects on 2 cores: parsing 0.48 -> 0.26 s.
  constexpr size_t kDocumentsPerThread = 256;
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const size_t threads =
      options_.parse_threads > 0
          ? options_.parse_threads
          : std::min({cores, size_t{4}, std::max(size_t{1}, work.size() / kDocumentsPerThread)});
  std::atomic<size_t> next{0};
  auto run = [&] {
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < work.size();) {
      const File& file = *work[i].second;
      if (file.default_namespace.empty()) {
        work[i].first->result = parse_alone(options_, work[i].first->doc, file.path);
      } else {
        LoadOptions own = options_;
        own.default_namespace = file.default_namespace;
        work[i].first->result = parse_alone(own, work[i].first->doc, file.path);
      }
      work[i].first->fresh = true;
    }
  };
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(run);
  run();
  for (std::thread& t : helpers) t.join();
}

std::shared_ptr<const LoadCache::Document> Loader::parse_alone(const LoadOptions& options,
                                                               const DocumentText& doc,
                                                               const std::string& file) {
  Loader one(options, nullptr);
  auto out = std::make_shared<LoadCache::Document>();
  const auto started = std::chrono::steady_clock::now();
  out->ok = one.parse_document(doc, file);
  out->validate_us = one.validate_us_;
  out->parse_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started)
          .count() -
      out->validate_us;
  out->unidentified = one.unidentified_;
  out->objects = std::move(one.parsed_);
  out->diagnostics = std::move(one.diagnostics_);
  out->skipped = std::move(one.document_skips_);
  return out;
}

void Loader::replay(std::vector<File>& files) {
  for (File& file : files) {
    if (!file.read) {
      add(file_error(file.path, 0, "cannot read file"));
      unreadable(file.path);
      continue;
    }
    if (file.unchanged) {
      // Every document as the previous load took it, held by the entry.
      const LoadCache::File& entry = *file.unchanged;
      cache_->stats_.reused += entry.documents.size();
      held_files_.push_back(file.unchanged);
      for (const std::shared_ptr<const LoadCache::Document>& document : entry.documents) {
        if (!take_document(*document, file.path)) {
          unreadable(file.path);
          break;  // the rest of this file is not read
        }
      }
      keep(file, file.unchanged);
      continue;
    }
    std::shared_ptr<LoadCache::File> cached;
    if (cache_) {
      cached = std::make_shared<LoadCache::File>();
      cached->documents.reserve(file.documents.size());
      cached->document_texts.reserve(file.documents.size());
    }
    for (Pending& p : file.documents) {
      if (cache_) {
        ++(p.fresh ? cache_->stats_.parsed : cache_->stats_.reused);
        if (p.fresh) {
          cache_->stats_.parse_us += p.result->parse_us;
          cache_->stats_.validate_us += p.result->validate_us;
        }
        if (cached) {
          cached->documents.push_back(p.result);
          cached->document_texts.push_back(p.digest);
        }
      }
      if (!reuse_document(p.result, file.path)) {
        unreadable(file.path);
        break;  // the rest of this file is not read
      }
    }
    if (cached) {
      cached->text = file.digest;
      file.text = {};
      cached->signature = file.signature;
      cached->signature_trusted = file.has_signature &&
                                  file.signature.modified_ns < file.read_at_ns - kRacyWindowNs &&
                                  file.signature.changed_ns < file.read_at_ns - kRacyWindowNs;
      keep(file, std::move(cached));
    }
  }
}

void Loader::keep(const File& file, std::shared_ptr<const LoadCache::File> entry) {
  // A second file under one key (a text named as a file) replaces the first
  // one's entry, whose objects would no longer be alive for the next load's
  // key order (LoadCache::key_order_): that load sorts them all.
  if (!cache_->files_.insert_or_assign(cache_key(file), std::move(entry)).second) marks_hold_ = false;
}

bool Loader::reuse_document(const std::shared_ptr<const LoadCache::Document>& document,
                            const std::string& file) {
  if (!document->objects.empty()) held_.push_back(document);
  return take_document(*document, file);
}

bool Loader::take_document(const LoadCache::Document& cached, const std::string& file) {
  for (const Parsed& p : cached.objects) {
    if (load_ != 0) {
      // Taken twice (one text under two names): its mark cannot say both.
      if (p.load == load_) marks_hold_ = false;
      p.load = load_;
      p.position = static_cast<uint32_t>(taken_.size());
    }
    taken_.push_back(Taken{&p, next_order_++});
  }
  diagnostics_.insert(diagnostics_.end(), cached.diagnostics.begin(), cached.diagnostics.end());
  for (const std::string& what : cached.skipped) skip_what(what);
  if (cached.unidentified) unreadable(file);
  return cached.ok;
}

bool Loader::parse_document(const DocumentText& doc, const std::string& file) {
  YamlDocument parsed;
  YamlDocument::Error syntax;
  if (!parsed.parse(doc.text, &syntax)) {
    add(file_error(file, doc.first_line + error_line(doc.text, syntax.line),
                   "YAML syntax error: " + syntax.message + "; the rest of this file is not read"));
    return false;
  }
  const YamlNode node = parsed.root();
  if (!node.IsDefined() || node.IsNull()) return true;  // empty document
  if (!within_walk_limits(node)) {
    add(file_error(
        file, doc.first_line + 1,
        "document nested too deeply or too large once its aliases are expanded; the rest of this file "
        "is not read"));
    return false;
  }
  try {
    unidentified_ = false;
    load_object(node, file, doc.first_line);
    // An object we could not name may be one the Store has to keep.
    if (unidentified_) unreadable(file);
  } catch (const std::exception& e) {
    // Nothing below is expected to throw; if it does, the file is not trusted.
    add(file_error(file, doc.first_line + 1, std::string("cannot read document: ") + e.what()));
    return false;
  }
  return true;
}

void Loader::skip(const std::string& api_version, const std::string& kind) {
  std::string what =
      is_modelled_kind_name(kind) ? "kind " + kind + " with apiVersion " + api_version : "kind " + kind;
  document_skips_.push_back(what);
  skip_what(what);
}

void Loader::skip_what(const std::string& what) {
  auto it = std::find_if(skipped_.begin(), skipped_.end(), [&](const auto& s) { return s.first == what; });
  if (it == skipped_.end()) {
    skipped_.emplace_back(what, 1);
  } else {
    ++it->second;
  }
}

void Loader::load_object(const YamlNode& node, const std::string& file, int line_offset) {
  DocumentReader reader(file, line_offset);
  read_envelope(reader, node, line_offset);
  // What was not claimed by an object (type errors in an envelope that named
  // no object) is still reported.
  for (Diagnostic& d : reader.diagnostics()) add(std::move(d));
}

void Loader::read_envelope(DocumentReader& reader, const YamlNode& node, int line_offset) {
  const std::string& file = reader.file();
  const Field root = document_root(reader, node);
  const int line = root.line();
  if (!node.IsMap()) {
    add(file_error(file, line, "expected a Kubernetes object (a map with apiVersion, kind and metadata)"));
    unidentified_ = true;
    return;
  }
  const std::string api_version = root["apiVersion"].string();
  const std::string kind_name = root["kind"].string();
  if (api_version.empty() || kind_name.empty()) {
    add(file_error(file, line, "apiVersion and kind are required"));
    unidentified_ = true;
    return;
  }
  const Kind kind = resolve_kind(api_version, kind_name);
  if (kind == Kind::List) {
    const Field items = root["items"];
    if (items.present() && !items.node().IsSequence()) unidentified_ = true;
    for (const Field& item : items.items()) {
      if (item.node().IsMap()) {
        load_object(item.node(), file, line_offset);
      } else {
        add(file_error(file, item.line(), "expected a Kubernetes object in " + item.path()));
        unidentified_ = true;
      }
    }
    return;
  }
  if (kind == Kind::Unsupported) {
    skip(api_version, kind_name);
    return;
  }

  ObjectMeta meta;
  meta.source = SourceRef{file, line};
  const Field metadata = root["metadata"];
  if (metadata.expect_map()) {
    meta.name = metadata["name"].string();
    meta.namespace_ = metadata["namespace"].string();
    meta.labels = metadata["labels"].string_map();
    meta.annotations = metadata["annotations"].string_map();
    meta.creation_timestamp = metadata["creationTimestamp"].string();
  }
  if (kind == Kind::Namespace || kind == Kind::GatewayClass) {
    meta.namespace_.clear();  // cluster-scoped
  } else if (meta.namespace_.empty()) {
    meta.namespace_ = options_.default_namespace;
  }
  if (meta.name.empty()) {
    Diagnostic d = file_error(file, metadata.present() ? metadata.line() : line, "name is required");
    d.kind = kind_name;
    d.field = "metadata.name";
    add(std::move(d));
    unidentified_ = true;
    return;
  }
  meta.load_order = next_order_++;

  std::optional<TypedObject> typed = read_object(kind, root, meta);
  report_duplicate_keys(reader, node, "");

  Parsed parsed;
  parsed.content_hash = content_hash(node);
  // kind_of, not the written kind: a Gateway API Gateway is not an Istio one.
  const char* const kind_name_read = kind_of(*typed);

  Diagnostics found;
  found.swap(reader.diagnostics());
  // Values are only worth checking once every field had the right type.
  if (!has_errors(found)) {
    const auto started = std::chrono::steady_clock::now();
    Diagnostics checks = validate_object(*typed, FieldLines(node, line_offset));
    validate_us_ +=
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started)
            .count();
    found.insert(found.end(), checks.begin(), checks.end());
  }
  for (Diagnostic& d : found) {
    d.kind = kind_name_read;
    d.namespace_ = meta.namespace_;
    d.name = meta.name;
    if (d.severity == Diagnostic::Severity::Error) parsed.errors.push_back(d);
    add(std::move(d));
  }
  parsed.valid = parsed.errors.empty();
  parsed.typed = std::make_shared<const TypedObject>(std::move(*typed));
  parsed_.push_back(std::move(parsed));
}

std::optional<TypedObject> Loader::read_object(Kind kind, const Field& root, ObjectMeta meta) {
  const Field spec = root["spec"];
  switch (kind) {
    case Kind::Gateway: {
      Gateway o{.meta = std::move(meta)};
      read_gateway(spec, o);
      return o;
    }
    case Kind::VirtualService: {
      VirtualService o{.meta = std::move(meta)};
      read_virtual_service(spec, o);
      return o;
    }
    case Kind::DestinationRule: {
      DestinationRule o{.meta = std::move(meta)};
      read_destination_rule(spec, o);
      return o;
    }
    case Kind::ServiceEntry: {
      ServiceEntry o{.meta = std::move(meta)};
      read_service_entry(spec, o);
      return o;
    }
    case Kind::WorkloadEntry: {
      WorkloadEntry o{.meta = std::move(meta)};
      read_workload_entry(spec, o);
      return o;
    }
    case Kind::Service: {
      Service o{.meta = std::move(meta)};
      read_service(root, o);
      return o;
    }
    case Kind::Pod: {
      Pod o{.meta = std::move(meta)};
      read_pod(root, o);
      return o;
    }
    case Kind::EndpointSlice: {
      EndpointSlice o{.meta = std::move(meta)};
      read_endpoint_slice(root, o);
      if (o.service_name.empty()) {
        root.reader().warning(root.line(), "metadata.labels",
                              "no kubernetes.io/service-name label: these endpoints belong to no Service");
      }
      return o;
    }
    case Kind::Endpoints: {
      Endpoints o{.meta = meta, .slices = read_endpoints(root, meta)};
      return o;
    }
    case Kind::Namespace:
      return Namespace{.meta = std::move(meta)};
    case Kind::Secret: {
      Secret o{.meta = std::move(meta)};
      read_secret(root, o);
      return o;
    }
    case Kind::Telemetry: {
      Telemetry o{.meta = std::move(meta)};
      read_telemetry(spec, o);
      return o;
    }
    case Kind::EnvoyFilter: {
      EnvoyFilter o{.meta = std::move(meta)};
      read_envoy_filter(spec, o);
      return o;
    }
    case Kind::GatewayClass: {
      gwapi::GatewayClass o{.meta = std::move(meta)};
      read_gateway_class(spec, o);
      return o;
    }
    case Kind::K8sGateway: {
      gwapi::Gateway o{.meta = std::move(meta)};
      read_k8s_gateway(spec, o);
      return o;
    }
    case Kind::HTTPRoute: {
      gwapi::HTTPRoute o{.meta = std::move(meta)};
      read_http_route(spec, o);
      return o;
    }
    case Kind::GRPCRoute: {
      gwapi::HTTPRoute o{.meta = std::move(meta)};
      read_grpc_route(spec, o);
      return o;
    }
    case Kind::TLSRoute:
    case Kind::TCPRoute: {
      gwapi::HTTPRoute o{.meta = std::move(meta)};
      read_l4_route(spec, o, kind == Kind::TLSRoute ? "TLSRoute" : "TCPRoute");
      return o;
    }
    case Kind::ReferenceGrant: {
      gwapi::ReferenceGrant o{.meta = std::move(meta)};
      read_reference_grant(spec, o);
      return o;
    }
    case Kind::RequestAuthentication: {
      RequestAuthentication o{.meta = std::move(meta)};
      read_request_authentication(spec, o);
      return o;
    }
    case Kind::AuthorizationPolicy: {
      AuthorizationPolicy o{.meta = std::move(meta)};
      read_authorization_policy(spec, o);
      return o;
    }
    case Kind::List:
    case Kind::Unsupported:
      break;
  }
  return std::nullopt;
}

Loader::KeyOrder Loader::key_order(const std::vector<ObjectKeyView>& keys) {
  const auto before = [&](uint32_t a, uint32_t b) {
    const auto c = keys[a] <=> keys[b];
    return c < 0 || (c == 0 && a < b);
  };
  const size_t n = keys.size();
  KeyOrder out;
  std::vector<uint32_t>& order = out.order;
  order.reserve(n);
  if (load_ != 0 && marks_hold_ && !previous_order_.empty()) {
    // The objects of unchanged documents, in the previous load's key order
    // (the previous load's objects are alive: previous_ holds them), and the
    // others sorted and put in their places: at 25,000 objects, when a reload
    // changed a few documents, a few comparisons instead of a sort's n log n.
    std::vector<uint32_t> reused;
    reused.reserve(n);
    std::vector<bool> is_reused(n, false);
    for (const LoadCache::Object* p : previous_order_) {
      if (p->load != load_) continue;
      reused.push_back(p->position);
      is_reused[p->position] = true;
    }
    std::vector<uint32_t> fresh;
    for (uint32_t i = 0; i < n; ++i)
      if (!is_reused[i]) fresh.push_back(i);
    sort_by_key(keys, fresh);
    // With no key twice last time, the reused objects are still in order
    // whatever their positions now; objects defined twice are ordered by
    // their positions, which may have changed, so are checked.
    if (previous_order_distinct_ || std::is_sorted(reused.begin(), reused.end(), before)) {
      auto from = reused.begin();
      for (uint32_t f : fresh) {
        const auto at = std::partition_point(from, reused.end(), [&](uint32_t r) { return before(r, f); });
        order.insert(order.end(), from, at);
        from = at;
        // Only an object placed now can have a key equal to a neighbour's,
        // when no reused two had one key.
        if (!order.empty()) out.neighbours.push_back(static_cast<uint32_t>(order.size() - 1));
        out.neighbours.push_back(static_cast<uint32_t>(order.size()));
        order.push_back(f);
      }
      order.insert(order.end(), from, reused.end());
      out.all_neighbours = !previous_order_distinct_;
    } else {
      order.clear();
    }
  }
  if (order.size() != n) {
    order.clear();
    for (uint32_t i = 0; i < n; ++i) order.push_back(i);
    sort_by_key(keys, order);
    out.all_neighbours = true;
  }
  if (load_ != 0) {
    if (marks_hold_) {
      cache_->key_order_.reserve(n);
      for (uint32_t i : order) cache_->key_order_.push_back(taken_[i].parsed);
    }
  }
  return out;
}

LoadResult Loader::finish() && {
  LoadResult result;
  const size_t n = taken_.size();
  std::vector<ObjectKeyView> keys;
  keys.reserve(n);
  for (const Taken& t : taken_) keys.push_back(key_view_of(*t.parsed->typed));
  // Same kind/namespace/name twice: the later definition wins, as a second
  // `kubectl apply` would. Adjacent in key order, the later last; the first
  // of them is named in the warning.
  const KeyOrder sorted = key_order(keys);
  const std::vector<uint32_t>& order = sorted.order;
  constexpr uint32_t kNone = UINT32_MAX;
  std::vector<uint32_t> first_of;  // for the one that wins: the first definition (only with duplicates)
  std::vector<bool> dropped;       // a later definition wins (only with duplicates)
  const auto same_key = [&](size_t k) {
    if (k + 1 >= n || keys[order[k]] != keys[order[k + 1]]) return;
    if (first_of.empty()) {
      first_of.assign(n, kNone);
      dropped.assign(n, false);
    }
    dropped[order[k]] = true;
    first_of[order[k + 1]] = first_of[order[k]] != kNone ? first_of[order[k]] : order[k];
  };
  if (sorted.all_neighbours) {
    for (size_t k = 0; k + 1 < n; ++k) same_key(k);
  } else {
    // Ascending, maybe twice (a new object after another): each pair once.
    for (size_t j = 0; j < sorted.neighbours.size(); ++j)
      if (j == 0 || sorted.neighbours[j] != sorted.neighbours[j - 1]) same_key(sorted.neighbours[j]);
  }
  if (load_ != 0) cache_->key_order_distinct_ = dropped.empty();
  // Where each object of taken_ lands in result.objects (only with duplicates).
  std::vector<uint32_t> index_of;
  if (!dropped.empty()) index_of.assign(n, kNone);
  result.objects.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (!dropped.empty() && dropped[i]) continue;
    const Parsed& p = *taken_[i].parsed;
    if (!first_of.empty() && first_of[i] != kNone) {
      const SourceRef& first = meta_of(*taken_[first_of[i]].parsed->typed).source;
      const SourceRef& source = meta_of(*p.typed).source;
      Diagnostic d;
      d.severity = Diagnostic::Severity::Warning;
      d.source = source;
      d.kind = keys[i].kind;
      d.namespace_ = keys[i].namespace_;
      d.name = keys[i].name;
      d.message = "defined more than once (at " + format_source(first) + " and " + format_source(source) +
                  "); the later definition is used";
      diagnostics_.push_back(std::move(d));
    }
    if (!index_of.empty()) index_of[i] = static_cast<uint32_t>(result.objects.size());
    LoadedObject& object = result.objects.emplace_back();
    object.object = p.typed;
    object.key = keys[i];
    object.load_order = taken_[i].load_order;
    object.content_hash = p.content_hash;
    object.valid = p.valid;
    object.errors = p.errors;
  }
  result.key_order.reserve(result.objects.size());
  for (uint32_t i : order) {
    if (index_of.empty()) {
      result.key_order.push_back(i);
    } else if (index_of[i] != kNone) {
      result.key_order.push_back(index_of[i]);
    }
  }
  for (const auto& [what, count] : skipped_) {
    Diagnostic d;
    d.severity = Diagnostic::Severity::Notice;
    d.message = "skipped " + std::to_string(count) + " object(s) of " + what + " (not used by a gateway)";
    diagnostics_.push_back(std::move(d));
  }
  result.diagnostics = std::move(diagnostics_);
  result.unreadable_paths = std::move(unreadable_);
  std::sort(result.unreadable_paths.begin(), result.unreadable_paths.end());
  result.unreadable_paths.erase(std::unique(result.unreadable_paths.begin(), result.unreadable_paths.end()),
                                result.unreadable_paths.end());
  return result;
}

namespace {

// Hidden entries are skipped: a Kubernetes ConfigMap volume holds every file
// twice more under "..data" and "..<timestamp>" directories.
bool is_hidden(const fs::path& path) { return path.filename().string().starts_with("."); }

// Files under `dir`, sorted by path; false if part of it could not be listed.
bool list_directory(const fs::path& dir, std::vector<std::string>& files) {
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  bool complete = !ec;
  std::vector<std::string> found;
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (is_hidden(it->path())) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && is_config_file_name(it->path().filename().string()))
      found.push_back(it->path().string());
  }
  if (ec) complete = false;
  std::sort(found.begin(), found.end());
  files.insert(files.end(), found.begin(), found.end());
  return complete;
}

}  // namespace

bool is_config_file_name(std::string_view file_name) {
  if (file_name.starts_with(".")) return false;
  return file_name.ends_with(".yaml") || file_name.ends_with(".yml") || file_name.ends_with(".json");
}

std::string ObjectKey::str() const {
  return kind + " " + (namespace_.empty() ? name : namespace_ + "/" + name);
}

ResourceSet LoadResult::resources() const {
  std::vector<OrderedObject> valid;
  valid.reserve(objects.size());
  for (const LoadedObject& o : objects) {
    if (o.valid) valid.push_back({&o.object, o.load_order});
  }
  return resource_set_of(std::move(valid));
}

LoadResult load_paths(const std::vector<std::string>& paths, const LoadOptions& options, LoadCache* cache,
                      const std::vector<NamedText>& texts) {
  Loader loader(options, cache);
  std::set<std::string> seen;  // a file named twice (directly and via its directory) is read once
  std::vector<std::string> to_read;
  for (const std::string& path : paths) {
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      loader.add(file_error(path, 0, "cannot read: no such file or directory"));
      loader.unreadable(path);
      continue;
    }
    std::vector<std::string> files;
    if (fs::is_directory(status)) {
      if (!list_directory(path, files)) {
        loader.add(file_error(path, 0, "cannot list every file of this directory"));
        loader.unreadable(path);
      }
    } else {
      files.push_back(path);
    }
    for (const std::string& file : files) {
      const std::string canonical = fs::weakly_canonical(file, ec).string();
      if (!seen.insert(ec ? file : canonical).second) continue;
      to_read.push_back(file);
    }
  }
  loader.load_files(to_read, texts);
  return std::move(loader).finish();
}

LoadResult load_string(const std::string& yaml, const std::string& file_name, const LoadOptions& options) {
  Loader loader(options, nullptr);
  loader.load_text(yaml, file_name);
  return std::move(loader).finish();
}

}  // namespace torii::config
