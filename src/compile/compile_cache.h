// What one compile leaves for the next to share (issue 17): clusters
// (compile/cluster_cache.h), virtual hosts (compile/route_cache.h) and the
// service registry.
// Kept by the caller of compile() across compiles; control thread only.
#pragma once

#include <memory>

#include "compile/cluster_cache.h"
#include "compile/route_cache.h"
#include "compile/service_registry.h"

namespace torii::compile {

struct CompileCache {
  ClusterCache clusters;
  RouteCache routes;
  // Built from the same inputs as clusters (Services, ServiceEntries, the
  // identity): reused while the ClusterCache is warm.
  std::shared_ptr<const ServiceRegistry> registry;
};

}  // namespace torii::compile
