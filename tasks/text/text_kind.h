// TextKind: the shapes of text an author produces, which the cleaner and the
// chunker treat differently.
//
// Articles (Medium, Substack) are long prose in paragraphs; posts (LinkedIn)
// are short prose where line breaks carry meaning; code (GitHub files) must
// keep its layout byte for byte.
#pragma once

namespace twinflow {

enum class TextKind { kArticle, kPost, kCode };

}  // namespace twinflow
