// Istio host-name algebra (pkg/config/host/name.go, names.go; ISTIO_SEMANTICS
// §1.1): the rules that decide which VirtualService hosts a Gateway server
// admits and which DestinationRule applies to a service.
//
// A name is wildcarded iff it starts with '*' (`*` or `*.suffix`). All
// comparisons are ASCII case-insensitive: Istio compares byte-wise but
// lower-cases hostnames when it builds virtual hosts, and Envoy compares Host
// case-insensitively, so treating them case-insensitively throughout gives the
// same routing. Results keep the spelling of the input they came from.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace torii::compile::host {

using Names = std::vector<std::string>;

bool is_wildcard(std::string_view name);

// Symmetric overlap (host.Name.Matches): `*.com` ~ `foo.com`, `*` ~ anything,
// `*.foo.com` !~ `foo.com`, two wildcards overlap if one suffix ends with the other.
bool matches(std::string_view a, std::string_view b);

// `a` is covered by `b` (host.Name.SubsetOf): `a.foo.com` ⊆ `*.foo.com`,
// `*.a.foo.com` ⊆ `*.foo.com`, a wildcard is never a subset of a plain name.
bool subset_of(std::string_view a, std::string_view b);

// Sort order "more specific first" (host.MoreSpecific): plain names before
// wildcards, then longer before shorter, then lexicographic.
bool more_specific(std::string_view a, std::string_view b);

// host.Names.Intersection: for every pair where one side is a subset of the
// other, keeps the more specific (subset) side, without duplicates, in the
// order of `a` then `b`. Server `*.foo.com` ∩ VS `a.foo.com` = `a.foo.com`.
Names intersection(const Names& a, const Names& b);

// Gateway `sanitizeServerHostNamespace`: `./h` -> `<gateway-ns>/h`, `*/h` -> `h`,
// and a `*/*` anywhere makes the whole list `[*]`.
Names sanitize_server_hosts(const Names& hosts, std::string_view gateway_namespace);

// host.NamesForNamespace: the (sanitised) server hosts that admit a
// VirtualService of `ns`, with the `ns/` qualifier stripped. `other/h` is
// dropped; unqualified and `*/h` hosts admit every namespace.
Names names_for_namespace(const Names& server_hosts, std::string_view ns);

// Strips a `ns/` qualifier: "ns1/a.com" -> "a.com".
std::string_view strip_namespace(std::string_view server_host);

// Among `candidates`, the one that applies to `name` (model.MostSpecificHostMatch):
// an exact (case-insensitive) match, else the most specific wildcard covering
// `name`. Returns the index into `candidates`, or -1.
int most_specific_match(std::string_view name, const Names& candidates);

// ASCII helpers shared by the compiler.
std::string to_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool iends_with(std::string_view s, std::string_view suffix);

}  // namespace torii::compile::host
