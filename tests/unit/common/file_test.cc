#include "common/file.h"

#include <cstdlib>

#include <gtest/gtest.h>
#include <unistd.h>

namespace meshnode {
namespace {

TEST(FileTest, AtomicWriteThenRead) {
  char dir[] = "/tmp/meshnode-file-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/f";
  ASSERT_TRUE(writeFileAtomic(path, "one").ok());
  ASSERT_TRUE(writeFileAtomic(path, "two").ok());
  auto back = readFile(path);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "two");
  unlink(path.c_str());
  rmdir(dir);
}

TEST(FileTest, MissingFileNamesPath) {
  auto r = readFile("/nonexistent/meshnode/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().detail.find("/nonexistent/meshnode/x"), std::string::npos);
}

}  // namespace
}  // namespace meshnode
