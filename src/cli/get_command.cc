#include <cstdio>
#include <string>

#include "cli/admin_client.h"
#include "cli/commands.h"
#include "cli/get_tables.h"
#include "cli/options.h"

namespace torii::cli {

namespace {

struct Admin {
  std::string host = Options{}.admin_address;  // the same default as `torii run`
  uint16_t port = Options{}.admin_port;
};

// GET target as JSON; on failure prints one line naming the address and returns false.
bool fetch_json(const Admin& admin, const std::string& target, nlohmann::json& out) {
  AdminReply reply;
  std::string error;
  const std::string where =
      (admin.host.find(':') != std::string::npos ? "[" + admin.host + "]" : admin.host) + ":" +
      std::to_string(admin.port);
  if (!admin_get(admin.host, admin.port, target, reply, error)) {
    std::fprintf(
        stderr,
        "torii get: cannot reach the admin endpoint at %s: %s (is `torii run` running? --admin ADDR:PORT)\n",
        where.c_str(), error.c_str());
    return false;
  }
  if (reply.status != 200) {
    std::fprintf(stderr, "torii get: GET %s from %s answered %d: %s\n", target.c_str(), where.c_str(),
                 reply.status, reply.body.substr(0, reply.body.find('\n')).c_str());
    return false;
  }
  out = nlohmann::json::parse(reply.body, nullptr, false);
  if (out.is_discarded()) {
    std::fprintf(stderr, "torii get: GET %s from %s: the answer is not JSON (an older Torii?)\n",
                 target.c_str(), where.c_str());
    return false;
  }
  return true;
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "torii get: %s\n\n%s", message.c_str(), usage().c_str());
  return 2;
}

}  // namespace

int get_command(int argc, char** argv, int first) {
  // With --etcd: objects and replicas in etcd (cli/etcd_commands.cc).
  for (int i = first; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--etcd" || std::string_view(argv[i]).starts_with("--etcd="))
      return etcd_get_command(argc, argv, first);
  }
  Admin admin;
  std::string resource;
  std::string output;  // "", "wide" or "json"
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    const size_t eq = arg.find('=');
    const bool inline_value = arg.starts_with("--") && eq != std::string::npos;
    if (inline_value) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    auto need_value = [&]() -> bool {
      if (inline_value) return true;
      if (i + 1 >= argc) return false;
      value = argv[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage().c_str(), stdout);
      return 0;
    } else if (arg == "--admin") {
      std::string error;
      if (!need_value()) return usage_error("--admin: missing value");
      if (!parse_admin_address(value, admin.host, admin.port, error)) return usage_error(error);
    } else if (arg == "-o" || arg == "--output") {
      if (!need_value()) return usage_error(arg + ": missing value");
      if (value != "wide" && value != "json")
        return usage_error("-o: expected wide or json, got '" + value + "'");
      output = value;
    } else if (arg.starts_with("-o") && arg.size() > 2) {  // -owide and -o=wide, as kubectl takes them
      value = arg.substr(arg[2] == '=' ? 3 : 2);
      if (value != "wide" && value != "json")
        return usage_error("-o: expected wide or json, got '" + value + "'");
      output = value;
    } else if (arg.starts_with("-")) {
      return usage_error("unknown option '" + arg + "'");
    } else if (resource.empty()) {
      resource = arg;
    } else {
      return usage_error("one resource at a time, got '" + resource + "' and '" + arg + "'");
    }
  }
  // kubectl's singular forms are accepted too.
  const std::string given = resource;
  if (!resource.empty() && resource.back() != 's') resource += 's';
  Table table;
  nlohmann::json dump, live;
  if (resource == "listeners") {
    if (!fetch_json(admin, "/listeners?format=json", live) || !fetch_json(admin, "/config_dump", dump))
      return 1;
    table = listeners_table(live, dump);
  } else if (resource == "routes") {
    if (!fetch_json(admin, "/config_dump", dump)) return 1;
    table = routes_table(dump);
  } else if (resource == "clusters") {
    if (!fetch_json(admin, "/clusters?format=json", live) || !fetch_json(admin, "/config_dump", dump))
      return 1;
    table = clusters_table(live, dump);
  } else if (resource == "endpoints") {
    if (!fetch_json(admin, "/clusters?format=json", live)) return 1;
    table = endpoints_table(live);
  } else {
    return usage_error(resource.empty() ? "expected a resource: listeners, routes, clusters or endpoints"
                                        : "unknown resource '" + given +
                                              "': expected listeners, routes, clusters or endpoints");
  }
  if (output == "json") {
    std::printf("%s\n", table_json(table).dump(2).c_str());
  } else if (table.rows.empty()) {
    std::fputs("No resources found.\n", stderr);  // as kubectl says it
  } else {
    std::fputs(format_table(table, output == "wide").c_str(), stdout);
  }
  return 0;
}

}  // namespace torii::cli
