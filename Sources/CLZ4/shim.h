// The LZ4 frame API (with its content and block checksums) is what Rewind spills with;
// the block API is exposed too for callers that frame their own data.
#include <lz4.h>
#include <lz4frame.h>
