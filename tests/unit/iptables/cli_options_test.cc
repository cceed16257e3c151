#include "iptables/cli_options.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/file.h"

namespace meshnode::iptables {
namespace {

Result<CommandLine> parse(std::initializer_list<const char*> args) {
  const char* argv[16] = {"meshnode-iptables"};
  int argc = 1;
  for (const char* a : args)
    argv[argc++] = a;
  return parseCommandLine(argc, argv);
}

TEST(CommandLine, FlagsAreTheCaptureOptions) {
  auto cl = parse({"apply", "--backend=nft", "--proxy-uid", "998", "--dns-capture=all"});
  ASSERT_TRUE(cl.ok()) << cl.error().describe();
  EXPECT_EQ(cl->command, Command::kApply);
  EXPECT_EQ(cl->backend, Backend::kNft);
  auto config = captureConfigFrom(cl.value());
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->proxy_uid, 998u);
  EXPECT_EQ(config->dns_capture, DnsCapture::kAll);
}

TEST(CommandLine, ErrorsNameTheFlag) {
  auto cl = parse({"print", "--inbound-ports-exclude=abc"});
  ASSERT_TRUE(cl.ok());
  auto config = captureConfigFrom(cl.value());
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().detail,
            "--inbound-ports-exclude: capture option inbound_ports_exclude: 'abc' is not a port "
            "(1-65535)");
}

TEST(CommandLine, BadUsage) {
  EXPECT_FALSE(parse({}).ok());
  EXPECT_FALSE(parse({"install"}).ok());
  EXPECT_FALSE(parse({"apply", "--no-such-flag=1"}).ok());
  EXPECT_FALSE(parse({"apply", "--backend=ipfw"}).ok());
  EXPECT_FALSE(parse({"apply", "--proxy-uid"}).ok());
  EXPECT_FALSE(parse({"apply", "verify"}).ok());
  EXPECT_EQ(parse({"--help"})->command, Command::kHelp);
}

TEST(CommandLine, UsageListsEveryOption) {
  std::string usage = usageText();
  for (const auto& info : captureOptionInfo()) {
    std::string flag = "--" + std::string(info.name);
    for (auto& c : flag)
      c = c == '_' ? '-' : c;
    EXPECT_NE(usage.find(flag), std::string::npos) << flag;
  }
}

TEST(CommandLine, FlagsWinOverTheOptionsFile) {
  std::string path = ::testing::TempDir() + "capture-" + std::to_string(::getpid()) + ".conf";
  ASSERT_TRUE(writeFileAtomic(path, "proxy_uid = 998\ndns_capture = all\n").ok());
  auto cl = parse({"print", "--options-file", path.c_str(), "--proxy-uid=999"});
  ASSERT_TRUE(cl.ok());
  auto config = captureConfigFrom(cl.value());
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->proxy_uid, 999u);
  EXPECT_EQ(config->dns_capture, DnsCapture::kAll);

  ASSERT_TRUE(writeFileAtomic(path, "# capture\ndns_capture = sometimes\n").ok());
  auto bad = captureConfigFrom(cl.value());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().detail, path +
                                    ":2: capture option dns_capture: 'sometimes' is not one "
                                    "of none, host-resolvers, all");
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace meshnode::iptables
