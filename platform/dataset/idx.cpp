#include "platform/dataset/idx.hpp"

#include <zlib.h>

#include <memory>
#include <stdexcept>
#include <sys/stat.h>

namespace cimvp::dataset {

namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { if (f) gzclose(f); }
};
using GzPtr = std::unique_ptr<gzFile_s, GzCloser>;

bool is_fashion_file(const std::string& path) {
  return path.find("fashion-mnist") != std::string::npos;
}

// Reads exactly `n` bytes at uncompressed offset `off`; errors name the file and offset.
void read_exact(gzFile f, const std::string& path, uint8_t* dst, size_t n, size_t off, const char* what) {
  size_t got = 0;
  while (got < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - got, 1u << 30));
    const int r = gzread(f, dst + got, chunk);
    if (r < 0) {
      int errnum = 0;
      const char* msg = gzerror(f, &errnum);
      throw std::invalid_argument(path + ": corrupt gzip stream at byte offset " + std::to_string(off + got) +
                                  " while reading " + what + " (" + (msg ? msg : "zlib error") + ")");
    }
    if (r == 0)
      throw std::invalid_argument(path + ": truncated at byte offset " + std::to_string(off + got) + ": " +
                                  what + " needs " + std::to_string(n) + " bytes from offset " +
                                  std::to_string(off) + (is_fashion_file(path)
                                      ? "; reinstall the Debian package dataset-fashion-mnist" : ""));
    got += static_cast<size_t>(r);
  }
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0)
    throw std::invalid_argument(path + ": file not found" +
                                std::string(is_fashion_file(path)
                                    ? "; install the Debian package dataset-fashion-mnist "
                                      "(apt-get install dataset-fashion-mnist)"
                                    : ""));
  GzPtr f(gzopen(path.c_str(), "rb"));  // zlib reads plain (uncompressed) files transparently
  if (!f) throw std::invalid_argument(path + ": cannot open");
  uint8_t magic[4];
  read_exact(f.get(), path, magic, 4, 0, "IDX magic");
  if (magic[0] != 0 || magic[1] != 0)
    throw std::invalid_argument(path + ": bad IDX magic at byte offset 0 (expected 00 00 08 nd); not an IDX file");
  if (magic[2] != 0x08) {
    static const char* hexd = "0123456789ABCDEF";
    const std::string t = {hexd[magic[2] >> 4], hexd[magic[2] & 15]};
    throw std::invalid_argument(path + ": IDX element type 0x" + t +
                                " at byte offset 2 is not unsigned byte (0x08)");
  }
  const unsigned nd = magic[3];
  if (nd < 1 || nd > 4)
    throw std::invalid_argument(path + ": IDX dimension count " + std::to_string(nd) +
                                " at byte offset 3 is out of range 1..4");
  IdxArray a;
  size_t total = 1;
  for (unsigned i = 0; i < nd; ++i) {
    uint8_t b[4];
    read_exact(f.get(), path, b, 4, 4 + 4 * i, "IDX dimension");
    const uint32_t d = (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
    if (d == 0 || d > (1u << 28))
      throw std::invalid_argument(path + ": implausible IDX dimension " + std::to_string(d) + " at byte offset " +
                                  std::to_string(4 + 4 * i));
    a.dims.push_back(d);
    total *= d;
    if (total > (size_t(1) << 32))
      throw std::invalid_argument(path + ": IDX payload size too large (corrupt header ending at byte offset " +
                                  std::to_string(8 + 4 * i) + ")");
  }
  a.data.resize(total);
  const size_t off = 4 + 4 * nd;
  read_exact(f.get(), path, a.data.data(), total, off, "IDX data");
  uint8_t extra;
  if (gzread(f.get(), &extra, 1) > 0)
    throw std::invalid_argument(path + ": unexpected trailing data at byte offset " + std::to_string(off + total) +
                                " (header dims do not match the file)");
  return a;
}

void write_idx_gz(const std::string& path, const IdxArray& a) {
  GzPtr f(gzopen(path.c_str(), "wb"));
  if (!f) throw std::runtime_error(path + ": cannot open for writing");
  std::vector<uint8_t> b = {0, 0, 0x08, static_cast<uint8_t>(a.dims.size())};
  for (uint32_t d : a.dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(d >> s));
  b.insert(b.end(), a.data.begin(), a.data.end());
  if (gzwrite(f.get(), b.data(), static_cast<unsigned>(b.size())) != static_cast<int>(b.size()))
    throw std::runtime_error(path + ": write failed");
}

std::vector<float> ImageSet::to_float(size_t first, size_t n) const {
  if (first + n > count)
    throw std::invalid_argument("ImageSet::to_float: images [" + std::to_string(first) + ", " +
                                std::to_string(first + n) + ") exceed the " + std::to_string(count) + " available");
  const size_t px = rows * cols;
  std::vector<float> out(n * px);
  for (size_t i = 0; i < n * px; ++i) out[i] = static_cast<float>(pixels[first * px + i]) / 255.0f;
  return out;
}

ImageSet load_fashion_mnist(Split split, const std::string& dir) {
  const std::string pre = dir + "/" + (split == Split::Train ? "train" : "t10k");
  const std::string ipath = pre + "-images-idx3-ubyte.gz", lpath = pre + "-labels-idx1-ubyte.gz";
  auto missing = [](const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) != 0;
  };
  for (const std::string& p : {ipath, lpath})
    if (missing(p))
      throw std::invalid_argument(p + ": file not found; install the Debian package dataset-fashion-mnist "
                                      "(apt-get install dataset-fashion-mnist)");
  IdxArray im = read_idx(ipath), lb = read_idx(lpath);
  if (im.dims.size() != 3) throw std::invalid_argument(ipath + ": expected a 3-D IDX array (images x rows x cols)");
  if (lb.dims.size() != 1) throw std::invalid_argument(lpath + ": expected a 1-D IDX array (labels)");
  if (im.dims[0] != lb.dims[0])
    throw std::invalid_argument(ipath + " holds " + std::to_string(im.dims[0]) + " images but " + lpath + " holds " +
                                std::to_string(lb.dims[0]) + " labels");
  for (size_t i = 0; i < lb.data.size(); ++i)
    if (lb.data[i] > 9)
      throw std::invalid_argument(lpath + ": label " + std::to_string(lb.data[i]) + " at byte offset " +
                                  std::to_string(8 + i) + " is out of range 0..9");
  ImageSet s;
  s.count = im.dims[0];
  s.rows = im.dims[1];
  s.cols = im.dims[2];
  s.pixels = std::move(im.data);
  s.labels = std::move(lb.data);
  return s;
}

const char* fashion_mnist_class_name(int label) {
  static const char* names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
  if (label < 0 || label > 9) throw std::invalid_argument("fashion_mnist_class_name: label must be 0..9");
  return names[label];
}

}  // namespace cimvp::dataset
