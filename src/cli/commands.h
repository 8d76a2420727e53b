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

// Config in etcd (docs/scale_out.md), cli/etcd_commands.cc. Exit codes: 0
// done, 1 invalid input (or a conflict, or not found), 2 etcd unreachable.
// `torii apply -f FILE|DIR|- --etcd URLS [--dry-run]`: validates the objects
// with those already in etcd, then writes them in one transaction.
int apply_command(int argc, char** argv, int first);
// `torii delete (-f FILE | KIND NAME [-n NS]) --etcd URLS`.
int delete_command(int argc, char** argv, int first);
// `torii get KIND [NAME] [-n NS | -A] [-o yaml|json|wide] --etcd URLS` and
// `torii get replicas --etcd URLS` (get_command hands over when --etcd is given).
int etcd_get_command(int argc, char** argv, int first);

}  // namespace torii::cli
