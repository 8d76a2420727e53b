// The version `torii --version` prints.
#pragma once

namespace torii::cli {

// `git describe --always --dirty` of the checkout it was built from, or the
// CMake project version when built without git or outside a git checkout.
// Defined in a file generated at build time (cmake/version.cmake), so that a
// new commit recompiles that one file and relinks, nothing more.
const char* version();

}  // namespace torii::cli
