// A non-blocking TCP connection on one event loop: reads into input(),
// writes output() (send/sendmsg, MSG_NOSIGNAL), optionally connects
// first (with a timeout), and reports to its ConnectionCallbacks.
//
// Edge-triggered: the socket is registered once for IN|OUT|RDHUP and never
// re-armed. Reading stops at a short read (the socket is empty) or when the
// owner disables reading for back-pressure; re-enabling schedules a read on
// the next loop iteration.
//
// Callbacks are only ever invoked from the event loop (on_io or a timer),
// never from inside a call the owner makes (flush(), set_read_enabled(),
// close_after_flush()): an error found while writing is reported on the next
// iteration. So an owner may call these freely from its own callbacks without
// re-entering itself. After on_close() the connection is closed and silent.
//
// TLS: start_tls() puts a TlsSession between the socket and the buffers.
// A client connection reports on_connected() (and its connect timeout stops)
// only once the handshake is done, as Envoy's does; a failed handshake is
// on_close(ConnectFailed, EPROTO) with tls_failure_reason() set. Output
// queued before that is held, then encrypted.
//
// Owned by one object on the loop thread; destroying it closes the socket.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>

#include "net/buffer.h"
#include "net/event_loop.h"
#include "net/timer.h"
#include "net/tls.h"
#include "net/unique_fd.h"

namespace torii::net {

enum class CloseReason {
  ConnectFailed,  // refused, unreachable, ...
  ConnectTimeout,
  Reset,       // read/write error (ECONNRESET, EPIPE, ...)
  LocalClose,  // close_after_flush() finished
};
const char* to_string(CloseReason reason);

class ConnectionCallbacks {
 public:
  virtual void on_connected() {}
  // input() holds new bytes (or bytes left over when reading resumed);
  // consume what you can, leave the rest.
  virtual void on_data(Buffer& input) = 0;
  // The peer shut down its sending side; every byte before it was delivered.
  // The connection stays open for writing.
  virtual void on_eof() = 0;
  // The connection is closed (failure, or close_after_flush done). Last callback.
  virtual void on_close(CloseReason reason, int error_no) = 0;
  // output() fell to half the high watermark after having been above it.
  virtual void on_output_drained() {}
  virtual ~ConnectionCallbacks() = default;
};

class Connection final : public IoHandler {
 public:
  // A connection that starts unconnected; call connect().
  Connection(EventLoop& loop, ConnectionCallbacks& callbacks);
  // An accepted (or otherwise connected) socket.
  Connection(EventLoop& loop, UniqueFd fd, ConnectionCallbacks& callbacks);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts a non-blocking connect. false => failed immediately (no callback),
  // error_no says why. Otherwise on_connected() or on_close(Connect*) follows.
  // Output appended before the connect completes is sent once it does.
  bool connect(const sockaddr* addr, socklen_t len, uint32_t timeout_ms, int& error_no);

  // Before connect() (client) or right after construction (accepted socket).
  void start_tls(std::unique_ptr<TlsSession> session);
  const TlsSession* tls() const { return tls_.get(); }
  // Why the handshake (or a later TLS read/write) failed; empty if it did not.
  std::string tls_failure_reason() const { return tls_ ? tls_->failure_reason() : std::string(); }

  void set_callbacks(ConnectionCallbacks& callbacks) { callbacks_ = &callbacks; }
  Buffer& input() { return input_; }
  Buffer& output() { return output_; }

  // Writes output() from the loop after the current batch of events (the
  // same iteration); what the socket does not take then is written when it
  // becomes writable.
  void flush();
  // Bytes above which the owner should stop producing output (it checks
  // above_high_watermark() after flush); on_output_drained() tells it when
  // output() is back at half of it.
  void set_high_watermark(size_t bytes) { high_watermark_ = bytes; }
  bool above_high_watermark() const { return output_.size() > high_watermark_; }

  void set_read_enabled(bool enabled);
  bool read_enabled() const { return read_enabled_; }
  // On the next iteration: hands bytes already in input() to on_data()
  // again (e.g. a pipelined request the owner left there) and reads on.
  void schedule_read();

