// What the gate knows of the synchronous call running on this thread, for its audit line: who
// called, and which model and version the call concerns once the handler has read them (a Train
// stream names its model in its first message, after the gate let it in).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace textclf::server {

struct CallNote {
  std::string caller;
  std::string model;
  int64_t version = 0;
};

// The note of the call on this thread; the gate clears it when the call starts.
CallNote& ThisCall();

inline void NoteTarget(std::string_view model, int64_t version = 0) {
  ThisCall().model = std::string(model);
  ThisCall().version = version;
}

}  // namespace textclf::server
