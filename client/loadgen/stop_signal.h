// Ctrl-C: the first SIGINT (or SIGTERM) asks the run to stop and print what it measured so far;
// a second one ends the process at once, for when even that takes too long.
#pragma once

#include <atomic>

namespace textclf::loadgen {

// Installs the handlers; the flag they set is the one returned.
const std::atomic<bool>& InstallStopSignal();

}  // namespace textclf::loadgen
