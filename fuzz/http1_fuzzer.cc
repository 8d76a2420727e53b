// libFuzzer target for the HTTP/1 request and response parsers. The invariants
// (no crash, no read past the input, consistent message boundaries) are
// checked inside fuzz_http1_parsers, which aborts on a broken one.
#include <cstddef>
#include <cstdint>

#include "http/http1_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  torii::http::fuzz_http1_parsers(data, size);
  return 0;
}
