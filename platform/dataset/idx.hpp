// IDX files (the MNIST/Fashion-MNIST container), gzip-compressed or plain, read via zlib.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cimvp::dataset {

// Debian package dataset-fashion-mnist installs the four files here.
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct IdxArray {
  std::vector<uint32_t> dims;  // e.g. {60000, 28, 28}
  std::vector<uint8_t> data;   // C order
};

// Reads an unsigned-byte IDX file (magic 0x00 0x00 0x08 ndim, big-endian u32 dims).
// Missing file: std::invalid_argument naming the file (and for Fashion-MNIST files the
// Debian package). Bad magic, wrong dtype, truncated data or a corrupt gzip stream:
// std::invalid_argument naming the file and the (uncompressed) byte offset.
IdxArray read_idx(const std::string& path);
// Writes a gzip-compressed ubyte IDX file (used by tests and tools).
void write_idx_gz(const std::string& path, const IdxArray& a);

enum class Split { Train, Test };

struct ImageSet {
  size_t count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count * rows * cols, C order
  std::vector<uint8_t> labels;  // count, 0..9

  const uint8_t* image(size_t i) const { return pixels.data() + i * rows * cols; }
  // Images [first, first+n) as float32 NCHW [n,1,rows,cols] with the example network's
  // normalisation: pixel / 255 (see docs/onnx.md).
  std::vector<float> to_float(size_t first, size_t n) const;
};

// Loads {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz from `dir`; checks that image and
// label counts agree and labels are 0..9.
ImageSet load_fashion_mnist(Split split, const std::string& dir = kFashionMnistDir);

// "T-shirt/top", "Trouser", ... "Ankle boot" for labels 0..9.
const char* fashion_mnist_class_name(int label);

}  // namespace cimvp::dataset
