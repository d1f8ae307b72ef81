// HttpServer on Boost.Beast: one Session per connection, on its own strand.
//
// A session loops: read a request's headers (answering "100 Continue" when the
// client waits for it), read its body within the size limit, call the
// handler, wait out the response's delay on a timer, write the response
// (whole, or chunk by chunk from its stream), and read the next request while
// the connection is kept alive. Every read and write has a deadline
// (beast::tcp_stream expiry), so a stalled peer costs a socket, not a thread.
//
// stop() stops the io_context, joins its threads and destroys it: pending
// operations are destroyed with it, and with them the sessions and sockets
// they own, so every connection is closed when stop() returns.
#include "http/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <optional>
#include <thread>

#include "http/connection_registry.h"
#include "util/error.h"
#include "util/strings.h"

namespace twinflow {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Millis = std::chrono::milliseconds;

// How often an idle stream (one that said "nothing yet") is asked again.
constexpr Millis kIdleStreamPoll{20};
// Pause before accepting again after accept() failed (e.g. out of file
// descriptors), so that the failure does not become a busy loop.
constexpr Millis kAcceptRetryPause{50};
// How long a connection is drained before closing after an unread request.
constexpr Millis kLingerTimeout{1000};

// What every session needs from the server; outlives all sessions.
struct SharedState {
  HttpHandler handler;
  HttpServerOptions options;
  std::atomic<uint64_t> requests_served{0};
  std::unique_ptr<ConnectionRegistry> connections;
};

std::string_view to_std(beast::string_view text) {
  return {text.data(), text.size()};
}

HttpRequest to_http_request(http::request<http::string_body>&& in, const std::string& remote) {
  HttpRequest out;
  out.method = std::string(to_std(in.method_string()));
  out.target = std::string(to_std(in.target()));
  const size_t question = out.target.find('?');
  out.path = url_decode(std::string_view(out.target).substr(0, question));
  if (question != std::string::npos) out.query = out.target.substr(question + 1);
  for (const auto& field : in) {
    std::string& value = out.headers[to_lower(to_std(field.name_string()))];
    if (!value.empty()) value += ", ";
    value += to_std(field.value());
  }
  out.body = std::move(in.body());
  out.remote = remote;
  return out;
}

// The handler's answer; its exceptions become a 500 and never reach Asio.
HttpResponse call_handler(const HttpHandler& handler, const HttpRequest& request) {
  try {
    return handler(request);
  } catch (const std::exception& e) {
    return HttpResponse::text(500, std::string("internal server error: ") + e.what() + "\n");
  } catch (...) {
    return HttpResponse::text(500, "internal server error\n");
  }
}

// Statuses whose responses never carry a body (RFC 9110 6.4.1).
bool status_forbids_body(int status) {
  return status < 200 || status == 204 || status == 304;
}

// A response whose header would be unsafe to send (a CR or LF in a value
// would split it into headers of the handler's choosing) becomes a 500, and
// the log says which header of which request.
HttpResponse checked_response(HttpResponse response, const std::string& request_line) {
  auto is_token = [](const std::string& name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) ||
             std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
  };
  for (const auto& [name, value] : response.headers) {
    if (is_token(name) && is_safe_header_value(value)) continue;
    std::cerr << "twinflow http: refused to send a response to " << request_line << ": header '"
              << name.substr(0, 64) << "' "
              << (is_token(name) ? "has a control character in its value"
                                 : "is not a valid field name")
              << "; answered 500 instead" << std::endl;
    return HttpResponse::text(500, "internal server error: the response had an invalid header\n");
  }
  return response;
}

// Why a request's framing is refused (RFC 9112 6.1, 6.3): a transfer coding
// other than chunked, Transfer-Encoding beside Content-Length, or a repeated
// or malformed Content-Length. A request answered so is never read further,
// so nothing that follows it on the connection can pass for a request.
std::optional<HttpResponse> framing_refusal(const http::request_parser<http::string_body>& parser) {
  const auto& header = parser.get();
  size_t lengths = 0, codings = 0;
  std::string coding_list;
  for (const auto& field : header) {
    if (field.name() == http::field::content_length) {
      ++lengths;
      const auto value = to_std(field.value());
      if (value.empty() || value.find_first_not_of("0123456789") != std::string_view::npos)
        return HttpResponse::text(400, "bad request: malformed Content-Length\n");
    } else if (field.name() == http::field::transfer_encoding) {
      ++codings;
      coding_list += (coding_list.empty() ? "" : ",") + std::string(to_std(field.value()));
    }
  }
  if (lengths > 1) return HttpResponse::text(400, "bad request: more than one Content-Length\n");
  if (codings == 0) return std::nullopt;
  if (lengths > 0)
    return HttpResponse::text(400, "bad request: Transfer-Encoding with Content-Length\n");
  if (header.version() < 11)
    return HttpResponse::text(400, "bad request: Transfer-Encoding in an HTTP/1.0 request\n");
  std::vector<std::string> list;
  for (size_t start = 0; start <= coding_list.size();) {
    size_t comma = coding_list.find(',', start);
    if (comma == std::string::npos) comma = coding_list.size();
    std::string item = coding_list.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) list.push_back(to_lower(item));
    start = comma + 1;
  }
  if (list.size() == 1 && list[0] == "chunked" && parser.chunked()) return std::nullopt;
  return HttpResponse::text(501, "transfer coding '" + coding_list.substr(0, 100) +
                                     "' is not implemented: only chunked\n");
}

