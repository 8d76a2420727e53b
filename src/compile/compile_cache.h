// What one compile leaves for the next to share (issue 17): clusters
// (compile/cluster_cache.h) and virtual hosts (compile/route_cache.h).
// Kept by the caller of compile() across compiles; control thread only.
#pragma once

#include "compile/cluster_cache.h"
#include "compile/route_cache.h"

namespace torii::compile {

struct CompileCache {
  ClusterCache clusters;
  RouteCache routes;
};

}  // namespace torii::compile
