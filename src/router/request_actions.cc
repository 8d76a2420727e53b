#include "router/request_actions.h"

namespace torii::router {

namespace {

// Message framing belongs to the codec (Envoy's connection manager re-frames
// after the filters): header operations never change content-length or
// transfer-encoding, or the body would no longer match its framing.
class FramingGuard {
 public:
  explicit FramingGuard(http::HeaderMap& headers) : headers_(headers) {
    for (size_t i = 0; i < 2; ++i) {
      const std::string_view* v = headers.get(kNames[i]);
      present_[i] = v != nullptr;
      if (v != nullptr) values_[i] = *v;
    }
  }
  ~FramingGuard() {
    for (size_t i = 0; i < 2; ++i) {
      if (present_[i]) {
        headers_.set(kNames[i], values_[i]);
      } else {
        headers_.remove(kNames[i]);
      }
    }
  }
  FramingGuard(const FramingGuard&) = delete;
  FramingGuard& operator=(const FramingGuard&) = delete;

 private:
  static constexpr std::string_view kNames[2] = {"content-length", "transfer-encoding"};
  http::HeaderMap& headers_;
  bool present_[2] = {false, false};
  std::string values_[2];
};

void apply_ops(const HeaderOps& ops, http::HeaderMap& headers) {
  FramingGuard guard(headers);
  ops.apply(headers);
}

}  // namespace

bool apply_request_actions(const Route& route, const WeightedCluster& chosen, http::HeaderMap& headers,
                           std::string_view path_and_query, std::string& new_target) {
  const RouteAction& action = route.action;
  if (!chosen.headers.empty()) {
    apply_ops(chosen.headers.request, headers);
    if (!chosen.headers.host_rewrite.empty()) headers.set("host", chosen.headers.host_rewrite);
  }
  if (!action.headers.request.empty()) apply_ops(action.headers.request, headers);
  if (!action.headers.host_rewrite.empty()) headers.set("host", action.headers.host_rewrite);
  if (action.path_rewrite.kind == PathRewrite::Kind::None) return false;
  if (!rewrite_path(action.path_rewrite, route.match.path, path_and_query, new_target)) return false;
  headers.set("x-envoy-original-path", path_and_query);
  return true;
}

void apply_response_actions(const Route& route, const WeightedCluster* chosen, http::HeaderMap& headers) {
  if (chosen != nullptr && !chosen->headers.response.empty()) apply_ops(chosen->headers.response, headers);
  if (!route.action.headers.response.empty()) apply_ops(route.action.headers.response, headers);
}

}  // namespace torii::router
