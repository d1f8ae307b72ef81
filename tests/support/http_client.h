// A minimal blocking HTTP client for tests (libcurl easy): GET and POST, the
// status, the header lines and the body. Tests see servers as any client would.
#pragma once

#include <curl/curl.h>

#include <string>

namespace twinflow {

struct HttpReply {
  long status = 0;
  std::string headers;  // the response's header lines as received, CR LF kept
  std::string body;
};

class TestHttpClient {
 public:
  TestHttpClient() : curl_(curl_easy_init()) {}
  ~TestHttpClient() { curl_easy_cleanup(curl_); }
  TestHttpClient(const TestHttpClient&) = delete;
  TestHttpClient& operator=(const TestHttpClient&) = delete;

  HttpReply get(const std::string& url) { return perform(url, nullptr); }
  HttpReply post_json(const std::string& url, const std::string& body) {
    return perform(url, &body);
  }

 private:
  static size_t on_body(char* data, size_t size, size_t count, void* sink) {
    static_cast<std::string*>(sink)->append(data, size * count);
    return size * count;
  }

  HttpReply perform(const std::string& url, const std::string* body) {
    HttpReply reply;
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &TestHttpClient::on_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &TestHttpClient::on_body);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &reply.headers);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    if (body) {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body->data());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    } else {
      curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    }
    if (curl_easy_perform(curl_) == CURLE_OK)
      curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_slist_free_all(headers);
    return reply;
  }

  CURL* curl_;
};

}  // namespace twinflow
