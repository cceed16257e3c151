#include "proxy/stream/body_pipe.h"

#include <string>

#include <gtest/gtest.h>

namespace meshnode::proxy {
namespace {

// A consumer may be told of bytes by a codec call that ends its stream, and so unhooks
// itself from inside the call; what the hook holds must outlive the call. The capture is
// larger than std::function keeps inline, so a hook freed too early is a use after free
// that the sanitizer build reports.
TEST(BodyPipeTest, AConsumerMayUnhookItselfFromInsideTheCall) {
  BodyPipe pipe(1024);
  std::string seen;
  std::string name(64, 'c');
  pipe.on_readable = [&pipe, &seen, name] {
    pipe.on_readable = nullptr;
    seen = name;
  };
  pipe.push("x");
  EXPECT_EQ(seen, std::string(64, 'c'));
  EXPECT_FALSE(pipe.on_readable);
}

TEST(BodyPipeTest, TheProducerHearsOfEveryByteTaken) {
  BodyPipe pipe(4);
  size_t consumed = 0;
  pipe.on_consumed = [&consumed](size_t n) { consumed += n; };
  pipe.push("hello");
  EXPECT_TRUE(pipe.full());
  char buf[3];
  EXPECT_EQ(pipe.read(buf, sizeof(buf)), 3u);
  EXPECT_FALSE(pipe.full());
  pipe.finish();
  EXPECT_EQ(pipe.readAll(), "lo");
  EXPECT_EQ(consumed, 5u);
  EXPECT_TRUE(pipe.drained());
}

}  // namespace
}  // namespace meshnode::proxy
