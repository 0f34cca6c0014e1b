/*
 * auth.c - password authentication crypto behind auth.h: SCRAM-SHA-256
 * (RFC 5802/7677, as PostgreSQL speaks it) in the server role (pgrelay
 * verifies a client) and the client role (pgrelay logs in to a server),
 * PostgreSQL's md5 scheme, and parsing of stored secrets. OpenSSL does the
 * hashing and randomness; this file never touches sockets.
 *
 * Every SCRAM message handled here comes off the network: parsers take
 * (bytes, len), never assume a NUL, read through a PgReader, bound every
 * length and check attribute order.
 *
 * Blocking work: the client role runs PBKDF2 with the iteration count the
 * server sends, synchronously on the caller's (event loop) thread: about
 * 1.6 ms at the default 4096, and about 0.36 s per million iterations.
 * SCRAM_MAX_ITERATIONS caps what a malicious or misconfigured server can make
 * us burn at roughly 3.5 s of one core. The server role and the ClientKey
 * login do no PBKDF2.
 */
#include "auth.h"

#include "buf.h"
#include "log.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

/* Largest iteration count accepted from a server (see the top comment). */
#define SCRAM_MAX_ITERATIONS 10000000
/* base64 text of n bytes, without the NUL */
#define B64_LEN(n) (4 * (((n) + 2) / 3))

static const char err_crypto[] = "internal cryptographic failure";
static const char err_state[] = "SCRAM message out of sequence";
static const char err_malformed[] = "malformed SCRAM message";

/* ---- small helpers ------------------------------------------------------ */

bool auth_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

bool auth_random(void *buf, size_t n)
{
	if (n > INT_MAX)
		return false;
	return RAND_bytes(buf, (int)n) == 1;
}

/* base64 of in[n] plus a NUL into out[cap]; returns the text length, 0 if it does not fit. */
static size_t b64_encode(char *out, size_t cap, const uint8_t *in, size_t n)
{
	if (n == 0 || n > INT_MAX / 2 || cap <= B64_LEN(n))
		return 0;
	return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static bool b64_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/*
 * Strict base64 decode of in[len] into out[cap]: padded, no whitespace. The
 * decoded length is computed here because EVP_DecodeBlock counts the padding
 * as output bytes.
 */
static bool b64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t tmp[3 * (SCRAM_MSG_MAX / 4)];
	size_t pad = 0, raw;

	if (len == 0 || len % 4 != 0 || len > SCRAM_MSG_MAX)
		return false;
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < len - pad; i++)
		if (!b64_char(in[i]))
			return false;
	raw = len / 4 * 3;
	if (raw - pad > cap)
		return false;
	if (EVP_DecodeBlock(tmp, in, (int)len) != (int)raw)
		return false;
	memcpy(out, tmp, raw - pad);
	*outlen = raw - pad;
	OPENSSL_cleanse(tmp, raw);
	return true;
}

/* A SCRAM nonce: printable ASCII except ','. */
static bool scram_nonce_valid(const uint8_t *p, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ',')
			return false;
	return true;
}

/* Decimal 1..max, digits only. */
static bool scram_parse_count(const uint8_t *p, size_t len, long max, int *out)
{
	long v = 0;

	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	if (v < 1 || v > max)
		return false;
	*out = (int)v;
	return true;
}

static bool scram_peek(const PgReader *r, uint8_t *c)
{
	if (pgr_left(r) == 0)
		return false;
	*c = *r->p;
	return true;
}

static bool scram_expect(PgReader *r, uint8_t want)
{
	uint8_t c;
	return pgr_u8(r, &c) && c == want;
}

/* Reads "<name>=<value>" up to the next ',' or the end (the ',' is left unread). */
static bool scram_attr(PgReader *r, uint8_t name, const uint8_t **val, size_t *len)
{
	const uint8_t *comma;

	if (!scram_expect(r, name) || !scram_expect(r, '='))
		return false;
	comma = memchr(r->p, ',', pgr_left(r));
	*len = comma ? (size_t)(comma - r->p) : pgr_left(r);
	return pgr_bytes(r, *len, val);
}

