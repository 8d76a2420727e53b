// `torii delete (-f FILE|DIR|- | KIND NAME [-n NS]) --etcd URLS`
// (docs/scale_out.md): the objects' keys, deleted as apply writes.
#include <cstdio>
#include <map>

#include "cli/commands.h"
#include "cli/etcd_cli.h"
#include "cli/etcd_write.h"
#include "sources/etcd_keys.h"

namespace torii::cli {

int delete_command(int argc, char** argv, int first) {
  EtcdArgs args;
  if (!parse_etcd_args("delete", argc, argv, first, args)) return kExitInvalid;
  const Options& options = args.options;
  const std::string& prefix = options.etcd.prefix;
  std::vector<config::ObjectKey> keys;
  if (!args.files.empty()) {
    if (!args.positional.empty()) {
      std::fprintf(stderr, "torii delete: either -f FILE or KIND NAME, not both\n");
      return kExitInvalid;
    }
    Input input = read_input(args.files);
    config::LoadResult fresh = config::load_paths(input.paths, options.load, nullptr, input.texts);
    for (const auto& d : fresh.diagnostics) {
      if (d.severity == config::Diagnostic::Severity::Error && d.kind.empty()) {
        std::fprintf(stderr, "%s\n", d.format().c_str());
        return kExitInvalid;
      }
    }
    for (const auto& o : fresh.objects) keys.push_back(o.key.owned());
  } else {
    if (args.positional.size() != 2) {
      std::fprintf(stderr, "torii delete: expected -f FILE or KIND NAME [-n NS]\n");
      return kExitInvalid;
    }
    const sources::KindInfo* kind = sources::resolve_kind(args.positional[0]);
    if (kind == nullptr) {
      std::fprintf(stderr, "torii delete: unknown kind '%s'\n", args.positional[0].c_str());
      return kExitInvalid;
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
      status = kExitInvalid;
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

}  // namespace torii::cli
