// The system OpenSSL (libssl-dev, 3.x) for Weft's TLS peer links.
// Many OpenSSL entry points are function-like macros, which Swift does not
// import: the few Weft needs are wrapped here as static inline functions.
#ifndef COPENSSL_H
#define COPENSSL_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/evp.h>

/// Both sides speak TLS 1.3 only; no renegotiation, no session tickets
/// (peer links are long-lived: resumption buys nothing and adds state).
static inline int cweft_tls_ctx_restrict(SSL_CTX *ctx) {
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) return 0;
    if (SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) return 0;
    // AES-128-GCM first, as Go's crypto/tls (and so Fabric's gRPC) prefers with AES
    // instructions; the server's order decides. All three TLS 1.3 suites stay allowed.
    if (SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256") != 1) return 0;
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    // Idle connections give their record buffers back.
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    return 1;
}

static inline int cweft_tls_verify_peer(void) { return SSL_VERIFY_PEER; }
static inline int cweft_tls_verify_require_cert(void) { return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT; }

/// Verification that never fails the handshake: a client certificate is asked
/// for and checked, and the verdict is read afterwards (SSL_get_verify_result)
/// by a server that answers an unverified client with an error of its own.
static inline int cweft_tls_accept_any(int preverified, X509_STORE_CTX *ctx) { (void)preverified; (void)ctx; return 1; }
static inline void cweft_tls_verify_later(SSL *ssl) { SSL_set_verify(ssl, SSL_VERIFY_PEER, cweft_tls_accept_any); }

static inline int cweft_tls_set_sni(SSL *ssl, const char *name) { return (int)SSL_set_tlsext_host_name(ssl, name); }

/// Checks `leaf` (with `chain`, may be NULL) against the root CA loaded into the
/// context: X509_V_OK (0) or the verify error. For this peer's own certificate at
/// start, and for a certificate a consensus message carries (PBFT VIEW-CHANGE).
static inline int cweft_tls_verify_certificate(SSL_CTX *ctx, X509 *leaf, STACK_OF(X509) *chain) {
    if (leaf == NULL) return X509_V_ERR_UNSPECIFIED;
    X509_STORE_CTX *store_ctx = X509_STORE_CTX_new();
    if (store_ctx == NULL) return X509_V_ERR_OUT_OF_MEM;
    int result = X509_V_ERR_UNSPECIFIED;
    if (X509_STORE_CTX_init(store_ctx, SSL_CTX_get_cert_store(ctx), leaf, chain) == 1) {
        X509_STORE_CTX_set_purpose(store_ctx, X509_PURPOSE_ANY);
        result = X509_verify_cert(store_ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(store_ctx);
    }
    X509_STORE_CTX_free(store_ctx);
    return result;
}

/// Checks this peer's own certificate (with the chain from its file) against
/// the root CA loaded into the context: X509_V_OK (0) or the verify error.
static inline int cweft_tls_verify_own_certificate(SSL_CTX *ctx) {
    STACK_OF(X509) *chain = NULL;
    SSL_CTX_get0_chain_certs(ctx, &chain);
    return cweft_tls_verify_certificate(ctx, SSL_CTX_get0_certificate(ctx), chain);
}

/// Whether `cert` names `name` in its subject CN or a DNS subject-alternative
/// name (RFC 6125 matching: ASCII case-insensitive, a wildcard only as a whole
/// left-most label).
static inline int cweft_tls_certificate_names(X509 *cert, const char *name, size_t length) {
    if (cert == NULL) return 0;
    return X509_check_host(cert, name, length,
                           X509_CHECK_FLAG_ALWAYS_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
}
#endif