/* An extension attribute: ALPHA "=" value. */
static bool scram_ext_attr(PgReader *r)
{
	const uint8_t *val;
	size_t len;
	uint8_t c;

	if (!scram_peek(r, &c) || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
		return false;
	return scram_attr(r, c, &val, &len);
}

/* Messages are bounded, and never contain NUL bytes (we keep parts as C strings). */
static bool scram_msg_ok(const uint8_t *msg, size_t len)
{
	return msg && len > 0 && len < SCRAM_MSG_MAX && !memchr(msg, 0, len);
}

static bool scram_put(char *out, size_t outcap, size_t *outlen, const char *src, size_t n)
{
	if (!out || outcap <= n)
		return false;
	memcpy(out, src, n);
	out[n] = '\0';
	if (outlen)
		*outlen = n;
	return true;
}

static bool hmac_sha256(const uint8_t *key, size_t keylen, const void *data, size_t len,
			uint8_t out[SCRAM_KEY_LEN])
{
	unsigned int n = 0;
	if (keylen > INT_MAX)
		return false;
	return HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &n) && n == SCRAM_KEY_LEN;
}

static bool sha256(const void *data, size_t len, uint8_t out[SCRAM_KEY_LEN])
{
	unsigned int n = 0;
	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == SCRAM_KEY_LEN;
}

/* ClientKey and ServerKey from a plain password (the PBKDF2 step). */
static bool scram_keys_from_password(const char *password, const uint8_t *salt, size_t salt_len,
				     int iterations, uint8_t client_key[SCRAM_KEY_LEN],
				     uint8_t server_key[SCRAM_KEY_LEN])
{
	uint8_t salted[SCRAM_KEY_LEN];
	size_t plen = strlen(password);
	bool ok;

	if (plen > INT_MAX || salt_len == 0 || salt_len > SCRAM_MAX_SALT || iterations < 1 ||
	    iterations > SCRAM_MAX_ITERATIONS)
		return false;
	ok = PKCS5_PBKDF2_HMAC(password, (int)plen, salt, (int)salt_len, iterations, EVP_sha256(),
			       SCRAM_KEY_LEN, salted) == 1 &&
	     hmac_sha256(salted, sizeof(salted), "Client Key", 10, client_key) &&
	     hmac_sha256(salted, sizeof(salted), "Server Key", 10, server_key);
	OPENSSL_cleanse(salted, sizeof(salted));
	return ok;
}

/*
 * AuthMessage = client-first-bare "," server-first "," client-final-without-proof,
 * assembled into am[SCRAM_AUTH_MSG_MAX]; each part is < SCRAM_MSG_MAX bytes.
 */
#define SCRAM_AUTH_MSG_MAX (3 * SCRAM_MSG_MAX)
static size_t scram_auth_message(char *am, const char *cfb, size_t cfb_len, const void *sf,
				 size_t sf_len, const void *cf, size_t cf_len)
{
	size_t n = 0;

	if (cfb_len >= SCRAM_MSG_MAX || sf_len >= SCRAM_MSG_MAX || cf_len >= SCRAM_MSG_MAX)
		return 0;
	memcpy(am + n, cfb, cfb_len);
	n += cfb_len;
	am[n++] = ',';
	memcpy(am + n, sf, sf_len);
	n += sf_len;
	am[n++] = ',';
	memcpy(am + n, cf, cf_len);
	n += cf_len;
	return n;
}

/* ---- secrets ------------------------------------------------------------ */

static const char scram_prefix[] = "SCRAM-SHA-256$";

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

SecretKind auth_secret_kind(const char *secret)
{
	if (!secret)
		return SECRET_PLAIN;
	if (strncmp(secret, scram_prefix, sizeof(scram_prefix) - 1) == 0)
		return SECRET_SCRAM;
	if (strncmp(secret, "md5", 3) == 0 && strlen(secret) == 35) {
		for (int i = 3; i < 35; i++)
			if (!is_lower_hex(secret[i]))
				return SECRET_PLAIN;
		return SECRET_MD5;
	}
	return SECRET_PLAIN;
}

