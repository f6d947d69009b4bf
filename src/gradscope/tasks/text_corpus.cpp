// Loading a text corpus: see text_corpus.h.
#include "gradscope/tasks/text_corpus.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <stdexcept>

#include "gradscope/config/config.h"

namespace gradscope {

namespace fs = std::filesystem;

// A read-only memory map of a whole file (empty files map nothing).
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(path, std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      fail(path, std::strerror(errno));
    }
    size_ = static_cast<int64_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, static_cast<size_t>(size_), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        ::close(fd);
        fail(path, std::strerror(errno));
      }
      data_ = static_cast<const unsigned char*>(p);
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<unsigned char*>(data_), static_cast<size_t>(size_));
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const unsigned char* data() const { return data_; }
  int64_t size() const { return size_; }

 private:
  [[noreturn]] static void fail(const std::string& path, const char* why) {
    throw std::invalid_argument(fmt::format("task.path {}: cannot read it ({})", path, why));
  }
  const unsigned char* data_ = nullptr;
  int64_t size_ = 0;
};

namespace {

// The length of the UTF-8 sequence at s[0..n) and its code point; 0 when it is not UTF-8
// (overlong forms, surrogates and code points above U+10FFFF included).
int decode_one(const unsigned char* s, int64_t n, char32_t& cp) {
  const unsigned char b = s[0];
  if (b < 0x80) return cp = b, 1;
  int len = 0;
  char32_t min = 0;
  if ((b & 0xE0) == 0xC0)
    len = 2, cp = b & 0x1F, min = 0x80;
  else if ((b & 0xF0) == 0xE0)
    len = 3, cp = b & 0x0F, min = 0x800;
  else if ((b & 0xF8) == 0xF0)
    len = 4, cp = b & 0x07, min = 0x10000;
  else
    return 0;
  if (n < len) return 0;
  for (int i = 1; i < len; ++i) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// Appends the code points of s[0..n) to `out`; throws naming `origin` at the first byte that is
// not UTF-8.
void decode(const unsigned char* s, int64_t n, const std::string& origin,
            std::vector<char32_t>& out) {
  for (int64_t i = 0; i < n;) {
    char32_t cp = 0;
    const int len = decode_one(s + i, n - i, cp);
    if (len == 0)
      throw std::invalid_argument(fmt::format(
          "{}: byte {} (0x{:02x}) is not UTF-8 (valid with task.alphabet = \"chars\": UTF-8 "
          "text; task.alphabet = \"bytes\" reads any file)",
          origin, i, s[i]));
    out.push_back(cp);
    i += len;
  }
}

// The files a directory contributes, in sorted name order (see text_corpus.h).
std::vector<std::string> directory_files(const fs::path& dir) {
  std::vector<fs::path> names;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string()[0] != '.' && fs::is_regular_file(e.path()))
      names.push_back(e.path());
  std::sort(names.begin(), names.end());
  std::vector<std::string> files;
  std::set<fs::path> seen;
  for (const fs::path& p : names)
    if (seen.insert(fs::canonical(p)).second) files.push_back(p.string());
  return files;
}

// The corpus's bytes: the one file mapped, or the directory's text files concatenated.
void read_bytes(const std::string& path, TextCorpus& c) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw std::invalid_argument("task.path " + path +
                                ": no such file or directory (valid: a text file, or a directory "
                                "of text files)");
  if (!fs::is_directory(path, ec)) {
    c.mapped = std::make_shared<const MappedFile>(path);
    c.bytes = c.mapped->data();
    c.n_bytes = c.mapped->size();
    c.files = {path};
    c.file_bytes = {c.n_bytes};
    return;
  }
  for (const std::string& file : directory_files(path)) {
    const MappedFile m(file);
    if (m.size() == 0 || std::memchr(m.data(), 0, static_cast<size_t>(m.size()))) continue;
    c.buffer.insert(c.buffer.end(), m.data(), m.data() + m.size());
    c.files.push_back(file);
    c.file_bytes.push_back(m.size());
  }
  c.bytes = c.buffer.data();
  c.n_bytes = static_cast<int64_t>(c.buffer.size());
}

