#include "server/call_note.h"

namespace textclf::server {

CallNote& ThisCall() {
  thread_local CallNote note;
  return note;
}

}  // namespace textclf::server
