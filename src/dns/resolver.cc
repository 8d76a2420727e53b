#include "dns/resolver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <mutex>

namespace torii::dns {

namespace {

void init_library_once() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ',';
    out += p;
  }
  return out;
}

}  // namespace

// The loop's watch of one c-ares socket (through a dup of it).
class Resolver::SocketWatch final : public net::IoHandler, public net::Deferrable {
 public:
  SocketWatch(Resolver& resolver, ares_socket_t fd) : resolver_(resolver), fd_(fd) {}

  void watch(bool readable, bool writable) {
    const uint32_t events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
    if (!io_.valid()) {
      io_ = net::IoWatch(resolver_.loop_, net::UniqueFd(::dup(fd_)), events, *this);
    } else {
      io_.set_events(events);
    }
  }

  // c-ares is about to close the socket: events already fetched for it are
  // ignored, and the fd number is not passed to c-ares again.
  void retire() {
    active_ = false;
    io_.reset();
  }

  void on_io(uint32_t events) override {
    if (!active_) return;
    const bool readable = (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0;
    const bool writable = (events & EPOLLOUT) != 0;
    resolver_.process(readable ? fd_ : ARES_SOCKET_BAD, writable ? fd_ : ARES_SOCKET_BAD);
  }

 private:
  Resolver& resolver_;
  ares_socket_t fd_;
  net::IoWatch io_;
  bool active_ = true;
};

struct Resolver::Query {
  Resolver* resolver;
  Callback callback;
};

Resolver::Resolver(net::EventLoop& loop, ResolverOptions options)
    : loop_(loop), timer_(loop, [this] { process(ARES_SOCKET_BAD, ARES_SOCKET_BAD); }) {
  init_library_once();
  ares_options opts{};
  opts.sock_state_cb = &Resolver::on_socket_state;
  opts.sock_state_cb_data = this;
  opts.timeout = static_cast<int>(options.query_timeout_ms);
  opts.tries = static_cast<int>(options.tries);
  char lookups[] = "fb";  // /etc/hosts, then DNS
  opts.lookups = lookups;
  const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
  int rc = ares_init_options(&channel_, &opts, mask);
  if (rc != ARES_SUCCESS) {
    init_error_ = std::string("c-ares init: ") + ares_strerror(rc);
    channel_ = nullptr;
    return;
  }
  if (!options.servers.empty()) {
    rc = ares_set_servers_ports_csv(channel_, join(options.servers).c_str());
    if (rc != ARES_SUCCESS) {
      init_error_ = "DNS servers '" + join(options.servers) + "': " + ares_strerror(rc);
    }
  }
}

Resolver::~Resolver() {
  destroying_ = true;
  alive_.reset();
  if (channel_ != nullptr) ares_destroy(channel_);  // cancels: callbacks see ARES_EDESTRUCTION
  for (auto& [fd, watch] : sockets_) watch->retire();
}

void Resolver::resolve(const std::string& host, Callback callback) {
  if (channel_ == nullptr || !init_error_.empty()) {
    Resolution failed;
    failed.error = init_error_;
    post_callback(std::move(callback), std::move(failed));
    return;
  }
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_INET;
  hints.ai_flags = ARES_AI_NOSORT;
  auto* query = new Query{this, std::move(callback)};
  ++pending_;
  in_resolve_ = true;
  ares_getaddrinfo(channel_, host.c_str(), nullptr, &hints, &Resolver::on_addrinfo, query);
  in_resolve_ = false;
  rearm_timer();
}

void Resolver::on_addrinfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  std::unique_ptr<Query> query(static_cast<Query*>(arg));
  Resolver& self = *query->resolver;
  --self.pending_;
  Resolution r;
  if (status == ARES_SUCCESS && result != nullptr) {
    uint32_t ttl = std::numeric_limits<uint32_t>::max();
    for (ares_addrinfo_node* n = result->nodes; n != nullptr; n = n->ai_next) {
      if (n->ai_family != AF_INET) continue;
      char text[INET_ADDRSTRLEN];
      const auto* sin = reinterpret_cast<const sockaddr_in*>(n->ai_addr);
      if (::inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text) == nullptr) continue;
      r.addresses.emplace_back(text);
      ttl = std::min(ttl, static_cast<uint32_t>(std::max(n->ai_ttl, 0)));
    }
    std::sort(r.addresses.begin(), r.addresses.end());
    r.addresses.erase(std::unique(r.addresses.begin(), r.addresses.end()), r.addresses.end());
    r.ttl_s = r.addresses.empty() ? 0 : ttl;
    r.status = r.addresses.empty() ? Resolution::Status::kNotFound : Resolution::Status::kOk;
    if (r.addresses.empty()) r.error = "no IPv4 address";
  } else {
    r.status = (status == ARES_ENOTFOUND || status == ARES_ENODATA) ? Resolution::Status::kNotFound
                                                                    : Resolution::Status::kFailed;
    r.error = ares_strerror(status);
  }
  if (result != nullptr) ares_freeaddrinfo(result);
  if (self.destroying_ || status == ARES_EDESTRUCTION) return;

  if (self.in_resolve_) {
    // Answered before resolve() returned (IP literal, /etc/hosts, immediate
    // error): keep the promise that callbacks never run inside resolve().
    self.post_callback(std::move(query->callback), std::move(r));
    return;
  }
  query->callback(r);
}

void Resolver::post_callback(Callback callback, Resolution resolution) {
  loop_.post(
      [alive = std::weak_ptr<bool>(alive_), callback = std::move(callback), r = std::move(resolution)] {
        if (alive.lock()) callback(r);
      });
}

void Resolver::on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
  auto& self = *static_cast<Resolver*>(data);
  if (self.destroying_) return;
  auto it = self.sockets_.find(fd);
  if (readable == 0 && writable == 0) {
    if (it == self.sockets_.end()) return;
    it->second->retire();
    // Its on_io may be on the stack right now: delete at the end of the iteration.
    self.loop_.defer_delete(std::move(it->second));
    self.sockets_.erase(it);
    return;
  }
  if (it == self.sockets_.end()) {
    it = self.sockets_.emplace(fd, std::make_unique<SocketWatch>(self, fd)).first;
  }
  it->second->watch(readable != 0, writable != 0);
}

void Resolver::process(ares_socket_t read_fd, ares_socket_t write_fd) {
  ares_process_fd(channel_, read_fd, write_fd);
  rearm_timer();
}

void Resolver::rearm_timer() {
  if (pending_ == 0) {
    timer_.cancel();
    return;
  }
  timeval max{1, 0};
  timeval tv{};
  const timeval* next = ares_timeout(channel_, &max, &tv);
  const uint64_t ms =
      static_cast<uint64_t>(next->tv_sec) * 1000 + static_cast<uint64_t>(next->tv_usec) / 1000;
  timer_.arm(std::max<uint64_t>(ms, 1));
}

}  // namespace torii::dns
