// Replays every file of the given directories (or the given files) through the fuzz target,
// for builds without libFuzzer. A crash or a sanitizer report fails the test.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <dirent.h>
#include <sys/stat.h>

#include "common/file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int replay(const std::string& path) {
  auto bytes = meshnode::readFile(path);
  if (!bytes.ok()) {
    std::fprintf(stderr, "%s\n", bytes.error().detail.c_str());
    return 1;
  }
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int files = 0, failures = 0;
  for (int i = 1; i < argc; ++i) {
    struct stat st {};
    if (stat(argv[i], &st) != 0) {
      std::fprintf(stderr, "no such corpus: %s\n", argv[i]);
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      failures += replay(argv[i]);
      ++files;
      continue;
    }
    DIR* dir = opendir(argv[i]);
    if (!dir) return 1;
    std::vector<std::string> names;
    while (dirent* e = readdir(dir))
      if (e->d_name[0] != '.') names.push_back(std::string(argv[i]) + "/" + e->d_name);
    closedir(dir);
    for (const auto& n : names) {
      failures += replay(n);
      ++files;
    }
  }
  std::printf("replayed %d inputs\n", files);
  return failures || files == 0 ? 1 : 0;
}
