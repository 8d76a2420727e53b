#include "upstream/endpoint_state.h"

#include "upstream/http2_client.h"
#include "upstream/upstream_connection.h"

namespace torii::upstream {

EndpointState::EndpointState() = default;
EndpointState::~EndpointState() = default;

std::string endpoint_key(const std::string& address, uint16_t port) {
  std::string key;
  bool v6 = address.find(':') != std::string::npos;
  key.reserve(address.size() + 8);
  if (v6) key.push_back('[');
  key += address;
  if (v6) key.push_back(']');
  key.push_back(':');
  key += std::to_string(port);
  return key;
}

}  // namespace torii::upstream
