#include "agent/dns/dns_proxy.h"

#include <atomic>
#include <cstring>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "agent/dns/upstream.h"
#include "common/unique_fd.h"
#include "tests/unit/agent/dns/dns_test_util.h"

namespace meshnode::agent::dns {
namespace {

using testing::answerData;
using testing::makeQuery;

sockaddr_in loopback(uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sin;
}

// A resolver on loopback that answers A queries with 198.18.0.99 (TTL 60), or stays silent.
class FakeUpstream {
 public:
  explicit FakeUpstream(bool answer) : answer_(answer) {
    fd_ = UniqueFd(::socket(AF_INET, SOCK_DGRAM, 0));
    sockaddr_in sin = loopback(0);
    ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
    socklen_t len = sizeof(sin);
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&sin), &len);
    port_ = ntohs(sin.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeUpstream() {
    stop_ = true;
    thread_.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int queries() const { return queries_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      uint8_t buf[4096];
      sockaddr_in peer{};
      socklen_t len = sizeof(peer);
      ssize_t n =
          ::recvfrom(fd_.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&peer), &len);
      if (n <= 0) continue;
      queries_++;
      if (!answer_) continue;
      std::vector<uint8_t> wire(buf, buf + n);
      auto q = parseQuery(wire);
      if (!q.ok()) continue;
      auto reply =
          buildReply(*q, wire, kRcodeNoError, false, {Record{kTypeA, 60, {198, 18, 0, 99}}});
      ::sendto(fd_.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&peer), len);
    }
  }

  bool answer_;
  UniqueFd fd_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

class DnsProxyTest : public ::testing::Test {
 protected:
  void startProxy(const std::string& upstream) {
    auto table = NameTable::build(
        {{"reviews.bookinfo.svc.cluster.local", {}}, {"db.corp.test", {"198.18.0.7"}}},
        {"bookinfo.svc.cluster.local", "svc.cluster.local"}, {"cluster.local"});
    ASSERT_TRUE(table.ok());
    DnsProxyOptions options;
    options.listen_port = 0;
    options.upstreams = {upstream};
    auto proxy = DnsProxy::start(options, std::make_shared<NameTable>(std::move(table).value()));
    ASSERT_TRUE(proxy.ok()) << proxy.error().describe();
    proxy_ = std::move(proxy).value();
  }

  std::vector<uint8_t> askUdp(const std::vector<uint8_t>& query) {
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM, 0));
    timeval tv{3, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in to = loopback(proxy_->port());
    ::sendto(fd.get(), query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    uint8_t buf[65535];
    ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    return n > 0 ? std::vector<uint8_t>(buf, buf + n) : std::vector<uint8_t>{};
  }

  std::vector<uint8_t> askTcp(const std::vector<uint8_t>& query) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
    timeval tv{3, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in to = loopback(proxy_->port());
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) return {};
    std::vector<uint8_t> framed = {static_cast<uint8_t>(query.size() >> 8),
                                   static_cast<uint8_t>(query.size())};
    framed.insert(framed.end(), query.begin(), query.end());
    ::send(fd.get(), framed.data(), framed.size(), 0);
    std::vector<uint8_t> in;
    uint8_t buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
      if (n <= 0) return {};
      in.insert(in.end(), buf, buf + n);
      if (in.size() >= 2 && in.size() >= 2u + ((in[0] << 8) | in[1])) {
        return std::vector<uint8_t>(in.begin() + 2, in.end());
      }
    }
  }

  std::unique_ptr<DnsProxy> proxy_;
};

uint8_t rcodeOf(const std::vector<uint8_t>& reply) {
  auto h = parseHeader(reply);
  return h.ok() ? h->rcode() : 0xFF;
}

TEST_F(DnsProxyTest, AnswersMeshNamesOverUdpAndTcp) {
  FakeUpstream upstream(true);
  startProxy(upstream.address());
  auto a = askUdp(makeQuery(1, "reviews", kTypeA));
  ASSERT_EQ(rcodeOf(a), kRcodeNoError);
  auto data = answerData(a);
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0][0], 240);
  EXPECT_EQ(data[0][1], 240);

  auto tcp = askTcp(makeQuery(2, "reviews.bookinfo.svc.cluster.local", kTypeA));
  EXPECT_EQ(answerData(tcp), data);

  auto aaaa = askUdp(makeQuery(3, "reviews.bookinfo", kTypeAaaa));
  ASSERT_EQ(answerData(aaaa).size(), 1u);
  EXPECT_EQ(answerData(aaaa)[0][0], 0x20);

  auto declared = askUdp(makeQuery(4, "db.corp.test", kTypeA));
  EXPECT_EQ(answerData(declared), (std::vector<std::vector<uint8_t>>{{198, 18, 0, 7}}));
  EXPECT_EQ(upstream.queries(), 0);
}

TEST_F(DnsProxyTest, WrongTypeIsNoDataAndUnknownMeshNameIsNxDomain) {
  FakeUpstream upstream(true);
  startProxy(upstream.address());
  auto v6_of_v4_host = askUdp(makeQuery(1, "db.corp.test", kTypeAaaa));
  EXPECT_EQ(rcodeOf(v6_of_v4_host), kRcodeNoError);
  EXPECT_TRUE(answerData(v6_of_v4_host).empty());
  auto mx = askUdp(makeQuery(2, "reviews", 15));
  EXPECT_EQ(rcodeOf(mx), kRcodeNoError);
  EXPECT_TRUE(answerData(mx).empty());
  auto ghost = askUdp(makeQuery(3, "ghost.bookinfo.svc.cluster.local", kTypeA));
  EXPECT_EQ(rcodeOf(ghost), kRcodeNxDomain);
  EXPECT_EQ(upstream.queries(), 0);
}