  // Sends what is queued, shuts down the write side, waits (bounded) for the
  // peer to close, then closes and reports on_close(LocalClose). Reading
  // after this point discards data, so the peer's unread bytes do not turn
  // the close into a reset that could destroy the response in flight.
  void close_after_flush();
  // As close_after_flush(), but closes as soon as the output is sent, with
  // no wait for the peer's EOF: for a peer that said it sends nothing more
  // (an HTTP/1 request with "Connection: close", read whole) and whose bytes
  // are all read, the lingering close only costs a shutdown(), reads and a
  // wake-up (nginx lingers only when input is unread, too). If the peer
  // breaks its word, its late bytes meet a reset. Also what
  // close_after_flush() does once the peer's EOF was read.
  void close_after_flush_without_linger();
  // How long close_after_flush() waits for the peer's close after our FIN
  // (default 2000 ms); 0: it does not wait (Envoy's delayed_close_timeout,
  // --delayed-close-timeout-ms).
  void set_linger_timeout_ms(uint16_t ms) { linger_timeout_ms_ = ms; }
  // Half-close: sends what is queued, then shuts down the write side (TLS:
  // close_notify first) and goes on reading, as a TCP proxy forwards the
  // peer's FIN. Nothing may be appended to output() afterwards.
  void shutdown_write();
  // shutdown_write() was called (the FIN may still wait for queued output).
  bool write_shutdown() const { return shutdown_write_ != WriteShutdown::None; }
  // Closes now, silently (no callback).
  void close();

  bool is_open() const { return state_ != State::Closed; }
  // Everything sent and our FIN out; only waiting for the peer to close.
  bool lingering() const { return state_ == State::Lingering; }
  bool connecting() const { return state_ == State::Connecting; }
  bool peer_closed() const { return peer_closed_; }
  int fd() const { return watch_.fd(); }

  void on_io(uint32_t events) override;

 private:
  enum class State : uint8_t { Connecting, Open, Closing, Lingering, Closed };

  void handle_connect_result();
  // Drives the TLS handshake; true once it is done (and reported).
  bool drive_handshake();
  ssize_t read_some(size_t max_bytes);
  void handle_read(uint32_t events);
  void handle_write();
  void discard_input_until_eof();
  // Writes until done or EAGAIN; returns 0 or the errno of a write error.
  int write_pending();
  void begin_closing();
  // Whether a close waits for the peer's EOF: asked to, the EOF not read
  // yet, and a wait allowed.
  bool lingers() const { return linger_ && !peer_closed_ && linger_timeout_ms_ != 0; }
  // The output is sent: linger, or close now (linger_ off, or the peer's
  // EOF already read) and report on_close(LocalClose).
  void finish_closing();
  void start_linger();
  void maybe_shutdown_write();
  void fail(CloseReason reason, int error_no);
  void arm_timer(uint64_t delay_ms);
  void cancel_timer();
  void on_timer();

  EventLoop& loop_;
  ConnectionCallbacks* callbacks_;
  IoWatch watch_;
  // Connect timeout, then lingering-close timeout: made on first use, so an
  // open keep-alive connection does not carry one (issue 17).
  std::unique_ptr<Timer> timer_;
  Buffer input_;
  Buffer output_;
  size_t high_watermark_ = 1024 * 1024;
  std::unique_ptr<TlsSession> tls_;
  // The small fields together, one-byte enums: every open connection has
  // these (issue 17).
  uint32_t deferred_read_events_ = 0;  // readiness seen while reading was disabled
  uint16_t linger_timeout_ms_ = 2000;  // up to 65 s: fits beside the flags below
  State state_ = State::Closed;
  enum class WriteShutdown : uint8_t { None, Pending, Done };
  WriteShutdown shutdown_write_ = WriteShutdown::None;
  bool read_enabled_ = true;
  bool peer_closed_ = false;
  bool above_high_ = false;
  bool redeliver_ = false;        // schedule_read(): offer input() again
  bool write_scheduled_ = false;  // flush(): a write is activated for this iteration
  bool client_ = false;           // made by connect(): reports on_connected()
  bool linger_ = true;            // close_after_flush(): wait for the peer's EOF
};

}  // namespace torii::net
