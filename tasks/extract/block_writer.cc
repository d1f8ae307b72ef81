// Block writing: a pre-order walk over the selected subtrees with an explicit
// stack of open elements; see block_writer.h.
#include "tasks/extract/block_writer.h"
#include "util/strings.h"

#include <string>

namespace twinflow {

namespace {

int heading_level(GumboTag tag) {
  return tag >= GUMBO_TAG_H1 && tag <= GUMBO_TAG_H6 ? 1 + (tag - GUMBO_TAG_H1) : 0;
}

// Removes blank lines before the first and after the last line of code,
// keeping the first line's indentation.
std::string trim_code(std::string code) {
  size_t start = 0;
  size_t k = 0;
  while (k < code.size() && is_html_space(code[k])) {
    if (code[k] == '\n') start = k + 1;
    ++k;
  }
  if (k == code.size()) return "";
  size_t end = code.size();
  while (end > start && is_html_space(code[end - 1])) --end;
  return code.substr(start, end - start);
}

class BlockWriter {
 public:
  BlockWriter(const HtmlTree& tree, const ContentSelection& selection)
      : tree_(tree), removed_(selection.removed) {}

  std::vector<Block> write(const std::vector<int>& roots) {
    for (int root : roots) walk(root);
    return std::move(blocks_);
  }

 private:
  struct Frame {
    int end;
    GumboTag tag;
  };
  // The innermost heading, list item or quote decides a block's kind.
  struct Context {
    Block::Kind kind;
    int level;
  };

  void walk(int root) {
    int i = root;
    while (i < tree_.end(root)) {
      close_frames_before(i);
      if (removed_[i]) {
        i = tree_.end(i);
      } else if (tree_.is_text(i)) {
        append_text(tree_.text(i));
        ++i;
      } else {
        i = enter(i);
      }
    }
    close_frames_before(tree_.size() + 1);
    flush();
  }

  // Handles element `i`; returns the next node to visit.
  int enter(int i) {
    const GumboTag tag = tree_.tag(i);
    if (tag == GUMBO_TAG_BR) {
      line_break();
      return i + 1;
    }
    if (tag == GUMBO_TAG_PRE || (tag == GUMBO_TAG_CODE && is_code_block(i))) {
      flush();
      write_code(i);
      return tree_.end(i);
    }
    if (tag == GUMBO_TAG_HR) {
      flush();
      return i + 1;
    }
    const bool block = !is_inline_tag(tag);
    if (block) {
      flush();
      open_context(tag);
    }
    frames_.push_back({tree_.end(i), tag});
    return i + 1;
  }

  void close_frames_before(int i) {
    while (!frames_.empty() && frames_.back().end <= i) {
      const GumboTag tag = frames_.back().tag;
      frames_.pop_back();
      if (!is_inline_tag(tag)) {
        flush();
        close_context(tag);
      }
    }
  }

  void open_context(GumboTag tag) {
    if (tag == GUMBO_TAG_UL || tag == GUMBO_TAG_OL) {
      ++list_depth_;
    } else if (tag == GUMBO_TAG_LI) {
      contexts_.push_back({Block::Kind::kListItem, std::max(list_depth_, 1)});
    } else if (tag == GUMBO_TAG_BLOCKQUOTE) {
      contexts_.push_back({Block::Kind::kQuote, 0});
    } else if (const int level = heading_level(tag)) {
      contexts_.push_back({Block::Kind::kHeading, level});
    }
  }

  void close_context(GumboTag tag) {
    if (tag == GUMBO_TAG_UL || tag == GUMBO_TAG_OL) {
      --list_depth_;
    } else if ((tag == GUMBO_TAG_LI || tag == GUMBO_TAG_BLOCKQUOTE || heading_level(tag)) &&
               !contexts_.empty()) {
      contexts_.pop_back();
    }
  }

  // A <code> outside <pre> is a block when it starts a block and spans lines.
  bool is_code_block(int i) const {
    if (!text_.empty()) return false;
    for (int k = i + 1; k < tree_.end(i); ++k) {
      if (tree_.is_text(k) && tree_.text(k).find('\n') != std::string_view::npos) return true;
    }
    return false;
  }

  void write_code(int i) {
    std::string code;
    int k = i + 1;
    while (k < tree_.end(i)) {
      if (removed_[k]) {
        k = tree_.end(k);
        continue;
      }
      if (tree_.is_text(k)) code += tree_.text(k);
      if (tree_.tag(k) == GUMBO_TAG_BR && tree_.is_element(k)) code += '\n';
      ++k;
    }
    code = trim_code(std::move(code));
    if (!code.empty()) blocks_.push_back({Block::Kind::kCode, 0, std::move(code)});
  }

  void append_text(std::string_view s) {
    size_t k = 0;
    while (k < s.size()) {
      const char c = s[k];
      const bool nbsp = c == '\xC2' && k + 1 < s.size() && s[k + 1] == '\xA0';
      if (is_html_space(c) || nbsp) {
        pending_space_ = true;
        k += nbsp ? 2 : 1;
        continue;
      }
      if (pending_space_ && !text_.empty() && text_.back() != '\n') text_.push_back(' ');
      pending_space_ = false;
      text_.push_back(c);
      ++k;
    }
  }

  // <br>: a new line, or with nothing written since the last one, a new
  // paragraph.
  void line_break() {
    pending_space_ = false;
    if (text_.empty()) return;
    if (text_.back() == '\n') {
      flush();
      return;
    }
    text_.push_back('\n');
  }

  void flush() {
    while (!text_.empty() && (text_.back() == '\n' || text_.back() == ' ')) text_.pop_back();
    pending_space_ = false;
    if (text_.empty()) return;
    Block block;
    block.text = std::move(text_);
    text_.clear();
    if (!contexts_.empty()) {
      block.kind = contexts_.back().kind;
      block.level = contexts_.back().level;
    }
    blocks_.push_back(std::move(block));
  }

  const HtmlTree& tree_;
  const std::vector<uint8_t>& removed_;
  std::vector<Block> blocks_;
  std::vector<Frame> frames_;
  std::vector<Context> contexts_;
  std::string text_;
  bool pending_space_ = false;
  int list_depth_ = 0;
};

}  // namespace

std::vector<Block> write_blocks(const HtmlTree& tree, const ContentSelection& selection) {
  return BlockWriter(tree, selection).write(selection.roots);
}

}  // namespace twinflow
