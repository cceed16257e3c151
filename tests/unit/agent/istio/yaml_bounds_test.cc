#include "agent/istio/yaml_bounds.h"

#include <gtest/gtest.h>

#include "agent/istio/loader.h"

namespace meshnode::istio {
namespace {

std::string nestedBlock(int levels) {
  std::string out;
  for (int i = 0; i < levels; ++i)
    out += std::string(2 * i, ' ') + "k" + std::to_string(i) + ":\n";
  return out + std::string(2 * levels, ' ') + "leaf: 1\n";
}

TEST(YamlBoundsTest, RealManifestsPass) {
  const char* text = R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: shop}
spec:
  hosts: ["*.example.com"]   # a comment with [ and {
  http:
  - match:
    - uri: {prefix: '/it''s [here'}
      headers:
        x-a: {exact: "{\"]"}
    route:
    - destination: {host: reviews, subset: v1}
  - route: [{destination: {host: r}}]
---
apiVersion: v1
kind: ConfigMap
data:
  script: |
    [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[
    *a *b *c
  path: /x*
)";
  EXPECT_EQ(checkYamlBounds(text, "ok.yaml"), std::nullopt);
  EXPECT_EQ(checkYamlBounds(nestedBlock(60), "ok.yaml"), std::nullopt);
  // Windows line ends: the block scalar is still recognized as text.
  EXPECT_EQ(checkYamlBounds("a: |\r\n  " + std::string(80, '[') + "\r\nb: 1\r\n", "crlf.yaml"),
            std::nullopt);
}

TEST(YamlBoundsTest, DeepFlowNestingIsRefusedWithItsLine) {
  std::string text =
      "apiVersion: v1\nkind: X\nspec: " + std::string(100, '[') + std::string(100, ']') + "\n";
  auto err = checkYamlBounds(text, "deep.yaml");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(*err, "deep.yaml:3: nested deeper than 64 levels; refused before parsing");
}

TEST(YamlBoundsTest, DeepBlockNestingIsRefusedWithItsLine) {
  auto err = checkYamlBounds(nestedBlock(80), "deep.yaml");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(*err, "deep.yaml:65: nested deeper than 64 levels; refused before parsing");
}

TEST(YamlBoundsTest, NestedSequenceDashesCount) {
  std::string text = "a:\n";
  for (int i = 0; i < 70; ++i)
    text += "- ";
  text += "x\n";
  auto err = checkYamlBounds(text, "dash.yaml");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(*err, "dash.yaml:2: nested deeper than 64 levels; refused before parsing");
}

TEST(YamlBoundsTest, AliasBlowUpIsRefused) {
  // Each level refers to the previous one ten times: 10^12 nodes once expanded.
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k)
      text += (k ? ", " : "") + prev;
    text += "]\n";
  }
  auto err = checkYamlBounds(text, "laughs.yaml");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(*err, "laughs.yaml:12: more than 100 alias uses (*name); refused before parsing");
}

TEST(YamlBoundsTest, OversizedTextIsRefused) {
  YamlLimits small;
  small.max_bytes = 16;
  auto err = checkYamlBounds("apiVersion: networking.istio.io/v1\n", "big.yaml", small);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(*err, "big.yaml:1: the file is 35 bytes, above the limit of 16");
}

TEST(YamlBoundsTest, TheLoaderRefusesBeforeParsing) {
  Resources r;
  LoadReport report;
  loadYaml("spec: " + std::string(5000, '{'), "deep.yaml", &r, &report);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_EQ(report.errors[0], "deep.yaml:1: nested deeper than 64 levels; refused before parsing");
}

}  // namespace
}  // namespace meshnode::istio
