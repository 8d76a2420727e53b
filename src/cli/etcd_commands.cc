// `torii apply`, `torii delete` and `torii get KIND` against etcd
// (docs/scale_out.md). Exit codes, as the contract: 0 done, 1
// invalid input (or a conflict, or an object not found), 2 etcd unreachable.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "cli/control_plane.h"
#include "cli/get_tables.h"
#include "cli/options.h"
#include "sources/etcd_client.h"
#include "sources/etcd_keys.h"
#include "sources/etcd_objects.h"
#include "sources/replica_status.h"

namespace torii::cli {

namespace {

constexpr int kInvalid = 1;
constexpr int kUnreachable = 2;
constexpr const char* kStdinName = "<stdin>";

// What apply/delete/get take besides the run options.
struct EtcdArgs {
  std::vector<std::string> files;  // -f (repeatable); "-" is stdin
  bool dry_run = false;
  std::string namespace_;  // -n
  bool all_namespaces = false;
  std::string output;  // -o
  std::vector<std::string> positional;
  Options options;
};

// Takes -f, --dry-run, -n, -A and -o out of argv; the rest goes to parse_options.
bool parse_etcd_args(const char* command, int argc, char** argv, int first, EtcdArgs& out) {
  std::vector<char*> rest = {argv[0]};
  auto value_of = [&](int& i, const std::string& arg, const std::string& flag, std::string& value) -> bool {
    if (arg == flag) {
      if (i + 1 >= argc) return false;
      value = argv[++i];
      return true;
    }
    if (arg.starts_with(flag + "=")) {
      value = arg.substr(flag.size() + 1);
      return true;
    }
    if (flag.size() == 2 && arg.starts_with(flag) && arg.size() > 2 && !arg.starts_with("--")) {
      value = arg.substr(2);  // -ojson, -nfoo
      return true;
    }
    return false;
  };
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    std::string value;
    if (value_of(i, arg, "-f", value) || value_of(i, arg, "--filename", value)) {
      out.files.push_back(value);
    } else if (arg == "--dry-run" || arg == "--dry-run=client" || arg == "--dry-run=server") {
      out.dry_run = true;
    } else if (value_of(i, arg, "-n", value) || value_of(i, arg, "--namespace", value)) {
      out.namespace_ = value;
    } else if (arg == "-A" || arg == "--all-namespaces") {
      out.all_namespaces = true;
    } else if (value_of(i, arg, "-o", value) || value_of(i, arg, "--output", value)) {
      if (value != "yaml" && value != "json" && value != "wide") {
        std::fprintf(stderr, "torii %s: -o: expected yaml, json or wide, got '%s'\n", command, value.c_str());
        return false;
      }
      out.output = value;
    } else {
      rest.push_back(argv[i]);
    }
  }
  std::string error;
  if (!parse_options(static_cast<int>(rest.size()), rest.data(), 1, out.options, error, &out.positional)) {
    std::fprintf(stderr, "torii %s: %s\n", command, error.c_str());
    return false;
  }
  if (!out.options.etcd.enabled()) {
    std::fprintf(stderr, "torii %s: --etcd URL[,URL...] is required\n", command);
    return false;
  }
  return true;
}

int etcd_failure(const char* command, const sources::EtcdError& error) {
  std::fprintf(stderr, "torii %s: %s\n", command, error.message.c_str());
  return error.unreachable ? kUnreachable : kInvalid;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// kubectl's `kind/name` (lower-case kind).
std::string kind_slash_name(const config::ObjectKey& key) {
  const sources::KindInfo* kind = sources::kind_info(key.kind);
  return lower(kind != nullptr ? kind->kind : key.kind) + "/" + key.name;
}

std::string read_stream(std::istream& in) {
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The input of apply/delete -f: files and directories by path, "-" as stdin.
struct Input {
  std::vector<std::string> paths;
  std::vector<config::NamedText> texts;         // stdin
  std::map<std::string, std::string> contents;  // file -> its text, read when needed
  std::map<std::string, sources::DocumentIndex> documents;
  // The document holding `line` of `file`, as stored in etcd.
  std::string document(const std::string& file, int line, int* first_line) {
    auto it = documents.find(file);
    if (it == documents.end()) {
      if (!contents.contains(file)) {
        std::ifstream in(file, std::ios::binary);
        contents[file] = read_stream(in);
      }
      it = documents.emplace(file, sources::DocumentIndex(contents[file])).first;
    }
    return it->second.at(line, first_line);
  }
};

Input read_input(const std::vector<std::string>& files) {
  Input input;
  for (const std::string& f : files) {
    if (f == "-") {
      input.texts.push_back({kStdinName, read_stream(std::cin), ""});
      input.contents[kStdinName] = input.texts.back().text;
    } else {
      input.paths.push_back(f);
    }
  }
  return input;
}

bool print_diagnostics(const config::Diagnostics& all, const std::set<std::string>& etcd_names) {
  bool blocking = false;
  for (const auto& d : all) {
    const bool from_etcd = etcd_names.contains(d.source.file);
    const bool error = d.severity == config::Diagnostic::Severity::Error;
    if (from_etcd && !error) continue;  // not this apply's business
    // An error of an object already in etcd (and not in this apply) is
    // shown but does not stop the apply: it is served as it is now.
    std::fprintf(stderr, "%s%s\n", from_etcd ? "(in etcd, not changed by this apply) " : "",
                 d.format().c_str());
    blocking = blocking || (error && !from_etcd);
  }
  return blocking;
}

// One key per object of an apply: its document, as written.
struct Change {
  config::ObjectKey key;
  std::string etcd_key;
  std::string value;
  const char* verb = "unchanged";
  int64_t expect_revision = 0;  // the compare: 0 = must not exist
};

// etcd's default --max-txn-ops: compares and operations of one transaction,
// each; and its default --max-request-bytes is 1.5 MiB, which keys and values
// reach at about 1.1 MiB once base64-encoded in JSON: 1 MiB per transaction.
constexpr size_t kMaxTxnOps = 128;
constexpr size_t kMaxTxnBytes = 1 << 20;

// [first, last) of `puts` per transaction, within both limits.
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
  return kInvalid;
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
      return kInvalid;
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
    return kInvalid;
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

}  // namespace

int apply_command(int argc, char** argv, int first) {
  EtcdArgs args;
  if (!parse_etcd_args("apply", argc, argv, first, args)) return kInvalid;
  if (args.files.empty() || !args.positional.empty()) {
    std::fprintf(stderr, "torii apply: expected -f FILE|DIR|- (repeatable) and no other argument\n");
    return kInvalid;
  }
  const Options& options = args.options;
  const std::string& prefix = options.etcd.prefix;
  Input input = read_input(args.files);

  // The new objects on their own: their keys, and which document each came from.
  config::LoadResult fresh = config::load_paths(input.paths, options.load, nullptr, input.texts);

  sources::EtcdClient etcd(options.etcd);
  sources::RangeResponse current;
  sources::EtcdError error;
  if (!etcd.range_prefix(sources::objects_prefix(prefix), current, error))
    return etcd_failure("apply", error);
  std::map<std::string, sources::KeyValue> existing;
  for (sources::KeyValue& kv : current.kvs) existing.emplace(kv.key, std::move(kv));

  std::set<std::string> applied_keys;
  for (const config::LoadedObject& o : fresh.objects) applied_keys.insert(sources::object_key(prefix, o.key));

  // Validate the new objects together with those already in etcd that they
  // do not replace, exactly as `torii validate` would with all of them.
  std::vector<sources::KeyValue> others;
  for (const auto& [key, kv] : existing) {
    if (!applied_keys.contains(key)) others.push_back(kv);
  }
  std::vector<config::NamedText> texts = sources::named_texts(others, prefix);
  std::set<std::string> etcd_names;
  for (const auto& t : texts) etcd_names.insert(t.name);
  texts.insert(texts.end(), input.texts.begin(), input.texts.end());
  config::Store store;
  config::Store::Result loaded = store.apply(config::load_paths(input.paths, options.load, nullptr, texts));
  compile::CompileResult compiled = compile::compile(loaded.resources, options.identity);
  config::Diagnostics all = loaded.diagnostics;
  all.insert(all.end(), compiled.diagnostics.begin(), compiled.diagnostics.end());
  bool blocking = print_diagnostics(all, etcd_names);

  std::vector<Change> changes;
  std::map<std::string, int> per_document;  // file:first line -> objects from it
  for (const config::LoadedObject& o : fresh.objects) {
    Change c;
    c.key = o.key;
    c.etcd_key = sources::object_key(prefix, o.key);
    int first_line = 0;
    c.value = input.document(o.source.file, o.source.line, &first_line);
    if (++per_document[o.source.file + ":" + std::to_string(first_line)] == 2) {
      std::fprintf(stderr,
                   "%s:%d: a List document: apply writes one object per document; split its items into "
                   "documents of their own (separated by ---)\n",
                   o.source.file.c_str(), first_line);
      blocking = true;
    }
    if (c.etcd_key.empty()) {
      std::fprintf(stderr, "%s:%d: %s: this kind cannot be stored in etcd\n", o.source.file.c_str(),
                   o.source.line, o.key.str().c_str());
      blocking = true;
      continue;
    }
    auto it = existing.find(c.etcd_key);
    const int64_t written_version = sources::resource_version_of(c.value);
    if (it == existing.end()) {
      c.verb = "created";
    } else {
      c.expect_revision = it->second.mod_revision;
      c.verb = it->second.value == c.value ? "unchanged" : "configured";
    }
    // A resourceVersion from `get -o yaml` names the version it was edited from.
    if (written_version != 0 && written_version != c.expect_revision) {
      std::fprintf(
          stderr,
          "torii apply: %s was changed by someone else: resourceVersion %lld was given, etcd has %lld; "
          "nothing was written (get it again and reapply your change)\n",
          c.key.str().c_str(), static_cast<long long>(written_version),
          static_cast<long long>(c.expect_revision));
      return kInvalid;
    }
    changes.push_back(std::move(c));
  }
  if (blocking) {
    std::fprintf(stderr, "torii apply: nothing was written (errors above)\n");
    return kInvalid;
  }
  if (fresh.objects.empty()) {
    std::fprintf(stderr, "torii apply: no objects in the input\n");
    return kInvalid;
  }

  std::vector<sources::TxnCompare> compares;
  std::vector<sources::TxnOp> puts;
  for (const Change& c : changes) {
    if (std::string_view(c.verb) == "unchanged") continue;
    compares.push_back({c.etcd_key, c.expect_revision});
    puts.push_back({sources::TxnOp::Type::Put, c.etcd_key, c.value, "", 0});
  }
  if (!args.dry_run && !puts.empty()) {
    const auto chunks = transactions(puts);
    const int status = chunks.size() == 1
                           ? write_in_one_transaction(etcd, compares, puts, changes)
                           : write_in_chunks(etcd, prefix, chunks, compares, puts, changes, existing);
    if (status != 0) return status;
  }
  for (const Change& c : changes)
    std::printf("%s %s%s\n", kind_slash_name(c.key).c_str(), c.verb, args.dry_run ? " (dry run)" : "");
  return 0;
}

int delete_command(int argc, char** argv, int first) {
  EtcdArgs args;
  if (!parse_etcd_args("delete", argc, argv, first, args)) return kInvalid;
  const Options& options = args.options;
  const std::string& prefix = options.etcd.prefix;
  std::vector<config::ObjectKey> keys;
  if (!args.files.empty()) {
    if (!args.positional.empty()) {
      std::fprintf(stderr, "torii delete: either -f FILE or KIND NAME, not both\n");
      return kInvalid;
    }
    Input input = read_input(args.files);
    config::LoadResult fresh = config::load_paths(input.paths, options.load, nullptr, input.texts);
    for (const auto& d : fresh.diagnostics) {
      if (d.severity == config::Diagnostic::Severity::Error && d.kind.empty()) {
        std::fprintf(stderr, "%s\n", d.format().c_str());
        return kInvalid;
      }
    }
    for (const auto& o : fresh.objects) keys.push_back(o.key);
  } else {
    if (args.positional.size() != 2) {
      std::fprintf(stderr, "torii delete: expected -f FILE or KIND NAME [-n NS]\n");
      return kInvalid;
    }
    const sources::KindInfo* kind = sources::resolve_kind(args.positional[0]);
    if (kind == nullptr) {
      std::fprintf(stderr, "torii delete: unknown kind '%s'\n", args.positional[0].c_str());
      return kInvalid;
    }
    const std::string ns = kind->cluster_scoped      ? ""
                           : args.namespace_.empty() ? options.load.default_namespace
                                                     : args.namespace_;
    keys.push_back({kind->key_kind, ns, args.positional[1]});
  }

  sources::EtcdClient etcd(options.etcd);
  sources::EtcdError error;
  std::vector<sources::TxnCompare> compares;
  std::vector<sources::TxnOp> deletes;
  std::vector<config::ObjectKey> found;
  std::vector<Change> changes;
  std::map<std::string, sources::KeyValue> existing;
  int status = 0;
  for (const auto& key : keys) {
    const std::string etcd_key = sources::object_key(prefix, key);
    sources::RangeResponse now;
    if (!etcd.range(etcd_key, "", 0, now, error)) return etcd_failure("delete", error);
    if (now.kvs.empty()) {
      std::fprintf(stderr, "torii delete: %s not found\n", key.str().c_str());
      status = kInvalid;
      continue;
    }
    compares.push_back({etcd_key, now.kvs[0].mod_revision});
    deletes.push_back({sources::TxnOp::Type::Delete, etcd_key, "", "", 0});
    found.push_back(key);
    changes.push_back({key, etcd_key, "", "deleted", now.kvs[0].mod_revision});
    existing.emplace(etcd_key, now.kvs[0]);
  }
  if (!deletes.empty() && !args.dry_run) {
    // As apply writes: one transaction, or chunks under the generation key.
    const auto chunks = transactions(deletes);
    const int failed = chunks.size() == 1
                           ? write_in_one_transaction(etcd, compares, deletes, changes)
                           : write_in_chunks(etcd, prefix, chunks, compares, deletes, changes, existing);
    if (failed != 0) return failed;
  }
  for (const auto& key : found)
    std::printf("%s deleted%s\n", kind_slash_name(key).c_str(), args.dry_run ? " (dry run)" : "");
  return status;
}

int etcd_get_command(int argc, char** argv, int first) {
  EtcdArgs args;
  if (!parse_etcd_args("get", argc, argv, first, args)) return kInvalid;
  const Options& options = args.options;
  const std::string& prefix = options.etcd.prefix;
  if (args.positional.empty() || args.positional.size() > 2) {
    std::fprintf(stderr, "torii get: expected KIND [NAME] (KIND: vs, gw, dr, se, ... or replicas)\n");
    return kInvalid;
  }
  sources::EtcdClient etcd(options.etcd);
  sources::EtcdError error;
  const std::string& what = args.positional[0];
  if (what == "replicas" || what == "replica") {
    std::vector<sources::ReplicaStatus> replicas;
    int64_t newest = 0;
    if (!sources::read_replicas(etcd, prefix, replicas, newest, error)) return etcd_failure("get", error);
    Table table;
    table.columns = {"NAME", "REVISION", "BEHIND", "REJECTED", "CACHE", "LAST-UPDATE"};
    table.narrow_columns = 5;
    for (const sources::ReplicaStatus& r : replicas) {
      std::vector<std::string> row = {r.name, std::to_string(r.served_revision),
                                      std::to_string(std::max<int64_t>(0, newest - r.served_revision)),
                                      std::to_string(r.rejected.size()), r.stale ? "stale" : "-"};
      row.push_back(r.updated);
      table.rows.push_back(std::move(row));
    }
    if (args.output == "json") {
      nlohmann::json out = nlohmann::json::array();
      for (const sources::ReplicaStatus& r : replicas) out.push_back(r.raw);
      std::printf("%s\n", out.dump(2).c_str());
    } else if (table.rows.empty()) {
      std::fputs("No replicas found.\n", stderr);
    } else {
      std::fputs(format_table(table, args.output == "wide").c_str(), stdout);
    }
    return 0;
  }
  const sources::KindInfo* kind = sources::resolve_kind(what);
  if (kind == nullptr) {
    std::fprintf(stderr, "torii get: unknown kind '%s' (vs, gw, dr, se, ... or replicas)\n", what.c_str());
    return kInvalid;
  }
  const std::string ns = args.namespace_.empty() ? options.load.default_namespace : args.namespace_;
  const bool every_namespace = args.all_namespaces || kind->cluster_scoped;

  // Every object: a status is only right with all of them (cross-object checks).
  sources::RangeResponse all;
  if (!etcd.range_prefix(sources::objects_prefix(prefix), all, error)) return etcd_failure("get", error);
  std::vector<sources::ReplicaStatus> replicas;
  int64_t newest = 0;
  if (!sources::read_replicas(etcd, prefix, replicas, newest, error)) return etcd_failure("get", error);

  std::vector<config::NamedText> texts = sources::named_texts(all.kvs, prefix);
  config::Store store;
  config::Store::Result loaded = store.apply(config::load_paths({}, options.load, nullptr, texts));
  compile::CompileResult compiled = compile::compile(loaded.resources, options.identity);
  std::map<std::string, std::string> rejected;  // etcd key -> first error
  for (const config::Diagnostics* list : {&loaded.diagnostics, &compiled.diagnostics}) {
    for (const auto& d : *list) {
      if (d.severity == config::Diagnostic::Severity::Error && !rejected.contains(d.source.file))
        rejected[d.source.file] = d.format();
    }
  }

  const std::string wanted =
      every_namespace ? sources::kind_prefix(prefix, *kind) : sources::kind_prefix(prefix, *kind, ns);
  std::vector<const sources::KeyValue*> shown;
  for (const sources::KeyValue& kv : all.kvs) {
    if (!kv.key.starts_with(wanted)) continue;
    config::ObjectKey key;
    if (!sources::parse_object_key(prefix, kv.key, key)) continue;
    if (args.positional.size() == 2 && key.name != args.positional[1]) continue;
    shown.push_back(&kv);
  }
  if (args.positional.size() == 2 && shown.empty()) {
    std::fprintf(stderr, "torii get: %s \"%s\" not found%s\n", lower(kind->kind).c_str(),
                 args.positional[1].c_str(), every_namespace ? "" : (" in namespace " + ns).c_str());
    return kInvalid;
  }

  // Rejected when it does not validate here, or when a replica says it rejected it.
  auto status_of = [&](const sources::KeyValue& kv) {
    bool refused = rejected.contains(kv.key);
    for (const sources::ReplicaStatus& r : replicas) refused = refused || r.rejected.contains(kv.key);
    return refused ? "Rejected" : "Accepted";
  };
  if (args.output == "yaml" || args.output == "json") {
    std::vector<std::string> docs;
    nlohmann::json items = nlohmann::json::array();
    for (const sources::KeyValue* kv : shown) {
      const std::string message = rejected.contains(kv->key) ? rejected[kv->key] : "";
      const std::string status = sources::object_status_yaml(*kv, message, replicas);
      std::string doc = sources::with_resource_version(kv->value, kv->mod_revision);
      if (args.output == "yaml") {
        docs.push_back(doc + status);
      } else {
        nlohmann::json object = sources::yaml_to_json(doc);
        object["status"] = sources::yaml_to_json(status)["status"];
        // A string, as Kubernetes writes it (the YAML reader cannot tell "2" from 2).
        if (object.is_object() && object["metadata"].is_object())
          object["metadata"]["resourceVersion"] = std::to_string(kv->mod_revision);
        items.push_back(std::move(object));
      }
    }
    if (args.output == "json") {
      const nlohmann::json out =
          args.positional.size() == 2 && items.size() == 1
              ? items[0]
              : nlohmann::json{{"apiVersion", "v1"}, {"kind", "List"}, {"items", items}};
      std::printf("%s\n", out.dump(2).c_str());
    } else if (args.positional.size() == 2 && docs.size() == 1) {
      std::fputs(docs[0].c_str(), stdout);
    } else {
      std::string out = "apiVersion: v1\nkind: List\nitems:\n";
      for (const std::string& doc : docs) {
        bool first_line = true;
        std::stringstream lines(doc);
        for (std::string line; std::getline(lines, line);) {
          out += (first_line ? "- " : "  ") + line + "\n";
          first_line = false;
        }
      }
      std::fputs(out.c_str(), stdout);
    }
    return 0;
  }

  Table table;
  if (every_namespace && !kind->cluster_scoped) table.columns.push_back("NAMESPACE");
  for (const char* c : {"NAME", "STATUS", "REVISION", "REPLICAS"}) table.columns.push_back(c);
  table.narrow_columns = table.columns.size();
  table.columns.push_back("MESSAGE");
  for (const sources::KeyValue* kv : shown) {
    config::ObjectKey key;
    sources::parse_object_key(prefix, kv->key, key);
    std::vector<std::string> row;
    if (every_namespace && !kind->cluster_scoped) row.push_back(key.namespace_);
    row.push_back(key.name);
    row.push_back(status_of(*kv));
    row.push_back(std::to_string(kv->mod_revision));
    row.push_back(sources::replicas_serving(*kv, replicas));
    row.push_back(rejected.contains(kv->key) ? rejected[kv->key] : "");
    table.rows.push_back(std::move(row));
  }
  if (table.rows.empty()) {
    std::fprintf(stderr, "No resources found%s.\n",
                 every_namespace ? "" : (" in " + ns + " namespace").c_str());
  } else {
    std::fputs(format_table(table, args.output == "wide").c_str(), stdout);
  }
  return 0;
}

}  // namespace torii::cli
