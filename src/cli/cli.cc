#include "cli/cli.h"

#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"
#include "cli/options.h"

namespace torii::cli {

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    std::fputs(usage().c_str(), argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string command = argv[1];
  if (command == "explain") return explain_command(argc, argv, 2);
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
  return command == "run" ? run_command(options) : validate_command(options);
}

}  // namespace torii::cli
