#pragma once

#include "cli/options.h"

namespace torii::cli {

// `torii run`: serve until SIGTERM/SIGINT, reloading on file changes and SIGHUP.
int run_command(const Options& options);

// `torii validate`: load, validate and compile; print every problem as
// `file:line: Kind namespace/name: field.path: message`; exit 1 on errors.
int validate_command(const Options& options);

// `torii explain [--json] METHOD URL [-H 'Name: value' ...]` plus the run
// options: loads and compiles like validate, then prints which listener,
// server, virtual host and route the request would take and what would
// happen to it (explain/explain.h). argv[first..] are the arguments.
int explain_command(int argc, char** argv, int first);

// `torii get listeners|routes|clusters|endpoints [--admin ADDR:PORT] [-o wide|json]`:
// kubectl-style tables of a running instance, read from its admin endpoint
// (cli/get_tables.h). Exit 1 when the endpoint cannot be read, 2 on usage errors.
int get_command(int argc, char** argv, int first);

}  // namespace torii::cli
