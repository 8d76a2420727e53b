#include "proxy/http2_flood_guard.h"

namespace torii::proxy {

namespace {
// RFC 9113 6: frame types and flags that matter here.
constexpr uint8_t kData = 0x0;
constexpr uint8_t kHeaders = 0x1;
constexpr uint8_t kPriority = 0x2;
constexpr uint8_t kWindowUpdate = 0x8;
constexpr uint8_t kContinuation = 0x9;
constexpr uint8_t kEndStream = 0x1;
}  // namespace

bool Http2FloodGuard::on_inbound_frame(uint8_t type, uint8_t flags, uint32_t length) {
  switch (type) {
    case kData:
    case kHeaders:
    case kContinuation:
      // An empty frame that does not end the stream does no work for the
      // peer; a run of them is a flood (Envoy counts DATA, HEADERS and
      // CONTINUATION alike).
      if (length == 0 && (type == kContinuation || (flags & kEndStream) == 0)) {
        if (++consecutive_empty_ > limits_.max_consecutive_empty_frames) return false;
      } else {
        consecutive_empty_ = 0;
      }
      return true;
    case kPriority:
      ++priority_frames_;
      return priority_frames_ <= uint64_t{limits_.max_priority_frames_per_stream} * (streams_opened_ + 1);
    case kWindowUpdate:
      // Envoy's ProtocolConstraints: a client may acknowledge each stream
      // it opened and each DATA frame we sent, several times over.
      ++window_updates_;
      return window_updates_ <=
             5 + 2 * (streams_opened_ +
                      uint64_t{limits_.max_window_updates_per_data_frame_sent} * data_frames_sent_);
    default:
      return true;
  }
}

bool Http2FloodGuard::on_stream_closed(bool premature, uint64_t lifetime_ms) {
  if (premature && lifetime_ms < limits_.premature_reset_min_lifetime_ms) ++premature_resets_;
  if (streams_opened_ < limits_.premature_reset_min_streams) return true;
  return premature_resets_ * 2 <= streams_opened_;
}

}  // namespace torii::proxy
