#pragma once

#include "cli/options.h"

namespace torii::cli {

// `torii run`: serve until SIGTERM/SIGINT, reloading on file changes and SIGHUP.
int run_command(const Options& options);

// `torii validate`: load, validate and compile; print every problem as
// `file:line: Kind namespace/name: field.path: message`; exit 1 on errors.
int validate_command(const Options& options);

}  // namespace torii::cli
