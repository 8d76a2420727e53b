// VirtualService delegation (istiod model/virtualservice.go
// mergeVirtualServicesIfNeeded, mergeHTTPRoute, hasConflict; ISTIO_SEMANTICS
// §3.12).
//
// A root VS rule `{match, delegate: {name, namespace}}` is replaced by the
// rules of the delegate VS (a VS without hosts), each merged with the root
// rule: match blocks are combined (delegate fields win, maps merged) for
// every root block they do not conflict with; a delegate rule that conflicts
// with every root block is dropped; fields the delegate rule leaves unset
// (rewrite, timeout, retries, fault, headers, ...) come from the root rule;
// names are joined as `root-delegate`. A missing delegate, or one not
// exported to the root's namespace, drops only that root rule. Short names
// and gateway names in the delegate are resolved in the delegate's namespace.
//
// Runs before VS attachment, on the whole set, exactly where istiod runs it.
#pragma once

#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "compile/diagnostic_sink.h"
#include "config/resources.h"

namespace torii::compile {

// Where a rule of a merged root VS came from, for /config_dump, logs and
// `torii explain`.
struct RuleOrigin {
  int root_rule_index = 0;       // index in the root's spec.http
  std::string delegate;          // "namespace/name"; empty for the root's own rules
  int delegate_rule_index = -1;  // index in the delegate's spec.http
};

struct DelegationResult {
  // Every VS with its rules merged (roots: in `merged`) or as given (others,
  // delegates: the input's own objects, not copies; with 10,000 VSs a copy
  // of each was a tenth of the compile's memory).
  std::vector<const config::VirtualService*> virtual_services;
  std::deque<config::VirtualService> merged;  // deque: addresses stay stable
  // Origins of the rules of root VSs, keyed by the merged rule's address.
  std::unordered_map<const config::HTTPRoute*, RuleOrigin> origins;
};

DelegationResult merge_delegates(const config::ObjectList<config::VirtualService>& virtual_services,
                                 const std::string& domain_suffix, DiagnosticSink& diagnostics);

// The conflict test of one root match block and one delegate match block
// (istiod hasConflict), exposed for tests.
bool match_conflicts(const config::HTTPMatchRequest& root, const config::HTTPMatchRequest& leaf);

}  // namespace torii::compile
