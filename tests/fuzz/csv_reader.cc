// Fuzzes the CSV reader from memory: the header, a column lookup, then every record until the
// end or the first error, which must then be sticky.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/data/csv_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto reader = textclf::data::CsvReader::FromString(std::string(reinterpret_cast<const char*>(data), size));
  if (!reader.ReadHeader().ok()) return 0;
  (void)reader.ColumnIndex("text");
  std::vector<std::string> fields;
  for (;;) {
    auto more = reader.Next(&fields);
    if (!more.ok()) {
      if (reader.Next(&fields).status() != more.status()) __builtin_trap();
      return 0;
    }
    if (!*more) return 0;
    if (fields.size() != reader.header().size()) __builtin_trap();
  }
}
