#include "upstream/cluster_info.h"

#include <arpa/inet.h>

#include <cstring>

namespace torii::upstream {

bool resolve_numeric(Endpoint& endpoint) {
  std::memset(&endpoint.sockaddr, 0, sizeof(endpoint.sockaddr));
  auto* v4 = reinterpret_cast<sockaddr_in*>(&endpoint.sockaddr);
  if (inet_pton(AF_INET, endpoint.address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(endpoint.port);
    endpoint.sockaddr_len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&endpoint.sockaddr);
  if (inet_pton(AF_INET6, endpoint.address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(endpoint.port);
    endpoint.sockaddr_len = sizeof(sockaddr_in6);
    return true;
  }
  endpoint.sockaddr_len = 0;
  return false;
}

const char* upstream_protocol_name(UpstreamProtocol protocol) {
  switch (protocol) {
    case UpstreamProtocol::Http1:
      return "HTTP/1.1";
    case UpstreamProtocol::Http2:
      return "HTTP/2";
    case UpstreamProtocol::Downstream:
      return "client's (useClientProtocol)";
  }
  return "?";
}

}  // namespace torii::upstream
