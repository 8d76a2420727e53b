// The process_* metrics of Prometheus client libraries (what the Go and
// Java clients export and dashboards chart), read from /proc/self on each
// scrape: process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds,
// process_start_time_seconds. Envoy has none of them (it exports
// envoy_server_memory_*); pilot-agent's merged :15090 scrape has its own.
#pragma once

#include <string>

namespace torii::telemetry {

// Appends the families in the text format (after Envoy's families:
// process_cpu_seconds_total is a counter, the rest gauges). Values that
// cannot be read are left out.
void append_process_metrics(std::string& out);

}  // namespace torii::telemetry
