#include <gtest/gtest.h>

#include "agent/istio/loader.h"

namespace meshnode::istio {
namespace {

// A WorkloadGroup whose spec.probe starts on line 7.
std::string group(const std::string& probe) {
  return "apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\n"
         "metadata: {name: vm, namespace: shop}\nspec:\n  template: {serviceAccount: vm}\n"
         "  probe:\n" +
         probe;
}

TEST(WorkloadProbeTest, HttpGetWithEveryField) {
  Resources r;
  LoadReport report;
  loadYaml(group("    initialDelaySeconds: 3\n    timeoutSeconds: 2\n    periodSeconds: 5\n"
                 "    successThreshold: 2\n    failureThreshold: 4\n"
                 "    httpGet:\n      path: /ready\n      port: 8080\n      host: 127.0.0.2\n"
                 "      scheme: HTTPS\n      httpHeaders: [{name: x-probe, value: \"1\"}]\n"),
           "g.yaml", &r, &report);
  ASSERT_TRUE(report.errors.empty()) << report.errors[0];
  EXPECT_TRUE(report.warnings.empty());
  ASSERT_EQ(r.workload_groups.size(), 1u);
  ASSERT_TRUE(r.workload_groups[0].probe.has_value());
  const WorkloadProbe& p = *r.workload_groups[0].probe;
  EXPECT_EQ(p.action, WorkloadProbe::Action::kHttpGet);
  EXPECT_EQ(p.initial_delay_seconds, 3u);
  EXPECT_EQ(p.timeout_seconds, 2u);
  EXPECT_EQ(p.period_seconds, 5u);
  EXPECT_EQ(p.success_threshold, 2u);
  EXPECT_EQ(p.failure_threshold, 4u);
  EXPECT_EQ(p.path, "/ready");
  EXPECT_EQ(p.port, 8080u);
  EXPECT_EQ(p.host, "127.0.0.2");
  EXPECT_EQ(p.scheme, "HTTPS");
  ASSERT_EQ(p.http_headers.size(), 1u);
  EXPECT_EQ(p.http_headers[0], (std::pair<std::string, std::string>{"x-probe", "1"}));
}

TEST(WorkloadProbeTest, TcpSocketAndExecWithDefaults) {
  Resources r;
  LoadReport report;
  loadYaml(group("    tcpSocket: {port: 5432}\n"), "g.yaml", &r, &report);
  loadYaml(group("    exec: {command: [/bin/check, --quick]}\n"), "h.yaml", &r, &report);
  ASSERT_TRUE(report.errors.empty()) << report.errors[0];
  ASSERT_EQ(r.workload_groups.size(), 2u);
  const WorkloadProbe& tcp = *r.workload_groups[0].probe;
  EXPECT_EQ(tcp.action, WorkloadProbe::Action::kTcpSocket);
  EXPECT_EQ(tcp.port, 5432u);
  EXPECT_EQ(tcp.period_seconds, 10u);
  EXPECT_EQ(tcp.timeout_seconds, 1u);
  EXPECT_EQ(tcp.failure_threshold, 3u);
  const WorkloadProbe& exec = *r.workload_groups[1].probe;
  EXPECT_EQ(exec.action, WorkloadProbe::Action::kExec);
  EXPECT_EQ(exec.command, (std::vector<std::string>{"/bin/check", "--quick"}));
}

struct BadProbe {
  const char* probe;
  const char* expected;
};

class WorkloadProbeErrorTest : public ::testing::TestWithParam<BadProbe> {};

TEST_P(WorkloadProbeErrorTest, NamesFileLineAndField) {
  Resources r;
  LoadReport report;
  loadYaml(group(GetParam().probe), "g.yaml", &r, &report);
  ASSERT_FALSE(report.errors.empty()) << GetParam().probe;
  EXPECT_EQ(report.errors[0], GetParam().expected);
  EXPECT_TRUE(r.workload_groups.empty());
  EXPECT_EQ(report.rejected, std::vector<std::string>{"WorkloadGroup shop/vm"});
}

INSTANTIATE_TEST_SUITE_P(
    Probe, WorkloadProbeErrorTest,
    ::testing::Values(
        BadProbe{"    grpc: {port: 9000}\n",
                 "g.yaml:7: WorkloadGroup shop/vm: spec.probe.grpc: gRPC probes are not "
                 "supported by meshnode"},
        BadProbe{"    periodSeconds: 5\n",
                 "g.yaml:7: WorkloadGroup shop/vm: spec.probe: needs exactly one of httpGet, "
                 "tcpSocket and exec"},
        BadProbe{"    tcpSocket: {port: 1}\n    exec: {command: [x]}\n",
                 "g.yaml:7: WorkloadGroup shop/vm: spec.probe: needs exactly one of httpGet, "
                 "tcpSocket and exec"},
        BadProbe{"    periodSeconds: 0\n    tcpSocket: {port: 1}\n",
                 "g.yaml:7: WorkloadGroup shop/vm: spec.probe.periodSeconds: must be between 1 "
                 "and 86400"},
        BadProbe{"    tcpSocket: {port: 70000}\n",
                 "g.yaml:7: WorkloadGroup shop/vm: spec.probe.tcpSocket.port: must be between 1 "
                 "and 65535"},
        BadProbe{"    httpGet: {path: /ready}\n",
                 "g.yaml:7: WorkloadGroup shop/vm: spec.probe.httpGet.port: is required"},
        BadProbe{"    httpGet: {port: 80, path: ready}\n",
                 "g.yaml:7: WorkloadGroup shop/vm: spec.probe.httpGet.path: must start with '/' "
                 "and hold no spaces or line breaks"},
        BadProbe{"    httpGet: {port: 80, scheme: ftp}\n",
                 "g.yaml:7: WorkloadGroup shop/vm: spec.probe.httpGet.scheme: must be HTTP or "
                 "HTTPS, not \"ftp\""},
        BadProbe{"    httpGet:\n      port: 80\n      httpHeaders: [{value: x}]\n",
                 "g.yaml:9: WorkloadGroup shop/vm: spec.probe.httpGet.httpHeaders[0].name: is "
                 "required"},
        BadProbe{"    exec: {command: []}\n",
                 "g.yaml:7: WorkloadGroup shop/vm: spec.probe.exec.command: must be a non-empty "
                 "list of strings"}));

}  // namespace
}  // namespace meshnode::istio
