#include "cli/control_plane.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

#include "cli/log.h"
#include "net/socket_ops.h"

namespace torii::cli {

namespace {

std::string milliseconds(int64_t us) {
  return std::to_string(us / 1000) + "." + std::to_string(us % 1000 / 100);
}

std::string milliseconds_since(std::chrono::steady_clock::time_point start) {
  return milliseconds(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start)
          .count());
}

compile::DnsAnswers answers_from(const dns::ResolvedNames& names) {
  compile::DnsAnswers out;
  for (const auto& [name, state] : names) {
    if (!state.addresses.empty()) out.emplace(name, state.addresses);
  }
  return out;
}

std::string read_file_or_empty(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int64_t wall_clock_us() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

void ControlPlane::check_jwks_files() {
  for (const auto& [path, content] : jwks_files_) {
    if (read_file_or_empty(path) != content) {
      compile_and_publish("JWKS file changed", std::nullopt, "", "JWKS file change", wall_clock_us());
      return;
    }
  }
  // http(s) JWKS due for a fetch: blocking, on this (the control) thread,
  // each fetch bounded by --jwks-fetch-timeout-s; workers never wait on it.
  const uint64_t now_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    std::chrono::steady_clock::now().time_since_epoch())
                                                    .count());
  if (security::RemoteJwks::instance().refresh(now_ms)) {
    compile_and_publish("JWKS fetched", std::nullopt, "", "JWKS fetch", wall_clock_us());
  }
}

Compiled load_and_compile(const Options& options, config::Store& store) {
  Compiled out;
  out.store = store.apply(config::load_paths(options.config_paths, options.load));
  out.compiled = compile::compile(out.store.resources, options.identity);
  return out;
}

ControlPlane::ControlPlane(const Options& options, proxy::Server& server, admin::ConfigStateHolder& state)
    : options_(options),
      server_(server),
      state_(state),
      dns_event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

ControlPlane::~ControlPlane() = default;

void ControlPlane::reload(const char* trigger, int64_t detected_us) {
  if (detected_us == 0) detected_us = wall_clock_us();
  auto started = std::chrono::steady_clock::now();
  config::LoadResult loaded =
      config::load_paths(options_.config_paths, options_.load, &load_cache_, etcd_objects_);
  const std::string read_ms = milliseconds_since(started);
  started = std::chrono::steady_clock::now();
  in_force_ = store_.apply(std::move(loaded));
  objects_ = std::make_shared<const config::ObjectStatuses>(std::move(in_force_.objects));
  // Where a reload's time goes (issue 17): the read (files, and documents
  // parsed and validated, CPU summed over the parsing threads), the Store's
  // bookkeeping; compile_and_publish adds the compile and the publish.
  const config::LoadCache::Stats& stats = load_cache_.stats();
  const std::string read_note =
      std::to_string(stats.parsed) + " of " + std::to_string(stats.parsed + stats.reused) +
      " document(s) parsed (" + std::to_string(stats.files_changed) + " of " +
      std::to_string(stats.files_read) + " file(s) changed); read " + read_ms + " ms (parse " +
      milliseconds(stats.parse_us) + ", validate " + milliseconds(stats.validate_us) + "), store " +
      milliseconds_since(started) + " ms";
  compile_and_publish("config", std::move(in_force_.resources), read_note, trigger, detected_us);
}

void ControlPlane::set_etcd_health(bool waiting, const std::string& stale_note) {
  if (waiting == waiting_for_etcd_ && stale_note == stale_note_) return;
  waiting_for_etcd_ = waiting;
  stale_note_ = stale_note;
  admin::ConfigState state = state_.get();
  state.stale_note = stale_note;
  state.waiting_for_etcd = waiting;
  state_.set(std::move(state));
}

void ControlPlane::on_dns_change() {
  uint64_t count = 0;
  if (::read(dns_event_.get(), &count, sizeof count) != sizeof count) return;
  compile_and_publish("DNS", std::nullopt, "", "DNS", wall_clock_us());
}

bool ControlPlane::all_answered(const std::set<std::string>& names,
                                const std::shared_ptr<const dns::ResolvedNames>& answers) {
  for (const auto& name : names) {
    if (!answers) return false;
    auto it = answers->find(name);
    if (it == answers->end() || !it->second.resolved_once) return false;
  }
  return true;
}

compile::CompileResult ControlPlane::compile_with_dns(const config::ResourceSet& resources,
                                                      std::shared_ptr<const dns::ResolvedNames>& names) {
  names = dns_ ? dns_->current() : nullptr;
  security::RemoteJwks::instance().begin_compile();
  compile::CompileResult compiled = compile::compile(
      resources, options_.identity, names ? answers_from(*names) : compile::DnsAnswers{}, &compile_cache_);
  if (compiled.dns_names.empty() && !dns_) return compiled;

  if (!dns_) {
    dns_ = std::make_unique<dns::DnsService>(options_.dns, options_.dns_refresh, [fd = dns_event_.get()] {
      const uint64_t one = 1;
      ssize_t ignored = ::write(fd, &one, sizeof one);
      (void)ignored;
    });
    if (!dns_->init_error().empty()) log_error("DNS: " + dns_->init_error());
  }
  dns_->set_names(compiled.dns_names);
  if (all_answered(compiled.dns_names, names)) return compiled;

  // New names: wait a little for their first answers, as Envoy warms a DNS
  // cluster before using it, rather than publish clusters without endpoints.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kFirstAnswerWaitMs);
  for (;;) {
    names = dns_->current();
    if (all_answered(compiled.dns_names, names)) break;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
            .count();
    if (left <= 0) break;
    pollfd p{dns_event_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) > 0) {
      uint64_t count = 0;
      ssize_t ignored = ::read(dns_event_.get(), &count, sizeof count);
      (void)ignored;
    }
  }
  return compile::compile(resources, options_.identity, names ? answers_from(*names) : compile::DnsAnswers{},
                          &compile_cache_);
}

