#pragma once

namespace meshnode::agent::testtool {

// Each runs until SIGTERM or SIGINT and returns the process exit code.
int runDns(int argc, char** argv);
int runRegistry(int argc, char** argv);
int runNotify(int argc, char** argv);

// Blocks SIGTERM and SIGINT in every thread and waits for one of them.
void blockStopSignals();
void waitForStopSignal();

}  // namespace meshnode::agent::testtool
