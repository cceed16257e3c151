#include <gtest/gtest.h>

#include "agent/istio/loader.h"

// VirtualService regexes are validated as RE2, the syntax Istio documents and the proxy
// matches with, so a pattern the proxy could not compile is refused where its line is known.
namespace meshnode::istio {
namespace {

LoadReport loadRegex(const std::string& regex, Resources* r) {
  std::string yaml =
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
      "metadata: {name: x, namespace: ns}\nspec:\n  hosts: [a]\n  http:\n  - match:\n"
      "    - uri:\n        regex: '" +
      regex + "'\n    route: [{destination: {host: a}}]\n";
  LoadReport report;
  loadYaml(yaml, "mesh.yaml", r, &report);
  return report;
}

TEST(VirtualServiceRegex, Re2SyntaxIsAccepted) {
  Resources r;
  auto report = loadRegex("/items/(?P<id>\\pN+)", &r);
  EXPECT_TRUE(report.errors.empty()) << report.errors[0];
  EXPECT_EQ(r.virtual_services.size(), 1u);
}

TEST(VirtualServiceRegex, LookaheadIsRefusedWithRe2sReason) {
  Resources r;
  auto report = loadRegex("/(?!admin).*", &r);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_EQ(report.errors[0],
            "mesh.yaml:9: VirtualService ns/x: spec.http[0].match[0].uri.regex: invalid regular "
            "expression: invalid perl operator: (?! (RE2 syntax)");
  EXPECT_TRUE(r.virtual_services.empty());
}

}  // namespace
}  // namespace meshnode::istio
