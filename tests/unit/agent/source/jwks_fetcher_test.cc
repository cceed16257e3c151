#include "agent/source/jwks_fetcher.h"

#include <atomic>

#include <gtest/gtest.h>
#include <poll.h>

#include "tests/unit/agent/source/jwks_peers.h"

namespace meshnode::agent::source {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
namespace fs = std::filesystem;

constexpr const char* kKeysA =
    R"({"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]})";
constexpr const char* kKeysB =
    R"({"keys":[{"kty":"OKP","crv":"Ed25519","kid":"b","x":"N78vapO6RSDUwo6o07PsdclI2Ck7UDnwK4QIQI4QEec"}]})";

class JwksFetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("mn-jwks-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(www());
    testing::issueCertificates(dir_);
  }
  void TearDown() override {
    http_.stop();
    https_.stop();
    fs::remove_all(dir_);
  }

  fs::path www() const { return dir_ / "www"; }
  void serve(const std::string& name, const std::string& body) {
    fs::create_directories((www() / name).parent_path());
    testing::writeFile(www() / name, body);
  }

  std::string startHttp() {
    int port = testing::freePort();
    http_ = ChildProcess(
        www(), {"python3", "-m", "http.server", "--bind", "127.0.0.1", std::to_string(port)});
    testing::awaitListening(port);
    return "http://127.0.0.1:" + std::to_string(port);
  }
  std::string startHttps(const std::string& cert = "server.pem",
                         const std::string& key = "server.key") {
    int port = testing::freePort();
    https_ = ChildProcess(www(), {"openssl", "s_server", "-quiet", "-WWW", "-accept",
                                  "127.0.0.1:" + std::to_string(port), "-cert",
                                  (dir_ / cert).string(), "-key", (dir_ / key).string()});
    testing::awaitListening(port);
    return std::to_string(port);
  }

  // Schedules far apart, so the only attempts are the first and those refreshNow() asks for.
  std::unique_ptr<JwksFetcher> makeFetcher(FetchOptions fetch = {}) {
    fetch.connect_timeout = 5s;
    fetch.total_timeout = 10s;
    auto f = JwksFetcher::create({fetch, {3600s, 3600s, 3600s}});
    EXPECT_TRUE(f.ok());
    return std::move(f).value();
  }

  // Runs the daemon's side of the protocol: poll pollFd(), drain it, until `n` attempts are
  // done. The bound only keeps a broken fetcher from hanging the test.
  void awaitAttempts(JwksFetcher& f, uint64_t n) {
    for (int i = 0; i < 600 && f.attempts() < n; ++i) {
      pollfd p{f.pollFd(), POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) f.onReadable();
    }
    ASSERT_GE(f.attempts(), n);
  }

  // Fetches `uri` trusting only `ca`, expects no keys, and returns why.
  std::string refusal(const std::string& uri, const std::string& ca) {
    FetchOptions options;
    options.ca_file = (dir_ / ca).string();
    auto f = makeFetcher(options);
    f->setUris({uri});
    awaitAttempts(*f, 1);
    EXPECT_TRUE(f->documents().empty());
    EXPECT_NE(f->lastError(uri).find(uri), std::string::npos);
    return f->lastError(uri);
  }

  fs::path dir_;
  ChildProcess http_, https_;
};

TEST_F(JwksFetcherTest, FetchesThenPicksUpARotatedKeySet) {
  serve("jwks.json", kKeysA);
  std::string uri = startHttp() + "/jwks.json";
  auto f = makeFetcher();
  EXPECT_EQ(f->generation(), 0u);
  f->setUris({uri});
  awaitAttempts(*f, 1);
  EXPECT_EQ(f->documents(), (std::map<std::string, std::string>{{uri, kKeysA}}));
  uint64_t first = f->generation();
  EXPECT_GT(first, 0u);
  EXPECT_EQ(f->lastError(uri), "");

  // The same keys again: nothing for the daemon to recompile.
  f->refreshNow();
  awaitAttempts(*f, 2);
  EXPECT_EQ(f->generation(), first);

  serve("jwks.json", kKeysB);
  f->refreshNow();
  awaitAttempts(*f, 3);
  EXPECT_EQ(f->documents().at(uri), kKeysB);
  EXPECT_GT(f->generation(), first);
}

TEST_F(JwksFetcherTest, ServerDownKeepsTheLastGoodKeys) {
  serve("jwks.json", kKeysA);
  std::string uri = startHttp() + "/jwks.json";
  auto f = makeFetcher();
  f->setUris({uri});
  awaitAttempts(*f, 1);
  uint64_t generation = f->generation();
  http_.stop();
  f->refreshNow();
  awaitAttempts(*f, 2);
  EXPECT_EQ(f->documents().at(uri), kKeysA);
  EXPECT_EQ(f->generation(), generation);
  EXPECT_NE(f->lastError(uri).find(uri), std::string::npos) << f->lastError(uri);
  EXPECT_NE(f->lastError(uri).find("connect"), std::string::npos) << f->lastError(uri);
}

