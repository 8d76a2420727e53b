// `torii apply -f FILE|DIR|- --etcd URLS [--dry-run]` (docs/scale_out.md):
// validates the objects together with those already in etcd, exactly as
// `torii validate` would, then writes them in one transaction (or in chunks
// under the generation key), each key compared with its mod_revision.
#include <cstdio>
#include <map>
#include <set>

#include "cli/commands.h"
#include "cli/control_plane.h"
#include "cli/etcd_cli.h"
#include "cli/etcd_write.h"
#include "sources/etcd_keys.h"
#include "sources/etcd_objects.h"

namespace torii::cli {

namespace {

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

}  // namespace

int apply_command(int argc, char** argv, int first) {
  EtcdArgs args;
  if (!parse_etcd_args("apply", argc, argv, first, args)) return kExitInvalid;
  if (args.files.empty() || !args.positional.empty()) {
    std::fprintf(stderr, "torii apply: expected -f FILE|DIR|- (repeatable) and no other argument\n");
    return kExitInvalid;
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
  for (const config::LoadedObject& o : fresh.objects)
    applied_keys.insert(sources::object_key(prefix, o.key.owned()));

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
    c.key = o.key.owned();
    c.etcd_key = sources::object_key(prefix, c.key);
    int first_line = 0;
    const config::SourceRef& source = o.source();
    c.value = input.document(source.file, source.line, &first_line);
    if (++per_document[source.file + ":" + std::to_string(first_line)] == 2) {
      std::fprintf(stderr,
                   "%s:%d: a List document: apply writes one object per document; split its items into "
                   "documents of their own (separated by ---)\n",
                   source.file.c_str(), first_line);
      blocking = true;
    }
    if (c.etcd_key.empty()) {
      std::fprintf(stderr, "%s:%d: %s: this kind cannot be stored in etcd\n", source.file.c_str(),
                   source.line, o.key.str().c_str());
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
      return kExitInvalid;
    }
    changes.push_back(std::move(c));
  }
  if (blocking) {
    std::fprintf(stderr, "torii apply: nothing was written (errors above)\n");
    return kExitInvalid;
  }
  if (fresh.objects.empty()) {
    std::fprintf(stderr, "torii apply: no objects in the input\n");
    return kExitInvalid;
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

}  // namespace torii::cli
