// Envoy's HTTP/2 edge defences that nghttp2 does not apply by itself, as
// counters a connection consults per frame (pure logic, unit-tested
// without sockets). Envoy's defaults (config.core.v3.Http2ProtocolOptions):
//
// * max_consecutive_inbound_frames_with_empty_payload = 1: a DATA frame
//   with no payload and no END_STREAM (or HEADERS/CONTINUATION with none)
//   twice in a row is a flood (CVE-2019-9518).
// * max_inbound_priority_frames_per_stream = 100: PRIORITY frames beyond
//   10 + 100 * (streams opened + 1) (CVE-2019-9513).
// * max_inbound_window_update_frames_per_data_frame_sent = 10:
//   WINDOW_UPDATE frames beyond 5 + 10 * (DATA frames sent + 1)
//   (CVE-2019-9517's mirror image).
// * Premature resets (Rapid Reset, CVE-2023-44487, and MadeYouReset,
//   CVE-2025-8671, where the client makes the *server* reset): once at
//   least 500 streams were opened on a connection, more than half of them
//   closed before their response completed and within a second of their
//   start means the connection is closed. Both a client RST_STREAM and one
//   the server sent because of the client's error count, so the attacker
//   cannot choose which side resets.
//
// Settings/PING/ACK floods, CONTINUATION floods, HPACK bombs and streams
// beyond SETTINGS_MAX_CONCURRENT_STREAMS are nghttp2's own checks (set up
// in Http2Connection).
#pragma once

#include <cstdint>

namespace torii::proxy {

struct Http2FloodLimits {
  uint32_t max_consecutive_empty_frames = 1;
  uint32_t max_priority_frames_per_stream = 100;
  uint32_t max_window_updates_per_data_frame_sent = 10;
  uint32_t premature_reset_min_streams = 500;
  uint64_t premature_reset_min_lifetime_ms = 1000;
};

class Http2FloodGuard {
 public:
  explicit Http2FloodGuard(Http2FloodLimits limits = {}) : limits_(limits) {}

  // An inbound frame header (type as on the wire, RFC 9113 6). false: flood.
  bool on_inbound_frame(uint8_t type, uint8_t flags, uint32_t length);
  void on_stream_opened() { ++streams_opened_; }
  void on_data_frame_sent() { ++data_frames_sent_; }
  // A stream closed; `premature`: before its response completed. false:
  // too many premature resets.
  bool on_stream_closed(bool premature, uint64_t lifetime_ms);

  uint64_t streams_opened() const { return streams_opened_; }
  uint64_t premature_resets() const { return premature_resets_; }

 private:
  Http2FloodLimits limits_;
  uint32_t consecutive_empty_ = 0;
  uint64_t priority_frames_ = 0;
  uint64_t window_updates_ = 0;
  uint64_t data_frames_sent_ = 0;
  uint64_t streams_opened_ = 0;
  uint64_t premature_resets_ = 0;
};

}  // namespace torii::proxy
