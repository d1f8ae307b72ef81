// Raw HTTP over a loopback socket, for tests that send what a well-behaved
// client (libcurl) would not: smuggling framings, hostile Host headers, many
// idle sockets. Every read has a deadline, so a server that fails to answer
// (or fails to close) costs the test seconds, not a hang.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace twinflow {

// A connected socket to 127.0.0.1:port, closed when destroyed; fd() < 0 when
// connect failed.
class RawSocket {
 public:
  explicit RawSocket(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) return;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawSocket(RawSocket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  int fd() const { return fd_; }

  bool send_all(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Everything received until the server closes or `timeout` passes with
  // nothing new; `closed` says which.
  std::string read_until_close(std::chrono::milliseconds timeout, bool* closed = nullptr) {
    std::string out;
    bool eof = false;
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) break;
      char buffer[16384];
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        eof = true;
        break;
      }
      out.append(buffer, static_cast<size_t>(n));
    }
    if (closed) *closed = eof;
    return out;
  }

  // One whole response (headers and Content-Length body); "" on timeout.
  std::string read_response(std::chrono::milliseconds timeout) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const size_t end = out.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t length = 0;
        const size_t at = lower_copy(out.substr(0, end)).find("\r\ncontent-length:");
        if (at != std::string::npos) length = std::stoul(out.substr(at + 17, 20));
        if (out.size() >= end + 4 + length) return out.substr(0, end + 4 + length);
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
      char buffer[16384];
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return out.find("\r\n\r\n") == std::string::npos ? "" : out;
      out.append(buffer, static_cast<size_t>(n));
    }
  }

 private:
  static std::string lower_copy(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }
  int fd_;
};

// The status of the first response in `text` ("HTTP/1.1 421 ..."), 0 if none.
inline int raw_status(const std::string& text) {
  if (text.size() < 12 || !text.starts_with("HTTP/1.")) return 0;
  return std::stoi(text.substr(9, 3));
}

// How many responses `text` holds: status lines "HTTP/1.x NNN " anywhere
// (a body need not end with a newline, so the next one may follow on its line).
inline int raw_response_count(const std::string& text) {
  int count = 0;
  for (size_t at = text.find("HTTP/1."); at != std::string::npos; at = text.find("HTTP/1.", at + 1))
    if (at + 13 <= text.size() && text[at + 8] == ' ' &&
        std::isdigit(static_cast<unsigned char>(text[at + 9])) &&
        std::isdigit(static_cast<unsigned char>(text[at + 10])) &&
        std::isdigit(static_cast<unsigned char>(text[at + 11])) && text[at + 12] == ' ')
      ++count;
  return count;
}

// Sends `request` on a new connection; what came back until close or timeout.
inline std::string raw_exchange(uint16_t port, std::string_view request, bool* closed = nullptr,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  RawSocket socket(port);
  if (socket.fd() < 0 || !socket.send_all(request)) return "";
  return socket.read_until_close(timeout, closed);
}

}  // namespace twinflow
