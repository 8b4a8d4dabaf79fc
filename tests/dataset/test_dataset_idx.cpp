// IDX reader: small good/corrupt files written here, and the Debian Fashion-MNIST files when installed.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "platform/dataset/idx.hpp"

#include <zlib.h>

#include <cstdio>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace cimvp::dataset;
using Catch::Contains;

namespace {

std::string tmp_dir() {
  std::string d = "/tmp/cimvp_test_dataset_" + std::to_string(getpid());
  mkdir(d.c_str(), 0700);
  return d;
}

void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f);
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

IdxArray small_images() {
  IdxArray a;
  a.dims = {3, 2, 2};
  for (int i = 0; i < 12; ++i) a.data.push_back(static_cast<uint8_t>(i * 20));
  return a;
}

}  // namespace

TEST_CASE("IDX round trip and Fashion-MNIST layout from small files", "[dataset]") {
  const std::string d = tmp_dir();
  write_idx_gz(d + "/t10k-images-idx3-ubyte.gz", small_images());
  write_idx_gz(d + "/t10k-labels-idx1-ubyte.gz", IdxArray{{3}, {9, 0, 4}});
  IdxArray back = read_idx(d + "/t10k-images-idx3-ubyte.gz");
  CHECK(back.dims == std::vector<uint32_t>{3, 2, 2});
  CHECK(back.data == small_images().data);
  ImageSet s = load_fashion_mnist(Split::Test, d);
  CHECK(s.count == 3);
  CHECK(s.rows == 2);
  CHECK(s.cols == 2);
  CHECK(s.labels == std::vector<uint8_t>{9, 0, 4});
  CHECK(s.image(1)[0] == 80);
  auto f = s.to_float(1, 2);
  REQUIRE(f.size() == 8);
  CHECK(f[0] == Approx(80.0 / 255.0));
  CHECK(f[7] == Approx(220.0 / 255.0));
  CHECK_THROWS_WITH(s.to_float(2, 2), Contains("exceed"));
  CHECK(std::string(fashion_mnist_class_name(9)) == "Ankle boot");
  // Missing train split names the file and the Debian package.
  CHECK_THROWS_WITH(load_fashion_mnist(Split::Train, d),
                    Contains("train-images-idx3-ubyte.gz") && Contains("dataset-fashion-mnist"));
  // Label/image count mismatch and out-of-range labels.
  write_idx_gz(d + "/t10k-labels-idx1-ubyte.gz", IdxArray{{2}, {1, 2}});
  CHECK_THROWS_WITH(load_fashion_mnist(Split::Test, d), Contains("3 images") && Contains("2 labels"));
  write_idx_gz(d + "/t10k-labels-idx1-ubyte.gz", IdxArray{{3}, {1, 12, 2}});
  CHECK_THROWS_WITH(load_fashion_mnist(Split::Test, d), Contains("label 12") && Contains("byte offset 9"));
}

TEST_CASE("Corrupt IDX headers and truncated data name file and byte offset", "[dataset]") {
  const std::string d = tmp_dir(), p = d + "/bad-idx1-ubyte.gz";
  write_gz(p, {0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 7});
  CHECK_THROWS_WITH(read_idx(p), Contains(p) && Contains("byte offset 0") && Contains("magic"));
  write_gz(p, {0, 0, 0x0D, 0x01, 0, 0, 0, 1, 7});  // 0x0D = float
  // The element type is printed in hex: 0x0D, not "0x13" (its decimal value after "0x").
  CHECK_THROWS_WITH(read_idx(p), Contains(p) && Contains("byte offset 2") && Contains("type 0x0D"));
  write_gz(p, {0, 0, 0x08, 0x03, 0, 0, 0, 2});  // header ends inside the second dim
  CHECK_THROWS_WITH(read_idx(p), Contains(p) && Contains("truncated at byte offset 8"));
  // Header promises 2x3x4 = 24 bytes, file carries 10: truncated at offset 16 + 10.
  std::vector<uint8_t> b{0, 0, 0x08, 0x03, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4};
  b.resize(b.size() + 10, 1);
  write_gz(p, b);
  CHECK_THROWS_WITH(read_idx(p), Contains(p) && Contains("truncated at byte offset 26") && Contains("offset 16"));
  // Trailing bytes mean the header dims are wrong.
  b.resize(16 + 25, 1);
  write_gz(p, b);
  CHECK_THROWS_WITH(read_idx(p), Contains(p) && Contains("byte offset 40"));
  // A gzip stream cut short is reported, not silently accepted.
  {
    IdxArray big;
    big.dims = {100, 100};
    for (int i = 0; i < 10000; ++i) big.data.push_back(static_cast<uint8_t>((i * 7919) % 251));
    write_idx_gz(p, big);
    FILE* f = fopen(p.c_str(), "rb");
    std::vector<char> all(20000);
    const size_t n = fread(all.data(), 1, all.size(), f);
    fclose(f);
    f = fopen(p.c_str(), "wb");
    fwrite(all.data(), 1, n / 2, f);
    fclose(f);
    CHECK_THROWS_WITH(read_idx(p), Contains(p) && Contains("byte offset"));
  }
  CHECK_THROWS_WITH(read_idx(d + "/fashion-mnist-nothing.gz"), Contains("not found") && Contains("dataset-fashion-mnist"));
}

TEST_CASE("Debian Fashion-MNIST files: counts, shape, labels", "[dataset][debian]") {
  struct stat st;
  if (stat((std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz").c_str(), &st) != 0) {
    WARN("dataset-fashion-mnist not installed; skipping");
    return;
  }
  for (auto [split, n] : {std::pair{Split::Train, size_t{60000}}, std::pair{Split::Test, size_t{10000}}}) {
    ImageSet s = load_fashion_mnist(split);
    CHECK(s.count == n);
    CHECK(s.rows == 28);
    CHECK(s.cols == 28);
    CHECK(s.pixels.size() == n * 784);
    // Fashion-MNIST is balanced: n/10 images per class.
    std::vector<size_t> per(10, 0);
    for (uint8_t l : s.labels) ++per.at(l);
    for (size_t c : per) CHECK(c == n / 10);
  }
}
