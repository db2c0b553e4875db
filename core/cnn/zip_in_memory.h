// Opens a zip archive held in memory with minizip (unzOpen2_64 with file functions over a byte
// buffer), so that archives can be read without a file: by tests and by the fuzz targets.
#pragma once

#include <minizip/unzip.h>

#include <string_view>

namespace textclf::cnn {

// Null when `bytes` is not a zip archive. `bytes` must outlive the handle; close it with unzClose.
unzFile OpenZipInMemory(std::string_view bytes);

}  // namespace textclf::cnn
