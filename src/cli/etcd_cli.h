// What `torii apply`, `torii delete` and `torii get KIND --etcd` share
// (cli/apply_command.cc, cli/delete_command.cc, cli/etcd_get_command.cc):
// their flags, exit codes and input (docs/scale_out.md).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cli/options.h"
#include "config/loader.h"
#include "config/object_key.h"
#include "sources/etcd_client.h"
#include "sources/etcd_objects.h"

namespace torii::cli {

// The contract: 0 done, 1 invalid input (or a conflict, or an
// object not found), 2 etcd cannot be reached.
inline constexpr int kExitInvalid = 1;
inline constexpr int kExitUnreachable = 2;

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

// Takes -f, --dry-run, -n, -A and -o out of argv; the rest goes to
// parse_options() (the run options, --etcd* among them). False after printing why.
bool parse_etcd_args(const char* command, int argc, char** argv, int first, EtcdArgs& out);

// Prints `torii COMMAND: message`; returns the exit code (2 when unreachable).
int etcd_failure(const char* command, const sources::EtcdError& error);

std::string lower_case(std::string s);
// kubectl's `kind/name` (lower-case kind).
std::string kind_slash_name(const config::ObjectKey& key);

// The input of apply/delete -f: files and directories by path, "-" as stdin.
struct Input {
  std::vector<std::string> paths;
  std::vector<config::NamedText> texts;         // stdin
  std::map<std::string, std::string> contents;  // file -> its text, read when needed
  std::map<std::string, sources::DocumentIndex> documents;
  // The document holding `line` of `file`, as stored in etcd.
  std::string document(const std::string& file, int line, int* first_line);
};

Input read_input(const std::vector<std::string>& files);

}  // namespace torii::cli
