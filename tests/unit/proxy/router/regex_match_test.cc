#include <gtest/gtest.h>

#include "proxy/router/router.h"
#include "proxy/snapshot/snapshot_json.h"

// Route regexes are RE2, as Istio documents them and Envoy's safe_regex matches them: the
// whole value must match, ignore_case comes from the route, and matching is linear in time.
namespace meshnode::proxy {
namespace {

Result<SnapshotPtr> parseRoute(const std::string& path_match, const std::string& header_match) {
  std::string json = R"({"schema": 1, "version": "re2", "http_routes": [{"port": 80,
    "virtual_hosts": [{"name": "vh", "domains": ["*"], "routes": [
      {"name": "path", "match": {"path": )" +
                     path_match + R"(}, "direct_response": {"status": 201}},
      {"name": "header", "match": {"headers": [)" +
                     header_match + R"(]}, "direct_response": {"status": 202}},
      {"name": "fallback", "direct_response": {"status": 299}}]}]}]})";
  return parseSnapshot(json, "regex_test.json");
}

int statusFor(const SnapshotPtr& snap, const std::string& path, const std::string& header = "") {
  RequestHead req;
  req.method = "GET";
  req.authority = "web.example";
  req.path = path;
  if (!header.empty()) req.headers = {{"x-id", header}};
  const Route* r =
      selectRoute(findRouteTable(*snap, Direction::kOutbound, 80)->virtual_hosts[0], req);
  return r ? r->direct_response->status : 0;
}

TEST(RouteRegex, AcceptsRe2SyntaxAndMatchesTheWholeValue) {
  // Named groups in Python form and Unicode classes: RE2 syntax that ECMAScript lacks.
  auto snap = parseRoute(R"j({"regex": "/items/(?P<id>\\pN+)"})j",
                         R"j({"name": "x-id", "regex": "[[:alpha:]]+-\\d{2}"})j");
  ASSERT_TRUE(snap.ok()) << snap.error().describe();
  EXPECT_EQ(statusFor(*snap, "/items/42"), 201);
  EXPECT_EQ(statusFor(*snap, "/items/42?x=1"), 201);  // the query is not part of the path
  EXPECT_EQ(statusFor(*snap, "/items/42/more"), 299);
  EXPECT_EQ(statusFor(*snap, "/shop/items/42"), 299);
  EXPECT_EQ(statusFor(*snap, "/", "abc-12"), 202);
  EXPECT_EQ(statusFor(*snap, "/", "abc-123"), 299);
}

TEST(RouteRegex, IgnoreCaseAppliesToTheRegex) {
  auto snap = parseRoute(R"j({"regex": "/login/[a-z]+", "ignore_case": true})j",
                         R"j({"name": "x-id", "regex": "[a-z]+"})j");
  ASSERT_TRUE(snap.ok()) << snap.error().describe();
  EXPECT_EQ(statusFor(*snap, "/LOGIN/Admin"), 201);
  EXPECT_EQ(statusFor(*snap, "/", "ABC"), 299);  // only the path's match ignores case
}

TEST(RouteRegex, LookaheadIsRefusedNamingTheField) {
  auto snap =
      parseRoute(R"j({"regex": "/(?=admin).*"})j", R"j({"name": "x-id", "present": true})j");
  ASSERT_FALSE(snap.ok());
  EXPECT_NE(snap.error().detail.find("$.http_routes[0].virtual_hosts[0].routes[0].match.path."
                                     "regex: invalid regular expression: invalid perl operator: "
                                     "(?= (RE2 syntax)"),
            std::string::npos)
      << snap.error().detail;
}

TEST(RouteRegex, PathologicalPatternMatchesWithoutBacktracking) {
  // Nested quantifiers a backtracking engine explores exponentially, and a header long enough
  // to exhaust std::regex's recursion; RE2 answers both by walking the input once.
  auto snap = parseRoute(R"j({"regex": "/(a+)+b"})j", R"j({"name": "x-id", "regex": "(a|aa)*c"})j");
  ASSERT_TRUE(snap.ok()) << snap.error().describe();
  std::string as(100000, 'a');
  EXPECT_EQ(statusFor(*snap, "/" + as.substr(0, 64)), 299);
  EXPECT_EQ(statusFor(*snap, "/" + as.substr(0, 64) + "b"), 201);
  EXPECT_EQ(statusFor(*snap, "/", as + "!"), 299);
  EXPECT_EQ(statusFor(*snap, "/", as + "c"), 202);
}

}  // namespace
}  // namespace meshnode::proxy