// Token ids and the character table of a UTF-8 corpus (file by file, so errors name the file).
void read_chars(TextCorpus& c) {
  std::vector<char32_t> cps;
  cps.reserve(static_cast<size_t>(c.n_bytes));
  int64_t at = 0;
  for (size_t f = 0; f < c.files.size(); ++f) {
    const int64_t n = c.file_bytes[f];
    decode(c.bytes + at, n, "task.path " + c.files[f], cps);  // in place, no copy per file
    at += n;
  }
  std::vector<int32_t> index(0x110000, -1);  // code point -> token; -1: absent
  for (char32_t cp : cps) index[cp] = 0;
  for (char32_t cp = 0; cp < 0x110000; ++cp)
    if (index[cp] == 0) c.chars.push_back(cp);  // ascending
  if (c.chars.size() > 65536)
    throw std::invalid_argument(fmt::format(
        "task.path {}: {} distinct characters (valid with task.alphabet = \"chars\": at most "
        "65536; use \"bytes\")",
        c.files.front(), c.chars.size()));
  for (size_t t = 0; t < c.chars.size(); ++t) index[c.chars[t]] = static_cast<int32_t>(t);
  c.ids.resize(cps.size());
  for (size_t i = 0; i < cps.size(); ++i) c.ids[i] = static_cast<uint16_t>(index[cps[i]]);
}

std::shared_ptr<const TextCorpus> load_uncached(const std::string& path,
                                                const std::string& alphabet) {
  auto c = std::make_shared<TextCorpus>();
  c->alphabet = alphabet;
  read_bytes(path, *c);
  if (c->n_bytes == 0)
    throw std::invalid_argument("task.path " + path +
                                (c->files.empty()
                                     ? ": no text file in the directory (binary files are skipped)"
                                     : ": the file is empty") +
                                " (valid: text to train on)");
  if (alphabet == "chars") read_chars(*c);
  c->hash = fmt::format("{:016x}", fnv1a(c->bytes, static_cast<size_t>(c->n_bytes)));
  return c;
}

// What identifies the files' current contents: each file's path, size and write time.
std::string cache_key(const std::string& path, const std::string& alphabet) {
  std::error_code ec;
  std::string key = path + '\n' + alphabet;
  const std::vector<std::string> files =
      fs::is_directory(path, ec) ? directory_files(path) : std::vector<std::string>{path};
  for (const std::string& f : files) {
    const auto size = fs::file_size(f, ec);
    const auto time = fs::last_write_time(f, ec);
    if (ec) return "";
    key += fmt::format("\n{} {} {}", f, size, time.time_since_epoch().count());
  }
  return key;
}

}  // namespace

std::shared_ptr<const TextCorpus> load_text_corpus(const std::string& path,
                                                   const std::string& alphabet) {
  static std::mutex mutex;
  static std::string cached_key;
  static std::shared_ptr<const TextCorpus> cached;
  std::error_code ec;
  const std::string key = fs::exists(path, ec) ? cache_key(path, alphabet) : "";
  std::lock_guard<std::mutex> lock(mutex);
  if (!key.empty() && key == cached_key) return cached;
  auto loaded = load_uncached(path, alphabet);
  cached_key = key, cached = loaded;
  return loaded;
}

std::string to_utf8(const std::vector<char32_t>& chars) {
  std::string out;
  for (char32_t cp : chars) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

std::vector<char32_t> from_utf8(const std::string& text, const std::string& origin) {
  std::vector<char32_t> out;
  decode(reinterpret_cast<const unsigned char*>(text.data()), static_cast<int64_t>(text.size()),
         origin, out);
  return out;
}

}  // namespace gradscope
