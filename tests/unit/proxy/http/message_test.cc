#include "proxy/http/message.h"

#include <gtest/gtest.h>

#include "proxy/http/http1/wire.h"

namespace meshnode::proxy {
namespace {

TEST(MessageTest, LowerCaseTouchesOnlyAsciiCapitals) {
  // The neighbours of 'A'..'Z' ('@', '[', '`', '{') and bytes past ASCII stay as they are.
  std::string s = "Content-TYPE@[`{Zz\xc3\x84";
  lowerCaseInPlace(s);
  EXPECT_EQ(s, "content-type@[`{zz\xc3\x84");
  EXPECT_EQ(lowerCase("X-Request-ID"), "x-request-id");
}

std::vector<std::string> names(const HeaderList& headers) {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers)
    out.push_back(k);
  return out;
}

TEST(MessageTest, HopByHopHeadersAndThoseConnectionNamesAreDropped) {
  HeaderList h = {{"connection", "keep-alive, X-Trace"},
                  {"keep-alive", "timeout=5"},
                  {"proxy-connection", "keep-alive"},
                  {"transfer-encoding", "chunked"},
                  {"upgrade", "websocket"},
                  {"te", "trailers"},
                  {"trailer", "x-sum"},
                  {"http2-settings", "AAMAAABkAAQAAP__"},
                  {"x-trace", "1"},
                  {"tea", "green"},
                  {"content-type", "text/plain"}};
  stripHopByHop(h);
  EXPECT_EQ(names(h), (std::vector<std::string>{"tea", "content-type"}));
}

TEST(MessageTest, AnUpgradeKeepsUpgradeAndConnection) {
  HeaderList h = {{"connection", "Upgrade"}, {"upgrade", "websocket"}, {"te", "trailers"}};
  stripHopByHop(h, /*keep_upgrade=*/true);
  EXPECT_EQ(names(h), (std::vector<std::string>{"connection", "upgrade"}));
}

TEST(MessageTest, FieldValuesWithCrLfOrNulAreInvalid) {
  EXPECT_TRUE(http1::validHeaderValue("text/plain; charset=utf-8\t\x80"));
  EXPECT_TRUE(http1::validHeaderValue(""));
  EXPECT_FALSE(http1::validHeaderValue("a\rb"));
  EXPECT_FALSE(http1::validHeaderValue("a\nb"));
  EXPECT_FALSE(http1::validHeaderValue(std::string_view("a\0b", 3)));
}

TEST(MessageTest, OptionalWhitespaceAroundAValueIsTrimmed) {
  for (auto [in, out] : std::vector<std::pair<std::string, std::string>>{
           {" \t value with  inner space \t ", "value with  inner space"},
           {"plain", "plain"},
           {" \t ", ""},
           {"", ""}}) {
    http1::trimValueInPlace(in);
    EXPECT_EQ(in, out);
  }
}

}  // namespace
}  // namespace meshnode::proxy