/* Reads a base64 field up to `stop` (or the end when stop is 0) into out[cap]. */
static bool secret_b64_field(PgReader *r, uint8_t stop, uint8_t *out, size_t cap, size_t *outlen)
{
	const uint8_t *start = r->p, *val;
	const uint8_t *end = stop ? memchr(r->p, stop, pgr_left(r)) : r->end;
	size_t n;

	if (!end)
		return false;
	n = (size_t)(end - start);
	if (!pgr_bytes(r, n, &val))
		return false;
	return b64_decode(val, n, out, cap, outlen);
}

/*
 * The iteration count of a stored verifier is trusted configuration and costs
 * us nothing in the server role (the client does the PBKDF2), so anything up
 * to INT_MAX that PostgreSQL could have written is accepted here.
 */
bool scram_parse_secret(const char *s, ScramSecret *out)
{
	const size_t plen = sizeof(scram_prefix) - 1;
	ScramSecret sec;
	PgReader r;
	const uint8_t *colon, *num;
	size_t len, n;

	if (!s || !out)
		return false;
	len = strnlen(s, 4 * SCRAM_MSG_MAX);
	if (len >= 4 * SCRAM_MSG_MAX || len < plen || memcmp(s, scram_prefix, plen) != 0)
		return false;
	memset(&sec, 0, sizeof(sec));
	pgr_init(&r, s + plen, len - plen);

	colon = memchr(r.p, ':', pgr_left(&r));
	if (!colon)
		return false;
	n = (size_t)(colon - r.p);
	if (!pgr_bytes(&r, n, &num) || !scram_parse_count(num, n, INT_MAX, &sec.iterations) ||
	    !scram_expect(&r, ':'))
		return false;
	if (!secret_b64_field(&r, '$', sec.salt, sizeof(sec.salt), &sec.salt_len) ||
	    sec.salt_len == 0 || !scram_expect(&r, '$'))
		return false;
	if (!secret_b64_field(&r, ':', sec.stored_key, sizeof(sec.stored_key), &n) ||
	    n != SCRAM_KEY_LEN || !scram_expect(&r, ':'))
		return false;
	if (!secret_b64_field(&r, 0, sec.server_key, sizeof(sec.server_key), &n) ||
	    n != SCRAM_KEY_LEN || pgr_left(&r) != 0)
		return false;
	*out = sec;
	OPENSSL_cleanse(&sec, sizeof(sec));
	return true;
}

bool scram_secret_from_password(const char *password, const uint8_t *salt, size_t salt_len,
				int iterations, ScramSecret *out)
{
	uint8_t client_key[SCRAM_KEY_LEN];
	bool ok;

	if (!password || !salt || !out)
		return false;
	memset(out, 0, sizeof(*out));
	ok = scram_keys_from_password(password, salt, salt_len, iterations, client_key,
				      out->server_key) &&
	     sha256(client_key, sizeof(client_key), out->stored_key);
	OPENSSL_cleanse(client_key, sizeof(client_key));
	if (!ok) {
		memset(out, 0, sizeof(*out));
		return false;
	}
	out->iterations = iterations;
	memcpy(out->salt, salt, salt_len);
	out->salt_len = salt_len;
	return true;
}

/* ---- server role -------------------------------------------------------- */

static bool server_fail(ScramServer *s, const char **err, const char *msg)
{
	s->server_first[0] = '\0'; /* one attempt per exchange */
	*err = msg;
	return false;
}

