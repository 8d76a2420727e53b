#include "cli/cli.h"

#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/version.h"

namespace torii::cli {

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(usage().c_str(), stderr);
    return 2;
  }
  std::string command = argv[1];
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  if (command == "version" || command == "--version") {
    std::printf("torii %s\n", version());
    return 0;
  }
  if (command == "explain") return explain_command(argc, argv, 2);
  if (command == "get") return get_command(argc, argv, 2);
  if (command == "apply") return apply_command(argc, argv, 2);
  if (command == "delete") return delete_command(argc, argv, 2);
  if (command != "run" && command != "validate") {
    std::fprintf(stderr, "torii: unknown command '%s'\n\n%s", command.c_str(), usage().c_str());
    return 2;
  }
  Options options;
  std::string error;
  if (!parse_options(argc, argv, 2, options, error)) {
    std::fprintf(stderr, "torii %s: %s\n\n%s", command.c_str(), error.c_str(), usage().c_str());
    return 2;
  }
  if (options.help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  return command == "run" ? run_command(options) : validate_command(options);
}

}  // namespace torii::cli
