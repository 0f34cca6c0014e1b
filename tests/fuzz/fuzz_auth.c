/*
 * fuzz_auth.c - libFuzzer target for auth.c's parsers of untrusted input.
 * Input layout: one flags byte, then part1 '\n' part2 (part2 may be absent).
 *  - The whole input (as a C string) goes to scram_parse_secret,
 *    auth_secret_kind and pg_md5_response.
 *  - Server role (RFC 7677 secret, fixed server nonce): part1 is the
 *    client-first-message, part2 the client-final-message.
 *  - Client role (fixed client nonce): part1 is the server-first-message,
 *    part2 the server-final-message. flags bit 0 selects a password login
 *    (only when part1's i= is small, since PBKDF2 cost grows with it), else a
 *    ClientKey login.
 * Each part is copied into a buffer of exactly its size so ASan catches any
 * read past the given length (the messages are not NUL-terminated).
 */
#include "auth.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RFC_SECRET                                                                                 \
	"SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=" \
	":wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
#define RFC_CLIENT_NONCE "rOprNGfwEbeRWgbNEkqO"
#define RFC_SERVER_NONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define FUZZ_MAX_PBKDF2_ITER 4096

static const uint8_t rfc_client_key[SCRAM_KEY_LEN] = {
    0xa6, 0x0f, 0xc9, 0x23, 0xd6, 0x7e, 0x86, 0x44, 0xa9, 0x2d, 0x16, 0xb9, 0x6e, 0xda, 0x5e, 0xf4,
    0x65, 0x6b, 0x0c, 0x72, 0x5c, 0x48, 0x43, 0x74, 0xbe, 0x25, 0x53, 0x55, 0x76, 0x99, 0x6e, 0x8b};

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);
	if (q && n)
		memcpy(q, p, n);
	return q;
}

/* The i= value of a server-first-message, or 0 when there is none that parses. */
static unsigned long iterations_of(const uint8_t *p, size_t n)
{
	unsigned long v = 0;
	for (size_t i = 0; i + 3 <= n; i++) {
		if (p[i] != ',' || p[i + 1] != 'i' || p[i + 2] != '=')
			continue;
		for (size_t j = i + 3; j < n && p[j] >= '0' && p[j] <= '9'; j++) {
			v = v * 10 + (unsigned long)(p[j] - '0');
			if (v > 1000000000UL)
				return v;
		}
		return v;
	}
	return 0;
}

static void fuzz_secrets(const uint8_t *data, size_t size)
{
	static const uint8_t salt[4] = {1, 2, 3, 4};
	char *s = malloc(size + 1);
	ScramSecret sec;
	char out[36];

	if (!s)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)auth_secret_kind(s);
	if (scram_parse_secret(s, &sec) && (sec.salt_len == 0 || sec.salt_len > SCRAM_MAX_SALT))
		abort();
	pg_md5_response("user", s, salt, out);
	free(s);
}

static void fuzz_server(const ScramSecret *sec, const uint8_t *p1, size_t n1, const uint8_t *p2,
			size_t n2)
{
	ScramServer sv;
	char out[SCRAM_MSG_MAX];
	size_t outlen;
	const char *err = NULL;

	if (!scram_server_first(&sv, sec, RFC_SERVER_NONCE, p1, n1, out, sizeof(out), &outlen,
				&err)) {
		if (!err)
			abort();
		return;
	}
	if (outlen != strlen(out))
		abort();
	if (!p2)
		return;
	err = NULL;
	if (!scram_server_final(&sv, p2, n2, out, sizeof(out), &outlen, &err) && !err)
		abort();
}

static void fuzz_client(bool password, const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2)
{
	ScramClient cl;
	char out[SCRAM_MSG_MAX + 64];
	size_t outlen;
	const char *err = NULL;

	if (!scram_client_first(&cl, password ? "pencil" : NULL, rfc_client_key, RFC_CLIENT_NONCE,
				out, sizeof(out), &outlen))
		abort();
	if (!scram_client_final(&cl, p1, n1, out, sizeof(out), &outlen, &err)) {
		if (!err)
			abort();
		return;
	}
	if (outlen != strlen(out))
		abort();
	if (!p2)
		return;
	err = NULL;
	if (!scram_client_verify(&cl, p2, n2, &err) && !err)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ScramSecret sec;
	static bool have_sec;
	const uint8_t *body, *nl;
	uint8_t *p1, *p2 = NULL;
	size_t n1, n2 = 0, bsize;
	uint8_t flags;

	if (!have_sec) {
		if (!scram_parse_secret(RFC_SECRET, &sec))
			abort();
		have_sec = true;
	}
	fuzz_secrets(data, size);
	if (size < 1)
		return 0;
	flags = data[0];
	body = data + 1;
	bsize = size - 1;
	nl = memchr(body, '\n', bsize);
	n1 = nl ? (size_t)(nl - body) : bsize;
	p1 = dup_exact(body, n1);
	if (nl) {
		n2 = bsize - n1 - 1;
		p2 = dup_exact(nl + 1, n2);
	}
	if (p1 && (!nl || p2)) {
		fuzz_server(&sec, p1, n1, p2, n2);
		fuzz_client((flags & 1) && iterations_of(p1, n1) <= FUZZ_MAX_PBKDF2_ITER, p1, n1,
			    p2, n2);
	}
	free(p1);
	free(p2);
	return 0;
}
