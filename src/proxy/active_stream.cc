#include "proxy/active_stream.h"

#include <cstring>
#include <string>

#include "http/header_map.h"
#include "proxy/downstream_stream.h"
#include "proxy/grpc.h"
#include "proxy/grpc_web.h"
#include "proxy/header_mutation.h"
#include "proxy/request_id.h"
#include "proxy/route_reply.h"
#include "proxy/router_request.h"
#include "proxy/tracing.h"
#include "proxy/upstream_request.h"
#include "proxy/worker.h"
#include "router/request_actions.h"
#include "router/route_table.h"
#include "telemetry/request_metrics.h"
#include "telemetry/response_flags.h"

namespace torii::proxy {

namespace {

// Bytes of a head as HTTP/1.1 writes it: "Name: value\r\n" per field and
// the empty line (the start line is added by the caller).
uint64_t head_bytes(const http::HeaderMap& headers) { return headers.byte_size() + 4 * headers.size() + 2; }

int grpc_status_of(const http::HeaderMap& headers) {
  const std::string_view* value = headers.get("grpc-status");
  if (value == nullptr || value->empty() || value->size() > 2) return -1;
  int n = 0;
  for (char c : *value) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace

ActiveStream::ActiveStream(DownstreamStream& downstream, Worker& worker, http::RequestHead& head)
    : downstream_(downstream), worker_(worker), snapshot_(worker.snapshot()), head_(std::move(head)) {
  WorkerStats::inc(worker_.mutable_stats().downstream_rq_active);
  // "METHOD target HTTP/1.1\r\n" and the fields as received.
  request_head_bytes_ = head_.method.size() + head_.target.size() + 11 + head_bytes(head_.headers);
  // The access log's view of the request: views into head_ (which this
  // stream keeps) and the connection (which outlives it); a vDSO clock read.
  info_.start_time_us = worker_.wall_clock_us();
  info_.start_ms = worker_.loop().now_ms();
  info_.method = head_.method;
  info_.path = head_.target;
  info_.protocol = downstream_.protocol() == HttpProtocol::Http2 ? "HTTP/2"
                   : head_.http10()                              ? "HTTP/1.0"
                                                                 : "HTTP/1.1";
  info_.downstream_remote_address = downstream_.peer_ip();
  info_.requested_server_name = downstream_.server_name();
}

ActiveStream::~ActiveStream() {
  if (upstream_) upstream_->abort();
  WorkerStats::dec(worker_.mutable_stats().downstream_rq_active);
  record_metrics();
  if (trace_.sampled && worker_.export_spans(snapshot_.get())) record_span();
  // Envoy writes the access log when the stream is destroyed, too.
  worker_.log_stream(info_, &head_.headers, snapshot_.get());
}

void ActiveStream::record_metrics() {
  telemetry::HttpStreamRecord r;
  r.listener = downstream_.listener_name();
  if (route_ != nullptr) {
    r.route = route_;
    r.route_key = route_->stats_key;
  }
  r.cluster = dynamic_cluster_ ? dynamic_cluster_.get() : chosen_ != nullptr ? chosen_->cluster : nullptr;
  if (chosen_ == nullptr && route_ != nullptr && !route_->action.clusters.empty()) {
    // Answered before a destination was picked (fault abort, CORS
    // preflight): Envoy picked the route's cluster with the route; the
    // first destination stands in for a weighted split.
    r.cluster = route_->action.clusters.front().cluster;
  }
  r.endpoint = endpoint_;
  if (chosen_ != nullptr && chosen_->blackhole) {
    r.authority = "BlackHoleCluster";
  } else if (r.cluster == nullptr) {
    // Only then a label (destination_service): not looked up per request.
    if (const std::string_view* host = head_.headers.get("host")) r.authority = *host;
  }
  r.response_code = response_started_ ? info_.response_code : 0;
  r.grpc_status = grpc_ ? grpc_status_ : -1;
  r.grpc = grpc_;
  r.response_flags = info_.response_flags;
  // Bodies as they crossed the client's connection (the access log's counts).
  r.request_bytes = request_head_bytes_ + info_.bytes_received;
  r.response_bytes = response_head_bytes_ + info_.bytes_sent;
  r.duration_ms = worker_.loop().now_ms() - info_.start_ms;
  r.current_snapshot = !dynamic_cluster_ && snapshot_ == worker_.snapshot();
  worker_.mutable_metrics().record_http(r);
}

void ActiveStream::record_span() {
  // Only sampled spans get here: the copies below are not on every request.
  telemetry::SpanRecord s;
  s.trace_id = trace_.trace_id;
  s.span_id = trace_.span_id;
  s.parent_span_id = trace_.parent_span_id;
  s.start_us = info_.start_time_us;
  s.end_us = worker_.wall_clock_us();
  s.request_bytes = info_.bytes_received;
  s.response_bytes = info_.bytes_sent;
  s.response_flags = info_.response_flags;
  s.status = static_cast<uint16_t>(response_started_ ? info_.response_code : 0);
  s.method.assign(info_.method);
  s.protocol.assign(info_.protocol);
  // Envoy's http.url: scheme://host + the path as received.
  if (!info_.path.starts_with('/')) {
    s.url.assign(info_.path);  // absolute-form already
  } else {
    s.url.assign(downstream_.is_tls() ? "https://" : "http://");
    if (const std::string_view* host = head_.headers.get("host")) s.url.append(*host);
    s.url.append(info_.path);
  }
  s.upstream_cluster.assign(info_.upstream_cluster);
  if (route_ != nullptr) s.operation.assign(route_->decorator);
  s.upstream_address.assign(info_.upstream_host_view());
  s.peer_address.assign(info_.downstream_remote_address);
  if (const std::string_view* id = head_.headers.get("x-request-id")) s.request_id.assign(*id);
  if (const std::string_view* agent = head_.headers.get("user-agent")) s.user_agent.assign(*agent);
  worker_.record_span(s);
}

void ActiveStream::note_response(int status, const http::HeaderMap& headers) {
  info_.response_code = status;
  // "HTTP/1.1 200 OK\r\n" (reason phrases vary; 2 bytes is typical).
  response_head_bytes_ += 15 + head_bytes(headers);
  if (grpc_) grpc_status_ = grpc_status_of(headers);
}

void ActiveStream::start() {
  head_request_ = head_.method == "HEAD";
  const GrpcWeb::Mode web = GrpcWeb::detect(head_.headers);
  if (web != GrpcWeb::Mode::None) {
    // Envoy's grpc_web filter runs before routing: routes, policies and
    // local replies see a gRPC request.
    grpc_web_ = std::make_unique<GrpcWeb>(web);
    grpc_web_->translate_request_headers(head_.headers);
    if (grpc_web_->text() && head_.has_body()) {
      head_.has_content_length = false;
      head_.content_length = 0;
      head_.chunked = true;  // decoded length unknown: chunked to an HTTP/1.1 upstream
    }
  }
  grpc_ = is_grpc_request(head_.headers);
  if (const std::string_view* expect = head_.headers.get("expect"))
    expect_continue_ = http::iequals(*expect, "100-continue");
  route();
}

void ActiveStream::route() {
  WorkerStats& stats = worker_.mutable_stats();
  const ServerOptions& options = worker_.options();

  if (head_.http10() && !options.accept_http10) {
    downstream_.close_after_response();
    send_local_reply(LocalReply{426, {}, {}}, details::kLowVersion);
    return;
  }
  if (!http::parse_request_target(head_.target, target_)) {
    downstream_.close_after_response();
    send_local_reply(LocalReply{400, kBadRequest, {}}, details::kInvalidPath, flag::DPE);
    return;
  }
  // CONNECT is not served (Envoy: 403 upgrade_failed). Upgrade tokens:
  // websocket is tunnelled on every route (Istio allows it everywhere);
  // any other token (h2c, TLS/1.2, ...) is ignored -- Upgrade/Connection are
  // hop-by-hop and stripped, and the request is proxied as plain HTTP/1.1 --
  // where Envoy answers 403 (istio/istio#53239, ISTIO_SEMANTICS §10 #22).
  if (head_.method == "CONNECT" || target_.form == http::RequestTarget::Form::Authority) {
    // A forward-proxy listener tunnels CONNECT to allowed hosts (docs/forward_proxy.md).
    const compile::Listener* proxy =
        snapshot_ ? snapshot_->find_listener(downstream_.listener_name()) : nullptr;
    // CONNECT tunnels are HTTP/1 only (an HTTP/2 CONNECT is refused).
    if (head_.method == "CONNECT" && proxy != nullptr && proxy->forward_proxy != nullptr &&
        downstream_.protocol() != HttpProtocol::Http2) {
      connect_through_forward_proxy(*proxy->forward_proxy);
      return;
    }
    downstream_.close_after_response();
    send_local_reply(LocalReply{403, {}, {}}, details::kUpgradeFailed);
    return;
  }
  if (head_.upgrade) {
    const std::string_view* upgrade = head_.headers.get("upgrade");
    websocket_ = upgrade != nullptr && http::has_token(*upgrade, "websocket");
    if (websocket_) upgrade_ = *upgrade;
  }
  bool absolute = target_.form == http::RequestTarget::Form::Absolute;
  // One pass over the fields for the checks below (every request runs it).
  size_t hosts = 0;
  bool connection = false;
  bool te = false;
  for (const auto& e : head_.headers.entries()) {
    // Sizes first: a string_view == against a literal still calls memcmp.
    const size_t n = e.name.size();
    if (n == 4 && e.name == "host") {
      ++hosts;
    } else if (n == 10 && e.name == "connection") {
      connection = true;
    } else if (n == 2 && e.name == "te") {
      te = true;
    }
  }
  // RFC 9112 3.2: 400 for an HTTP/1.1 request without Host, for more than
  // one Host line, and for a Host that is not `uri-host [":" port]`. Envoy's
  // codec instead joins repeated lines with ',' into one :authority; the RFC
  // rule is stricter and closes a request-smuggling gap between proxies that
  // read the first line and upstreams that read the last. HTTP/1.0 without
  // Host is answered 400 too (Envoy requires a host; Istio sets no
  // default_host_for_http_10), unless an absolute-form target names one.
  const std::string_view* host_value = hosts == 1 ? head_.headers.get("host") : nullptr;
  if (hosts > 1 || (hosts == 0 && (!absolute || !head_.http10())) ||
      (host_value != nullptr && !http::valid_authority(*host_value))) {
    downstream_.close_after_response();
    send_local_reply(LocalReply{400, {}, {}}, details::kMissingHostHeader);
    return;
  }
  if (connection && !head_.upgrade && !connection_nominations_allowed(head_.headers)) {
    // Envoy's codec (sanitizeConnectionHeader): a client may not have the
    // gateway strip X-Forwarded-* or pseudo-headers, nor name 10 or more.
    downstream_.close_after_response();
    send_local_reply(LocalReply{400, kBadRequest, {}}, details::kConnectionHeaderSanitization, flag::DPE);
    return;
  }

  // Envoy's connection manager edits the headers before the router runs, so
  // route header matchers see the edge view (x-envoy-* stripped, XFF, ...).
  char request_id[36];
  EdgeRequestInfo edge;
  edge.peer_ip = downstream_.peer_ip();
  upstream::FastRandom& random = worker_.clusters().random();
  edge.request_id = make_request_id(random, request_id);
  // Envoy's random sampling decision, made at every gateway (a stock one
  // too: ISTIO_TELEMETRY 5.2) and recorded in the x-request-id.
  const bool random_sampled = sample_random(random, worker_.trace_sampling(snapshot_.get()));
  if (random_sampled) {
    record_trace_decision(request_id, sizeof(request_id), true);
    WorkerStats::inc(stats.tracing_random_sampling);
  }
  // Envoy's preserve_external_request_id (off at Istio gateways): keep a
  // client's non-empty id (a UUID gets the decision in character 14).
  if (options.preserve_request_id) {
    const std::string_view* client_id = head_.headers.get("x-request-id");
    edge.keep_request_id = client_id != nullptr && !client_id->empty();
    if (edge.keep_request_id && client_id->size() == sizeof(request_id)) {
      char copy[36];
      client_id->copy(copy, sizeof(copy));
      if (record_trace_decision(copy, sizeof(copy), random_sampled) && copy[14] != (*client_id)[14]) {
        std::memcpy(request_id, copy, sizeof(copy));
        edge.keep_request_id = false;  // sent as edited
      }
    }
  }
  edge.absolute_authority = absolute ? target_.authority : std::string_view();
  edge.chunked_body = head_.chunked;
  edge.has_te = te;
  edge.scheme = downstream_.is_tls() ? "https" : "http";
  // With a tracer: continue the caller's trace or start one (injected
  // upstream in start_router_request, as Envoy's router does). Read before
  // the edge edits add their fields: fewer to look through.
  if (worker_.tracer_on(snapshot_.get())) trace_.start(head_.headers, random_sampled, random);
  if (options.num_trusted_proxies > 0) {
    // Read before the edge edits append the peer to X-Forwarded-For.
    const std::string_view client =
        trusted_client_address(head_.headers, downstream_.peer_ip(), options.num_trusted_proxies);
    if (client.data() != downstream_.peer_ip().data()) {
      remote_address_.assign(client);
      edge.external_address = remote_address_;
      info_.downstream_remote_address = remote_address_;
    }
  }
  mutate_edge_request_headers(head_.headers, edge);
  if (websocket_) {
    head_.headers.set("connection", "upgrade");
    head_.headers.set("upgrade", upgrade_);
  }

  // The path with query as received ("http://h?q" needs its "/" back).
  std::string_view path_and_query = target_.path_and_query;
  if (path_and_query.starts_with('?')) {
    upstream_target_ = "/" + std::string(path_and_query);
    path_and_query = upstream_target_;
  }
  const std::string_view* host = head_.headers.get("host");
  router::RequestView view;
  view.method = head_.method;
  view.path = target_.path;
  view.query = target_.query;
  view.authority = host != nullptr ? std::string_view(*host) : std::string_view();
  view.scheme = downstream_.is_tls() ? "https" : "http";
  view.headers = &head_.headers;
  view.path_and_query = path_and_query;

  const compile::Listener* listener =
      snapshot_ ? snapshot_->find_listener(downstream_.listener_name()) : nullptr;
  // HTTPS: the server the SNI picked (in this snapshot), with its own routes.
  const compile::TlsChain* chain = listener != nullptr && !listener->tls_chains.empty()
                                       ? listener->chain_for_sni(downstream_.server_name())
                                       : nullptr;

  // Istio's documented EnvoyFilter makes the local rate limit the first HTTP
  // filter (ISTIO_SECURITY.md §12): it takes its token before jwt_authn and
  // RBAC, so an empty bucket answers 429 even to a request they would
  // refuse. It sees the route as resolved before jwt_authn (no claims), as
  // Envoy's route cache does until jwt_authn clears it.
  bool rate_limit_done = false;
  if (snapshot_ && snapshot_->rate_limit.gateway && snapshot_->rate_limit.first) {
    const router::VirtualHost* vhost = find_vhost(listener, chain, view, absolute);
    const router::Route* route = vhost != nullptr && !vhost->require_tls ? vhost->match(view) : nullptr;
    if (route != nullptr) info_.route_name = route->name;
    if (local_rate_limited(view, vhost, route)) return;
    rate_limit_done = true;
  }

  // jwt_authn runs before authorization and the router (ISTIO_SECURITY.md §0).
  if (snapshot_ && snapshot_->jwt_authn && !authenticate_jwt(path_and_query)) return;
  view.path_and_query = path_and_query;
  // "@request.auth.claims" route matches read the verified token's claims.
  if (jwt_identity_.jwt) view.jwt_payload = &jwt_identity_.jwt->payload;

  // RBAC runs after jwt_authn and before the router: a denied request gets
  // 403 even for a host without a route (ISTIO_SECURITY.md §0).
  if (snapshot_ && snapshot_->authz && !authorize(view, listener)) return;
  if (listener != nullptr && listener->tls_chains.size() > 1 &&
      misdirected(*listener, chain, view.authority)) {
    // Beyond Envoy (ISTIO_SEMANTICS §4.5): a client that reuses a
    // connection for another host its certificate covers (HTTP/2
    // coalescing, or a Host unlike the SNI) names a server this
    // connection's handshake did not pick. Envoy routes it on the wrong
    // server's table (404); RFC 9110 15.5.20 says 421, and browsers then
    // retry on a connection of its own.
    WorkerStats::inc(stats.misdirected_request);
    send_local_reply(LocalReply{421, {}, {}}, details::kMisdirectedRequest);
    return;
  }
  const router::VirtualHost* vhost = find_vhost(listener, chain, view, absolute);
  if (vhost == nullptr && absolute && listener != nullptr && listener->forward_proxy != nullptr) {
    // Forward-proxy mode (compile/forward_proxy_builder.h): the target must
    // be a registry host declaring the target port, else the proxy refuses.
    WorkerStats::inc(stats.forward_proxy_denied);
    send_local_reply(LocalReply{403, {}, {}}, details::kDirectResponse);
    return;
  }
  if (vhost == nullptr) {
    // The rate limit filter runs before the router, so even a request
    // without a route takes a token (the gateway-wide bucket).
    if (!rate_limit_done && local_rate_limited(view, nullptr, nullptr)) return;
    WorkerStats::inc(stats.no_route);
    send_local_reply(LocalReply{404, {}, {}}, details::kRouteNotFound, flag::NR);
    return;
  }
  if (vhost->require_tls) {
    if (!rate_limit_done && local_rate_limited(view, vhost, nullptr)) return;
    std::string location = "https://" + std::string(view.authority) + std::string(path_and_query);
    send_local_reply(LocalReply{301, {}, location}, details::kDirectResponse);
    return;
  }
  const router::Route* route = vhost->match(view);
  if (route != nullptr) info_.route_name = route->name;
  if (!rate_limit_done && local_rate_limited(view, vhost, route)) return;
  if (route == nullptr) {
    WorkerStats::inc(stats.no_route);
    send_local_reply(LocalReply{404, {}, {}}, details::kRouteNotFound, flag::NR);
    return;
  }
  route_ = route;
  info_.route_name = route->name;
  // Envoy resolves the cluster with the route, so a fault abort logs it.
  if (route->action.clusters.size() == 1) info_.upstream_cluster = route->action.clusters.front().name;
  path_and_query_ = path_and_query;
  run_route_policies();
}

// The virtual host a request names: for an absolute-form request on a
// forward-proxy listener, the registry host of its target (null: the proxy
// refuses it); else the vhost of the route table of `chain` (HTTPS) or of
// the listener. Null when there is none.
const router::VirtualHost* ActiveStream::find_vhost(const compile::Listener* listener,
                                                    const compile::TlsChain* chain,
                                                    const router::RequestView& view, bool absolute) const {
  if (listener == nullptr) return nullptr;
  if (absolute && listener->forward_proxy != nullptr)
    return listener->forward_proxy->find(target_.authority, target_.scheme == "https" ? 443 : 80);
  const router::RouteTable* routes = listener->tls_chains.empty() ? listener->routes.get()
                                     : chain != nullptr           ? chain->routes.get()
                                                                  : nullptr;
  return routes != nullptr ? routes->find_virtual_host(view.authority) : nullptr;
}

bool ActiveStream::misdirected(const compile::Listener& listener, const compile::TlsChain* chain,
                               std::string_view authority) {
  // The server the Host would have picked as SNI. Another one than the
  // connection's, the catch-all server included (the Gateway API's
  // HTTPSListenerDetectMisdirectedRequests: a Host covered only by the
  // catch-all on a connection made for a named server is misdirected too).
  const compile::TlsChain* named = listener.chain_for_sni(router::strip_port(authority));
  return named != nullptr && named != chain;
}

void ActiveStream::forward_to_upstream() {
  WorkerStats& stats = worker_.mutable_stats();
  if (route_->redirect || route_->direct_response) {
    // VirtualService redirect / directResponse: router actions answered by
    // the gateway, after fault and CORS as in Envoy's filter chain.
    const std::string_view scheme = downstream_.is_tls() ? "https" : "http";
    const std::string_view* host = head_.headers.get("host");
    const std::string_view* proto = head_.headers.get("x-forwarded-proto");
    RouteReplyRequest request{scheme, host != nullptr ? std::string_view(*host) : std::string_view(),
                              proto != nullptr ? std::string_view(*proto) : scheme, path_and_query_};
    LocalReply reply;
    std::string location;
    route_reply(*route_, request, reply, location);
    send_local_reply(reply, details::kDirectResponse);
    return;
  }
  const router::WeightedCluster& chosen = route_->action.pick(worker_.clusters().random().next());
  chosen_ = &chosen;
  if (chosen.blackhole) {
    // Istio's block_all route under REGISTRY_ONLY: a direct 502, nothing sent.
    WorkerStats::inc(stats.forward_proxy_blackhole);
    send_local_reply(LocalReply{502, {}, {}}, details::kDirectResponse);
    return;
  }
  // Envoy resolves the cluster with the route: its name is logged even
  // when no endpoint is reached (fault aborts, UH).
  info_.upstream_cluster = chosen.name;
  if (chosen.cluster == nullptr) {
    WorkerStats::inc(stats.no_cluster);
    send_local_reply(LocalReply{route_->action.cluster_not_found_status, {}, {}}, details::kClusterNotFound,
                     flag::NC);
    return;
  }
  if (chosen.dynamic_host) {
    resolve_dynamic_host(chosen);
    return;
  }
  start_router_request(chosen.cluster);
}

void ActiveStream::start_router_request(const upstream::ClusterInfo* cluster) {
  WorkerStats& stats = worker_.mutable_stats();
  const router::WeightedCluster& chosen = *chosen_;
  info_.upstream_cluster = cluster->name;
  if (cluster->endpoints.empty()) {
    WorkerStats::inc(stats.no_healthy_upstream);
    send_local_reply(LocalReply{503, kNoHealthyUpstream, {}}, details::kNoHealthyUpstream, flag::UH);
    return;
  }
  // Route header operations and rewrites (Envoy finalizeRequestHeaders).
  std::string rewritten;
  if (router::apply_request_actions(*route_, chosen, head_.headers, path_and_query_, rewritten)) {
    upstream_target_ = std::move(rewritten);
    path_and_query_ = upstream_target_;
  }
  // Envoy propagates the route's decorator whenever tracing is enabled,
  // which it is at a stock Istio gateway (ISTIO_TELEMETRY 5.1).
  if (!route_->decorator.empty()) head_.headers.add("x-envoy-decorator-operation", route_->decorator);
  trace_.inject(head_.headers);
  RouterRequest::Params params;
  params.snapshot = snapshot_;
  params.policies = &route_->action.policies;
  params.cluster = cluster;
  params.headers = &head_.headers;
  params.head.method = head_.method;
  params.head.path_and_query = path_and_query_;
  params.head.headers = &head_.headers;
  params.head.has_body = head_.has_body();
  params.head.chunked = head_.chunked;
  params.head.upgrade = websocket_;
  params.head.peer_ip = downstream_.peer_ip();
  params.head.downstream_http2 = downstream_.protocol() == HttpProtocol::Http2;
  params.info = &info_;
  upstream_ = std::make_unique<RouterRequest>(*this, worker_, std::move(params));
  upstream_->start();
}

void ActiveStream::send_local_reply(const LocalReply& reply, std::string_view details, uint32_t flags) {
  local_reply_ = true;
  info_.response_flags |= flags;
  info_.response_code_details = details;
  release_upstream();
  // A request body we will not read leaves the connection out of sync.
  if (!downstream_.request_complete() && head_.has_body()) downstream_.close_after_response();
  LocalReplyContext context;
  context.server = worker_.options().server_header;
  context.date = worker_.date().now();
  context.route = route_;
  context.cluster = chosen_;
  // The router's own answers (503, 504) pass the CORS filter on their way
  // out, as in Envoy; fault aborts and preflights come before it.
  LocalReply out = reply;
  http::HeaderMap cors_headers;
  const std::string_view* origin = cors_response_ ? head_.headers.get("origin") : nullptr;
  if (origin != nullptr && reply.headers == nullptr) {
    router::add_cors_response_headers(*route_->action.policies.cors, *origin, cors_headers);
    out.headers = &cors_headers;
  }
  context.grpc = grpc_;
  context.head_request = head_request_;
  http::HeaderMap headers;
  const int status = build_local_reply_headers(out, context, headers);
  if (grpc_web_) grpc_web_->translate_response_headers(headers);
  worker_.mutable_stats().count_response(status);
  response_started_ = true;
  response_complete_ = true;
  info_.end_ms = worker_.loop().now_ms();
  const bool body = !reply.body.empty() && !head_request_ && !grpc_;
  note_response(status, headers);
  downstream_.encode_headers(status, headers, !body);
  if (body) send_data(reply.body, true);
}

void ActiveStream::send_data(std::string_view data, bool end_stream) {
  info_.bytes_sent += data.size();
  downstream_.encode_data(data, end_stream);
}

void ActiveStream::on_request_body(std::string_view data) {
  info_.bytes_received += data.size();
  if (local_reply_) return;  // answered already: the body is discarded
  std::string decoded;
  if (grpc_web_ && grpc_web_->text()) {
    if (!grpc_web_->decode_request_body(data, decoded)) {
      // Not base64: the request cannot be passed on (Envoy: 400 / reset).
      if (response_started_) {
        downstream_.reset();
      } else {
        send_local_reply(LocalReply{400, kBadRequest, {}}, details::kGrpcWebDecodeFailed);
      }
      return;
    }
    data = decoded;
  }
  if (upstream_ && !local_reply_) {
    upstream_->send_body(data);
  } else if (holding_) {
    held_body_.append(data);
    if (held_body_.size() > worker_.options().buffer_limit_bytes) downstream_.set_upstream_blocked(true);
  }
}

void ActiveStream::on_request_complete() {
  if (upstream_ && !local_reply_) upstream_->end_request();
}

void ActiveStream::on_downstream_reset() {
  if (!response_complete_) {
    // Envoy: DC, and code 0 unless a status went out already.
    info_.set_flag(flag::DC);
    if (!response_started_) info_.response_code_details = details::kDownstreamRemoteDisconnect;
  }
  if (fault_timer_) fault_timer_->cancel();
  dns_token_.reset();
  holding_ = false;
  release_upstream();
}

void ActiveStream::on_downstream_drained() {
  if (upstream_) upstream_->pause_reading(false);
}

void ActiveStream::set_upstream_blocked(bool blocked) { downstream_.set_upstream_blocked(blocked); }

void ActiveStream::on_upstream_informational(http::ResponseHead& head) {
  // Relay 100 Continue to a client that asked for it; other 1xx (103) are dropped.
  if (head.status != 100 || !expect_continue_ || response_started_) return;
  downstream_.encode_100_continue();
}

void ActiveStream::on_upstream_headers(http::ResponseHead& head, uint64_t service_time_ms, bool end_stream) {
  if (response_started_) return;
  response_started_ = true;
  if (head.status == 101) {
    write_switching_protocols(head, service_time_ms);
    return;
  }
  const int status = head.status;
  info_.response_code_details = details::kViaUpstream;
  info_.upstream_service_time_ms = static_cast<int64_t>(service_time_ms);
  ResponseInfo info;
  info.server = worker_.options().server_header;
  info.date = worker_.date().now();
  info.upstream_service_time_ms = static_cast<int64_t>(service_time_ms);
  if (route_ != nullptr) router::apply_response_actions(*route_, chosen_, head.headers);
  mutate_response_headers(head.headers, info);
  if (x_ratelimit_ != nullptr) add_x_ratelimit_headers(head.headers);
  if (cors_response_) {
    if (const std::string_view* origin = head_.headers.get("origin"))
      router::add_cors_response_headers(*route_->action.policies.cors, *origin, head.headers);
  }
  if (grpc_web_) {
    const std::string_view* type = head.headers.get("content-type");
    grpc_web_response_ = type != nullptr && type->starts_with("application/grpc");
    grpc_web_->translate_response_headers(head.headers);
  }
  worker_.mutable_stats().count_response(status);
  note_response(status, head.headers);
  if (upstream_) endpoint_ = upstream_->endpoint();
  // A head-only answer ends in its HEADERS frame on HTTP/2 (gRPC clients
  // read a trailers-only response only so). gRPC-Web's trailers travel in
  // the body: never ended here.
  headers_ended_stream_ = end_stream && !grpc_web_response_;
  // No flush: the body in the same upstream read joins the head.
  downstream_.encode_headers(status, head.headers, headers_ended_stream_);
}

void ActiveStream::on_upstream_body(std::string_view data) {
  if (grpc_web_response_) {
    std::string out;
    grpc_web_->encode_response_body(data, out);
    send_data(out, false);
    return;
  }
  send_data(data, false);
}

void ActiveStream::flush_downstream() {
  downstream_.flush();
  if (downstream_.above_write_limit() && upstream_) upstream_->pause_reading(true);
}

void ActiveStream::flush_upstream() {
  if (upstream_ && !local_reply_) upstream_->flush();
}

void ActiveStream::on_upstream_trailers(http::HeaderMap& trailers) {
  response_complete_ = true;
  response_head_bytes_ += head_bytes(trailers);
  if (grpc_) grpc_status_ = grpc_status_of(trailers);
  info_.end_ms = worker_.loop().now_ms();
  release_upstream();
  if (grpc_web_response_) {
    // gRPC-Web: the trailers travel as the body's last frame.
    std::string out;
    grpc_web_->encode_trailers(trailers, out);
    send_data(out, true);
    return;
  }
  downstream_.encode_trailers(trailers);
}

void ActiveStream::on_upstream_complete() {
  response_complete_ = true;
  info_.end_ms = worker_.loop().now_ms();
  release_upstream();
  if (headers_ended_stream_) {
    downstream_.flush();
    return;
  }
  std::string out;
  if (grpc_web_response_) grpc_web_->finish(out);
  send_data(out, true);
}

void ActiveStream::on_upstream_failure(UpstreamFailure failure) {
  release_upstream();
  if (response_started_) {
    // Headers are out; the status cannot change. Close so the client sees
    // a truncated response rather than a wrong one.
    info_.response_code_details =
        failure == UpstreamFailure::Timeout ? details::kResponseTimeout : details::kResetAfterStarted;
    info_.set_flag(failure == UpstreamFailure::Timeout ? flag::UT : flag::UC);
    downstream_.reset();
    return;
  }
  switch (failure) {
    case UpstreamFailure::ConnectionFailure:
      if (transport_failure_.empty()) {
        send_local_reply(LocalReply{503, kConnectionFailure, {}}, details::kResetConnectionFailure, flag::UF);
      } else {
        // Envoy: "... reset reason: connection failure, transport failure reason: TLS_error:|...",
        // and details "upstream_reset_before_response_started{connection_failure|TLS_error:...}"
        // with spaces as '_'. Built on this failure path only.
        failure_body_ = std::string(kConnectionFailure) + ", transport failure reason: " + transport_failure_;
        failure_details_ =
            "upstream_reset_before_response_started{connection_failure|" + transport_failure_ + "}";
        for (char& c : failure_details_)
          if (c == ' ') c = '_';
        info_.upstream_transport_failure_reason = transport_failure_;
        send_local_reply(LocalReply{503, failure_body_, {}}, failure_details_, flag::UF);
      }
      break;
    case UpstreamFailure::ConnectionTermination:
      send_local_reply(LocalReply{503, kConnectionTermination, {}}, details::kResetConnectionTermination,
                       flag::UC);
      break;
    case UpstreamFailure::RemoteReset:
      send_local_reply(LocalReply{503, kRemoteReset, {}}, details::kResetRemoteReset, flag::UR);
      break;
    case UpstreamFailure::RefusedStream:
      send_local_reply(LocalReply{503, kRemoteRefusedStream, {}}, details::kResetRemoteRefusedStream,
                       flag::UR);
      break;
    case UpstreamFailure::ProtocolError:
      send_local_reply(LocalReply{502, kProtocolError, {}}, details::kResetProtocolError, flag::UPE);
      break;
    case UpstreamFailure::Overflow:
      send_local_reply(LocalReply{503, kOverflow, {}, nullptr, /*overloaded=*/true}, details::kResetOverflow,
                       flag::UO);
      break;
    case UpstreamFailure::NoHealthyUpstream:
      WorkerStats::inc(worker_.mutable_stats().no_healthy_upstream);
      send_local_reply(LocalReply{503, kNoHealthyUpstream, {}}, details::kNoHealthyUpstream, flag::UH);
      break;
    case UpstreamFailure::Timeout:
      send_local_reply(LocalReply{504, kUpstreamRequestTimeout, {}}, details::kResponseTimeout, flag::UT);
      break;
  }
}

void ActiveStream::release_upstream() {
  if (!upstream_) return;
  upstream_->abort();  // no-op if it already finished
  // Its callbacks may be on the stack: free it at the end of the iteration.
  worker_.loop().defer_delete(std::move(upstream_));
}

}  // namespace torii::proxy
