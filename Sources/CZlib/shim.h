// zlib, for reading the gzip-compressed IDX files of Fashion-MNIST (Debian: zlib1g-dev).
#include <zlib.h>
