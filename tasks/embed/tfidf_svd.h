// TfidfSvdModel: the built-in embedder, latent semantic analysis (TF-IDF
// reduced by a truncated SVD), fitted on the author's own chunks.
//
// twinflow must embed chunks with nothing to download and no GPU, so the
// default model is learned from the corpus itself: chunks become TF-IDF vectors
// over the terms of tasks/embed/tokenizer.h (smooth idf, sublinear tf), and a
// randomized truncated SVD (Halko, Martinsson & Tropp 2011, with power
// iterations) finds the `dimension` directions that explain most of them.
// Words that occur in the same contexts land close together, so "database
// connection pool" finds a chunk about "PostgreSQL client sessions".
//
// embed(text) = normalise(tfidf(text) · V_k Σ_k^-p), p = singular_power (why
// p = 1/2: see tfidf_svd.cc):
// unit vectors, so cosine is a dot product. Two cases give fewer numbers than one might expect, and
// callers must handle them:
//  - a text with no known term embeds as the zero vector (not unit length);
//  - a corpus whose rank is below `dimension` (fewer chunks than dimensions,
//    say) yields only `rank()` meaningful components; the remaining ones are
//    always zero, so vectors keep exactly `dimension()` floats.
//
// Fitting and embedding are deterministic: the same texts and options give a
// byte-identical saved model (its fingerprint() names the model in the feature
// store) and identical vectors, whatever the thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tasks/embed/tokenizer.h"

namespace twinflow {

struct TfidfSvdOptions {
  // Number of floats per embedding. Must be >= 1.
  int dimension = 256;
  // A term must occur in at least this many texts to enter the vocabulary.
  int min_df = 1;
  // Terms in more than this share of the texts carry no signal and are dropped;
  // ignored for corpora under 10 texts, where every share is coarse. (0, 1].
  double max_df_ratio = 0.9;
  // The vocabulary keeps at most this many terms, the most frequent (by
  // document frequency, ties by term) first. Also bounds the model's size:
  // max_features × dimension floats.
  size_t max_features = 100000;
  // Seeds the random test matrix of the randomized SVD.
  uint64_t seed = 42;
  // tf = 1 + ln(count) rather than count, so a term repeated ten times does not
  // weigh ten times as much.
  bool sublinear_tf = true;
  // Count word bigrams ("connection pool") as terms, see tokenizer.h.
  bool bigrams = true;
  // Count words by their English stems ("flows" and "flow" as one term), as
  // search's analyzer does; see tokenizer.h. Models saved before this option
  // existed (format version 1) did not stem, and load with it off.
  bool stem = true;
  // p in the projection V Σ^-p: a training text embeds as its row of U Σ^(1-p).
  // 1 weighs every latent component alike, 0 weighs each by its singular value
  // (classic LSI); version 1 model files were fitted with 1. [0, 2].
  double singular_power = 0.5;
  // A bigram must occur in at least this many texts: a phrase seen once says
  // nothing about co-occurrence and would only bloat the vocabulary.
  int bigram_min_df = 2;
  // Randomized SVD accuracy knobs: extra random directions sampled beyond
  // `dimension`, and passes of (A·Aᵀ) applied to sharpen them. More passes give
  // more exact singular vectors but not better retrieval: on 5,000
  // documentation chunks, MRR@10 went 0.185, 0.183, 0.180 for 0, 1, 2 passes,
  // while each pass costs about a third of the fit. One pass keeps the
  // spectrum meaningful (singular values close to the true ones).
  int oversampling = 10;
  int power_iterations = 1;
  // Threads used while fitting (0 = one per core). Does not change the result.
  int threads = 0;
};

// The tokenizer options a model of these options counts with.
inline TokenizerOptions tokenizer_options(const TfidfSvdOptions& options) {
  return TokenizerOptions{.bigrams = options.bigrams, .stem = options.stem};
}

class TfidfSvdModel {
 public:
  // Learns vocabulary, idf and projection from `texts`. Throws Error when the
  // options are invalid or the texts contain no countable term at all.
  static TfidfSvdModel fit(const std::vector<std::string>& texts, const TfidfSvdOptions& options);

  // Unit-normalised embedding of `text` (see the header comment for the zero
  // vector), size == dimension().
  std::vector<float> embed(std::string_view text) const;
  // Embeds texts[i] into out[i * dimension() .. (i + 1) * dimension()).
  void embed_batch(const std::vector<std::string_view>& texts, float* out) const;

  int dimension() const { return options_.dimension; }
  // Components actually learned (<= dimension()); the others are zero.
  int rank() const { return rank_; }
  size_t vocabulary_size() const { return vocabulary_.size(); }
  size_t document_count() const { return document_count_; }
  const TfidfSvdOptions& options() const { return options_; }
  // Singular values of the TF-IDF matrix, largest first, zero-padded.
  const std::vector<float>& singular_values() const { return singular_values_; }
  // SHA-256 (hex) of the bytes save() writes: names the model's vector space.
  const std::string& fingerprint() const { return fingerprint_; }

  // Writes the model as one binary file (atomically: a temporary file renamed
  // into place; util/files.h). Throws SystemError when the file cannot be
  // written.
  void save(const std::filesystem::path& path) const;
  // Reads a file written by save(). Throws Error naming the file when it is
  // missing, truncated, corrupted or of an unknown version.
  static TfidfSvdModel load(const std::filesystem::path& path);
  // Opens a file of the artifact store, whose name `sha256` is the SHA-256 of
  // its bytes, for a process that embeds a few texts (a search): the file is
  // mapped and its projection stays there, rows read as a text needs them,
  // and the name is trusted instead of hashing the file twice (at 100,000
  // terms, 100 MB read and hashed on every `twinflow search`). Truncation,
  // a bad magic or version still throw; the fingerprint is `sha256`.
  static TfidfSvdModel open_content_addressed(const std::filesystem::path& path,
                                              const std::string& sha256);

 private:
  // Heterogeneous lookup: terms arrive as string_views, without a copy.
  struct TermHash {
    using is_transparent = void;
    size_t operator()(std::string_view term) const { return std::hash<std::string_view>{}(term); }
  };
  using TermIndex = std::unordered_map<std::string, uint32_t, TermHash, std::equal_to<>>;

  friend class TfidfSvdModelCodec;  // serialisation, in tfidf_svd_file.cc
  friend class TfidfSvdFitter;      // fitting, in tfidf_svd.cc

  TfidfSvdModel() = default;
  // Fills term_index_ from vocabulary_.
  void build_term_index();
  std::string serialize() const;
  void embed_into(std::string_view text, std::vector<uint32_t>& term_ids, float* out) const;
  // The projection row of `term`: in projection_, or copied into `buffer`
  // from the mapped file (whose floats need not be aligned).
  const float* projection_row(uint32_t term, std::vector<float>& buffer) const;
  float term_weight(uint32_t count, uint32_t term) const;

  TfidfSvdOptions options_;
  Tokenizer tokenizer_;
  std::vector<std::string> vocabulary_;  // sorted, unique
  TermIndex term_index_;                 // vocabulary_[i] -> i
  std::vector<float> idf_;               // per term
  std::vector<float> singular_values_;   // dimension() values
  std::vector<float> projection_;        // vocabulary_size() × dimension(), row per term
  // Instead of projection_ (open_content_addressed): the same floats' bytes
  // in the mapped file, which `mapping_` keeps alive.
  const char* mapped_projection_ = nullptr;
  std::shared_ptr<const void> mapping_;
  size_t document_count_ = 0;
  int rank_ = 0;
  std::string fingerprint_;
};

}  // namespace twinflow
