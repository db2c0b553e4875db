// Where core code reports what it caught and survived (an exception stopped at a thread
// boundary, an answer that failed): a warning with an event name and a message. The server
// routes these into its structured log; tools and tests get a line on stderr.
#pragma once

#include <string_view>

namespace textclf {

using WarningSink = void (*)(std::string_view event, std::string_view message);

// Replaces the sink (null: back to stderr). Set once at start, before threads run.
void SetWarningSink(WarningSink sink);
void Warn(std::string_view event, std::string_view message);

}  // namespace textclf