TEST_F(DnsProxyTest, ForwardsOtherNamesAndCachesTheAnswer) {
  FakeUpstream upstream(true);
  startProxy(upstream.address());
  auto first = askUdp(makeQuery(0x1111, "www.example.test", kTypeA));
  ASSERT_EQ(rcodeOf(first), kRcodeNoError);
  EXPECT_EQ(parseHeader(first)->id, 0x1111);
  EXPECT_EQ(answerData(first), (std::vector<std::vector<uint8_t>>{{198, 18, 0, 99}}));
  auto second = askTcp(makeQuery(0x2222, "WWW.example.test", kTypeA));
  EXPECT_EQ(parseHeader(second)->id, 0x2222);
  EXPECT_EQ(answerData(second), answerData(first));
  EXPECT_EQ(upstream.queries(), 1);
  EXPECT_EQ(proxy_->stats().cache_hits, 1u);
  // The cached answer echoes the second client's spelling of the name.
  auto query = makeQuery(0x2222, "WWW.example.test", kTypeA);
  EXPECT_TRUE(std::equal(query.begin() + 12, query.end(), second.begin() + 12));
}

TEST_F(DnsProxyTest, SilentUpstreamGetsServFail) {
  FakeUpstream upstream(false);
  startProxy(upstream.address());
  auto reply = askUdp(makeQuery(5, "slow.example.test", kTypeA));
  EXPECT_EQ(rcodeOf(reply), kRcodeServFail);
  EXPECT_EQ(parseHeader(reply)->id, 5);
  EXPECT_GE(upstream.queries(), 1);
}

TEST_F(DnsProxyTest, MalformedQueryGetsFormErr) {
  FakeUpstream upstream(true);
  startProxy(upstream.address());
  auto query = makeQuery(6, "a.test", kTypeA);
  query[12] = 50;  // label runs past the end
  auto reply = askUdp(query);
  EXPECT_EQ(rcodeOf(reply), kRcodeFormErr);
  EXPECT_EQ(proxy_->stats().malformed, 1u);
}

TEST_F(DnsProxyTest, NewTableTakesEffect) {
  FakeUpstream upstream(true);
  startProxy(upstream.address());
  auto table = NameTable::build({{"new.corp.test", {"198.18.0.33"}}}, {}, {});
  proxy_->setTable(std::make_shared<NameTable>(std::move(table).value()));
  auto reply = askUdp(makeQuery(7, "new.corp.test", kTypeA));
  EXPECT_EQ(answerData(reply), (std::vector<std::vector<uint8_t>>{{198, 18, 0, 33}}));
}

TEST_F(DnsProxyTest, LargeAnswerIsTruncatedOverUdpAndWholeOverTcp) {
  FakeUpstream upstream(true);
  startProxy(upstream.address());
  std::vector<std::string> addresses;
  for (int i = 1; i <= 40; ++i)
    addresses.push_back("198.18.1." + std::to_string(i));
  auto table = NameTable::build({{"many.corp.test", addresses}}, {}, {});
  proxy_->setTable(std::make_shared<NameTable>(std::move(table).value()));
  auto udp = askUdp(makeQuery(8, "many.corp.test", kTypeA));
  ASSERT_TRUE(parseHeader(udp).ok());
  EXPECT_TRUE(parseHeader(udp)->truncated());
  EXPECT_LE(udp.size(), 512u);
  EXPECT_EQ(answerData(askTcp(makeQuery(9, "many.corp.test", kTypeA))).size(), 40u);
  // A client that announces a larger EDNS buffer gets it all over UDP.
  EXPECT_EQ(answerData(askUdp(makeQuery(10, "many.corp.test", kTypeA, 1232))).size(), 40u);
}

TEST(DnsProxyStartTest, PortInUseIsAnError) {
  UniqueFd holder(::socket(AF_INET, SOCK_DGRAM, 0));
  sockaddr_in sin = loopback(0);
  ::bind(holder.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
  socklen_t len = sizeof(sin);
  ::getsockname(holder.get(), reinterpret_cast<sockaddr*>(&sin), &len);
  DnsProxyOptions options;
  options.listen_port = ntohs(sin.sin_port);
  options.upstreams = {"127.0.0.1"};
  auto proxy = DnsProxy::start(options, std::make_shared<NameTable>());
  ASSERT_FALSE(proxy.ok());
  EXPECT_NE(proxy.error().detail.find("bind DNS UDP"), std::string::npos);
}

TEST(UpstreamTest, AcceptsTheAddressFormsSettingsAllow) {
  for (const char* server : {"198.18.0.53", "198.18.0.53:5353", "::1", "[::1]:5353"}) {
    auto up = Upstream::create({server}, std::chrono::milliseconds(250), 2);
    EXPECT_TRUE(up.ok()) << server << ": " << up.error().describe();
  }
  auto bad = Upstream::create({"not-an-address"}, std::chrono::milliseconds(250), 2);
  EXPECT_FALSE(bad.ok());
  EXPECT_FALSE(Upstream::create({}, std::chrono::milliseconds(250), 2).ok());
}

}  // namespace
}  // namespace meshnode::agent::dns
