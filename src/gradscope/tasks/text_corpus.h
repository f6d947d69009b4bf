// A text corpus as a stream of token ids, for the task family "text" (tasks/text.h):
//
//   source    a file, memory-mapped (never copied), or a directory whose regular files are read
//             in sorted name order and concatenated into one buffer, skipping binary files (a NUL
//             byte anywhere: fortune's .dat indexes), hidden files and links to a file already
//             taken (fortune's .u8 links)
//   alphabet  "bytes": token = byte value, 256 ids. "chars": the distinct Unicode code points of
//             the whole corpus in ascending order, token = its index; the corpus must be UTF-8
//   hash      FNV-1a 64 of the corpus's bytes (16 hex digits): task.data_hash
//
// Errors throw std::invalid_argument naming task.path and the file, as one line.
// Shape legend: T = tokens in the corpus, V = alphabet size.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gradscope {

class MappedFile;

struct TextCorpus {
  std::string alphabet;                  // "bytes" | "chars"
  std::vector<char32_t> chars;           // [V] the character of each token ("chars"; else empty)
  std::vector<uint16_t> ids;             // [T] token ids ("chars")
  const unsigned char* bytes = nullptr;  // [T] the corpus's bytes (token ids under "bytes")
  int64_t n_bytes = 0;
  std::vector<std::string> files;   // the files read, in order
  std::vector<int64_t> file_bytes;  // [files] the bytes each contributed
  std::string hash;                 // 16 hex digits

  // (A loaded corpus is never empty: ids is empty exactly under "bytes".)
  int64_t size() const { return ids.empty() ? n_bytes : static_cast<int64_t>(ids.size()); }
  int32_t token(int64_t i) const { return ids.empty() ? bytes[i] : ids[i]; }
  int64_t vocab() const { return alphabet == "chars" ? static_cast<int64_t>(chars.size()) : 256; }

  std::shared_ptr<const MappedFile> mapped;  // the single file's mapping, or
  std::vector<unsigned char> buffer;         // a directory's files, concatenated
};

// Loads `path` (file or directory) under `alphabet`; cached for as long as the files are
// unchanged (a sweep resolves every point, then builds each). Throws std::invalid_argument.
std::shared_ptr<const TextCorpus> load_text_corpus(const std::string& path,
                                                   const std::string& alphabet);

// The character table as UTF-8 text (token i is the i-th code point), and back. from_utf8 throws
// std::invalid_argument at the first byte that is not UTF-8, naming `origin` and its offset.
std::string to_utf8(const std::vector<char32_t>& chars);
std::vector<char32_t> from_utf8(const std::string& text, const std::string& origin);

}  // namespace gradscope
