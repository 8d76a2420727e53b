#include "cli/cli.h"

#include <cstdio>

namespace torii::cli {

int main(int, char**) {
  std::fprintf(stderr, "torii: not built yet\n");
  return 2;
}

}  // namespace torii::cli