bool scram_server_first(ScramServer *s, const ScramSecret *secret, const char *server_nonce,
			const uint8_t *msg, size_t len, char *out, size_t outcap, size_t *outlen,
			const char **err)
{
	char snonce[B64_LEN(SCRAM_NONCE_LEN) + 1];
	char salt_b64[B64_LEN(SCRAM_MAX_SALT) + 1];
	const uint8_t *bare, *val;
	size_t vlen, snlen;
	PgReader r;
	uint8_t c;
	int n;

	memset(s, 0, sizeof(*s));
	if (!secret || secret->salt_len == 0 || secret->salt_len > SCRAM_MAX_SALT ||
	    secret->iterations < 1) {
		*err = "invalid SCRAM secret";
		return false;
	}
	s->secret = *secret;
	if (!scram_msg_ok(msg, len)) {
		*err = err_malformed;
		return false;
	}
	pgr_init(&r, msg, len);

	/* gs2-header: cbind-flag "," [authzid] "," */
	if (!pgr_u8(&r, &c)) {
		*err = err_malformed;
		return false;
	}
	if (c == 'p') {
		*err = "SCRAM channel binding (p=) is not supported";
		return false;
	}
	if ((c != 'n' && c != 'y') || !scram_expect(&r, ',')) {
		*err = "malformed SCRAM message (invalid GS2 header)";
		return false;
	}
	s->cbind_flag = (char)c;
	if (scram_peek(&r, &c) && c == 'a') {
		*err = "SCRAM authorization identity (a=) is not supported";
		return false;
	}
	if (!scram_expect(&r, ',')) {
		*err = "malformed SCRAM message (invalid GS2 header)";
		return false;
	}

	/* client-first-bare: n=user,r=nonce[,ext...]; PostgreSQL ignores the user name */
	bare = r.p;
	if (scram_peek(&r, &c) && c == 'm') {
		*err = "SCRAM mandatory extension (m=) is not supported";
		return false;
	}
	if (!scram_attr(&r, 'n', &val, &vlen) || !scram_expect(&r, ',')) {
		*err = "malformed SCRAM message (expected n=)";
		return false;
	}
	if (!scram_attr(&r, 'r', &val, &vlen) || !scram_nonce_valid(val, vlen)) {
		*err = "malformed SCRAM message (invalid client nonce)";
		return false;
	}
	while (pgr_left(&r) > 0) {
		if (!scram_expect(&r, ',') || !scram_ext_attr(&r)) {
			*err = "malformed SCRAM message (invalid attribute)";
			return false;
		}
	}

	if (server_nonce) {
		snlen = strlen(server_nonce);
		if (snlen >= sizeof(snonce) ||
		    !scram_nonce_valid((const uint8_t *)server_nonce, snlen)) {
			*err = "invalid server nonce";
			return false;
		}
		memcpy(snonce, server_nonce, snlen + 1);
	} else {
		uint8_t raw[SCRAM_NONCE_LEN];
		if (!auth_random(raw, sizeof(raw)) ||
		    !(snlen = b64_encode(snonce, sizeof(snonce), raw, sizeof(raw)))) {
			*err = err_crypto;
			return false;
		}
	}
	if (vlen + snlen >= sizeof(s->nonce)) {
		*err = "malformed SCRAM message (client nonce too long)";
		return false;
	}
	memcpy(s->nonce, val, vlen);
	memcpy(s->nonce + vlen, snonce, snlen + 1);
	if (!copy_name(s->client_first_bare, sizeof(s->client_first_bare), (const char *)bare,
		       (size_t)(r.end - bare))) {
		*err = err_malformed;
		return false;
	}

	if (!b64_encode(salt_b64, sizeof(salt_b64), s->secret.salt, s->secret.salt_len)) {
		*err = err_crypto;
		return false;
	}
	n = snprintf(s->server_first, sizeof(s->server_first), "r=%s,s=%s,i=%d", s->nonce, salt_b64,
		     s->secret.iterations);
	if (n < 0 || (size_t)n >= sizeof(s->server_first) ||
	    !scram_put(out, outcap, outlen, s->server_first, (size_t)n)) {
		s->server_first[0] = '\0';
		*err = "SCRAM output buffer too small";
		return false;
	}
	return true;
}