// The Host check (HttpServerOptions::check_host).
std::optional<HttpResponse> host_refusal(const http::request_header<>& header,
                                         const std::string& local_address,
                                         const HttpServerOptions& options) {
  if (!options.check_host) return std::nullopt;
  const size_t hosts = header.count(http::field::host);
  if (hosts > 1) return HttpResponse::text(400, "bad request: more than one Host\n");
  if (hosts == 0) {
    if (header.version() >= 11) return HttpResponse::text(400, "bad request: no Host header\n");
    return std::nullopt;
  }
  const auto host = to_std(header[http::field::host]);
  if (host_is_allowed(host, local_address, options.allowed_hosts)) return std::nullopt;
  return HttpResponse::text(421, "misdirected request: this server does not answer for Host '" +
                                     std::string(host.substr(0, 100)) +
                                     "' (see --allowed-hosts)\n");
}

template <class Message>
void copy_headers(const HttpResponse& from, Message& to) {
  bool has_content_type = false;
  for (const auto& [name, value] : from.headers) {
    to.insert(name, value);
    has_content_type = has_content_type || beast::iequals(name, "content-type");
  }
  if (!has_content_type && !status_forbids_body(from.status)) {
    to.set(http::field::content_type, "text/plain; charset=utf-8");
  }
}

