// The allocator Torii's nghttp2 sessions (downstream and upstream) use: small
// blocks come from per-thread free lists instead of malloc.
//
// nghttp2 allocates ~4 blocks for every stream it carries and frees them
// when the stream ends (the stream, its outbound HEADERS and DATA items, the
// copy of the response's name/value array), plus HPACK table entries.
// Callgrind (bench/callgrind_request.sh CLIENT=h2c): jemalloc took ~97
// instructions per malloc/free pair there, these lists take ~65: ~125 fewer
// per request, 0.4%. Small; keep it only while that matters.
//
// Blocks are sized in powers of two, 32 bytes to 4 KiB (16 of them a header
// that says which size); bigger ones go to malloc. A thread keeps at most
// 64 KiB of free blocks per size (512 KiB in all), so a burst of streams does
// not pin memory. A block freed on another thread than the one that made it
// joins that thread's lists; a thread's lists are freed when it exits.
#pragma once

#include <nghttp2/nghttp2.h>

namespace torii::http {

// For nghttp2_session_{server,client}_new3(); the same object every call.
nghttp2_mem* nghttp2_pooled_memory();

}  // namespace torii::http
