// Gateway, DestinationRule, ServiceEntry and WorkloadEntry specs.
#include "config/parsers.h"

namespace torii::config {
namespace {

Port read_port(const Field& f) {
  Port p;
  if (!f.expect_map()) return p;
  p.number = f["number"].uint32();
  p.protocol = f["protocol"].upper_string();
  p.name = f["name"].string();
  p.target_port = f["targetPort"].uint32();
  return p;
}

std::optional<ServerTLSSettings> read_server_tls(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  ServerTLSSettings t;
  t.https_redirect = f["httpsRedirect"].boolean();
  t.mode = f["mode"].upper_string();
  t.server_certificate = f["serverCertificate"].string();
  t.private_key = f["privateKey"].string();
  t.ca_certificates = f["caCertificates"].string();
  t.credential_name = f["credentialName"].string();
  t.credential_names = f["credentialNames"].strings();
  for (const Field& c : f["tlsCertificates"].items()) {
    ServerTLSSettings::Certificate cert;
    if (c.expect_map()) {
      cert.server_certificate = c["serverCertificate"].string();
      cert.private_key = c["privateKey"].string();
      cert.ca_certificates = c["caCertificates"].string();
    }
    t.tls_certificates.push_back(std::move(cert));
  }
  t.ca_crl = f["caCrl"].string();
  t.cipher_suites = f["cipherSuites"].strings();
  t.min_protocol_version = f["minProtocolVersion"].upper_string();
  t.max_protocol_version = f["maxProtocolVersion"].upper_string();
  t.subject_alt_names = f["subjectAltNames"].strings();
  t.verify_certificate_spki = f["verifyCertificateSpki"].strings();
  t.verify_certificate_hash = f["verifyCertificateHash"].strings();
  return t;
}

Server read_server(const Field& f) {
  Server s;
  s.source = f.source();
  if (!f.expect_map()) return s;
  s.port = read_port(f["port"]);
  s.bind = f["bind"].string();
  s.hosts = f["hosts"].strings();
  s.tls = read_server_tls(f["tls"]);
  s.name = f["name"].string();
  return s;
}

// The WorkloadEntry spec, also the shape of each ServiceEntry endpoint.
void read_workload_fields(const Field& f, WorkloadEntry& out) {
  out.address = f["address"].string();
  out.ports = f["ports"].uint32_map();
  out.labels = f["labels"].string_map();
  out.network = f["network"].string();
  out.locality = f["locality"].string();
  out.weight = f["weight"].uint32();
  out.service_account = f["serviceAccount"].string();
}

}  // namespace

void read_gateway(const Field& spec, Gateway& out) {
  if (!spec.expect_map()) return;
  out.selector = spec["selector"].string_map();
  for (const Field& server : spec["servers"].items()) out.servers.push_back(read_server(server));
}

void read_destination_rule(const Field& spec, DestinationRule& out) {
  if (!spec.expect_map()) return;
  out.host = spec["host"].string();
  for (const Field& f : spec["subsets"].items()) {
    Subset subset;
    if (f.expect_map()) {
      subset.name = f["name"].string();
      subset.labels = f["labels"].string_map();
      subset.traffic_policy = read_traffic_policy(f["trafficPolicy"]);
    }
    out.subsets.push_back(std::move(subset));
  }
  out.export_to = spec["exportTo"].strings();
  out.traffic_policy = read_traffic_policy(spec["trafficPolicy"]);
}

void read_service_entry(const Field& spec, ServiceEntry& out) {
  if (!spec.expect_map()) return;
  out.hosts = spec["hosts"].strings();
  out.addresses = spec["addresses"].strings();
  for (const Field& p : spec["ports"].items()) out.ports.push_back(read_port(p));
  // Filled with the API defaults so consumers never see "".
  out.location = spec["location"].upper_string();
  if (out.location.empty()) out.location = "MESH_EXTERNAL";
  out.resolution = spec["resolution"].upper_string();
  if (out.resolution.empty()) out.resolution = "NONE";
  for (const Field& e : spec["endpoints"].items()) {
    WorkloadEntry endpoint;
    endpoint.meta.namespace_ = out.meta.namespace_;
    endpoint.meta.source = e.source();
    endpoint.meta.load_order = out.meta.load_order;
    if (e.expect_map()) read_workload_fields(e, endpoint);
    out.endpoints.push_back(std::move(endpoint));
  }
  const Field selector = spec["workloadSelector"];
  if (selector.expect_map()) out.workload_selector = selector["labels"].string_map();
  out.export_to = spec["exportTo"].strings();
  out.subject_alt_names = spec["subjectAltNames"].strings();
}

void read_workload_entry(const Field& spec, WorkloadEntry& out) {
  if (!spec.expect_map()) return;
  read_workload_fields(spec, out);
}

}  // namespace torii::config