class Session : public Evictable, public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, SharedState& shared)
      : stream_(std::move(socket)), timer_(stream_.get_executor()), shared_(shared) {
    beast::error_code ec;
    const tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      client_ = peer.address().to_string();
      remote_ = client_ + ":" + std::to_string(peer.port());
    }
    const tcp::endpoint local = stream_.socket().local_endpoint(ec);
    if (!ec) local_address_ = local.address().to_string();
  }
  ~Session() override {
    if (registry_id_) shared_.connections->remove(registry_id_);
  }

  const std::string& client() const { return client_; }

  // Starts reading requests; registry_id: this connection's ConnectionRegistry entry.
  void start(uint64_t registry_id) {
    registry_id_ = registry_id;
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::read_header, shared_from_this()));
  }

  // Too many connections and none idle: a short 503 written without
  // waiting (the socket's send buffer is empty), then closed.
  void refuse_connection() {
    static constexpr std::string_view kBusy =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n"
        "Connection: close\r\nRetry-After: 1\r\n\r\ntoo many connections\n";
    beast::error_code ignored;
    stream_.socket().non_blocking(true, ignored);
    stream_.socket().write_some(asio::buffer(kBusy), ignored);
    close();
  }

  void evict() override {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->registry_id_ = 0;  // no longer counted
      self->evicted_ = true;   // closed after the response in progress
      if (self->waiting_for_request_) self->close();
    });
  }

 private:
  const HttpServerOptions& options() const { return shared_.options; }

  void set_waiting(bool waiting) {
    waiting_for_request_ = waiting;
    if (registry_id_) shared_.connections->set_idle(registry_id_, waiting);
  }

  // Answers `response` and closes, without reading the rest of the request.
  void refuse(HttpResponse response) {
    keep_alive_ = false;
    unread_request_ = true;
    respond(std::move(response));
  }

  void read_header() {
    set_waiting(true);
    parser_.emplace();
    parser_->body_limit(options().max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(options().max_header_bytes));
    stream_.expires_after(options().read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, size_t) {
    set_waiting(false);
    if (ec) return on_read_error(ec);
    const auto& header = parser_->get();
    request_line_ = std::string(to_std(header.method_string())) + " " +
                    std::string(to_std(header.target().substr(0, 200)));
    if (auto refusal = framing_refusal(*parser_)) return refuse(std::move(*refusal));
    if (auto refusal = host_refusal(header, local_address_, options()))
      return refuse(std::move(*refusal));
    if (!beast::iequals(header[http::field::expect], "100-continue")) return read_body();
    // The client holds the body back until we agree (or a second passes).
    continue_.emplace(http::status::continue_, header.version());
    http::async_write(stream_, *continue_,
                      [self = shared_from_this()](beast::error_code e, size_t) {
                        if (e) return self->close();
                        self->read_body();
                      });
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  void on_read_error(beast::error_code ec) {
    keep_alive_ = false;
    unread_request_ = true;
    if (ec == http::error::body_limit) {
      return respond(HttpResponse::text(
          413,
          "request body larger than " + std::to_string(options().max_body_bytes) + " bytes\n"));
    }
    if (ec == http::error::header_limit) {
      return respond(HttpResponse::text(431, "request header fields too large\n"));
    }
    // A malformed request gets a 400; a closed, reset or timed-out
    // connection has nobody left to answer.
    if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return respond(HttpResponse::text(400, "bad request: " + ec.message() + "\n"));
    }
    close();
  }

  void on_body(beast::error_code ec, size_t) {
    if (ec) return on_read_error(ec);
    keep_alive_ = parser_->keep_alive();
    head_ = parser_->get().method() == http::verb::head;
    const HttpRequest request = to_http_request(parser_->release(), remote_);
    shared_.requests_served.fetch_add(1, std::memory_order_relaxed);
    respond(call_handler(shared_.handler, request));
  }

  // Sends `response` after its delay, without holding the thread meanwhile.
  void respond(HttpResponse response) {
    pending_ = checked_response(std::move(response), request_line_);
    if (pending_.delay.count() <= 0) return send_pending();
    timer_.expires_after(pending_.delay);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->close();
      self->send_pending();
    });
  }

  void send_pending() {
    if (pending_.stream) return start_stream();
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(pending_.status));
    copy_headers(pending_, response_);
    response_.keep_alive(keep_alive_);
    if (!status_forbids_body(pending_.status)) {
      response_.body() = std::move(pending_.body);
      response_.prepare_payload();
      // HEAD: the Content-Length a GET would have, and no body.
      if (head_) response_.body().clear();
    }
    keep_alive_ = !response_.need_eof();
    stream_.expires_after(options().read_timeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->close();
                        self->finish_response();
                      });
  }

  void start_stream() {
    stream_header_.emplace(static_cast<http::status>(pending_.status), 11);
    copy_headers(pending_, *stream_header_);
    stream_header_->keep_alive(keep_alive_);
    stream_header_->chunked(true);
    serializer_.emplace(*stream_header_);
    stream_.expires_after(options().read_timeout);
    http::async_write_header(stream_, *serializer_,
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               if (ec) return self->close();
                               if (self->head_) return self->finish_response();
                               self->next_chunk();
                             });
  }

  void next_chunk() {
    chunk_.clear();
    bool more = false;
    try {
      more = pending_.stream(chunk_);
    } catch (...) {
      // Too late for a 500: end the connection without the last chunk so the
      // client sees a truncated body instead of a complete-looking one.
      return close();
    }
    if (!chunk_.empty()) return write_chunk(more);
    if (!more) return write_last_chunk();
    wait_then_next_chunk(std::max(pending_.chunk_delay, kIdleStreamPoll));
  }

  void write_chunk(bool more) {
    stream_.expires_after(options().read_timeout);
    asio::async_write(stream_, http::make_chunk(asio::buffer(chunk_)),
                      [self = shared_from_this(), more](beast::error_code ec, size_t) {
                        if (ec) return self->close();
                        if (!more) return self->write_last_chunk();
                        if (self->pending_.chunk_delay.count() <= 0) return self->next_chunk();
                        self->wait_then_next_chunk(self->pending_.chunk_delay);
                      });
  }

  void wait_then_next_chunk(Millis pause) {
    timer_.expires_after(pause);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->close();
      self->next_chunk();
    });
  }

  void write_last_chunk() {
    stream_.expires_after(options().read_timeout);
    asio::async_write(stream_, http::make_chunk_last(),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->close();
                        self->finish_response();
                      });
  }

  void finish_response() {
    pending_ = {};
    serializer_.reset();
    stream_header_.reset();
    if (unread_request_) return drain_then_close();
    if (!keep_alive_ || evicted_) return close();
    read_header();
  }

  // After answering a request we did not read to its end (e.g. 413), closing
  // at once would reset the connection while the client is still sending,
  // and the client could lose our answer. So: stop sending, swallow what
  // still arrives for a moment, then close ("lingering close").
  void drain_then_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (drain_.empty()) {  // the first round sets one deadline for all of them
      stream_.expires_after(kLingerTimeout);
      drain_.resize(16 << 10);
    }
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->close();
                              self->drain_then_close();
                            });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  SharedState& shared_;
  std::string client_ = "unknown";  // the peer's address
  std::string remote_;              // and port
  std::string local_address_;       // where the connection arrived (for the Host check)
  uint64_t registry_id_ = 0;        // 0: not counted (evicted)
  bool waiting_for_request_ = false;
  bool evicted_ = false;
  std::string request_line_;  // "GET /path", for the log
  beast::flat_buffer buffer_;

  // The request being read.
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  bool keep_alive_ = true;
  bool head_ = false;
  bool unread_request_ = false;  // answered before the request was read to its end
  std::string drain_;            // scratch space for drain_then_close()

  // The response being sent: whole (response_) or streamed (header + chunks).
  HttpResponse pending_;
  http::response<http::string_body> response_;
  std::optional<http::response<http::empty_body>> stream_header_;
  std::optional<http::response_serializer<http::empty_body>> serializer_;
  std::string chunk_;
};

