// TfidfSvdModel's file: the binary format, written and read back (mapped,
// for a search); see tfidf_svd.h.
#include <bit>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tasks/embed/tfidf_svd.h"
#include "util/error.h"
#include "util/files.h"
#include "util/sha256.h"

namespace twinflow {

static_assert(std::endian::native == std::endian::little,
              "the model file stores little-endian numbers by copying memory");

// ---------------------------------------------------------------------------
// The model file
//
//   "TWFTFSVD" magic, u32 version
//   options: i32 dimension, i32 min_df, f64 max_df_ratio, u64 max_features,
//            u64 seed, u8 sublinear_tf, u8 bigrams, i32 bigram_min_df,
//            i32 oversampling, i32 power_iterations,
//            (version 2 on) u8 stem, f64 singular_power
//   u64 document_count, i32 rank, u64 vocabulary size
//   per term: u32 byte length, bytes (sorted, unique)
//   f32 idf[vocabulary], f32 singular_values[dimension],
//   f32 projection[vocabulary × dimension] (row per term)
//   64 ASCII hex digits: SHA-256 of every byte before them
// All numbers little-endian. `threads` is not stored: it cannot change a model.

namespace {

constexpr std::string_view kMagic = "TWFTFSVD";
// Version 1 files (no stem, no singular_power) still load: they mean
// stem = false and singular_power = 1, what they were fitted with.
constexpr uint32_t kFormatVersion = 2;
constexpr size_t kChecksumBytes = 64;

class ByteWriter {
 public:
  explicit ByteWriter(size_t expected_size) { bytes_.reserve(expected_size); }

  template <typename T>
  void put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  void put_floats(const std::vector<float>& values) {
    bytes_.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  }
  void put_bytes(std::string_view bytes) { bytes_.append(bytes); }
  std::string take() { return std::move(bytes_); }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// Reads the fields back, throwing Error with the file's name on any shortfall.
class ByteReader {
 public:
  ByteReader(std::string_view bytes, const std::filesystem::path& path)
      : bytes_(bytes), path_(path) {}

  template <typename T>
  T get(const char* what) {
    T value;
    std::memcpy(&value, take(sizeof value, what).data(), sizeof value);
    return value;
  }
  std::string_view get_bytes(size_t count, const char* what) { return take(count, what); }
  std::vector<float> get_floats(size_t count, const char* what) {
    if (count > remaining() / sizeof(float)) fail(std::string("truncated in the ") + what);
    std::vector<float> values(count);
    std::memcpy(values.data(), take(count * sizeof(float), what).data(), count * sizeof(float));
    return values;
  }
  size_t remaining() const { return bytes_.size() - position_; }
  [[noreturn]] void fail(const std::string& problem) const {
    throw Error("embedding model file " + path_.string() + ": " + problem);
  }

 private:
  std::string_view take(size_t count, const char* what) {
    if (count > remaining()) fail(std::string("truncated in the ") + what);
    const std::string_view out = bytes_.substr(position_, count);
    position_ += count;
    return out;
  }

  std::string_view bytes_;
  size_t position_ = 0;
  const std::filesystem::path& path_;
};

}  // namespace

class TfidfSvdModelCodec {
 public:
  // Within a few bytes: saves the copies of a growing 100 MB string.
  static size_t expected_size(const TfidfSvdModel& model) {
    size_t size = 256 + kChecksumBytes;
    for (const std::string& term : model.vocabulary_) size += sizeof(uint32_t) + term.size();
    const size_t floats = model.idf_.size() + model.singular_values_.size() +
                          model.vocabulary_.size() * static_cast<size_t>(model.options_.dimension);
    return size + floats * sizeof(float);
  }

  static std::string encode(const TfidfSvdModel& model) {
    ByteWriter out(expected_size(model));
    out.put_bytes(kMagic);
    out.put<uint32_t>(kFormatVersion);
    const TfidfSvdOptions& o = model.options_;
    out.put<int32_t>(o.dimension);
    out.put<int32_t>(o.min_df);
    out.put<double>(o.max_df_ratio);
    out.put<uint64_t>(o.max_features);
    out.put<uint64_t>(o.seed);
    out.put<uint8_t>(o.sublinear_tf);
    out.put<uint8_t>(o.bigrams);
    out.put<int32_t>(o.bigram_min_df);
    out.put<int32_t>(o.oversampling);
    out.put<int32_t>(o.power_iterations);
    out.put<uint8_t>(o.stem);
    out.put<double>(o.singular_power);
    out.put<uint64_t>(model.document_count_);
    out.put<int32_t>(model.rank_);
    out.put<uint64_t>(model.vocabulary_.size());
    for (const std::string& term : model.vocabulary_) {
      out.put<uint32_t>(static_cast<uint32_t>(term.size()));
      out.put_bytes(term);
    }
    out.put_floats(model.idf_);
    out.put_floats(model.singular_values_);
    if (model.mapped_projection_ != nullptr)
      out.put_bytes(std::string_view(
          model.mapped_projection_,
          model.vocabulary_.size() * static_cast<size_t>(o.dimension) * sizeof(float)));
    else
      out.put_floats(model.projection_);
    out.put_bytes(sha256_hex(out.bytes()));
    return out.take();
  }

