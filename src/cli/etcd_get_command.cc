// `torii get KIND [NAME] [-n NS | -A] [-o yaml|json|wide] --etcd URLS` and
// `torii get replicas --etcd URLS` (docs/scale_out.md): kubectl-style tables
// of the objects in etcd, their status (validated together here, and as the
// replicas report it) and the live replicas.
#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "cli/commands.h"
#include "cli/control_plane.h"
#include "cli/etcd_cli.h"
#include "cli/get_tables.h"
#include "sources/etcd_keys.h"
#include "sources/etcd_objects.h"
#include "sources/replica_status.h"

namespace torii::cli {

int etcd_get_command(int argc, char** argv, int first) {
  EtcdArgs args;
  if (!parse_etcd_args("get", argc, argv, first, args)) return kExitInvalid;
  const Options& options = args.options;
  const std::string& prefix = options.etcd.prefix;
  if (args.positional.empty() || args.positional.size() > 2) {
    std::fprintf(stderr, "torii get: expected KIND [NAME] (KIND: vs, gw, dr, se, ... or replicas)\n");
    return kExitInvalid;
  }
  sources::EtcdClient etcd(options.etcd);
  sources::EtcdError error;
  const std::string& what = args.positional[0];
  if (what == "replicas" || what == "replica") {
    std::vector<sources::ReplicaStatus> replicas;
    int64_t newest = 0;
    if (!sources::read_replicas(etcd, prefix, replicas, newest, error)) return etcd_failure("get", error);
    Table table;
    table.columns = {"NAME", "REVISION", "BEHIND", "REJECTED", "ENDPOINT", "LAST-UPDATE"};
    table.narrow_columns = 5;
    for (const sources::ReplicaStatus& r : replicas) {
      std::vector<std::string> row = {r.name, std::to_string(r.served_revision),
                                      std::to_string(std::max<int64_t>(0, newest - r.served_revision)),
                                      std::to_string(r.rejected.size()), r.endpoint};
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
    return kExitInvalid;
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
    std::fprintf(stderr, "torii get: %s \"%s\" not found%s\n", lower_case(kind->kind).c_str(),
                 args.positional[1].c_str(), every_namespace ? "" : (" in namespace " + ns).c_str());
    return kExitInvalid;
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
