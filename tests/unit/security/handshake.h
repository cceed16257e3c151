#pragma once

#include "common/openssl.h"

namespace meshnode::security::testing {

// A client and a server SSL joined by an in-memory BIO pair, driven until both finish or one
// fails; what a real socket pair would do, without sockets.
struct Handshake {
  ossl::SslPtr client;
  ossl::SslPtr server;
  bool client_ok = false;
  bool server_ok = false;

  Handshake(SSL_CTX* client_ctx, SSL_CTX* server_ctx)
      : client(SSL_new(client_ctx)), server(SSL_new(server_ctx)) {
    BIO* a = nullptr;
    BIO* b = nullptr;
    BIO_new_bio_pair(&a, 0, &b, 0);
    SSL_set_bio(client.get(), a, a);
    SSL_set_bio(server.get(), b, b);
    SSL_set_connect_state(client.get());
    SSL_set_accept_state(server.get());
  }

  bool run() {
    bool client_failed = false;
    bool server_failed = false;
    for (int i = 0; i < 50 && !(client_ok && server_ok) && !client_failed && !server_failed; ++i) {
      step(client.get(), &client_ok, &client_failed);
      step(server.get(), &server_ok, &server_failed);
    }
    ossl::clearErrors();
    return client_ok && server_ok;
  }

  static void step(SSL* ssl, bool* done, bool* failed) {
    if (*done || *failed) return;
    int rc = SSL_do_handshake(ssl);
    if (rc == 1) {
      *done = true;
      return;
    }
    int err = SSL_get_error(ssl, rc);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) *failed = true;
  }
};

}  // namespace meshnode::security::testing