bool scram_server_final(ScramServer *s, const uint8_t *msg, size_t len, char *out, size_t outcap,
			size_t *outlen, const char **err)
{
	char am[SCRAM_AUTH_MSG_MAX];
	char reply[2 + B64_LEN(SCRAM_KEY_LEN) + 1];
	uint8_t proof[SCRAM_KEY_LEN], sig[SCRAM_KEY_LEN], key[SCRAM_KEY_LEN];
	uint8_t stored[SCRAM_KEY_LEN];
	const uint8_t *val;
	size_t vlen, amlen, without_proof, plen;
	const char *cbind;
	PgReader r;
	uint8_t c;
	bool ok;

	if (s->done || s->server_first[0] == '\0') {
		*err = err_state;
		return false;
	}
	if (!scram_msg_ok(msg, len))
		return server_fail(s, err, err_malformed);
	pgr_init(&r, msg, len);

	/* c=<base64 of the GS2 header>: must echo what client-first said */
	cbind = s->cbind_flag == 'y' ? "eSws" : "biws";
	if (!scram_attr(&r, 'c', &val, &vlen))
		return server_fail(s, err, "malformed SCRAM message (expected c=)");
	if (vlen != 4 || memcmp(val, cbind, 4) != 0)
		return server_fail(s, err, "SCRAM channel binding data does not match");
	if (!scram_expect(&r, ',') || !scram_attr(&r, 'r', &val, &vlen))
		return server_fail(s, err, "malformed SCRAM message (expected r=)");
	if (vlen != strlen(s->nonce) || memcmp(val, s->nonce, vlen) != 0)
		return server_fail(s, err, "SCRAM nonce mismatch");
	for (;;) {
		without_proof = (size_t)(r.p - msg);
		if (!scram_expect(&r, ',') || !scram_peek(&r, &c))
			return server_fail(s, err, "malformed SCRAM message (missing proof)");
		if (c == 'p')
			break;
		if (!scram_ext_attr(&r))
			return server_fail(s, err, "malformed SCRAM message (invalid attribute)");
	}
	if (!scram_attr(&r, 'p', &val, &vlen) || pgr_left(&r) != 0 ||
	    !b64_decode(val, vlen, proof, sizeof(proof), &plen) || plen != SCRAM_KEY_LEN)
		return server_fail(s, err, "malformed SCRAM message (invalid proof)");

	amlen = scram_auth_message(am, s->client_first_bare, strlen(s->client_first_bare),
				   s->server_first, strlen(s->server_first), msg, without_proof);
	if (amlen == 0)
		return server_fail(s, err, err_malformed);

	/* ClientKey = proof XOR HMAC(StoredKey, AuthMessage); good iff H(ClientKey) == StoredKey */
	if (!hmac_sha256(s->secret.stored_key, SCRAM_KEY_LEN, am, amlen, sig))
		return server_fail(s, err, err_crypto);
	for (size_t i = 0; i < SCRAM_KEY_LEN; i++)
		key[i] = proof[i] ^ sig[i];
	ok = sha256(key, sizeof(key), stored);
	if (!ok || !auth_equal(stored, s->secret.stored_key, SCRAM_KEY_LEN)) {
		OPENSSL_cleanse(key, sizeof(key));
		return server_fail(s, err, ok ? "password authentication failed" : err_crypto);
	}

	/* ServerSignature = HMAC(ServerKey, AuthMessage) */
	memcpy(reply, "v=", 2);
	if (!hmac_sha256(s->secret.server_key, SCRAM_KEY_LEN, am, amlen, sig) ||
	    !b64_encode(reply + 2, sizeof(reply) - 2, sig, sizeof(sig))) {
		OPENSSL_cleanse(key, sizeof(key));
		return server_fail(s, err, err_crypto);
	}
	if (!scram_put(out, outcap, outlen, reply, 2 + B64_LEN(SCRAM_KEY_LEN))) {
		OPENSSL_cleanse(key, sizeof(key));
		return server_fail(s, err, "SCRAM output buffer too small");
	}
	memcpy(s->client_key, key, sizeof(key));
	OPENSSL_cleanse(key, sizeof(key));
	s->done = true;
	return true;
}

/* ---- client role -------------------------------------------------------- */

bool scram_client_first(ScramClient *c, const char *password, const uint8_t *client_key,
			const char *client_nonce, char *out, size_t outcap, size_t *outlen)
{
	char first[SCRAM_MSG_MAX];
	size_t n;
	int w;

	memset(c, 0, sizeof(*c));
	if (password && password[0]) {
		n = strlen(password);
		if (n >= sizeof(c->password))
			return false;
		memcpy(c->password, password, n + 1);
	} else if (client_key) {
		memcpy(c->client_key, client_key, SCRAM_KEY_LEN);
		c->have_key = true;
	} else {
		return false;
	}

	if (client_nonce) {
		n = strlen(client_nonce);
		if (n >= sizeof(c->client_nonce) ||
		    !scram_nonce_valid((const uint8_t *)client_nonce, n))
			goto fail;
		memcpy(c->client_nonce, client_nonce, n + 1);
	} else {
		uint8_t raw[SCRAM_NONCE_LEN];
		_Static_assert(B64_LEN(SCRAM_NONCE_LEN) < sizeof(c->client_nonce), "nonce room");
		if (!auth_random(raw, sizeof(raw)) ||
		    !b64_encode(c->client_nonce, sizeof(c->client_nonce), raw, sizeof(raw)))
			goto fail;
	}

	/* PostgreSQL takes the user from the startup packet: the SCRAM name stays empty */
	w = snprintf(c->client_first_bare, sizeof(c->client_first_bare), "n=,r=%s",
		     c->client_nonce);
	if (w < 0 || (size_t)w >= sizeof(c->client_first_bare))
		goto fail;
	w = snprintf(first, sizeof(first), "n,,%s", c->client_first_bare);
	if (w < 0 || (size_t)w >= sizeof(first) ||
	    !scram_put(out, outcap, outlen, first, (size_t)w))
		goto fail;
	return true;
fail:
	OPENSSL_cleanse(c, sizeof(*c));
	return false;
}