std::map<std::string, uint16_t> ControlPlane::log_new_bindings(const compile::Snapshot& snapshot) {
  std::map<std::string, uint16_t> bound;
  for (const compile::Listener& l : snapshot.listeners) {
    const uint16_t port = server_.listener_port(l.name);
    if (port == 0) continue;  // could not be bound: logged as an error
    bound[l.name] = port;
    auto before = bound_ports_.find(l.name);
    if (before != bound_ports_.end() && before->second == port) continue;
    std::string kinds;
    for (const std::string& kind : l.kinds()) kinds += (kinds.empty() ? "" : ",") + kind;
    log_info("listener " + l.name + " on " + net::address_with_port(l.bind, port) + " (Gateway port " +
             std::to_string(l.gateway_port) + ", " + kinds + ")");
  }
  bound_ports_ = bound;
  return bound;
}

void ControlPlane::compile_and_publish(const char* why, std::optional<config::ResourceSet> resources,
                                       const std::string& read_note, const char* trigger,
                                       int64_t detected_us) {
  auto started = std::chrono::steady_clock::now();
  if (!resources) resources = store_.resources();
  std::shared_ptr<const dns::ResolvedNames> names;
  compile::CompileResult compiled = compile_with_dns(*resources, names);
  const std::string compile_ms = milliseconds_since(started);
  size_t virtual_hosts = 0;
  for (const compile::Listener& l : compiled.snapshot->listeners) {
    if (l.routes) virtual_hosts += l.routes->virtual_hosts().size();
    for (const compile::TlsChain& chain : l.tls_chains) virtual_hosts += chain.routes->virtual_hosts().size();
  }
  const std::string clusters_note = std::to_string(compiled.clusters_shared) + " of " +
                                    std::to_string(compiled.snapshot->clusters.size()) + " cluster(s), " +
                                    std::to_string(compiled.virtual_hosts_shared) + " of " +
                                    std::to_string(virtual_hosts) + " virtual host(s) shared";
  // The objects are the Store's; the ResourceSet only shares them, and is
  // needed while compiling only.
  resources.reset();

  config::Diagnostics all = in_force_.diagnostics;
  all.insert(all.end(), compiled.diagnostics.begin(), compiled.diagnostics.end());
  std::set<std::string> now;
  for (const auto& d : all) {
    std::string line = d.format();
    now.insert(line);
    if (logged_.count(line)) continue;
    if (d.severity == config::Diagnostic::Severity::Error) {
      log_error(line);
    } else {
      log_info(line);
    }
  }
  logged_ = std::move(now);
  first_errors_.clear();
  for (const auto& d : all) {
    if (d.severity == config::Diagnostic::Severity::Error && !d.source.file.empty())
      first_errors_.emplace(d.source.file, d.format());
  }

  // What the file:// JWKS hold now, to notice a rotated key (check_jwks_files).
  jwks_files_.clear();
  for (const std::string& path : compiled.jwks_files) jwks_files_[path] = read_file_or_empty(path);

  compiled.snapshot->version = ++version_;
  compile::SnapshotPtr snapshot = compiled.snapshot;
  // Before publish(): a worker may start serving it before publish() returns.
  const int64_t published_us = wall_clock_us();
  const auto publish_started = std::chrono::steady_clock::now();
  std::vector<std::string> listener_errors = server_.publish(snapshot);
  const std::string publish_ms = milliseconds_since(publish_started);
  for (const auto& e : listener_errors) log_error(e);
  std::map<std::string, uint16_t> bound_ports = log_new_bindings(*snapshot);

  admin::ReloadRecord record;
  record.version = version_;
  record.trigger = trigger;
  record.detected_us = detected_us;
  record.published_us = published_us;
  const config::ObjectStatuses none;
  const config::ObjectStatuses& objects = objects_ ? *objects_ : none;
  record.objects = objects.size();
  for (const auto& o : objects) record.rejected += o->latest_rejected || !o->in_force ? 1 : 0;
  for (const auto& d : all) record.errors += d.severity == config::Diagnostic::Severity::Error ? 1 : 0;
  record.listener_errors = listener_errors.size();
  history_.push_back(std::move(record));
  if (history_.size() > admin::ConfigState::kReloadHistory) history_.erase(history_.begin());

  admin::ConfigState state;
  state.snapshot = snapshot;
  state.objects = objects_;
  state.diagnostics = std::move(all);
  state.listener_errors = std::move(listener_errors);
  state.bound_ports = std::move(bound_ports);
  state.reloads = version_;
  state.last_reload = utc_now_rfc3339();
  state.dns = names;
  state.reload_history = history_;
  state.stale_note = stale_note_;
  state.waiting_for_etcd = waiting_for_etcd_;
  state_.set(std::move(state));

  log_info("config version " + std::to_string(version_) + " serving (" + why +
           "): " + std::to_string(snapshot->listeners.size()) + " listener(s), " +
           std::to_string(snapshot->clusters.size()) + " cluster(s); " +
           (read_note.empty() ? "" : read_note + ", ") + "compile " + compile_ms + " ms (" + clusters_note +
           "), publish " + publish_ms + " ms; serving " + milliseconds(published_us - detected_us) +
           " ms after the change was noticed");
}

}  // namespace torii::cli
