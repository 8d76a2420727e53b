#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/control_plane.h"
#include "explain/explain.h"

namespace torii::cli {

int explain_command(int argc, char** argv, int first) {
  // -H/--header and --json are explain's own; everything else goes to the
  // run options parser, so --port-map, --labels, --namespace ... apply.
  explain::Request request;
  bool as_json = false;
  std::vector<char*> rest = {argv[0], argv[1]};
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-H" || arg == "--header") {
      std::pair<std::string, std::string> header;
      if (i + 1 >= argc || !explain::parse_header(argv[i + 1], header)) {
        std::fprintf(stderr, "torii explain: %s needs 'Name: value'\n", arg.c_str());
        return 2;
      }
      request.headers.push_back(std::move(header));
      ++i;
    } else if (arg == "--json") {
      as_json = true;
    } else {
      rest.push_back(argv[i]);
    }
  }
  Options options;
  std::string error;
  std::vector<std::string> positional;
  if (!parse_options(static_cast<int>(rest.size()), rest.data(), 2, options, error, &positional)) {
    std::fprintf(stderr, "torii explain: %s\n\n%s", error.c_str(), usage().c_str());
    return 2;
  }
  if (options.help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  if (positional.size() != 2) {
    std::fprintf(stderr, "torii explain: expected METHOD URL, e.g. GET http://example.com/path\n\n%s",
                 usage().c_str());
    return 2;
  }
  request.method = positional[0];
  request.url = positional[1];

  config::Store store;
  Compiled c = load_and_compile(options, store);
  size_t errors = 0;
  for (const auto& d : c.store.diagnostics) errors += d.severity == config::Diagnostic::Severity::Error;
  for (const auto& d : c.compiled.diagnostics) errors += d.severity == config::Diagnostic::Severity::Error;
  if (errors > 0) {
    std::fprintf(stderr, "note: the configuration has %zu error(s) (objects skipped); see `torii validate`\n",
                 errors);
  }
  nlohmann::json explanation = explain::explain(*c.compiled.snapshot, request);
  if (as_json) {
    std::printf("%s\n", explanation.dump(2).c_str());
  } else {
    std::fputs(explain::to_text(explanation).c_str(), stdout);
  }
  return explanation.contains("error") ? 2 : 0;
}

}  // namespace torii::cli
