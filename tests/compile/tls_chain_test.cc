// Listener::chain_for_sni: Envoy's filter chain match on server names.
#include <gtest/gtest.h>

#include "compile/snapshot.h"

namespace torii::compile {
namespace {

Listener listener_with(std::vector<std::vector<std::string>> chains) {
  Listener l;
  for (auto& names : chains) {
    TlsChain c;
    c.server_names = std::move(names);
    l.tls_chains.push_back(std::move(c));
  }
  return l;
}

TEST(TlsChainMatch, ExactThenLongestWildcardThenCatchAll) {
  Listener l = listener_with({{}, {"*.example.com"}, {"*.api.example.com"}, {"www.example.com"}});
  EXPECT_EQ(l.chain_for_sni("www.example.com"), &l.tls_chains[3]);
  EXPECT_EQ(l.chain_for_sni("WWW.Example.com"), &l.tls_chains[3]);
  EXPECT_EQ(l.chain_for_sni("v1.api.example.com"), &l.tls_chains[2]);
  EXPECT_EQ(l.chain_for_sni("a.b.example.com"), &l.tls_chains[1]);
  EXPECT_EQ(l.chain_for_sni("example.com"), &l.tls_chains[0]);
  EXPECT_EQ(l.chain_for_sni(""), &l.tls_chains[0]);
}

TEST(TlsChainMatch, NoCatchAllMeansUnknownNamesAreRefused) {
  Listener l = listener_with({{"a.com"}, {"*.b.com"}});
  EXPECT_EQ(l.chain_for_sni("c.com"), nullptr);
  EXPECT_EQ(l.chain_for_sni(""), nullptr);
  EXPECT_EQ(l.chain_for_sni("b.com"), nullptr);  // a wildcard covers at least one label
  EXPECT_EQ(l.chain_for_sni("x.b.com"), &l.tls_chains[1]);
}

TEST(TlsChainMatch, FirstOfEqualMatchesWins) {
  Listener l = listener_with({{"a.com"}, {"a.com"}});
  EXPECT_EQ(l.chain_for_sni("a.com"), &l.tls_chains[0]);
}

}  // namespace
}  // namespace torii::compile
