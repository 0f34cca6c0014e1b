/*
 * auth.h - password authentication crypto: SCRAM-SHA-256 (RFC 5802/7677) in
 * both roles (verifying clients, logging in to servers), PostgreSQL's md5
 * scheme, and secret parsing. Pure (OpenSSL for hashing and randomness only):
 * no sockets, no libev.
 */
#ifndef PROXY_AUTH_H
#define PROXY_AUTH_H

#include "common.h"

#define SCRAM_KEY_LEN 32
#define SCRAM_MAX_SALT 64
#define SCRAM_NONCE_LEN 24 /* raw random bytes before base64 */
#define SCRAM_DEFAULT_ITERATIONS 4096
#define SCRAM_MSG_MAX 512

typedef enum SecretKind { SECRET_PLAIN, SECRET_MD5, SECRET_SCRAM } SecretKind;

typedef struct ScramSecret {
	int iterations;
	uint8_t salt[SCRAM_MAX_SALT];
	size_t salt_len;
	uint8_t stored_key[SCRAM_KEY_LEN];
	uint8_t server_key[SCRAM_KEY_LEN];
} ScramSecret;

/* What kind of secret an auth-file entry holds. */
SecretKind auth_secret_kind(const char *secret);

/* Parses "SCRAM-SHA-256$<iter>:<salt b64>$<StoredKey b64>:<ServerKey b64>". */
bool scram_parse_secret(const char *s, ScramSecret *out) MUST_CHECK;
/* Derives a verifier from a plain password (SASLprep is not applied: ASCII passwords). */
bool scram_secret_from_password(const char *password, const uint8_t *salt, size_t salt_len,
				int iterations, ScramSecret *out) MUST_CHECK;

/* ---- server role: pgrelay verifies a client --------------------------- */
typedef struct ScramServer {
	ScramSecret secret;
	char client_first_bare[SCRAM_MSG_MAX];
	char server_first[SCRAM_MSG_MAX];
	char nonce[128];		   /* client nonce + server nonce */
	uint8_t client_key[SCRAM_KEY_LEN]; /* recovered from the proof on success */
	char cbind_flag;		   /* 'n' or 'y': the GS2 flag c= must echo */
	bool done;
} ScramServer;

/*
 * Handles the client-first-message (the SASLInitialResponse data). Writes
 * the server-first-message to out. server_nonce may be NULL (random) or a
 * fixed string (tests). False with *err set on a malformed message
 * (channel binding requested, missing nonce, ...).
 */
bool scram_server_first(ScramServer *s, const ScramSecret *secret, const char *server_nonce,
			const uint8_t *msg, size_t len, char *out, size_t outcap, size_t *outlen,
			const char **err) MUST_CHECK;
/*
 * Handles the client-final-message: checks the nonce and the proof. On
 * success writes the server-final-message ("v=...") and fills client_key.
 * False with *err set when the proof is wrong or the message is malformed.
 */
bool scram_server_final(ScramServer *s, const uint8_t *msg, size_t len, char *out, size_t outcap,
			size_t *outlen, const char **err) MUST_CHECK;

/* ---- client role: pgrelay logs in to a server ------------------------- */
typedef struct ScramClient {
	char password[256];		   /* plain password, or empty when client_key is used */
	uint8_t client_key[SCRAM_KEY_LEN]; /* used when password is empty and have_key */
	bool have_key;
	char client_nonce[64];
	char client_first_bare[SCRAM_MSG_MAX];
	uint8_t server_signature[SCRAM_KEY_LEN];
	bool final_sent; /* scram_client_final succeeded: the signature is known */
} ScramClient;

/*
 * Starts an exchange with either a plain password or a ClientKey (recovered
 * from the client's own SCRAM login; works when the server holds the same
 * verifier). client_nonce may be NULL (random) or fixed (tests). Writes the
 * client-first-message ("n,,n=,r=...").
 */
bool scram_client_first(ScramClient *c, const char *password, const uint8_t *client_key,
			const char *client_nonce, char *out, size_t outcap,
			size_t *outlen) MUST_CHECK;
/* Given the server-first-message, writes the client-final-message. */
bool scram_client_final(ScramClient *c, const uint8_t *server_first, size_t len, char *out,
			size_t outcap, size_t *outlen, const char **err) MUST_CHECK;
/* Checks the server-final-message's signature. */
bool scram_client_verify(ScramClient *c, const uint8_t *server_final, size_t len,
			 const char **err) MUST_CHECK;

/* ---- md5 ---------------------------------------------------------------- */
/* "md5" + hex(md5(password || user)): the stored form. out must hold 36 bytes. */
void pg_md5_secret(const char *user, const char *password, char out[36]);
/*
 * The response to AuthenticationMD5Password: "md5" + hex(md5(hex_part(secret) || salt)),
 * where secret is an md5 secret ("md5..."), or a plain password hashed first.
 */
void pg_md5_response(const char *user, const char *secret, const uint8_t salt[4], char out[36]);

/* Constant-time comparison. */
bool auth_equal(const void *a, const void *b, size_t n);
/* Cryptographically random bytes; false if the RNG failed. */
bool auth_random(void *buf, size_t n) MUST_CHECK;

#endif
