#include "cli/etcd_cli.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "sources/etcd_keys.h"

namespace torii::cli {

namespace {

constexpr const char* kStdinName = "<stdin>";

std::string read_stream(std::istream& in) {
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

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
  return error.unreachable ? kExitUnreachable : kExitInvalid;
}

std::string lower_case(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// kubectl's `kind/name` (lower-case kind).
std::string kind_slash_name(const config::ObjectKey& key) {
  const sources::KindInfo* kind = sources::kind_info(key.kind);
  return lower_case(kind != nullptr ? kind->kind : key.kind) + "/" + key.name;
}

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

std::string Input::document(const std::string& file, int line, int* first_line) {
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

}  // namespace torii::cli
