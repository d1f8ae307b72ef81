// TfidfSvdModel: corpus counting, the TF-IDF matrix, the randomized SVD and
// embedding; see tfidf_svd.h (the model file is in tfidf_svd_file.cc).
//
// Layout, chosen for speed: dense matrices are stored with one *column* per
// document or per term (Armadillo is column-major), so every product with the
// sparse TF-IDF matrix is a sum of contiguous scaled columns ("gather"), one
// output column at a time, which vectorises and splits across threads without
// any two threads writing the same memory. The sparse matrix is kept both
// ways (terms × docs and docs × terms) so both products are gathers. The bulk
// products run in float; the small Gram matrices and their eigenproblems in
// double, where the precision matters.
#include "tasks/embed/tfidf_svd.h"

#include <algorithm>
#include <armadillo>
#include <cmath>
#include <cstring>
#include <random>
#include <thread>

#include "util/error.h"
#include "util/sha256.h"
#include "util/simd.h"

namespace twinflow {

namespace {

// Eigenvalues of a Gram matrix below this share of the largest are treated as
// zero. Orthonormalisation sees Gram matrices computed exactly (in double) from
// float data, whose rounding noise sits near 1e-14 of the top; the final
// B·Bᵀ is summed from float products, noise near 1e-7, hence the looser bound.
// Directions under the bound are rank deficiency (a tiny corpus), not signal.
constexpr double kOrthonormalRankTolerance = 1e-10;
constexpr double kSingularRankTolerance = 1e-6;

// Corpora smaller than this ignore max_df_ratio (see TfidfSvdOptions).
constexpr size_t kMinDocumentsForMaxDf = 10;

// y += a·x over n floats; explicit vectors because -O2 does not vectorise
// loops of unknown length.
TWINFLOW_AVX2_CLONE void add_scaled(float* y, const float* x, float a, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    Float8 xv, yv;
    std::memcpy(&xv, x + i, sizeof xv);
    std::memcpy(&yv, y + i, sizeof yv);
    yv += a * xv;
    std::memcpy(y + i, &yv, sizeof yv);
  }
  for (; i < n; ++i) y[i] += a * x[i];
}

// y = a·x over n floats.
void scale_into(float* y, const float* x, float a, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = a * x[i];
}

void normalize(float* v, size_t n) {
  double norm2 = 0;
  for (size_t i = 0; i < n; ++i) norm2 += static_cast<double>(v[i]) * v[i];
  if (norm2 == 0) return;  // no known term: stays the zero vector
  const float inverse = static_cast<float>(1.0 / std::sqrt(norm2));
  for (size_t i = 0; i < n; ++i) v[i] *= inverse;
}

int resolve_threads(int requested) {
  if (requested > 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

// Runs body(begin, end) over [0, count) split into contiguous ranges.
template <typename Body>
void parallel_for(size_t count, int threads, const Body& body) {
  const size_t parts = std::min<size_t>(std::max(threads, 1), std::max<size_t>(count, 1));
  if (parts <= 1) return body(size_t{0}, count);
  std::vector<std::jthread> workers;
  for (size_t p = 1; p < parts; ++p) {
    workers.emplace_back([&, p] { body(count * p / parts, count * (p + 1) / parts); });
  }
  body(size_t{0}, count / parts);
}

// out.col(c) = Σ_p S(r_p, c) · dense.col(r_p): dense × S, one output column per
// column of S. Each output column is summed in the same order whatever the
// thread count, so results do not depend on it.
arma::fmat gather(const arma::fmat& dense, const arma::sp_fmat& sparse, int threads) {
  if (dense.n_cols != sparse.n_rows) throw Error("internal: gather dimension mismatch");
  const size_t height = dense.n_rows;
  // Not zero-filled: each column is initialised by its first term (the
  // matrices reach 100 MB, and a separate zeroing pass costs as much as the
  // sums).
  arma::fmat out(height, sparse.n_cols, arma::fill::none);
  parallel_for(sparse.n_cols, threads, [&](size_t begin, size_t end) {
    for (size_t c = begin; c < end; ++c) {
      float* column = out.colptr(c);
      const size_t first = sparse.col_ptrs[c], last = sparse.col_ptrs[c + 1];
      if (first == last) {
        std::fill(column, column + height, 0.0f);
        continue;
      }
      scale_into(column, dense.colptr(sparse.row_indices[first]), sparse.values[first], height);
      for (size_t p = first + 1; p < last; ++p) {
        add_scaled(column, dense.colptr(sparse.row_indices[p]), sparse.values[p], height);
      }
    }
  });
  return out;
}

// The largest eigenpairs of a symmetric matrix, largest first, keeping those
// above `tolerance` × the largest and at most `limit` of them.
struct EigenPairs {
  arma::vec values;
  arma::mat vectors;  // one column per value
};

EigenPairs top_eigenpairs(const arma::mat& symmetric, double tolerance, size_t limit) {
  arma::vec values;
  arma::mat vectors;
  if (!arma::eig_sym(values, vectors, arma::symmatu(symmetric))) {
    throw Error("fitting the embedder: the eigen decomposition did not converge");
  }
  EigenPairs top;
  if (values.is_empty() || values.max() <= 0) return top;
  const double floor = values.max() * tolerance;
  std::vector<arma::uword> kept;
  for (arma::uword i = values.n_elem; i-- > 0 && kept.size() < limit;) {
    if (values(i) > floor) kept.push_back(i);
  }
  const arma::uvec index(kept);
  top.values = values.elem(index);
  top.vectors = vectors.cols(index);
  return top;
}

// An orthonormal basis (as rows) of the span of the rows of `rows`, from the
// eigen decomposition of their Gram matrix: Q = Λ^-½ Wᵀ Y. Unlike a QR this
// reveals the rank, dropping directions the data do not have.
arma::fmat orthonormal_rows(const arma::fmat& rows) {
  const arma::mat y = arma::conv_to<arma::mat>::from(rows);
  const EigenPairs eig = top_eigenpairs(y * y.t(), kOrthonormalRankTolerance, y.n_rows);
  if (eig.values.is_empty()) return arma::fmat(0, rows.n_cols);
  const arma::mat transform = arma::diagmat(1.0 / arma::sqrt(eig.values)) * eig.vectors.t();
  return arma::conv_to<arma::fmat>::from(transform * y);
}

// A random sign matrix (entries ±1), from a fully specified generator, so
// the same seed gives the same matrix on every platform. Randomized range
// finders work as well with random signs as with Gaussian entries (any
// sub-Gaussian distribution does), and signs cost one bit each instead of a
// logarithm and a sine: the matrix has vocabulary × (dimension + oversampling)
// entries, tens of millions.
arma::fmat random_sign_matrix(size_t rows, size_t cols, uint64_t seed) {
  std::mt19937_64 bits(seed);
  arma::fmat out(rows, cols);
  float* data = out.memptr();
  for (size_t i = 0; i < out.n_elem; i += 64) {
    const uint64_t word = bits();
    for (size_t b = 0; b < 64 && i + b < out.n_elem; ++b) {
      data[i + b] = (word >> b) & 1 ? 1.0f : -1.0f;
    }
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// Fitting

namespace {

// Term counts of every text, under provisional ids in order of first sight.
class CorpusCounts {
 public:
  CorpusCounts(const std::vector<std::string>& texts, const Tokenizer& tokenizer) {
    documents_.reserve(texts.size());
    std::vector<uint32_t> ids;
    for (const std::string& text : texts) {
      ids.clear();
      tokenizer.for_each_term(text, [&](std::string_view term) { ids.push_back(id_of(term)); });
      documents_.push_back(run_lengths(ids));
      for (const auto& [id, count] : documents_.back()) ++document_frequency_[id];
    }
  }

  using TermCounts = std::vector<std::pair<uint32_t, uint32_t>>;  // (id, count), by id

  const std::vector<TermCounts>& documents() const { return documents_; }
  size_t term_count() const { return terms_.size(); }
  const std::string& term(uint32_t id) const { return *terms_[id]; }
  uint32_t document_frequency(uint32_t id) const { return document_frequency_[id]; }

  // Sorts ids and counts repeats.
  static TermCounts run_lengths(std::vector<uint32_t>& ids) {
    std::sort(ids.begin(), ids.end());
    TermCounts counts;
    for (size_t i = 0; i < ids.size();) {
      size_t j = i;
      while (j < ids.size() && ids[j] == ids[i]) ++j;
      counts.emplace_back(ids[i], static_cast<uint32_t>(j - i));
      i = j;
    }
    return counts;
  }

 private:
  uint32_t id_of(std::string_view term) {
    auto it = ids_.find(term);
    if (it == ids_.end()) {
      it = ids_.emplace(std::string(term), static_cast<uint32_t>(terms_.size())).first;
      terms_.push_back(&it->first);  // node-based map: the key never moves
      document_frequency_.push_back(0);
    }
    return it->second;
  }

  struct TermHash {
    using is_transparent = void;
    size_t operator()(std::string_view term) const { return std::hash<std::string_view>{}(term); }
  };
  std::unordered_map<std::string, uint32_t, TermHash, std::equal_to<>> ids_;
  std::vector<const std::string*> terms_;
  std::vector<uint32_t> document_frequency_;
  std::vector<TermCounts> documents_;
};

}  // namespace

class TfidfSvdFitter {
 public:
  TfidfSvdFitter(const std::vector<std::string>& texts, const TfidfSvdOptions& options)
      : texts_(texts), options_(options), threads_(resolve_threads(options.threads)) {}

  TfidfSvdModel fit() {
    validate_options();
    model_.options_ = options_;
    model_.tokenizer_ = Tokenizer(tokenizer_options(options_));
    model_.document_count_ = texts_.size();
    const CorpusCounts counts(texts_, model_.tokenizer_);
    const std::vector<int64_t> final_id = select_vocabulary(counts);
    compute_idf(counts, final_id);
    const arma::sp_fmat terms_by_doc = tfidf_matrix(counts, final_id);
    compute_projection(terms_by_doc);
    model_.build_term_index();
    model_.fingerprint_ = sha256_hex(model_.serialize());
    return std::move(model_);
  }

 private:
  void validate_options() const {
    const auto fail = [](const std::string& what) {
      throw Error("invalid TF-IDF/SVD embedder options: " + what);
    };
    if (options_.dimension < 1) fail("dimension must be >= 1");
    if (options_.min_df < 1) fail("min_df must be >= 1");
    if (!(options_.max_df_ratio > 0 && options_.max_df_ratio <= 1)) {
      fail("max_df_ratio must be in (0, 1]");
    }
    if (options_.max_features < 1) fail("max_features must be >= 1");
    if (options_.bigram_min_df < 1) fail("bigram_min_df must be >= 1");
    if (options_.oversampling < 0) fail("oversampling must be >= 0");
    if (options_.power_iterations < 0) fail("power_iterations must be >= 0");
    if (!(options_.singular_power >= 0 && options_.singular_power <= 2))
      fail("singular_power must be in [0, 2]");
  }

  bool admits(const CorpusCounts& counts, uint32_t id) const {
    const uint32_t df = counts.document_frequency(id);
    const bool bigram = Tokenizer::is_bigram(counts.term(id));
    if (df < static_cast<uint32_t>(bigram ? options_.bigram_min_df : options_.min_df)) return false;
    if (texts_.size() < kMinDocumentsForMaxDf) return true;
    return df <= options_.max_df_ratio * static_cast<double>(texts_.size());
  }

  // Chooses the vocabulary (sorted by term) and returns, per provisional id,
  // its index in it or -1.
  std::vector<int64_t> select_vocabulary(const CorpusCounts& counts) {
    std::vector<uint32_t> chosen;
    for (uint32_t id = 0; id < counts.term_count(); ++id) {
      if (admits(counts, id)) chosen.push_back(id);
    }
    if (chosen.empty()) {
      throw Error("cannot fit the TF-IDF/SVD embedder: the " + std::to_string(texts_.size()) +
                  " texts contain no term that passes the document-frequency limits");
    }
    if (chosen.size() > options_.max_features) {
      const auto more_frequent = [&](uint32_t a, uint32_t b) {
        const uint32_t dfa = counts.document_frequency(a), dfb = counts.document_frequency(b);
        return dfa != dfb ? dfa > dfb : counts.term(a) < counts.term(b);
      };
      std::nth_element(chosen.begin(), chosen.begin() + options_.max_features, chosen.end(),
                       more_frequent);
      chosen.resize(options_.max_features);
    }
    std::sort(chosen.begin(), chosen.end(),
              [&](uint32_t a, uint32_t b) { return counts.term(a) < counts.term(b); });
    std::vector<int64_t> final_id(counts.term_count(), -1);
    for (size_t i = 0; i < chosen.size(); ++i) {
      final_id[chosen[i]] = static_cast<int64_t>(i);
      model_.vocabulary_.push_back(counts.term(chosen[i]));
    }
    return final_id;
  }

  // Smooth idf, as if one extra text contained every term: ln((1+n)/(1+df)) + 1.
  void compute_idf(const CorpusCounts& counts, const std::vector<int64_t>& final_id) {
    model_.idf_.assign(model_.vocabulary_.size(), 0.0f);
    const double n = static_cast<double>(texts_.size());
    for (uint32_t id = 0; id < counts.term_count(); ++id) {
      if (final_id[id] < 0) continue;
      const double df = counts.document_frequency(id);
      model_.idf_[final_id[id]] = static_cast<float>(std::log((1 + n) / (1 + df)) + 1);
    }
  }

  // Terms × documents, each column a unit-length TF-IDF vector (or zero).
  arma::sp_fmat tfidf_matrix(const CorpusCounts& counts, const std::vector<int64_t>& final_id) {
    std::vector<arma::uword> row_indices, column_starts{0};
    std::vector<float> values;
    std::vector<std::pair<arma::uword, float>> column;
    for (const CorpusCounts::TermCounts& document : counts.documents()) {
      column.clear();
      for (const auto& [id, count] : document) {
        if (final_id[id] < 0) continue;
        const auto term = static_cast<uint32_t>(final_id[id]);
        column.emplace_back(term, model_.term_weight(count, term));
      }
      std::sort(column.begin(), column.end());
      double norm2 = 0;
      for (const auto& [term, weight] : column) norm2 += static_cast<double>(weight) * weight;
      for (const auto& [term, weight] : column) {
        row_indices.push_back(term);
        values.push_back(static_cast<float>(weight / std::sqrt(norm2)));
      }
      column_starts.push_back(row_indices.size());
    }
    arma::sp_fmat matrix(arma::uvec(row_indices), arma::uvec(column_starts), arma::fvec(values),
                         model_.vocabulary_.size(), texts_.size());
    matrix.sync();
    return matrix;
  }

  // Randomized truncated SVD of the documents × terms matrix A = terms_by_docᵀ
  // (Halko et al. 2011, algorithms 4.4 and 5.1), in the column layout of the
  // file comment: Y, Q, U hold one column per document, Ω, B, V one per term.
  void compute_projection(const arma::sp_fmat& terms_by_doc) {
    const arma::sp_fmat docs_by_term = terms_by_doc.t();
    const size_t n = terms_by_doc.n_cols, m = terms_by_doc.n_rows;
    const size_t k = options_.dimension;
    const size_t sample = std::min({k + options_.oversampling, n, m});

    // Q: orthonormal basis of the range of (A Aᵀ)^q A Ω.
    arma::fmat q = orthonormal_rows(
        gather(random_sign_matrix(sample, m, options_.seed), terms_by_doc, threads_));
    for (int i = 0; i < options_.power_iterations && q.n_rows > 0; ++i) {
      q = orthonormal_rows(gather(gather(q, docs_by_term, threads_), terms_by_doc, threads_));
    }
    // B = Qᵀ A (column per term). B Bᵀ = Qᵀ A Aᵀ Q is formed on the document
    // side, (Bᵀ gathered back through A) · Q, because documents are fewer than
    // terms.
    const arma::fmat b = gather(q, docs_by_term, threads_);
    const arma::mat b_bt = arma::conv_to<arma::mat>::from(gather(b, terms_by_doc, threads_)) *
                           arma::conv_to<arma::mat>::from(q).t();
    const EigenPairs eig = top_eigenpairs(b_bt, kSingularRankTolerance, k);
    model_.rank_ = static_cast<int>(eig.values.n_elem);
    // Uᵀ = Ũᵀ Qᵀ; then Uᵀ A = Σ Vᵀ, again a gather: the terms side is never a
    // dense product.
    const arma::fmat u_t =
        arma::conv_to<arma::fmat>::from(eig.vectors.t() * arma::conv_to<arma::mat>::from(q));
    const arma::fmat sigma_v_t = gather(u_t, docs_by_term, threads_);
    store_projection(sigma_v_t, arma::sqrt(eig.values));
  }

  // projection(t, i) = V(t, i) / σ_i^p, zero beyond the rank; each
  // component's sign fixed so that its largest entry is positive (the SVD
  // leaves it free). sigma_v_t holds Σ Vᵀ, hence the σ^(1+p).
  //
  // Why p = 1/2: a training text then embeds as its row of U Σ^(1/2).
  //  - p = 1 (U: every component counts alike) keeps the first components,
  //    which mostly encode the vocabulary every chunk shares, from dominating
  //    the cosine. On 5,000 CMake and Debian documentation chunks (query: one
  //    half of a chunk, target: the other half) MRR@10 was 0.180 with p = 1,
  //    0.171 with p = 0 and 0.147 with p = -1.
  //  - Topical search wants the strong components more. On Cranfield's 225
  //    queries (bench/ir_bench.cc, stemmed terms), vector nDCG@10 was 0.389
  //    with p = 1, 0.408 with p = 1/2 and 0.415 with p = 0.
  //  - p = 1/2 is the middle that Levy, Goldberg & Dagan (2015, "Improving
  //    distributional similarity with lessons learned from word embeddings")
  //    also recommend for SVD embeddings: within 2% of the best on each task.
  void store_projection(const arma::fmat& sigma_v_t, const arma::vec& sigma) {
    const size_t k = options_.dimension, m = model_.vocabulary_.size(), rank = sigma.n_elem;
    const arma::fvec largest = arma::max(sigma_v_t, 1), smallest = arma::min(sigma_v_t, 1);
    std::vector<float> scale(rank);
    model_.singular_values_.assign(k, 0.0f);
    for (size_t i = 0; i < rank; ++i) {
      const float sign = -smallest(i) > largest(i) ? -1.0f : 1.0f;
      scale[i] = sign / static_cast<float>(std::pow(sigma(i), 1 + options_.singular_power));
      model_.singular_values_[i] = static_cast<float>(sigma(i));
    }
    // Column t of sigma_v_t is term t's row of the projection: both
    // sequential.
    model_.projection_.assign(m * k, 0.0f);
    for (size_t t = 0; t < m; ++t) {
      const float* column = sigma_v_t.colptr(t);
      float* row = &model_.projection_[t * k];
      for (size_t i = 0; i < rank; ++i) row[i] = column[i] * scale[i];
    }
  }

  const std::vector<std::string>& texts_;
  const TfidfSvdOptions& options_;
  const int threads_;
  TfidfSvdModel model_;
};

// ---------------------------------------------------------------------------
// TfidfSvdModel

TfidfSvdModel TfidfSvdModel::fit(const std::vector<std::string>& texts,
                                 const TfidfSvdOptions& options) {
  return TfidfSvdFitter(texts, options).fit();
}

void TfidfSvdModel::build_term_index() {
  term_index_.clear();
  term_index_.reserve(vocabulary_.size());
  for (size_t i = 0; i < vocabulary_.size(); ++i) {
    term_index_.emplace(vocabulary_[i], static_cast<uint32_t>(i));
  }
}

float TfidfSvdModel::term_weight(uint32_t count, uint32_t term) const {
  const double tf = options_.sublinear_tf ? 1 + std::log(static_cast<double>(count)) : count;
  return static_cast<float>(tf * idf_[term]);
}

void TfidfSvdModel::embed_into(std::string_view text, std::vector<uint32_t>& term_ids,
                               float* out) const {
  const size_t k = options_.dimension;
  std::fill(out, out + k, 0.0f);
  term_ids.clear();
  tokenizer_.for_each_term(text, [&](std::string_view term) {
    const auto it = term_index_.find(term);
    if (it != term_index_.end()) term_ids.push_back(it->second);
  });
  std::vector<float> buffer;
  for (const auto& [term, count] : CorpusCounts::run_lengths(term_ids)) {
    add_scaled(out, projection_row(term, buffer), term_weight(count, term), k);
  }
  normalize(out, k);
}

const float* TfidfSvdModel::projection_row(uint32_t term, std::vector<float>& buffer) const {
  const size_t k = options_.dimension;
  if (mapped_projection_ == nullptr) return &projection_[term * k];
  buffer.resize(k);
  std::memcpy(buffer.data(), mapped_projection_ + term * k * sizeof(float), k * sizeof(float));
  return buffer.data();
}

std::vector<float> TfidfSvdModel::embed(std::string_view text) const {
  std::vector<float> out(options_.dimension);
  std::vector<uint32_t> term_ids;
  embed_into(text, term_ids, out.data());
  return out;
}

void TfidfSvdModel::embed_batch(const std::vector<std::string_view>& texts, float* out) const {
  // Each text's vector depends on that text alone, so a large batch is split
  // over the cores (one per 256 texts at most) with identical results.
  const int threads =
      static_cast<int>(std::min<size_t>(resolve_threads(0), texts.size() / 256 + 1));
  parallel_for(texts.size(), threads, [&](size_t begin, size_t end) {
    std::vector<uint32_t> term_ids;
    for (size_t i = begin; i < end; ++i)
      embed_into(texts[i], term_ids, out + i * options_.dimension);
  });
}

}  // namespace twinflow