  // `known_fingerprint`: the SHA-256 of `bytes`, known from the file's name;
  // the checksum is not verified then. `mapping`: keeps `bytes` alive, and the
  // projection is left in it.
  static TfidfSvdModel decode(std::string_view bytes, const std::filesystem::path& path,
                              const std::string* known_fingerprint = nullptr,
                              std::shared_ptr<const void> mapping = nullptr) {
    ByteReader in(bytes, path);
    if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic) {
      in.fail("not a TF-IDF/SVD embedding model (bad magic)");
    }
    if (known_fingerprint == nullptr) verify_checksum(bytes, in);
    in.get_bytes(kMagic.size(), "magic");
    const auto version = in.get<uint32_t>("version");
    if (version != 1 && version != kFormatVersion) {
      in.fail("format version " + std::to_string(version) + " is not supported (expected " +
              std::to_string(kFormatVersion) + " or 1)");
    }
    TfidfSvdModel model;
    read_options(in, model.options_, version);
    model.tokenizer_ = Tokenizer(tokenizer_options(model.options_));
    model.document_count_ = in.get<uint64_t>("document count");
    model.rank_ = in.get<int32_t>("rank");
    read_vocabulary(in, model.vocabulary_);
    const size_t m = model.vocabulary_.size(), k = model.options_.dimension;
    model.idf_ = in.get_floats(m, "idf");
    model.singular_values_ = in.get_floats(k, "singular values");
    if (k != 0 && m > SIZE_MAX / sizeof(float) / k) in.fail("the projection size overflows");
    if (mapping) {
      model.mapped_projection_ = in.get_bytes(m * k * sizeof(float), "projection").data();
      model.mapping_ = std::move(mapping);
    } else {
      model.projection_ = in.get_floats(m * k, "projection");
    }
    if (in.remaining() != kChecksumBytes) in.fail("unexpected bytes after the projection");
    if (model.rank_ < 0 || model.rank_ > model.options_.dimension) in.fail("rank out of range");
    model.build_term_index();
    model.fingerprint_ = known_fingerprint ? *known_fingerprint : sha256_hex(bytes);
    return model;
  }

 private:
  static void verify_checksum(std::string_view bytes, const ByteReader& in) {
    if (bytes.size() < kMagic.size() + kChecksumBytes) in.fail("truncated");
    const std::string_view body = bytes.substr(0, bytes.size() - kChecksumBytes);
    if (sha256_hex(body) != bytes.substr(body.size())) {
      in.fail("checksum mismatch: the file is truncated or corrupted");
    }
  }

  static void read_options(ByteReader& in, TfidfSvdOptions& o, uint32_t version) {
    o.dimension = in.get<int32_t>("options");
    o.min_df = in.get<int32_t>("options");
    o.max_df_ratio = in.get<double>("options");
    o.max_features = in.get<uint64_t>("options");
    o.seed = in.get<uint64_t>("options");
    o.sublinear_tf = in.get<uint8_t>("options") != 0;
    o.bigrams = in.get<uint8_t>("options") != 0;
    o.bigram_min_df = in.get<int32_t>("options");
    o.oversampling = in.get<int32_t>("options");
    o.power_iterations = in.get<int32_t>("options");
    o.stem = version >= 2 && in.get<uint8_t>("options") != 0;
    o.singular_power = version >= 2 ? in.get<double>("options") : 1.0;
    if (o.dimension < 1) in.fail("dimension out of range");
  }

  static void read_vocabulary(ByteReader& in, std::vector<std::string>& vocabulary) {
    const auto size = in.get<uint64_t>("vocabulary size");
    if (size > in.remaining() / sizeof(uint32_t)) in.fail("truncated in the vocabulary");
    vocabulary.reserve(size);
    for (uint64_t i = 0; i < size; ++i) {
      const auto length = in.get<uint32_t>("vocabulary");
      vocabulary.emplace_back(in.get_bytes(length, "vocabulary"));
      if (i > 0 && !(vocabulary[i - 1] < vocabulary[i])) in.fail("vocabulary is not sorted");
    }
  }
};

// ---------------------------------------------------------------------------
// TfidfSvdModel's file

std::string TfidfSvdModel::serialize() const {
  return TfidfSvdModelCodec::encode(*this);
}

void TfidfSvdModel::save(const std::filesystem::path& path) const {
  write_file_atomically(path, serialize());
}

TfidfSvdModel TfidfSvdModel::load(const std::filesystem::path& path) {
  return TfidfSvdModelCodec::decode(read_file(path, "embedding model file"), path);
}

TfidfSvdModel TfidfSvdModel::open_content_addressed(const std::filesystem::path& path,
                                                    const std::string& sha256) {
  auto file = std::make_shared<const MappedFile>(path, "embedding model file");
  const std::string_view bytes = file->bytes();
  return TfidfSvdModelCodec::decode(bytes, path, &sha256, std::move(file));
}

}  // namespace twinflow