bool scram_client_final(ScramClient *c, const uint8_t *server_first, size_t len, char *out,
			size_t outcap, size_t *outlen, const char **err)
{
	char am[SCRAM_AUTH_MSG_MAX];
	char final[SCRAM_MSG_MAX + 2 + B64_LEN(SCRAM_KEY_LEN) + 1];
	uint8_t salt[SCRAM_MAX_SALT];
	uint8_t client_key[SCRAM_KEY_LEN], server_key[SCRAM_KEY_LEN], stored[SCRAM_KEY_LEN];
	uint8_t sig[SCRAM_KEY_LEN], proof[SCRAM_KEY_LEN];
	const uint8_t *nonce, *val;
	size_t nonce_len, vlen, salt_len, cn_len, flen, amlen;
	const char *e = err_crypto;
	int iterations;
	PgReader r;
	uint8_t ch;
	bool ok = false;
	int w;

	if (c->final_sent || c->client_first_bare[0] == '\0') {
		*err = err_state;
		return false;
	}
	if (!scram_msg_ok(server_first, len)) {
		*err = err_malformed;
		return false;
	}
	pgr_init(&r, server_first, len);
	if (scram_peek(&r, &ch) && ch == 'm') {
		*err = "SCRAM mandatory extension (m=) is not supported";
		return false;
	}
	cn_len = strlen(c->client_nonce);
	if (!scram_attr(&r, 'r', &nonce, &nonce_len) || !scram_nonce_valid(nonce, nonce_len)) {
		*err = "malformed SCRAM message (invalid nonce)";
		return false;
	}
	if (nonce_len <= cn_len || memcmp(nonce, c->client_nonce, cn_len) != 0) {
		*err = "SCRAM server nonce does not extend the client nonce";
		return false;
	}
	if (!scram_expect(&r, ',') || !scram_attr(&r, 's', &val, &vlen) ||
	    !b64_decode(val, vlen, salt, sizeof(salt), &salt_len) || salt_len == 0) {
		*err = "malformed SCRAM message (invalid salt)";
		return false;
	}
	if (!scram_expect(&r, ',') || !scram_attr(&r, 'i', &val, &vlen) ||
	    !scram_parse_count(val, vlen, SCRAM_MAX_ITERATIONS, &iterations)) {
		*err = "malformed SCRAM message (invalid or excessive iteration count)";
		return false;
	}
	if (pgr_left(&r) != 0) {
		*err = "malformed SCRAM message (garbage at end of server-first-message)";
		return false;
	}

	/* client-final-without-proof; the GS2 header "n,," is "biws" in base64 */
	w = snprintf(final, sizeof(final), "c=biws,r=%.*s", (int)nonce_len, (const char *)nonce);
	if (w < 0 || (size_t)w >= SCRAM_MSG_MAX) {
		*err = err_malformed;
		return false;
	}
	flen = (size_t)w;
	amlen = scram_auth_message(am, c->client_first_bare, strlen(c->client_first_bare),
				   server_first, len, final, flen);
	if (amlen == 0) {
		*err = err_malformed;
		return false;
	}

	if (c->password[0]) {
		if (!scram_keys_from_password(c->password, salt, salt_len, iterations, client_key,
					      server_key))
			goto out;
	} else if (c->have_key) {
		memcpy(client_key, c->client_key, SCRAM_KEY_LEN);
		memset(server_key, 0, sizeof(server_key));
	} else {
		e = err_state;
		goto out;
	}
	if (!sha256(client_key, sizeof(client_key), stored) ||
	    !hmac_sha256(stored, sizeof(stored), am, amlen, sig))
		goto out;
	for (size_t i = 0; i < SCRAM_KEY_LEN; i++)
		proof[i] = client_key[i] ^ sig[i];
	if (c->password[0]) {
		if (!hmac_sha256(server_key, sizeof(server_key), am, amlen, c->server_signature))
			goto out;
	}
	memcpy(final + flen, ",p=", 3);
	if (!b64_encode(final + flen + 3, sizeof(final) - flen - 3, proof, sizeof(proof)))
		goto out;
	flen += 3 + B64_LEN(SCRAM_KEY_LEN);
	if (!scram_put(out, outcap, outlen, final, flen)) {
		e = "SCRAM output buffer too small";
		goto out;
	}
	c->final_sent = true;
	ok = true;
out:
	OPENSSL_cleanse(client_key, sizeof(client_key));
	OPENSSL_cleanse(server_key, sizeof(server_key));
	if (!ok)
		*err = e;
	return ok;
}

