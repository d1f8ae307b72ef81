// HtmlTree: gumbo parsing with a tracking allocator, and the iterative
// pre-order indexing; see html_tree.h.
#include "tasks/extract/html_tree.h"

#include <cstddef>
#include <cstdlib>
#include <utility>

namespace twinflow {

// Every block gumbo allocates is linked into one list, so that the whole
// parse can be freed without walking the tree. The header is two pointers,
// 16 bytes, which keeps malloc's alignment for the block that follows.
struct HtmlTree::Allocations {
  struct Header {
    Header* prev;
    Header* next;
  };
  static_assert(sizeof(Header) % alignof(std::max_align_t) == 0);

  Header head{&head, &head};

  static void* allocate(void* userdata, size_t size) {
    auto* self = static_cast<Allocations*>(userdata);
    auto* h = static_cast<Header*>(std::malloc(sizeof(Header) + size));
    // Gumbo cannot report allocation failure; there is no way to continue.
    if (h == nullptr) std::abort();
    h->prev = &self->head;
    h->next = self->head.next;
    self->head.next->prev = h;
    self->head.next = h;
    return h + 1;
  }

  static void deallocate(void* /*userdata*/, void* ptr) {
    if (ptr == nullptr) return;
    Header* h = static_cast<Header*>(ptr) - 1;
    h->prev->next = h->next;
    h->next->prev = h->prev;
    std::free(h);
  }

  ~Allocations() {
    Header* h = head.next;
    while (h != &head) {
      Header* next = h->next;
      std::free(h);
      h = next;
    }
  }
};

HtmlTree::HtmlTree(std::string html)
    : html_(std::move(html)), allocations_(std::make_unique<Allocations>()) {
  GumboOptions options = kGumboDefaultOptions;
  options.allocator = &Allocations::allocate;
  options.deallocator = &Allocations::deallocate;
  options.userdata = allocations_.get();
  options.max_errors = 0;  // the error list is of no use and costs memory
  GumboOutput* output = gumbo_parse_with_options(&options, html_.data(), html_.size());
  index(output->root);
  // The output itself is freed with all other allocations.
}

HtmlTree::~HtmlTree() = default;

namespace {

bool is_indexed(const GumboNode* node) {
  switch (node->type) {
    case GUMBO_NODE_ELEMENT:
    case GUMBO_NODE_TEXT:
    case GUMBO_NODE_CDATA:
    case GUMBO_NODE_WHITESPACE:
      return true;
    default:
      return false;  // comments, and <template> whose content is inert
  }
}

}  // namespace

void HtmlTree::index(const GumboNode* root) {
  struct Frame {
    const GumboNode* node;
    int index;
    unsigned next_child;
  };
  std::vector<Frame> frames;
  nodes_.push_back({root, -1, 0, root->v.element.tag});
  frames.push_back({root, 0, 0});
  while (!frames.empty()) {
    Frame& top = frames.back();
    const GumboVector& children = top.node->v.element.children;
    if (top.next_child == children.length) {
      nodes_[top.index].end = size();
      frames.pop_back();
      continue;
    }
    const auto* child = static_cast<const GumboNode*>(children.data[top.next_child++]);
    if (!is_indexed(child)) continue;
    const int index = size();
    const bool element = child->type == GUMBO_NODE_ELEMENT;
    const GumboTag tag = element ? child->v.element.tag : GUMBO_TAG_UNKNOWN;
    nodes_.push_back({child, top.index, index + 1, tag});
    if (tag == GUMBO_TAG_HEAD && head_ < 0) head_ = index;
    if (tag == GUMBO_TAG_BODY && body_ < 0) body_ = index;
    if (element) frames.push_back({child, index, 0});  // invalidates `top`
  }
}

std::string HtmlTree::tag_name(int i) const {
  if (!is_element(i)) return "";
  const GumboElement& element = nodes_[i].node->v.element;
  if (element.tag != GUMBO_TAG_UNKNOWN) return gumbo_normalized_tagname(element.tag);
  GumboStringPiece piece = element.original_tag;
  if (piece.data == nullptr || piece.length == 0) return "";
  gumbo_tag_from_original_text(&piece);
  std::string name(piece.data, piece.length);
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return name;
}

std::string_view HtmlTree::text(int i) const {
  if (is_element(i)) return {};
  return nodes_[i].node->v.text.text;
}

const char* HtmlTree::attr(int i, const char* name) const {
  if (!is_element(i)) return nullptr;
  const GumboAttribute* a = gumbo_get_attribute(&nodes_[i].node->v.element.attributes, name);
  return a == nullptr ? nullptr : a->value;
}

std::string_view HtmlTree::attr_or_empty(int i, const char* name) const {
  const char* value = attr(i, name);
  return value == nullptr ? std::string_view() : std::string_view(value);
}

std::string HtmlTree::collapsed_text(int i, size_t max_bytes) const {
  std::string out;
  bool pending_space = false;
  for (int k = i; k < end(i) && out.size() < max_bytes; ++k) {
    if (is_text(k)) append_collapsed(out, text(k), pending_space);
  }
  return out;
}

bool is_inline_tag(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_A:
    case GUMBO_TAG_ABBR:
    case GUMBO_TAG_B:
    case GUMBO_TAG_BDI:
    case GUMBO_TAG_BDO:
    case GUMBO_TAG_BIG:
    case GUMBO_TAG_BR:
    case GUMBO_TAG_CITE:
    case GUMBO_TAG_CODE:
    case GUMBO_TAG_DATA:
    case GUMBO_TAG_DEL:
    case GUMBO_TAG_DFN:
    case GUMBO_TAG_EM:
    case GUMBO_TAG_FONT:
    case GUMBO_TAG_I:
    case GUMBO_TAG_IMG:
    case GUMBO_TAG_INS:
    case GUMBO_TAG_KBD:
    case GUMBO_TAG_LABEL:
    case GUMBO_TAG_MARK:
    case GUMBO_TAG_NOBR:
    case GUMBO_TAG_Q:
    case GUMBO_TAG_RP:
    case GUMBO_TAG_RT:
    case GUMBO_TAG_RUBY:
    case GUMBO_TAG_S:
    case GUMBO_TAG_SAMP:
    case GUMBO_TAG_SMALL:
    case GUMBO_TAG_SOURCE:
    case GUMBO_TAG_SPAN:
    case GUMBO_TAG_STRIKE:
    case GUMBO_TAG_STRONG:
    case GUMBO_TAG_SUB:
    case GUMBO_TAG_SUP:
    case GUMBO_TAG_TIME:
    case GUMBO_TAG_TT:
    case GUMBO_TAG_U:
    case GUMBO_TAG_VAR:
    case GUMBO_TAG_WBR:
    case GUMBO_TAG_UNKNOWN:
      return true;
    default:
      return false;
  }
}

void append_collapsed(std::string& out, std::string_view text, bool& pending_space) {
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const bool nbsp = c == '\xC2' && i + 1 < text.size() && text[i + 1] == '\xA0';
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || nbsp) {
      pending_space = true;
      i += nbsp ? 2 : 1;
      continue;
    }
    if (pending_space && !out.empty()) out.push_back(' ');
    pending_space = false;
    size_t j = i + 1;
    while (j < text.size() && text[j] != ' ' && text[j] != '\n' && text[j] != '\t' &&
           text[j] != '\r' && text[j] != '\f' && text[j] != '\xC2') {
      ++j;
    }
    out.append(text, i, j - i);
    i = j;
  }
}

}  // namespace twinflow
