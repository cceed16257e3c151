// Renders every configuration under tests/golden/iptables/*.conf and compares it with the
// .golden file beside it. MESHNODE_UPDATE_GOLDEN=1 rewrites the golden files instead.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/file.h"
#include "iptables/capture.h"
#include "iptables/capture_options.h"
#include "iptables/iptables_installer.h"
#include "iptables/nft_render.h"
#include "iptables/options_file.h"

namespace meshnode::iptables {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> configs() {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(MESHNODE_GOLDEN_DIR)) {
    if (entry.path().extension() == ".conf") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A golden .conf holds capture options plus "test." keys for what the host would say.
std::string render(const fs::path& path) {
  auto text = readFile(path.string());
  EXPECT_TRUE(text.ok());
  auto options = parseOptionsText(text.value(), path.filename().string());
  EXPECT_TRUE(options.ok()) << options.error().describe();
  HostFacts facts;
  bool nft = false;
  CaptureOptions capture;
  for (const auto& [key, option] : options.value()) {
    if (key == "test.backend") {
      nft = option.value == "nft";
    } else if (key == "test.host_ipv6") {
      facts.ipv6_available = option.value == "true";
    } else if (key == "test.resolv_conf") {
      std::string lines;
      for (char c : option.value)
        lines += c == ',' ? '\n' : c;
      facts.resolvers = parseResolvConf(lines);
    } else {
      capture[key] = option;
    }
  }
  auto config = parseCaptureOptions(capture);
  EXPECT_TRUE(config.ok()) << config.error().describe();
  if (!config.ok()) return "";
  RuleSet set = buildRuleSet(config.value(), facts);
  return nft ? renderNftTable(set) : renderIptablesPrint(set);
}

class Golden : public ::testing::TestWithParam<fs::path> {};

TEST_P(Golden, RendersAsRecorded) {
  const fs::path& conf = GetParam();
  fs::path golden = conf;
  golden.replace_extension(".golden");
  std::string rendered = render(conf);
  if (std::getenv("MESHNODE_UPDATE_GOLDEN") != nullptr) {
    ASSERT_TRUE(writeFileAtomic(golden.string(), rendered).ok()) << golden;
    return;
  }
  auto expected = readFile(golden.string());
  ASSERT_TRUE(expected.ok()) << golden << " is missing; run with MESHNODE_UPDATE_GOLDEN=1";
  EXPECT_EQ(rendered, expected.value()) << "rendering of " << conf.filename()
                                        << " changed; if intended, run with "
                                           "MESHNODE_UPDATE_GOLDEN=1 and review the diff";
}

INSTANTIATE_TEST_SUITE_P(Iptables, Golden, ::testing::ValuesIn(configs()),
                         [](const ::testing::TestParamInfo<fs::path>& param) {
                           return param.param.stem().string();
                         });

TEST(GoldenSet, CoversAtLeastFifteenConfigurations) {
  EXPECT_GE(configs().size(), 15u);
}

}  // namespace
}  // namespace meshnode::iptables