TEST_F(JwksFetcherTest, NotFoundAndGarbageKeepTheLastGoodKeysAndNameTheUri) {
  serve("jwks.json", kKeysA);
  std::string uri = startHttp() + "/jwks.json";
  auto f = makeFetcher();
  f->setUris({uri});
  awaitAttempts(*f, 1);

  fs::remove(www() / "jwks.json");
  ::testing::internal::CaptureStderr();
  f->refreshNow();
  awaitAttempts(*f, 2);
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(f->documents().at(uri), kKeysA);
  EXPECT_NE(f->lastError(uri).find("HTTP status 404"), std::string::npos) << f->lastError(uri);
  EXPECT_NE(log.find("JWKS " + uri + " fetch failed, keeping the last good keys"),
            std::string::npos)
      << log;

  serve("jwks.json", "<html>502 Bad Gateway</html>");
  ::testing::internal::CaptureStderr();
  f->refreshNow();
  awaitAttempts(*f, 3);
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(f->documents().at(uri), kKeysA);
  EXPECT_NE(f->lastError(uri).find(uri), std::string::npos) << f->lastError(uri);
  EXPECT_NE(log.find("JWKS " + uri + " refused, keeping the last good keys"), std::string::npos)
      << log;
}

TEST_F(JwksFetcherTest, OversizeBodyIsRefused) {
  serve("jwks.json", kKeysA);
  std::string uri = startHttp() + "/jwks.json";
  FetchOptions options;
  options.max_body = 4096;
  auto f = makeFetcher(options);
  f->setUris({uri});
  awaitAttempts(*f, 1);
  // Still JSON, and a JWKS, but larger than the bound: refused before it is parsed.
  serve("jwks.json", std::string(R"({"pad":")") + std::string(8192, 'x') + "\"," +
                         std::string(kKeysA).substr(1));
  f->refreshNow();
  awaitAttempts(*f, 2);
  EXPECT_EQ(f->documents().at(uri), kKeysA);
  EXPECT_NE(f->lastError(uri).find("body larger than 4096 bytes"), std::string::npos)
      << f->lastError(uri);
}

TEST_F(JwksFetcherTest, FollowsARedirectWithinTheLimit) {
  // http.server answers /keys with 301 Location: /keys/, which serves keys/index.html.
  serve("keys/index.html", kKeysA);
  std::string base = startHttp();
  auto f = makeFetcher();
  f->setUris({base + "/keys"});
  awaitAttempts(*f, 1);
  EXPECT_EQ(f->documents().at(base + "/keys"), kKeysA);

  FetchOptions none;
  none.max_redirects = 0;
  auto strict = makeFetcher(none);
  strict->setUris({base + "/keys"});
  awaitAttempts(*strict, 1);
  EXPECT_TRUE(strict->documents().empty());
  EXPECT_NE(strict->lastError(base + "/keys").find("more than 0 redirects"), std::string::npos);
}

TEST_F(JwksFetcherTest, HttpsVerifiesTheServerAgainstTheConfiguredCa) {
  serve("jwks.json", kKeysA);
  std::string port = startHttps();
  FetchOptions options;
  options.ca_file = (dir_ / "ca.pem").string();
  auto f = makeFetcher(options);
  std::string by_ip = "https://127.0.0.1:" + port + "/jwks.json";
  std::string by_name = "https://localhost:" + port + "/jwks.json";
  f->setUris({by_ip});
  awaitAttempts(*f, 1);
  EXPECT_EQ(f->documents().at(by_ip), kKeysA) << f->lastError(by_ip);
  f->setUris({by_name});
  awaitAttempts(*f, 2);
  EXPECT_EQ(f->documents(), (std::map<std::string, std::string>{{by_name, kKeysA}}))
      << f->lastError(by_name);
}

TEST_F(JwksFetcherTest, CertificateOfAnotherCaIsRefused) {
  serve("jwks.json", kKeysA);
  std::string uri = "https://127.0.0.1:" + startHttps() + "/jwks.json";
  EXPECT_NE(refusal(uri, "other-ca.pem").find("certificate refused: unable to get local issuer"),
            std::string::npos);
}

TEST_F(JwksFetcherTest, CertificateForAnotherHostIsRefused) {
  serve("jwks.json", kKeysA);
  // A certificate the CA did sign, but for the CA's own name rather than this server's.
  std::string uri = "https://127.0.0.1:" + startHttps("ca.pem", "ca.key") + "/jwks.json";
  EXPECT_NE(refusal(uri, "ca.pem").find("certificate refused: IP address mismatch"),
            std::string::npos);
}

TEST_F(JwksFetcherTest, DroppedUriLosesItsDocument) {
  serve("jwks.json", kKeysA);
  std::string uri = startHttp() + "/jwks.json";
  auto f = makeFetcher();
  f->setUris({uri, "ftp://issuer.example/jwks"});
  awaitAttempts(*f, 1);
  uint64_t generation = f->generation();
  EXPECT_EQ(f->documents().size(), 1u);
  f->setUris({});
  EXPECT_TRUE(f->documents().empty());
  EXPECT_GT(f->generation(), generation);
}

}  // namespace
}  // namespace meshnode::agent::source
