#pragma once

#include <string>

#include "agent/compiler/compiler.h"
#include "common/result.h"

namespace meshnode::agent::cli {

struct CompileOptions {
  std::string config_dir;
  compiler::NodeIdentity node;
  compiler::ResolvedHosts resolved;
  compiler::CompileOptions mesh;     // --registry-only, --domain-suffix, --root-namespace,
                                     // --path-normalization
  compiler::SecurityInput security;  // --certs-dir: identity paths, not read here
};

// Parses `compile`'s arguments (argv[0] is "compile"). Errors name the offending option.
Result<CompileOptions> parseCompileOptions(int argc, char** argv);

// "a=b,c=d" -> {a: b, c: d}; an entry without "=" is an error naming it.
Result<istio::Labels> parseLabelList(const std::string& text);

inline constexpr const char* kCompileUsage =
    "usage: meshnode-agent compile --config-dir DIR --node-ns NS --node-labels k=v,...\n"
    "                              --node-ip IP [--workload-group NAME]\n"
    "                              [--resolve HOST=IP[,IP...]]... [--registry-only]\n"
    "                              [--domain-suffix cluster.local] [--root-namespace "
    "istio-system]\n"
    "                              [--certs-dir DIR] [--path-normalization BASE]\n"
    "Prints the proxy snapshot (JSON, docs/snapshot.md) this node would run. --certs-dir names\n"
    "the directory of the identity (cert-chain.pem, key.pem, root-cert.pem) the snapshot points\n"
    "the proxy at; without it the host has no identity and STRICT mTLS cannot be compiled.\n"
    "Exit status: 0, or 65 when some resource was rejected (the snapshot is still printed).\n";

}  // namespace meshnode::agent::cli
