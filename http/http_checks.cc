// The request and response checks HttpServer applies (http_server.h): header
// values, the Host header, JSON media types, download file names.
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>

#include <cctype>

#include "http/http_server.h"
#include "util/strings.h"

namespace twinflow {

namespace {

std::string_view trim_blank(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  return true;
}

// RFC 8187 attr-char: what a filename* value may carry unencoded.
bool is_attr_char(unsigned char c) {
  return std::isalnum(c) ||
         std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

}  // namespace

bool is_safe_header_value(std::string_view value) {
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && byte != '\t') || byte == 0x7f) return false;
  }
  return true;
}

std::string attachment_disposition(std::string_view filename) {
  std::string fallback;
  for (char c : filename) {
    const auto byte = static_cast<unsigned char>(c);
    const bool plain = byte >= 0x20 && byte < 0x7f && c != '"' && c != '\\' && c != '%';
    fallback += plain ? c : '_';
  }
  if (fallback.empty()) fallback = "download";
  static const char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (char c : filename) {
    const auto byte = static_cast<unsigned char>(c);
    if (is_attr_char(byte)) {
      encoded += c;
    } else {
      encoded += '%';
      encoded += kHex[byte >> 4];
      encoded += kHex[byte & 15];
    }
  }
  return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
}

bool is_json_content_type(std::string_view content_type) {
  const size_t semicolon = content_type.find(';');
  return to_lower(trim_blank(content_type.substr(0, semicolon))) == "application/json";
}

bool host_is_allowed(std::string_view host, std::string_view local_address,
                     const std::vector<std::string>& allowed) {
  host = trim_blank(host);
  std::string_view name = host;
  std::string_view port;
  bool has_port = false;
  if (host.starts_with('[')) {
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    name = host.substr(1, close - 1);
    const std::string_view rest = host.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) return false;
      port = rest.substr(1);
      has_port = true;
    }
  } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    name = host.substr(0, colon);
    port = host.substr(colon + 1);
    has_port = true;
    if (name.find(':') != std::string_view::npos) return false;  // a v6 address needs []
  }
  if (has_port && !all_digits(port)) return false;
  if (name.empty()) return false;
  std::string wanted = to_lower(name);
  if (wanted.size() > 1 && wanted.back() == '.') wanted.pop_back();  // "localhost."
  for (const std::string& entry : allowed)
    if (entry == "*" || to_lower(entry) == wanted) return true;
  if (wanted == "localhost") return true;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(wanted, ec);
  if (ec) return false;
  if (address.is_loopback()) return true;
  if (address.is_v6() && address.to_v6().is_v4_mapped() &&
      boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()).is_loopback())
    return true;
  const auto local = boost::asio::ip::make_address(std::string(local_address), ec);
  return !ec && local == address;
}

std::vector<std::string> split_host_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = trim_blank(text.substr(0, comma));
    if (!item.empty()) out.push_back(to_lower(item));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return out;
}

}  // namespace twinflow
