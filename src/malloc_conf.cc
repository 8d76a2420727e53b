// jemalloc's settings for the gateway, read by jemalloc at startup (it looks
// for this symbol; MALLOC_CONF in the environment still overrides it).
//
// dirty_decay_ms: pages freed by a reload (the previous snapshot, the
// compiler's temporaries) go back to the OS within about a second instead of
// jemalloc's default 10 s; muzzy_decay_ms:0 skips the lazy-free stage so RSS
// reflects it at once. background_thread: that purging runs on jemalloc's own
// thread, not inside a worker's malloc on the request path.
#ifdef TORII_JEMALLOC
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
#endif
