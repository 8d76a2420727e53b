// `torii get` tables: rows built from the admin endpoint's JSON, printed as
// `kubectl get` prints them. Pure functions of the JSON, so they are unit-tested
// without a running instance (tests/cli/get_tables_test.cc).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace torii::cli {

struct Table {
  std::vector<std::string> columns;  // upper case, as kubectl
  size_t narrow_columns = 0;         // the first N columns are the default view; the rest are -o wide
  std::vector<std::vector<std::string>> rows;
};

// Columns left-aligned to the widest cell plus two spaces, no trailing
// spaces; empty cells print as "<none>" (kubectl's placeholder). `wide`
// prints every column, otherwise only the first narrow_columns.
std::string format_table(const Table& table, bool wide);

// -o json: an array with one object per row, keyed by the lower-cased column
// names (every column, wide or not), so scripts need not parse the table.
nlohmann::json table_json(const Table& table);

// NAME ADDRESS PROTOCOLS HOSTS | GATEWAYS. `listeners` is GET /listeners?format=json
// (the bound address), `dump` GET /config_dump (what each listener serves).
Table listeners_table(const nlohmann::json& listeners, const nlohmann::json& dump);

// LISTENER HOST MATCH DESTINATIONS | VIRTUALSERVICE TIMEOUT RETRIES: one row per
// route in match order, from /config_dump (HTTP routes, TLS-terminated
// chains and TCP/TLS passthrough chains).
Table routes_table(const nlohmann::json& dump);

// NAME PROTOCOL ENDPOINTS HEALTHY LB CIRCUIT-BREAKERS | OUTLIER-DETECTION TLS.
// `clusters` is GET /clusters?format=json (live health), `dump` /config_dump
// (the effective traffic policy).
Table clusters_table(const nlohmann::json& clusters, const nlohmann::json& dump);

// CLUSTER ADDRESS HEALTH WEIGHT LOCALITY | PRIORITY EJECTION-LEFT RQ-ACTIVE RQ-TOTAL RQ-ERROR,
// from GET /clusters?format=json.
Table endpoints_table(const nlohmann::json& clusters);

}  // namespace torii::cli