/*
 * With only a ClientKey (no password), the ServerKey is unknown, so the
 * server's signature cannot be checked: a well-formed "v=" is accepted as is.
 * That login still proves nothing about the server's identity, which the
 * transport (TLS, a trusted network) has to provide.
 */
bool scram_client_verify(ScramClient *c, const uint8_t *server_final, size_t len, const char **err)
{
	uint8_t sig[SCRAM_KEY_LEN];
	const uint8_t *val;
	size_t vlen, n;
	PgReader r;
	uint8_t ch;

	if (!c->final_sent) {
		*err = err_state;
		return false;
	}
	c->final_sent = false; /* one answer per exchange */
	if (!scram_msg_ok(server_final, len)) {
		*err = err_malformed;
		return false;
	}
	pgr_init(&r, server_final, len);
	if (scram_peek(&r, &ch) && ch == 'e') {
		*err = "server reported a SCRAM error (e=)";
		return false;
	}
	if (!scram_attr(&r, 'v', &val, &vlen) || pgr_left(&r) != 0 ||
	    !b64_decode(val, vlen, sig, sizeof(sig), &n) || n != SCRAM_KEY_LEN) {
		*err = "malformed SCRAM message (invalid server signature)";
		return false;
	}
	if (!c->password[0] && c->have_key)
		return true;
	if (!auth_equal(sig, c->server_signature, SCRAM_KEY_LEN)) {
		*err = "SCRAM server signature mismatch";
		return false;
	}
	return true;
}

/* ---- md5 ---------------------------------------------------------------- */

static void hex_encode(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
}

/* "md5" + hex(md5(a || b)) into out[36]; an empty string if the digest failed. */
static void md5_two(const void *a, size_t alen, const void *b, size_t blen, char out[36])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = '\0';
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, a, alen) != 1 || EVP_DigestUpdate(ctx, b, blen) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &n) != 1 || n != 16) {
		log_error("md5 digest failed");
		EVP_MD_CTX_free(ctx);
		return;
	}
	EVP_MD_CTX_free(ctx);
	memcpy(out, "md5", 3);
	hex_encode(out + 3, md, 16);
	out[35] = '\0';
}

void pg_md5_secret(const char *user, const char *password, char out[36])
{
	md5_two(password, strlen(password), user, strlen(user), out);
}

/*
 * Anything that is not an md5 secret is taken as a plain password (a SCRAM
 * verifier cannot answer an md5 challenge; hashing it just fails the login).
 */
void pg_md5_response(const char *user, const char *secret, const uint8_t salt[4], char out[36])
{
	char hashed[36];

	if (auth_secret_kind(secret) == SECRET_MD5) {
		memcpy(hashed, secret, 36);
	} else {
		pg_md5_secret(user, secret, hashed);
		if (!hashed[0]) {
			out[0] = '\0';
			return;
		}
	}
	md5_two(hashed + 3, 32, salt, 4, out);
	OPENSSL_cleanse(hashed, sizeof(hashed));
}