tcp::endpoint parse_bind_address(const std::string& bind, asio::io_context& io) {
  const size_t colon = bind.rfind(':');
  if (colon == std::string::npos) {
    throw Error("HttpServer: bind address '" + bind + "' is not host:port");
  }
  std::string host = bind.substr(0, colon);
  const std::string port = bind.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  beast::error_code ec;
  tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(host, port, tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    throw Error("HttpServer: cannot resolve bind address '" + bind + "': " + ec.message());
  }
  return endpoints.begin()->endpoint();
}

}  // namespace

struct HttpServer::Impl {
  explicit Impl(HttpHandler handler, HttpServerOptions options) {
    shared.handler = std::move(handler);
    shared.options = std::move(options);
    shared.connections = std::make_unique<ConnectionRegistry>(
        shared.options.max_connections_per_client, shared.options.max_connections);
  }

  void listen() {
    const tcp::endpoint endpoint = parse_bind_address(shared.options.bind, *io);
    acceptor.emplace(*io);
    beast::error_code ec;
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      throw Error("HttpServer: cannot listen on " + shared.options.bind + ": " + ec.message());
    }
    port = acceptor->local_endpoint().port();
  }

  void accept() {
    acceptor->async_accept(asio::make_strand(*io), [this](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) return pause_then_accept();
      beast::error_code ignored;
      s.set_option(tcp::no_delay(true), ignored);
      admit(std::make_shared<Session>(std::move(s), shared));
      accept();
    });
  }

  // Counts the connection, closing idle ones to make room for it; when no
  // room can be made it gets 503 and is closed.
  void admit(const std::shared_ptr<Session>& session) {
    auto admission = shared.connections->admit(session->client(), session);
    for (const auto& victim : admission.evicted) victim->evict();
    if (admission.admitted) return session->start(admission.id);
    session->refuse_connection();
  }

  void pause_then_accept() {
    accept_pause.emplace(*io, kAcceptRetryPause);
    accept_pause->async_wait([this](beast::error_code ec) {
      if (!ec) accept();
    });
  }

  SharedState shared;
  // Declared before what runs on it, so that it is destroyed last.
  std::unique_ptr<asio::io_context> io = std::make_unique<asio::io_context>();
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_pause;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool started = false;
};

HttpServer::HttpServer(HttpHandler handler, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(options))) {
  if (impl_->shared.options.threads < 1) throw Error("HttpServer: threads must be at least 1");
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::start() {
  if (impl_->started) throw Error("HttpServer: start() called twice");
  impl_->listen();
  impl_->started = true;
  impl_->accept();
  for (int i = 0; i < impl_->shared.options.threads; ++i) {
    impl_->threads.emplace_back([io = impl_->io.get()] { io->run(); });
  }
}

void HttpServer::stop() {
  if (!impl_->io) return;
  impl_->io->stop();
  for (std::thread& thread : impl_->threads) thread.join();
  impl_->threads.clear();
  impl_->accept_pause.reset();
  impl_->acceptor.reset();
  impl_->io.reset();  // destroys pending operations, their sessions and sockets
}

uint16_t HttpServer::port() const {
  return impl_->port;
}

std::string HttpServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

uint64_t HttpServer::requests_served() const {
  return impl_->shared.requests_served.load(std::memory_order_relaxed);
}

}  // namespace twinflow
