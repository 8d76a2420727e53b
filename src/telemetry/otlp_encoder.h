// OTLP/HTTP trace export body: an ExportTraceServiceRequest
// (opentelemetry/proto/collector/trace/v1) in protobuf's binary wire format,
// written by hand. The messages used are small and stable (OTLP 1.0), so a
// few dozen lines of varint/length-delimited encoding stand in for
// libprotobuf and generated code; collectors (and Envoy) use this encoding,
// Content-Type application/x-protobuf.
//
// Exporter thread only: allocates freely.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "telemetry/span_record.h"

namespace torii::telemetry {

struct OtlpResource {
  // Resource attributes (service.name, ...), and span attributes every span
  // of this gateway carries (node_id, zone, istio.* tags).
  std::vector<std::pair<std::string, std::string>> resource_attributes;
  std::vector<std::pair<std::string, std::string>> span_attributes;
};

// The span's name when no route decorator names it (a local reply before
// routing): Istio's decorator form ("<service fqdn>:<port>/*") derived from
// an "outbound|<port>|<subset>|<host>" cluster name; else the cluster name;
// else "ingress" (Envoy's operation name without a route).
std::string span_name(std::string_view upstream_cluster);

// Appends the encoded ExportTraceServiceRequest for `spans` to `out`.
void encode_export_request(const OtlpResource& resource, const SpanRecord* spans, size_t count,
                           std::string& out);

}  // namespace torii::telemetry
